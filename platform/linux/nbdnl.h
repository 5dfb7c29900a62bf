/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nbdnl.h - the kernel's netlink NBD interface (genetlink family "nbd",
 * <linux/nbd-netlink.h>), hand-written: the message builders and the
 * bounded reply parser are pure (buffer in, buffer or struct out) so the
 * unit test and the fuzz target run them without a kernel; lri_nbdnl_*
 * below them do the socket I/O.
 */
#ifndef LIVEROOT_NBDNL_H
#define LIVEROOT_NBDNL_H

#include <stddef.h>
#include <stdint.h>

#include <liveroot/diag.h>

/* What NBD_CMD_CONNECT asks for (nbd-client's default attributes). */
struct lri_nbdnl_connect {
	uint32_t	index;		/* /dev/nbdINDEX */
	uint64_t	size;		/* NBD_ATTR_SIZE_BYTES */
	uint64_t	blksize;	/* NBD_ATTR_BLOCK_SIZE_BYTES */
	uint64_t	flags;		/* NBD_ATTR_SERVER_FLAGS (NBD_FLAG_*) */
	uint32_t	sockfd;		/* the one NBD_SOCK_FD */
};

/* The part of a reply the caller asked for (lri_nbdnl_parse). */
struct lri_nbdnl_reply {
	int		acked;		/* an NLMSG_ERROR for seq was seen */
	int		error;		/* its error: 0 (an ACK) or an errno */
	int		have;		/* the wanted attribute was seen */
	uint32_t	value;		/* its value (u16 or u32) */
};

/*
 * Build the requests into buf (cap bytes).  Each returns the message's
 * length, or 0 when it does not fit (nothing else can go wrong).
 * CTRL_CMD_GETFAMILY asks the generic netlink controller for name's id.
 */
size_t	lri_nbdnl_getfamily(void *buf, size_t cap, uint32_t seq,
	    const char *name);
size_t	lri_nbdnl_connect_msg(void *buf, size_t cap, uint16_t family,
	    uint32_t seq, const struct lri_nbdnl_connect *c);

/*
 * Read one datagram of replies (len bytes, any alignment, untrusted: every
 * message and attribute length is checked against what contains it).
 * Messages for another seq are skipped.  An NLMSG_ERROR for seq sets
 * acked and error; a message of type msgtype for seq is searched for the
 * top-level attribute attr, whose payload must be exactly attrlen bytes
 * (2 or 4) and sets have/value.  r accumulates over calls (clear it once).
 * Returns 0, or EBADMSG for a malformed datagram (d says where).
 */
int	lri_nbdnl_parse(const void *buf, size_t len, uint32_t seq,
	    uint16_t msgtype, uint16_t attr, size_t attrlen,
	    struct lri_nbdnl_reply *r, struct diag *d);

/*
 * Attach c->sockfd to /dev/nbdINDEX with NBD_CMD_CONNECT.  Returns 0;
 * ENOENT (only) when the kernel has no "nbd" family (the caller falls back
 * to the ioctls); any other errno with d naming the step.
 */
int	lri_nbdnl_attach(const struct lri_nbdnl_connect *c, struct diag *d);

#endif
