/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * limits.h - every built-in cap in one place.  Input from outside (config
 * files, servers, Maildir names) is checked against these before it is
 * stored; exceeding one is an OIM_E_LIMIT error, never a crash.
 */
#ifndef OIMAP_LIMITS_H
#define OIMAP_LIMITS_H

/* Config reader */
#define OIM_CONFIG_MAX_FILE (16u * 1024 * 1024) /* bytes in one config file */
#define OIM_CONFIG_MAX_LINE (1024u * 1024)	/* bytes in one line */
#define OIM_CONFIG_MAX_INTERP_DEPTH 10		/* as Python's MAX_INTERPOLATION_DEPTH */

/* IMAP parser */
#define OIM_IMAP_MAX_LINE (64u * 1024 * 1024)	   /* one response, literals excluded */
#define OIM_IMAP_MAX_LITERAL (2ull * 1024 * 1024 * 1024) /* one literal */
#define OIM_IMAP_MAX_INMEM_LITERAL (1u * 1024 * 1024) /* literals kept in memory */
#define OIM_IMAP_MAX_DEPTH 32			   /* list nesting */

/* Maildir */
#define OIM_MAILDIR_MAX_NAME 4096

#endif
