/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netrc.h - look up a login and password in a netrc file, as Python's
 * netrc module does for OfflineIMAP (~/.netrc, then /etc/netrc).
 *
 * Tokens: machine NAME, default, login NAME (or user), password P,
 * account A, macdef NAME (its body, up to a blank line, is skipped).  '#'
 * starts a comment outside a token; tokens may be "quoted" with \"
 * escapes.  The entry for 'host' wins; else the 'default' entry.
 */
#ifndef OIMAP_NETRC_H
#define OIMAP_NETRC_H

#include "err.h"

/*
 * Find host in the netrc file at 'path'.  Returns 1 and sets *login_r and
 * *password_r (malloc'd, either may be NULL if absent; free the password
 * with oim_free_secret) when an entry matches; 0 when the file does not
 * exist or has no entry; -1 on a read or syntax error (naming file:line).
 */
int netrc_lookup(const char *path, const char *host, char **login_r,
		 char **password_r, struct oim_err *err) OIM_WUR;

#endif
