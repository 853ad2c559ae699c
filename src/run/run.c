/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * run.c - account scheduling.  The sync engine is not there yet: this
 * says so plainly instead of pretending to sync.
 */
#include <openssl/opensslv.h>
#include <sqlite3.h>
#include <zlib.h>

#include "../config/config.h"
#include "../main.h"
#include "../util/log.h"
#include "../util/util.h"

int oim_sync_main(struct config *cfg, const struct oim_options *o)
{
	(void)cfg;
	(void)o;
	log_error("syncing is not implemented yet in this build of oimap; "
		  "--info shows what would be synced");
	return 1;
}

const char *oim_build_info(void)
{
	static char buf[256];
	snprintf(buf, sizeof(buf), "%s, SQLite %s, zlib %s",
		 OPENSSL_VERSION_TEXT, sqlite3_libversion(), zlibVersion());
	return buf;
}
