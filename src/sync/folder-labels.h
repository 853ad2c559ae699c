/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * folder-labels.h - Gmail label sync of one folder (OfflineIMAP's
 * synclabels: folder/Gmail.py and folder/GmailMaildir.py), private to
 * sync/folder.c.
 *
 * OfflineIMAP adds a fourth pass, labels, to each direction; oimap runs
 * both after the plan's six phases, remote -> local first, which gives
 * the same result: the label passes change only labels (and the status's
 * labels and mtime), and the other phases none of them.
 *
 *  remote -> local (Gmail.py syncmessagesto_labels): for each message on
 *  both sides with a status record, R = server labels - ignorelabels and
 *  S = status labels - ignorelabels; when they differ the local header is
 *  made R plus the ignored labels it had (not rewritten when it already
 *  says R), then the status gets labels R and the file's mtime.  The
 *  server wins when both sides changed a message's labels.
 *
 *  local -> remote (GmailMaildir.py): a message whose file mtime is newer
 *  than the status mtime has its header read: labels it gained are added
 *  on the server (UID STORE +X-GM-LABELS, one command per label), labels
 *  it lost removed (-X-GM-LABELS); ignorelabels are not sent; then the
 *  status gets the header's labels and the mtime.
 *
 *  Copies: a downloaded message gets the header with the server's labels
 *  (minus ignorelabels) as it is written (store save_labels; rewritten
 *  after the fact only when that could not be done), and the status its
 *  labels and mtime (Gmail.py getmessage / copymessageto).  An uploaded
 *  message's header labels (minus ignorelabels) are added on the server
 *  after the APPEND, then recorded.  (oimap: OfflineIMAP sets them with
 *  X-GM-LABELS, which would also take away the label of the folder the
 *  message was uploaded to; oimap only adds.)
 *
 * Crash safety: the status learns labels and mtime only after the other
 * side has them; a run killed in between sees the difference again and
 * repeats the change (adding or removing a label twice is harmless, a
 * header rewrite is atomic: maildir-labels.h).
 *
 * Dry run (job->dry_run): the passes report what they would change
 * ("[DRYRUN] ... setting labels / adding label ...") and change nothing.
 *
 * Errors: a message whose labels could not be changed is logged, counted
 * in failed and left for the next run; a connection or folder error ends
 * the pass (-1).
 */
#ifndef OIMAP_SYNC_FOLDER_LABELS_H
#define OIMAP_SYNC_FOLDER_LABELS_H

#include "sync.h"

struct sync_labels_run {
	const struct sync_folder_job *job; /* job->labels != NULL */
	struct store_folder *f[2];
	struct store_msglist *list[2];
	struct status *st;
	size_t failed;	   /* messages whose labels failed (logged) */
	size_t changed[2]; /* messages whose labels changed on the side */
};

/* A download of remote message rm was begun with local writer w: the
 * labels header goes in as the message is written (0, or -1 with err). */
int sync_labels_download_begin(struct sync_labels_run *r,
			       const struct store_msg *rm,
			       struct store_writer *w,
			       struct oim_err *err) OIM_WUR;
/* A message downloaded from remote message rm is now local 'id' with a
 * status record: give it the server's labels (unless the download wrote
 * them already), record them and the file's mtime. */
int sync_labels_downloaded(struct sync_labels_run *r,
			   const struct store_msg *rm, const char *id,
			   struct oim_err *err) OIM_WUR;
/* Local message lm was uploaded as lm->uid and recorded. */
int sync_labels_uploaded(struct sync_labels_run *r, struct store_msg *lm,
			 struct oim_err *err) OIM_WUR;
/* The two label passes (skipping a read-only side's); the status
 * changes are committed here. */
int sync_labels_passes(struct sync_labels_run *r, struct oim_err *err) OIM_WUR;
/* -q: has a local file an mtime newer than its status record? */
bool sync_labels_local_changed(const struct sync_labels_run *r);

#endif
