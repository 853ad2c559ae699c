/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pyeval-ops.h - the boundary between oimap and its Python module
 * (oimap-python.so).  Nothing outside src/pyeval/ includes this.
 *
 * The module (pyeval.c and pyeval-module.c, linked with libpython3; see
 * util/module.h) exports oimap_pyeval_ops(), which returns the
 * implementation of pyeval.h.  pyeval-shim.c, in oimap itself, loads the
 * module on first use, so a config without Python expressions never
 * loads libpython (its relocations are most of a short run's start-up
 * time).
 *
 * The two sides are built together from one tree: no versioning beyond
 * PYEVAL_OPS_VERSION, which a mismatched module fails.
 */
#ifndef OIMAP_PYEVAL_OPS_H
#define OIMAP_PYEVAL_OPS_H

#include "../util/module.h"
#include "pyeval.h"

#define PYEVAL_OPS_VERSION 1
#define PYEVAL_MODULE_NAME "oimap-python.so"
#define PYEVAL_MODULE_SYMBOL "oimap_pyeval_ops"

struct pyeval_ops {
	unsigned version; /* first: oim_module_load() checks it */
	int (*init)(const char *pythonfile, struct oim_err *err);
	bool (*initialized)(void);
	void (*shutdown)(void);
	int (*compile)(const char *text, const char *option, const char *where,
		       unsigned flags, struct pyeval_expr **expr_r,
		       struct oim_err *err);
	void (*expr_free)(struct pyeval_expr *expr);
	int (*eval_str)(struct pyeval_expr *expr, char **out_r,
			struct oim_err *err);
	int (*eval_long)(struct pyeval_expr *expr, long *out_r,
			 struct oim_err *err);
	int (*eval_strlist)(struct pyeval_expr *expr, char ***list_r,
			    size_t *n_r, struct oim_err *err);
	int (*call_bool)(struct pyeval_expr *expr, const char *const *argv,
			 size_t argc, bool *out_r, struct oim_err *err);
	int (*call_str)(struct pyeval_expr *expr, const char *arg,
			char **out_r, struct oim_err *err);
	int (*call_uids)(struct pyeval_expr *expr, const char *folder,
			 uint32_t **uids_r, size_t *n_r, struct oim_err *err);
	int (*call_void)(struct pyeval_expr *expr, struct oim_err *err);
	int (*sort_cmp)(struct pyeval_expr *expr, const char *const *names,
			size_t n, size_t *order_r, struct oim_err *err);
	int (*sort_key)(struct pyeval_expr *expr, const char *const *keys,
			size_t nkeys, const char *const *values, size_t n,
			size_t *order_r, struct oim_err *err);
};


#endif
