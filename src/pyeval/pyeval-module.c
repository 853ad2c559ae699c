/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pyeval-module.c - the entry point of oimap-python.so (pyeval-ops.h,
 * util/module.h).  Everything in the module is hidden
 * (-fvisibility=hidden) but oimap_pyeval_ops(), so the module's pyeval_*
 * never stand in for oimap's own.
 */
#include "../util/module.h"
#include "../util/util.h"
#include "pyeval-ops.h"

__attribute__((visibility("default"))) const struct pyeval_ops *
oimap_pyeval_ops(const struct oim_module_host *h);

const struct pyeval_ops *oimap_pyeval_ops(const struct oim_module_host *h)
{
	static const struct pyeval_ops ops = {
	    .version = PYEVAL_OPS_VERSION,
	    .init = pyeval_init,
	    .initialized = pyeval_initialized,
	    .shutdown = pyeval_shutdown,
	    .compile = pyeval_compile,
	    .expr_free = pyeval_expr_free,
	    .eval_str = pyeval_eval_str,
	    .eval_long = pyeval_eval_long,
	    .eval_strlist = pyeval_eval_strlist,
	    .call_bool = pyeval_call_bool,
	    .call_str = pyeval_call_str,
	    .call_uids = pyeval_call_uids,
	    .call_void = pyeval_call_void,
	    .sort_cmp = pyeval_sort_cmp,
	    .sort_key = pyeval_sort_key,
	};
	if (!h || h->version != OIM_MODULE_HOST_VERSION)
		return NULL;
	oim_module_set_host(h);
	return &ops;
}
