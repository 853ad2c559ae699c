/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * passwords.h - where an IMAP repository's host, port, user and password
 * come from, in OfflineIMAP's order (repository/IMAP.py gethost, getport,
 * getuser, getpassword):
 *
 *   host      remotehosteval, remotehost
 *   port      remoteporteval, remoteport (0: unset, the driver's default)
 *   user      remoteusereval, remoteuser, the login of the netrc entry for
 *             the host (~/.netrc only, as OfflineIMAP)
 *   password  remotepasseval, remotepass, the first line of remotepassfile
 *             (stripped), ~/.netrc, /etc/netrc -- a netrc entry counts only
 *             when its login equals the user (or no user is set)
 *   token     oauth2_access_token_eval, oauth2_access_token
 *
 * The default ~/.netrc (not /etc/netrc, not a path given in
 * creds_netrc_paths) is refused, as Python's netrc module refuses it,
 * when its entry for the host has a login other than "anonymous" and the
 * file is owned by another user or open to group or others.
 *
 * The *eval options need pyeval_init() first (run.c does it when the
 * config has any expression).  Secrets are never logged or put in error
 * messages; imap_creds_release() wipes them.
 *
 * Threads: any thread (pyeval serialises itself).
 */
#ifndef OIMAP_RUN_PASSWORDS_H
#define OIMAP_RUN_PASSWORDS_H

#include <stdbool.h>

#include "../util/err.h"

struct config;

/* Longest password file line we read. */
#define OIM_PASSFILE_MAX 4096

struct imap_creds {
	char *host;	    /* NULL if unset (a tunnel needs none) */
	long port;	    /* 0: unset */
	char *user;	    /* NULL if unset */
	char *password;	    /* secret; NULL if no source had one */
	char *oauth2_token; /* secret; NULL if unset */
};

/* Where the netrc files are; NULL fields mean ~/.netrc and /etc/netrc. */
struct creds_netrc_paths {
	const char *home;
	const char *etc;
};

/*
 * Fill c from [section] ("Repository X").  need_password false skips the
 * password sources (preauthtunnel: no login).  On error c holds nothing
 * (released).  Errors: OIM_SEV_ACCOUNT naming the repository and option.
 */
int imap_creds_get(struct config *cfg, const char *section,
		   const struct creds_netrc_paths *paths, bool need_password,
		   struct imap_creds *c, struct oim_err *err) OIM_WUR;
/* Wipe the secrets and free everything; c is zeroed. */
void imap_creds_release(struct imap_creds *c);

/*
 * remotepasseval is evaluated once per repository and process (as
 * OfflineIMAP does), then served from a cache.  Forget one repository's
 * entry (after the server refused it) or all of them (at exit; wiped).
 */
void imap_creds_forget(const char *section);
void imap_creds_cache_clear(void);

#endif
