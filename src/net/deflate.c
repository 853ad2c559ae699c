/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * deflate.c - the COMPRESS=DEFLATE layer (RFC 4978): raw deflate
 * (windowBits -15, no zlib header) in both directions.
 *
 * Output: send() deflates with Z_NO_FLUSH into a bounded buffer and pushes
 * it down when it fills; flush() ends the batch with Z_SYNC_FLUSH (RFC 4978
 * section 4: the server must be able to decode everything we sent so far)
 * and pushes the rest.  Input: recv() inflates from a bounded buffer of
 * compressed bytes straight into the caller's buffer, so memory does not
 * grow with the compression ratio.
 */
#include <zlib.h>

#include "../util/log.h"
#include "net-int.h"

struct deflate_filter {
	struct net_filter base;
	z_stream in, out;
	bool in_init, out_init;
	bool in_more;	   /* last inflate filled the caller's buffer */
	bool in_end;	   /* the peer finished its deflate stream */
	bool need_sync;	   /* deflated data not yet sync-flushed */
	bool flushing;	   /* a Z_SYNC_FLUSH is under way */
	size_t opos, olen; /* pending compressed output obuf[opos..olen) */
	unsigned char ibuf[NET_BUF_SIZE];
	unsigned char obuf[NET_BUF_SIZE];
};

static int zerror(struct net_conn *conn, const char *what, z_stream *zs, int r,
		  struct oim_err *err)
{
	return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_PROTOCOL,
			 "%s: COMPRESS=DEFLATE %s failed: %s (zlib %d)",
			 conn->peer, what, zs->msg ? zs->msg : "no message", r);
}

static ssize_t dfl_recv(struct net_filter *f, void *buf, size_t len,
			struct oim_err *err)
{
	struct deflate_filter *d = (struct deflate_filter *)f;

	if (len > UINT32_MAX)
		len = UINT32_MAX;
	for (;;) {
		if (d->in_end)
			return 0;
		if (d->in.avail_in > 0 || d->in_more) {
			uInt in_before = d->in.avail_in;
			size_t produced;
			int r;

			d->in.next_out = buf;
			d->in.avail_out = (uInt)len;
			r = inflate(&d->in, Z_NO_FLUSH);
			produced = len - d->in.avail_out;
			d->in_more = d->in.avail_out == 0;
			if (r == Z_STREAM_END) {
				/* Dovecot finishes the stream when it
				 * closes (after LOGOUT): deliver what came
				 * with it, then report end of stream. */
				d->in_end = true;
				d->in_more = false;
				d->in.avail_in = 0;
				return (ssize_t)produced;
			}
			if (r != Z_OK && r != Z_BUF_ERROR)
				return zerror(f->conn, "inflate", &d->in, r,
					      err);
			if (produced > 0)
				return (ssize_t)produced;
			if (d->in.avail_in > 0 && d->in.avail_in == in_before)
				return zerror(f->conn, "inflate", &d->in, r,
					      err);
			if (d->in.avail_in > 0)
				continue;
		}
		/* all compressed input consumed: get more */
		ssize_t n = net_lower_recv(f, d->ibuf, sizeof(d->ibuf), err);
		if (n <= 0)
			return n;
		d->in.next_in = d->ibuf;
		d->in.avail_in = (uInt)n;
	}
}

/* Hand pending compressed bytes to the layer below. */
static int push(struct deflate_filter *d, struct oim_err *err)
{
	while (d->opos < d->olen) {
		ssize_t n = net_lower_send(&d->base, d->obuf + d->opos,
					   d->olen - d->opos, err);
		if (n < 0)
			return (int)n;
		d->opos += (size_t)n;
	}
	d->opos = d->olen = 0;
	return 0;
}

static void compact(struct deflate_filter *d)
{
	if (d->opos == 0)
		return;
	memmove(d->obuf, d->obuf + d->opos, d->olen - d->opos);
	d->olen -= d->opos;
	d->opos = 0;
}

static int dfl_flush(struct net_filter *f, struct oim_err *err);

static ssize_t dfl_send(struct net_filter *f, const void *buf, size_t len,
			struct oim_err *err)
{
	struct deflate_filter *d = (struct deflate_filter *)f;
	size_t consumed = 0;
	int r;

	/* finish a sync flush before starting the next batch */
	if (d->flushing) {
		r = dfl_flush(f, err);
		if (r < 0)
			return r;
	}
	if (len > UINT32_MAX)
		len = UINT32_MAX;
	while (consumed < len) {
		if (d->olen - d->opos == sizeof(d->obuf)) {
			r = push(d, err);
			if (r == -1)
				return -1;
			if (r == NET_AGAIN)
				break;
		}
		compact(d);
		d->out.next_in = (Bytef *)buf + consumed;
		d->out.avail_in = (uInt)(len - consumed);
		d->out.next_out = d->obuf + d->olen;
		d->out.avail_out = (uInt)(sizeof(d->obuf) - d->olen);
		r = deflate(&d->out, Z_NO_FLUSH);
		if (r != Z_OK && r != Z_BUF_ERROR)
			return zerror(f->conn, "deflate", &d->out, r, err);
		consumed = len - d->out.avail_in;
		d->olen = sizeof(d->obuf) - d->out.avail_out;
	}
	if (consumed == 0)
		return NET_AGAIN;
	d->need_sync = true;
	return (ssize_t)consumed;
}

static int dfl_flush(struct net_filter *f, struct oim_err *err)
{
	struct deflate_filter *d = (struct deflate_filter *)f;
	int r;

	while (d->need_sync) {
		compact(d);
		if (d->olen < sizeof(d->obuf)) {
			d->flushing = true;
			d->out.next_in = NULL;
			d->out.avail_in = 0;
			d->out.next_out = d->obuf + d->olen;
			d->out.avail_out = (uInt)(sizeof(d->obuf) - d->olen);
			r = deflate(&d->out, Z_SYNC_FLUSH);
			if (r != Z_OK && r != Z_BUF_ERROR)
				return zerror(f->conn, "deflate", &d->out, r,
					      err);
			d->olen = sizeof(d->obuf) - d->out.avail_out;
			if (d->out.avail_out != 0) {
				/* zlib had room: the flush is complete */
				d->need_sync = false;
				d->flushing = false;
				break;
			}
		}
		r = push(d, err);
		if (r < 0)
			return r;
	}
	r = push(d, err);
	if (r < 0)
		return r;
	return net_lower_flush(f, err);
}

static bool dfl_input_pending(const struct net_filter *f)
{
	const struct deflate_filter *d = (const struct deflate_filter *)f;
	return d->in.avail_in > 0 || d->in_more;
}

static bool dfl_output_pending(const struct net_filter *f)
{
	const struct deflate_filter *d = (const struct deflate_filter *)f;
	return d->opos < d->olen || d->need_sync;
}

static void dfl_destroy(struct net_filter *f)
{
	struct deflate_filter *d = (struct deflate_filter *)f;
	if (d->in_init)
		inflateEnd(&d->in);
	if (d->out_init)
		deflateEnd(&d->out);
	free(d);
}

static const struct net_filter_ops deflate_ops = {
    .name = "deflate",
    .recv = dfl_recv,
    .send = dfl_send,
    .flush = dfl_flush,
    .input_pending = dfl_input_pending,
    .output_pending = dfl_output_pending,
    .destroy = dfl_destroy,
};

struct net_filter *net_deflate_filter_new(struct oim_err *err)
{
	struct deflate_filter *d = xcalloc(1, sizeof(*d));

	d->base.ops = &deflate_ops;
	if (inflateInit2(&d->in, -15) != Z_OK) {
		dfl_destroy(&d->base);
		oim_error(err, OIM_SEV_ACCOUNT, OIM_E_GENERIC,
			  "cannot initialise zlib inflate");
		return NULL;
	}
	d->in_init = true;
	if (deflateInit2(&d->out, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		dfl_destroy(&d->base);
		oim_error(err, OIM_SEV_ACCOUNT, OIM_E_GENERIC,
			  "cannot initialise zlib deflate");
		return NULL;
	}
	d->out_init = true;
	return &d->base;
}

int net_conn_compress(struct net_conn *conn, struct oim_err *err)
{
	struct net_filter *f;

	if (conn->compressed)
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_GENERIC,
				 "%s: COMPRESS is already active", conn->peer);
	if (net_conn_output_pending(conn))
		BUG("net_conn_compress with unflushed output");
	f = net_deflate_filter_new(err);
	if (!f)
		return -1;
	net_conn_push(conn, f);
	conn->compressed = true;
	log_debug(OIM_DBG_NET, "%s: COMPRESS=DEFLATE active", conn->peer);
	return 0;
}
