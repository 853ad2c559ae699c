/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * oauth2-http.h - the token request of oauth2.h, in the module
 * oimap-oauth2.so (util/module.h), so that libcurl and the thirty
 * libraries it brings are mapped only by a run that asks for a token.
 * Nothing outside src/run/oauth2*.c includes this.
 */
#ifndef OIMAP_RUN_OAUTH2_HTTP_H
#define OIMAP_RUN_OAUTH2_HTTP_H

#include "../util/err.h"
#include "oauth2.h"

#define OAUTH2_HTTP_VERSION 1
#define OAUTH2_MODULE_NAME "oimap-oauth2.so"
#define OAUTH2_MODULE_SYMBOL "oimap_oauth2_ops"

struct oauth2_http_ops {
	unsigned version; /* first: oim_module_load() checks it */
	/* POST the refresh grant to rq->url: *token_r (secret, malloc'd)
	 * and *expires_r (expires_in in seconds; 0 when the answer has
	 * none: good until refused; -1 when it is 0, negative or not a
	 * number: use the token once). */
	int (*refresh)(const struct oauth2_request *rq, char **token_r,
		       long *expires_r, struct oim_err *err);
};

#endif
