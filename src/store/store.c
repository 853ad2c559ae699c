/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "store.h"

void store_folder_list_release(struct store_folder_list *l)
{
	for (size_t i = 0; i < l->nr; i++)
		free(l->v[i].name);
	free(l->v);
	l->v = NULL;
	l->nr = l->alloc = 0;
}

void store_msglist_release(struct store_msglist *l)
{
	for (size_t i = 0; i < l->nr; i++) {
		free(l->v[i].id);
		free(l->v[i].labels);
	}
	free(l->v);
	l->v = NULL;
	l->nr = l->alloc = 0;
	l->skipped = 0;
}

void store_close(struct store *s)
{
	if (s)
		s->ops->free(s);
}
