/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * schema.c - every option OfflineIMAP 8 reads, per section kind.
 *
 * Sources: offlineimap.conf (which documents them all) and the getconf*()
 * calls in OfflineIMAP's code; the defaults are the ones the code passes,
 * not always the ones the sample file claims (maxconnections is 1 in
 * repository/IMAP.py).  Entries are searched in order, so an entry for
 * Gmail placed before the IMAP one gives Gmail its own default.
 */
#include "config.h"

#include "../util/util.h"

#define G CONFIG_K_GENERAL
#define MB CONFIG_K_MBNAMES
#define ACC CONFIG_K_ACCOUNT
#define IMAPS CONFIG_K_IMAPS
#define GMAIL CONFIG_K_GMAIL
#define MDIRS CONFIG_K_MAILDIRS
#define REPO CONFIG_K_REPO

#define SHOW CONFIG_F_SHOW_DEFAULT
#define SECRET CONFIG_F_SECRET
#define REQ CONFIG_F_REQUIRED

static const char *const repo_types[] = { "IMAP", "Maildir", "Gmail",
					  "GmailMaildir", NULL };
static const char *const tls_levels[] = { "tls_secure", "tls_no_ssl",
					  "tls_compat", NULL };
static const char *const ssl_versions[] = { "tls1", "tls1_1", "tls1_2",
					    "ssl3", "ssl23", NULL };
static const char *const auth_mechs[] = { "GSSAPI", "XOAUTH2", "CRAM-MD5",
					  "PLAIN", "LOGIN", NULL };
static const char *const status_backends[] = { "sqlite", "plain", NULL };

static const struct config_option schema[] = {
	/* [general] */
	{ "accounts", CONFIG_T_LIST, G, NULL, REQ, NULL,
	  "accounts to sync" },
	{ "metadata", CONFIG_T_PATH, G, "~/.offlineimap", SHOW, NULL,
	  "status cache and lock directory" },
	{ "maxsyncaccounts", CONFIG_T_INT, G, "1", SHOW, NULL,
	  "accounts synced at the same time" },
	{ "ui", CONFIG_T_STRING, G, "ttyui", SHOW, NULL, "user interface" },
	{ "ignore-readonly", CONFIG_T_BOOL, G, "no", 0, NULL,
	  "no warning for read-only IMAP folders" },
	{ "pythonfile", CONFIG_T_PATH, G, NULL, 0, NULL,
	  "Python helpers for *eval options" },
	{ "socktimeout", CONFIG_T_INT, G, "0", SHOW, NULL,
	  "socket timeout in seconds (0: none)" },
	{ "fsync", CONFIG_T_BOOL, G, "true", SHOW, NULL,
	  "fsync written files" },
	{ "dry-run", CONFIG_T_BOOL, G, "False", SHOW, NULL,
	  "change nothing" },
	{ "filename_use_mail_timestamp", CONFIG_T_BOOL, G | REPO, "no", 0, NULL,
	  "Maildir file name prefix from the Date header" },
	{ "utime_from_header", CONFIG_T_BOOL, G | MDIRS, "no", 0, NULL,
	  "message file mtime from the Date header" },

	/* [mbnames] */
	{ "enabled", CONFIG_T_BOOL, MB, "no", SHOW, NULL,
	  "write the mailbox list" },
	{ "filename", CONFIG_T_PATH, MB, NULL, 0, NULL, "file to write" },
	{ "header", CONFIG_T_PYEXPR, MB, NULL, 0, NULL, "file header" },
	{ "peritem", CONFIG_T_STRING, MB, NULL, CONFIG_F_RAW, NULL,
	  "%-format for each folder" },
	{ "sep", CONFIG_T_PYEXPR, MB, NULL, 0, NULL, "item separator" },
	{ "footer", CONFIG_T_PYEXPR, MB, NULL, 0, NULL, "file footer" },
	{ "incremental", CONFIG_T_BOOL, MB, "no", 0, NULL,
	  "write after each account" },
	{ "folderfilter", CONFIG_T_PYEXPR, MB, NULL, 0, NULL,
	  "filter(accountname, foldername)" },
	{ "sort_keyfunc", CONFIG_T_PYEXPR, MB, NULL, 0, NULL, "sort key" },

	/* [Account X] */
	{ "localrepository", CONFIG_T_STRING, ACC, NULL, REQ, NULL,
	  "local side" },
	{ "remoterepository", CONFIG_T_STRING, ACC, NULL, REQ, NULL,
	  "remote side" },
	{ "autorefresh", CONFIG_T_FLOAT, ACC, NULL, SHOW, NULL,
	  "sync once" },
	{ "quick", CONFIG_T_INT, ACC, "0", SHOW, NULL,
	  "quick syncs between full ones (-1: always)" },
	{ "presynchook", CONFIG_T_COMMAND, ACC, NULL, 0, NULL,
	  "command run before a sync" },
	{ "postsynchook", CONFIG_T_COMMAND, ACC, NULL, 0, NULL,
	  "command run after a sync" },
	{ "maxsize", CONFIG_T_INT, ACC, NULL, 0, NULL,
	  "skip messages larger than this many bytes" },
	{ "maxage", CONFIG_T_MAXAGE, ACC, NULL, 0, NULL,
	  "sync only messages newer than N days or a date" },
	{ "maildir-windows-compatible", CONFIG_T_BOOL, ACC, "no", 0, NULL,
	  "'!' instead of ':' in Maildir names" },
	{ "synclabels", CONFIG_T_BOOL, ACC, "no", 0, NULL,
	  "sync Gmail labels" },
	{ "labelsheader", CONFIG_T_STRING, ACC, "X-Keywords", 0, NULL,
	  "header holding Gmail labels" },
	{ "ignorelabels", CONFIG_T_LIST, ACC, "", 0, NULL,
	  "Gmail labels not synced" },
	{ "filterheaders", CONFIG_T_LIST, ACC, "", 0, NULL,
	  "headers removed before upload" },
	{ "proxy", CONFIG_T_PROXY, ACC, NULL, 0, NULL,
	  "TYPE:host:port proxy" },
	{ "authproxy", CONFIG_T_PROXY, ACC, NULL, 0, NULL,
	  "proxy for authentication only" },
	{ "utf8foldernames", CONFIG_T_BOOL, ACC, "no", 0, NULL,
	  "UTF-8 local folder names" },
	{ "skipsleep", CONFIG_T_BOOL, ACC, "no", CONFIG_F_INTERNAL, NULL,
	  "set on SIGUSR1" },
	{ "status_backend", CONFIG_T_ENUM, ACC, "sqlite", CONFIG_F_RETIRED,
	  status_backends, "status cache format" },

	/* Every [Repository X] */
	{ "type", CONFIG_T_ENUM, REPO, NULL, REQ, repo_types,
	  "repository type" },
	{ "readonly", CONFIG_T_BOOL, REPO, "False", SHOW, NULL,
	  "never modify this side" },
	{ "nametrans", CONFIG_T_PYEXPR, REPO, NULL, 0, NULL,
	  "folder name translation" },
	{ "folderfilter", CONFIG_T_PYEXPR, REPO, NULL, 0, NULL,
	  "which folders to sync" },
	{ "folderincludes", CONFIG_T_PYEXPR, REPO, NULL, 0, NULL,
	  "folders added to the list" },
	{ "foldersort", CONFIG_T_PYEXPR, REPO, NULL, 0, NULL,
	  "folder sort order" },
	{ "createfolders", CONFIG_T_BOOL, REPO, "True", SHOW, NULL,
	  "create folders on this side" },
	{ "sync_deletes", CONFIG_T_BOOL, REPO, "yes", SHOW, NULL,
	  "propagate deletions from this side" },
	{ "dynamic_folderfilter", CONFIG_T_BOOL, REPO, "False", 0, NULL,
	  "run folderfilter on every sync" },
	{ "startdate", CONFIG_T_DATE, REPO, NULL, 0, NULL,
	  "sync messages from this date" },

	/* Maildir, GmailMaildir */
	{ "localfolders", CONFIG_T_PATH, MDIRS, NULL, REQ, NULL,
	  "Maildir root" },
	{ "sep", CONFIG_T_STRING, MDIRS, ".", SHOW, NULL,
	  "folder separator" },
	{ "sep", CONFIG_T_STRING, IMAPS, NULL, CONFIG_F_IGNORED, NULL,
	  "ignored for IMAP: the server's separator is used" },
	{ "restoreatime", CONFIG_T_BOOL, MDIRS, "no", 0, NULL,
	  "restore folder atimes after a sync" },
	{ "customflag_*", CONFIG_T_STRING, MDIRS, NULL, 0, NULL,
	  "IMAP keyword for a Maildir flag letter" },

	/* Gmail's own defaults first, then IMAP's */
	{ "remotehost", CONFIG_T_STRING, GMAIL, "imap.gmail.com", SHOW, NULL,
	  "server" },
	{ "remoteport", CONFIG_T_INT, GMAIL, "993", SHOW, NULL, "port" },
	{ "oauth2_request_url", CONFIG_T_STRING, GMAIL,
	  "https://accounts.google.com/o/oauth2/token", 0, NULL,
	  "OAuth2 token URL" },
	{ "trashfolder", CONFIG_T_STRING, GMAIL, "[Gmail]/Trash", SHOW, NULL,
	  "Gmail trash folder" },
	{ "spamfolder", CONFIG_T_STRING, GMAIL, "[Gmail]/Spam", SHOW, NULL,
	  "Gmail spam folder" },
	{ "preauthtunnel", CONFIG_T_COMMAND, GMAIL, NULL, CONFIG_F_IGNORED,
	  NULL, "ignored for Gmail" },

	/* IMAP, Gmail */
	{ "remotehost", CONFIG_T_STRING, IMAPS, NULL, 0, NULL, "server" },
	{ "remotehosteval", CONFIG_T_PYEXPR, IMAPS, NULL, 0, NULL,
	  "server, computed" },
	{ "remoteport", CONFIG_T_INT, IMAPS, NULL, 0, NULL,
	  "port (993 with ssl, else 143)" },
	{ "remoteporteval", CONFIG_T_PYEXPR, IMAPS, NULL, 0, NULL,
	  "port, computed" },
	{ "remoteuser", CONFIG_T_STRING, IMAPS, NULL, 0, NULL, "user name" },
	{ "remoteusereval", CONFIG_T_PYEXPR, IMAPS, NULL, 0, NULL,
	  "user name, computed" },
	{ "remotepass", CONFIG_T_PASSWORD, IMAPS, NULL, SECRET, NULL,
	  "password" },
	{ "remotepasseval", CONFIG_T_PYEXPR, IMAPS, NULL, SECRET, NULL,
	  "password, computed" },
	{ "remotepassfile", CONFIG_T_PATH, IMAPS, NULL, 0, NULL,
	  "file holding the password" },
	{ "remote_identity", CONFIG_T_STRING, IMAPS, NULL, 0, NULL,
	  "SASL PLAIN authorization identity" },
	{ "auth_mechanisms", CONFIG_T_ENUMLIST, IMAPS,
	  "GSSAPI, XOAUTH2, CRAM-MD5, PLAIN, LOGIN", 0, auth_mechs,
	  "authentication mechanisms, in order" },
	{ "ssl", CONFIG_T_BOOL, IMAPS, "yes", SHOW, NULL, "TLS from the start" },
	{ "starttls", CONFIG_T_BOOL, IMAPS, "yes", SHOW, NULL,
	  "STARTTLS when not ssl" },
	{ "sslclientcert", CONFIG_T_PATH, IMAPS, NULL, 0, NULL,
	  "TLS client certificate" },
	{ "sslclientkey", CONFIG_T_PATH, IMAPS, NULL, 0, NULL,
	  "TLS client key" },
	{ "sslcacertfile", CONFIG_T_PATH, IMAPS, NULL, 0, NULL,
	  "CA certificates (or OS-DEFAULT)" },
	{ "cert_fingerprint", CONFIG_T_FINGERPRINTS, IMAPS, NULL, 0, NULL,
	  "accepted server certificate fingerprints" },
	{ "ssl_version", CONFIG_T_ENUM, IMAPS, NULL, 0, ssl_versions,
	  "TLS protocol version" },
	{ "tls_level", CONFIG_T_ENUM, IMAPS, "tls_compat", 0, tls_levels,
	  "allowed TLS versions" },
	{ "ipv6", CONFIG_T_BOOL, IMAPS, NULL, 0, NULL,
	  "address family (unset: either)" },
	{ "oauth2_client_id", CONFIG_T_STRING, IMAPS, NULL, 0, NULL,
	  "OAuth2 client id" },
	{ "oauth2_client_id_eval", CONFIG_T_PYEXPR, IMAPS, NULL, 0, NULL,
	  "OAuth2 client id, computed" },
	{ "oauth2_client_secret", CONFIG_T_PASSWORD, IMAPS, NULL, SECRET, NULL,
	  "OAuth2 client secret" },
	{ "oauth2_client_secret_eval", CONFIG_T_PYEXPR, IMAPS, NULL, SECRET,
	  NULL, "OAuth2 client secret, computed" },
	{ "oauth2_access_token", CONFIG_T_PASSWORD, IMAPS, NULL, SECRET, NULL,
	  "OAuth2 access token" },
	{ "oauth2_access_token_eval", CONFIG_T_PYEXPR, IMAPS, NULL, SECRET,
	  NULL, "OAuth2 access token, computed" },
	{ "oauth2_refresh_token", CONFIG_T_PASSWORD, IMAPS, NULL, SECRET, NULL,
	  "OAuth2 refresh token" },
	{ "oauth2_refresh_token_eval", CONFIG_T_PYEXPR, IMAPS, NULL, SECRET,
	  NULL, "OAuth2 refresh token, computed" },
	{ "oauth2_request_url", CONFIG_T_STRING, IMAPS, NULL, 0, NULL,
	  "OAuth2 token URL" },
	{ "preauthtunnel", CONFIG_T_COMMAND, IMAPS, NULL, 0, NULL,
	  "command speaking IMAP, already logged in" },
	{ "transporttunnel", CONFIG_T_COMMAND, IMAPS, NULL, 0, NULL,
	  "command carrying the connection" },
	{ "reference", CONFIG_T_STRING, IMAPS, "\"\"", 0, NULL,
	  "folder root on the server" },
	{ "decodefoldernames", CONFIG_T_BOOL, IMAPS, "no", 0, NULL,
	  "decode modified UTF-7 names (deprecated)" },
	{ "idlefolders", CONFIG_T_PYEXPR, IMAPS, "[]", 0, NULL,
	  "folders watched with IDLE" },
	{ "usecompression", CONFIG_T_BOOL, IMAPS, "no", 0, NULL,
	  "COMPRESS=DEFLATE" },
	{ "maxconnections", CONFIG_T_INT, IMAPS, "1", SHOW, NULL,
	  "connections to the server" },
	{ "singlethreadperfolder", CONFIG_T_BOOL, IMAPS, "no", 0, NULL,
	  "one thread per folder" },
	{ "holdconnectionopen", CONFIG_T_BOOL, IMAPS, "no", 0, NULL,
	  "keep connections between syncs" },
	{ "keepalive", CONFIG_T_INT, IMAPS, "0", 0, NULL,
	  "seconds between NOOPs while waiting" },
	{ "expunge", CONFIG_T_BOOL, IMAPS, "yes", SHOW, NULL,
	  "expunge deleted messages" },
	{ "subscribedonly", CONFIG_T_BOOL, IMAPS, "no", 0, NULL,
	  "only subscribed folders" },
	{ "newmail_hook", CONFIG_T_PYEXPR, IMAPS, NULL, 0, NULL,
	  "called on new mail" },
	{ "retrycount", CONFIG_T_INT, IMAPS, "2", 0, NULL,
	  "retries of a failed fetch" },
	{ "copy_ignore_eval", CONFIG_T_PYEXPR, IMAPS, NULL, 0, NULL,
	  "UIDs never downloaded" },
};

const struct config_option *config_schema(size_t *n_r)
{
	*n_r = ARRAY_SIZE(schema);
	return schema;
}

static bool name_matches(const char *pattern, const char *name)
{
	size_t n = strlen(pattern);
	if (n && pattern[n - 1] == '*') {
		/* customflag_[a-z]: exactly one lowercase letter */
		return !oim_strncasecmp(pattern, name, n - 1) &&
		       ((name[n - 1] >= 'a' && name[n - 1] <= 'z') ||
			(name[n - 1] >= 'A' && name[n - 1] <= 'Z')) &&
		       name[n] == '\0';
	}
	return !oim_strcasecmp(pattern, name);
}

const struct config_option *config_schema_find(unsigned kind,
					       const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(schema); i++)
		if ((schema[i].kinds & kind) && name_matches(schema[i].name, name))
			return &schema[i];
	return NULL;
}

const char *config_type_name(enum config_type t)
{
	static const char *const names[] = {
		[CONFIG_T_STRING] = "string",
		[CONFIG_T_BOOL] = "boolean",
		[CONFIG_T_INT] = "integer",
		[CONFIG_T_FLOAT] = "number",
		[CONFIG_T_PYEXPR] = "Python expression",
		[CONFIG_T_LIST] = "comma-separated list",
		[CONFIG_T_PATH] = "path",
		[CONFIG_T_PASSWORD] = "password",
		[CONFIG_T_ENUM] = "choice",
		[CONFIG_T_ENUMLIST] = "list of choices",
		[CONFIG_T_DATE] = "date (yyyy-mm-dd)",
		[CONFIG_T_MAXAGE] = "number of days or date (yyyy-mm-dd)",
		[CONFIG_T_COMMAND] = "command",
		[CONFIG_T_PROXY] = "proxy (TYPE:host:port)",
		[CONFIG_T_FINGERPRINTS] = "list of certificate fingerprints",
	};
	if ((size_t)t < ARRAY_SIZE(names) && names[t])
		return names[t];
	return "?";
}

const char *config_kind_name(unsigned kind)
{
	switch (kind) {
	case CONFIG_K_GENERAL:
		return "[general]";
	case CONFIG_K_MBNAMES:
		return "[mbnames]";
	case CONFIG_K_ACCOUNT:
		return "an [Account] section";
	case CONFIG_K_IMAP:
		return "an IMAP repository";
	case CONFIG_K_MAILDIR:
		return "a Maildir repository";
	case CONFIG_K_GMAIL:
		return "a Gmail repository";
	case CONFIG_K_GMAILMAILDIR:
		return "a GmailMaildir repository";
	case CONFIG_K_REPO_UNKNOWN:
		return "a repository";
	default:
		return "this section";
	}
}
