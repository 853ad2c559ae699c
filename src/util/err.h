/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * err.h - how failures travel up.
 *
 * A function that can fail returns 0 on success and -1 on failure, and
 * fills a struct oim_err supplied by the caller.  The layer that detects the
 * problem writes the message, with the specifics (file:line, folder, the
 * server's words); callers pass it up unchanged or prefix context with
 * oim_err_prefix(); the UI prints it once.
 *
 * 'sev' says what the caller must abandon; 'kind' says what went wrong, so
 * the sync can tell a broken folder from a broken connection.
 *
 * Messages must never contain credentials: code that handles secrets
 * formats errors without them.
 */
#ifndef OIMAP_ERR_H
#define OIMAP_ERR_H

#include "util.h"

enum oim_sev {
	OIM_SEV_NONE = 0,
	OIM_SEV_MESSAGE, /* skip this message, go on with the folder */
	OIM_SEV_FOLDER,	 /* abandon this folder, go on with the account */
	OIM_SEV_ACCOUNT, /* abandon this account (connection, auth, config) */
	OIM_SEV_FATAL,	 /* stop everything */
};

enum oim_err_kind {
	OIM_E_NONE = 0,
	OIM_E_GENERIC,
	OIM_E_USAGE,	  /* bad command line */
	OIM_E_CONFIG,	  /* configuration file or value */
	OIM_E_IO,	  /* local file system */
	OIM_E_NET,	  /* connect, resolve */
	OIM_E_CONN_LOST,  /* connection closed or reset mid-session */
	OIM_E_TIMEOUT,	  /* socktimeout expired */
	OIM_E_TLS,	  /* handshake or verification */
	OIM_E_AUTH,	  /* authentication refused */
	OIM_E_IMAP_NO,	  /* tagged NO */
	OIM_E_IMAP_BAD,	  /* tagged BAD */
	OIM_E_IMAP_BYE,	  /* untagged BYE */
	OIM_E_PROTOCOL,	  /* unparsable or unexpected server response */
	OIM_E_LIMIT,	  /* a configured or built-in limit exceeded */
	OIM_E_UIDVALIDITY,
	OIM_E_STATUS,	  /* status cache corrupt or of unknown version */
	OIM_E_PYTHON,	  /* an embedded expression raised */
	OIM_E_LOCKED,	  /* metadata locked by another process */
};

#define OIM_ERR_MSG_MAX 2048

struct oim_err {
	enum oim_sev sev;
	enum oim_err_kind kind;
	char msg[OIM_ERR_MSG_MAX];
};

#define OIM_ERR_INIT { OIM_SEV_NONE, OIM_E_NONE, { 0 } }

/* Fill err (if not NULL) and return -1, so callers can write
 * 'return oim_error(err, ...);'. */
int oim_error(struct oim_err *err, enum oim_sev sev, enum oim_err_kind kind,
	      const char *fmt, ...) OIM_PRINTF(4, 5);
/* Prepend "<context>: " to the message already in err. */
void oim_err_prefix(struct oim_err *err, const char *fmt, ...)
	OIM_PRINTF(2, 3);
void oim_err_clear(struct oim_err *err);
const char *oim_err_kind_name(enum oim_err_kind kind);

#endif
