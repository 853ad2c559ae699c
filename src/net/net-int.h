/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * net-int.h - inside of the net module: the filter chain and helpers
 * shared by net.c, tls.c and deflate.c.  Nothing outside src/net (and its
 * unit test) includes this.
 *
 * A filter is one layer.  Its recv/send never block; they return
 *   > 0   bytes moved
 *   0     recv only: end of stream (the layer below closed cleanly)
 *   NET_AGAIN  nothing possible now; the layer set conn->rd_need or
 *              conn->wr_need (NET_IO_IN / NET_IO_OUT) to what the fd must
 *              become before a retry can progress
 *   -1    error, err filled
 * flush pushes this layer's buffered output into the layer below and then
 * flushes that one: 0 done, NET_AGAIN, -1.
 */
#ifndef OIMAP_NET_INT_H
#define OIMAP_NET_INT_H

#include <sys/types.h>

#include "net.h"

#define NET_AGAIN (-2)

/* Which fd event a direction waits for. */
enum net_io {
	NET_IO_IN = 1,
	NET_IO_OUT = 2,
};

struct net_filter;

struct net_filter_ops {
	const char *name;
	ssize_t (*recv)(struct net_filter *f, void *buf, size_t len,
			struct oim_err *err);
	ssize_t (*send)(struct net_filter *f, const void *buf, size_t len,
			struct oim_err *err);
	int (*flush)(struct net_filter *f, struct oim_err *err);
	/* decoded input held in this layer (a recv needs no fd event) */
	bool (*input_pending)(const struct net_filter *f);
	/* output held in this layer (not yet in the layer below) */
	bool (*output_pending)(const struct net_filter *f);
	void (*destroy)(struct net_filter *f);
};

struct net_filter {
	const struct net_filter_ops *ops;
	struct net_filter *lower; /* NULL for the bottom (fd) layer */
	struct net_conn *conn;
};

struct net_conn {
	struct net_filter *top;
	int rfd, wfd;
	int timeout_ms; /* -1 = forever */
	char *peer;
	char *host;  /* for TLS verification; NULL for tunnels */
	pid_t child; /* tunnel, or -1 */
	bool tls, compressed;
	unsigned rd_need, wr_need; /* enum net_io for each direction */
};

/* Push a filter on top of the chain. */
void net_conn_push(struct net_conn *conn, struct net_filter *f);

/* Chain helpers used by a filter to reach the layer below. */
static inline ssize_t net_lower_recv(struct net_filter *f, void *buf,
				     size_t len, struct oim_err *err)
{
	return f->lower->ops->recv(f->lower, buf, len, err);
}
static inline ssize_t net_lower_send(struct net_filter *f, const void *buf,
				     size_t len, struct oim_err *err)
{
	return f->lower->ops->send(f->lower, buf, len, err);
}
static inline int net_lower_flush(struct net_filter *f, struct oim_err *err)
{
	return f->lower->ops->flush(f->lower, err);
}

/* Wait (socktimeout) until the direction(s) in 'want' may progress;
 * OIM_E_TIMEOUT with 'what' in the message on expiry. */
int net_conn_wait(struct net_conn *conn, unsigned want, const char *what,
		  struct oim_err *err);

/* The end-of-stream error for conn (includes a tunnel's exit status). */
int net_conn_eof_error(struct net_conn *conn, struct oim_err *err);

/* deflate.c */
struct net_filter *net_deflate_filter_new(struct oim_err *err);

/* tls.c */

/* One parsed cert_fingerprint entry: a digest identified by its length. */
struct net_fingerprint {
	unsigned len; /* 20, 28, 32, 48 or 64 bytes */
	unsigned char md[64];
};

/*
 * Parse OfflineIMAP's cert_fingerprint: comma-separated hex digests,
 * blanks around items ignored, colons and case tolerated, empty items
 * skipped.  Returns the count (0..max) or -1 with OIM_E_CONFIG for an item
 * that is not hex of a SHA-1/224/256/384/512 length.
 */
int net_fingerprints_parse(const char *value, struct net_fingerprint *fps,
			   int max, struct oim_err *err);

/* Does DER-encoded certificate 'der' match any of fps? */
bool net_fingerprints_match(const struct net_fingerprint *fps, int n,
			    const unsigned char *der, size_t der_len);

/* Lowercase hex of the digest 'mdname' ("SHA256", ...) of der into
 * out[out_len]; "" if it cannot. */
void net_cert_fingerprint_hex(const char *mdname, const unsigned char *der,
			      size_t der_len, char *out, size_t out_len);

#endif
