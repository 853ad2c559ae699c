/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * info.c - oimap --info: what would sync, with which settings, without
 * connecting anywhere.
 *
 * Secrets: an option of a secret kind prints as <redacted>, and so does
 * any option a secret is built from through %(name)s (and any option built
 * from one of those), so "remotepass = %(pw)s" does not leak [DEFAULT] pw.
 */
#include "config-int.h"

#define REDACTED "<redacted>"

struct tainted {
	char **names;
	size_t n, alloc;
};

static bool tainted_has(const struct tainted *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->names[i], name))
			return true;
	return false;
}

static void tainted_add(struct tainted *t, const char *name, size_t len)
{
	char *n = xstrndup(name, len);
	oim_str_tolower(n);
	if (tainted_has(t, n)) {
		free(n);
		return;
	}
	ALLOC_GROW(t->names, t->n, t->alloc);
	t->names[t->n++] = n;
}

/* Add every %(name)s of 'value' to t. */
static bool add_refs(struct tainted *t, const char *value)
{
	size_t before = t->n;
	const char *s = value;
	while ((s = strstr(s, "%(")) != NULL) {
		const char *c = strchr(s + 2, ')');
		if (!c)
			break;
		if (c > s + 2 && c[1] == 's')
			tainted_add(t, s + 2, (size_t)(c - s - 2));
		s = c;
	}
	return t->n != before;
}

static bool refs_tainted(const struct tainted *t, const char *value)
{
	const char *s = value;
	while ((s = strstr(s, "%(")) != NULL) {
		const char *c = strchr(s + 2, ')');
		if (!c)
			return false;
		char *n = xstrndup(s + 2, (size_t)(c - s - 2));
		oim_str_tolower(n);
		bool hit = tainted_has(t, n);
		free(n);
		if (hit)
			return true;
		s = c;
	}
	return false;
}

static void compute_tainted(struct config *cfg, struct tainted *t)
{
	/* Names of secret options, then what they reference, to a fixed
	 * point (references form a graph of at most all option names). */
	struct cfg_section **all = xcalloc(1 + cfg->n_sects, sizeof(*all));
	all[0] = &cfg->defaults;
	for (size_t i = 0; i < cfg->n_sects; i++)
		all[i + 1] = cfg->sects[i];
	for (size_t s = 0; s <= cfg->n_sects; s++)
		for (size_t i = 0; i < all[s]->n_opts; i++)
			if (cfg_is_secret(cfg, all[s], all[s]->opts[i].name))
				tainted_add(t, all[s]->opts[i].name,
					    strlen(all[s]->opts[i].name));
	bool changed = true;
	while (changed) {
		changed = false;
		for (size_t s = 0; s <= cfg->n_sects; s++)
			for (size_t i = 0; i < all[s]->n_opts; i++)
				if (tainted_has(t, all[s]->opts[i].name) &&
				    add_refs(t, all[s]->opts[i].value.buf))
					changed = true;
	}
	free(all);
}

static bool redact(struct config *cfg, const struct cfg_section *s,
		   const struct cfg_value *v, const struct tainted *t)
{
	return cfg_is_secret(cfg, s, v->name) || tainted_has(t, v->name) ||
	       refs_tainted(t, v->value.buf);
}

/* "name = value", continuation lines indented under the value. */
static void print_value(FILE *out, int indent, const char *name,
			const char *value, const char *note)
{
	int col = fprintf(out, "%*s%s = ", indent, "", name);
	const char *p = value;
	for (;;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		fwrite(p, 1, n, out);
		if (!nl)
			break;
		fprintf(out, "\n%*s", col > 0 ? col : 0, "");
		p = nl + 1;
	}
	if (note && *note)
		fprintf(out, "  (%s)", note);
	fputc('\n', out);
}

static void print_section(struct config *cfg, struct cfg_section *s,
			  int indent, const struct tainted *t, FILE *out)
{
	unsigned kind = cfg_section_kind(cfg, s);
	struct strbuf note = STRBUF_INIT;

	/* Own options first, then [DEFAULT] values this section reads. */
	for (int pass = 0; pass < 2; pass++) {
		struct cfg_section *src = pass ? &cfg->defaults : s;
		if (pass && s == &cfg->defaults)
			break;
		for (size_t i = 0; i < src->n_opts; i++) {
			const struct cfg_value *v = &src->opts[i];
			const struct config_option *o =
				config_schema_find(kind, v->name);
			if (pass && (!o || cfg_own_value(s, v->name)))
				continue;
			strbuf_reset(&note);
			if (pass)
				strbuf_addstr(&note, "from [DEFAULT]");
			if (!v->file)
				strbuf_addf(&note, "%sfrom %s",
					    note.len ? ", " : "",
					    v->origin ? v->origin
						      : "command line");
			if (!o && kind && s != &cfg->defaults)
				strbuf_addf(&note, "%sunknown option",
					    note.len ? ", " : "");
			const char *val;
			if (redact(cfg, s, v, t)) {
				val = REDACTED;
			} else if (o && (o->flags & CONFIG_F_RAW)) {
				val = v->value.buf;
			} else {
				struct oim_err e = OIM_ERR_INIT;
				val = cfg_interpolated(cfg, s, v, &e);
				if (!val) {
					val = v->value.buf;
					strbuf_addf(&note,
						    "%snot interpolated: bad "
						    "%%(...)s",
						    note.len ? ", " : "");
				}
			}
			char *exp = NULL;
			if (o && o->type == CONFIG_T_PATH && val != v->value.buf &&
			    strcmp(val, REDACTED)) {
				exp = cfg_expand_path(val);
				if (strcmp(exp, val))
					strbuf_addf(&note, "%sexpands to %s",
						    note.len ? ", " : "", exp);
			}
			free(exp);
			print_value(out, indent, v->name, val, note.buf);
		}
	}

	/* Interesting defaults of unset options. */
	size_t n;
	const struct config_option *tab = config_schema(&n);
	for (size_t i = 0; i < n; i++) {
		const struct config_option *o = &tab[i];
		if (!(o->kinds & kind) || !(o->flags & CONFIG_F_SHOW_DEFAULT))
			continue;
		/* An earlier entry for this kind wins (Gmail's defaults). */
		if (config_schema_find(kind, o->name) != o)
			continue;
		if (cfg_lookup(cfg, s, o->name))
			continue;
		print_value(out, indent, o->name,
			    o->def ? o->def : "(not set)",
			    o->def ? "default" : o->doc);
	}
	strbuf_release(&note);
}

static void print_cmdline(const struct config_cmdline *cl, FILE *out)
{
	fputs("Command line:\n", out);
	fprintf(out, "  accounts: %s\n",
		cl->accounts ? cl->accounts : "[general] accounts (no -a)");
	if (cl->folders)
		fprintf(out,
			"  folders: %s (-f: folderfilter and folderincludes "
			"of each remote repository replaced)\n",
			cl->folders);
	else
		fputs("  folders: as the folderfilter of each repository "
		      "(no -f)\n",
		      out);
	fprintf(out, "  quick: %s\n",
		cl->quick ? "yes (-q: quick = -1 in every account)" : "no");
	fprintf(out, "  run once: %s\n",
		cl->run_once ? "yes (-o: autorefresh removed)"
			     : "no (autorefresh as configured)");
	fprintf(out, "  single thread: %s%s%s%s\n",
		cl->single_thread ? "yes" : "no",
		cl->single_thread_why ? " (" : "",
		cl->single_thread_why ? cl->single_thread_why : "",
		cl->single_thread_why ? ")" : "");
	fprintf(out, "  dry run: %s\n", cl->dry_run ? "yes (--dry-run)" : "no");
	if (cl->ui)
		fprintf(out, "  ui: %s%s%s%s\n", cl->ui,
			cl->ui_from ? " (" : "", cl->ui_from ? cl->ui_from : "",
			cl->ui_from ? ")" : "");
	if (cl->debug_types)
		fprintf(out, "  debug: %s (-d)\n", cl->debug_types);
	if (cl->log_file)
		fprintf(out, "  log file: %s (-l)\n", cl->log_file);
	if (cl->syslog)
		fputs("  syslog: yes (-s)\n", out);
	if (cl->profile_dir)
		fprintf(out, "  profile directory: %s (-P)\n", cl->profile_dir);
	for (size_t i = 0; i < cl->n_overrides; i++) {
		/* Only the option: the value may be a password. */
		const char *eq = strchr(cl->overrides[i], '=');
		int len = eq ? (int)(eq - cl->overrides[i])
			     : (int)strlen(cl->overrides[i]);
		fprintf(out, "  override: -k %.*s\n", len, cl->overrides[i]);
	}
	fputc('\n', out);
}

int config_print_info(struct config *cfg, const struct config_cmdline *cl,
		      FILE *out, struct oim_err *err)
{
	if (!cfg->validated && config_validate(cfg, err))
		return -1;
	struct tainted t = { 0 };
	compute_tainted(cfg, &t);

	fprintf(out, "Configuration: %s (nothing contacted)\n\n",
		cfg->path ? cfg->path : "(none)");
	if (cl)
		print_cmdline(cl, out);

	struct cfg_section *s = cfg_find_section(cfg, "general");
	if (s) {
		fputs("[general]\n", out);
		print_section(cfg, s, 2, &t, out);
		fputc('\n', out);
	}
	s = cfg_find_section(cfg, "mbnames");
	if (s) {
		fputs("[mbnames]\n", out);
		print_section(cfg, s, 2, &t, out);
		fputc('\n', out);
	}
	if (cfg->defaults.n_opts) {
		fputs("[DEFAULT]\n", out);
		print_section(cfg, &cfg->defaults, 2, &t, out);
		fputc('\n', out);
	}

	size_t n = config_account_count(cfg);
	fprintf(out, "Accounts to sync (%zu):", n);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s %s", i ? "," : "",
			config_account_at(cfg, i)->name);
	fputs("\n\n", out);
	for (size_t i = 0; i < n; i++) {
		const struct config_account *a = config_account_at(cfg, i);
		fprintf(out, "Account %s [%s]\n", a->name, a->section);
		print_section(cfg, cfg_find_section(cfg, a->section), 2, &t,
			      out);
		const struct config_repo *r[2] = { &a->local, &a->remote };
		for (int k = 0; k < 2; k++) {
			fprintf(out, "  %s repository %s: type %s [%s]\n",
				k ? "Remote" : "Local", r[k]->name,
				config_repo_type_name(r[k]->type),
				r[k]->section);
			print_section(cfg, cfg_find_section(cfg, r[k]->section),
				      4, &t, out);
		}
		fputc('\n', out);
	}
	for (size_t i = 0; i < t.n; i++)
		free(t.names[i]);
	free(t.names);
	if (ferror(out))
		return oim_error(err, OIM_SEV_FATAL, OIM_E_IO,
				 "cannot write the --info output");
	return 0;
}
