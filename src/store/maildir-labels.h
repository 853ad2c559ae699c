/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * maildir-labels.h - Gmail labels in a Maildir message's header
 * (OfflineIMAP's GmailMaildir: labelsheader, default X-Keywords).
 *
 * Reading: every field named 'header' (case-insensitive) of the header
 * section, unfolded, split with labels_header_sep(header) (labels.h), all
 * added up (Python's get_all + labels_from_header).  RFC 2047 encoded
 * words (which Python's email package writes when it folds a long value)
 * are not decoded.
 *
 * Writing (savemessagelabels): every field named 'header' is removed and
 * one "<header>: <labels>" is appended at the end of the header section
 * ("<header>:" when there are none), as Python's del msg[h] +
 * add_header() place it; every other byte of the file is kept.  The new
 * content goes to a file in tmp/ (fsynced with fsync on), which then
 * takes the message's place with renameat2(RENAME_EXCHANGE) so that the
 * message keeps its name; the old content, now under the tmp/ name, is
 * removed.  A crash leaves either the old or the new message under the
 * name, never both or neither (at worst a stray file in tmp/).  A message
 * a mail reader renamed or deleted meanwhile is not recreated: that is an
 * OIM_SEV_MESSAGE error and the next sync tries again.  (On a file system
 * without RENAME_EXCHANGE a plain rename over the name is used, as
 * OfflineIMAP does.)  With utime_from_header the file keeps its mtime,
 * as OfflineIMAP does.
 *
 * Names are "cur/<file>" / "new/<file>" as in maildir.h.
 */
#ifndef OIMAP_STORE_MAILDIR_LABELS_H
#define OIMAP_STORE_MAILDIR_LABELS_H

#include "labels.h"
#include "maildir.h"

/* Labels of message 'name' added to *out; *mtime_r (may be NULL) the
 * file's mtime in seconds. */
int maildir_msg_labels_read(struct maildir_folder *f, const char *name,
			    const char *header, struct labelset *out,
			    int64_t *mtime_r, struct oim_err *err) OIM_WUR;

/* Replace the message's labels header with 'labels'.  *mtime_r (may be
 * NULL) gets the mtime the message has afterwards. */
int maildir_msg_labels_write(struct maildir_folder *f, const char *name,
			     const char *header, const struct labelset *labels,
			     int64_t *mtime_r, struct oim_err *err) OIM_WUR;

/*
 * A message being delivered (maildir_delivery_begin) gets its labels
 * header on the way in, the same as maildir_msg_labels_write would make
 * it, without a second copy: call before the first
 * maildir_delivery_write.  The header section is held back until it is
 * complete; one longer than MAILDIR_MAX_HEADER is written unchanged
 * (maildir_msg_labels_read then tells what it says).
 */
void maildir_delivery_labels(struct maildir_delivery *d, const char *header,
			     const struct labelset *labels);

#endif
