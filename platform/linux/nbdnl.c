/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nbdnl.c - attach an NBD device with the kernel's netlink interface.
 *
 * Why netlink: with the NBD_DO_IT ioctl a thread of the server sleeps in
 * the kernel for the life of the device, interruptibly; systemd-shutdown's
 * kill(-1, SIGSTOP) wakes it and the kernel then shuts the device's
 * sockets down under the mounted root ("NBD_DO_IT returned", I/O errors).
 * NBD_CMD_CONNECT (what nbd-client does by default) hands the socket to
 * the kernel and returns: no user thread is left in the kernel.
 *
 * Why by hand: liveroot-init is a small static early-boot binary; libnl
 * would add a library for two requests.  The requests are built and the
 * replies read here, in a few bytes of wire format (netlink(7),
 * genetlink): struct nlmsghdr, struct genlmsghdr, then attributes
 * (struct nlattr, 4-byte aligned, nested ones flagged NLA_F_NESTED).
 *
 * Invariants of the parser: the datagram is untrusted; every message
 * length is checked against the bytes left (at least a header, at most
 * the rest), every attribute length against its message, an attribute's
 * payload size against what its type must be; no header is read through a
 * cast of the input (memcpy), so any alignment is fine.  The builders
 * never write past cap.  No allocation, no I/O but in lri_nbdnl_attach.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/nbd-netlink.h>
#include <linux/netlink.h>

#include "nbdnl.h"

#define HDRLEN	(NLMSG_HDRLEN + GENL_HDRLEN)

/* --- building ------------------------------------------------------------- */

struct nlbuf {
	unsigned char	*p;
	size_t		len, cap;
	int		full;
};

static void *
nb_put(struct nlbuf *b, size_t n)
{
	size_t a = NLA_ALIGN(n);
	void *q;

	if (b->full || a > b->cap - b->len) {
		b->full = 1;
		return (NULL);
	}
	q = b->p + b->len;
	memset(q, 0, a);
	b->len += a;
	return (q);
}

/* An attribute; returns its offset (for a nest) or SIZE_MAX. */
static size_t
nb_attr(struct nlbuf *b, uint16_t type, const void *data, size_t n)
{
	struct nlattr na;
	unsigned char *q;
	size_t off = b->len;

	if (n > 0xffff - NLA_HDRLEN || (q = nb_put(b, NLA_HDRLEN + n)) ==
	    NULL)
		return (SIZE_MAX);
	na.nla_len = (uint16_t)(NLA_HDRLEN + n);
	na.nla_type = type;
	memcpy(q, &na, sizeof(na));
	if (n != 0)
		memcpy(q + NLA_HDRLEN, data, n);
	return (off);
}

static void
nb_u32(struct nlbuf *b, uint16_t type, uint32_t v)
{
	(void)nb_attr(b, type, &v, sizeof(v));
}

static void
nb_u64(struct nlbuf *b, uint16_t type, uint64_t v)
{
	(void)nb_attr(b, type, &v, sizeof(v));
}

static void
nb_nest_end(struct nlbuf *b, size_t off)
{
	struct nlattr na;

	if (b->full || off == SIZE_MAX || b->len - off > 0xffff) {
		b->full = 1;
		return;
	}
	memcpy(&na, b->p + off, sizeof(na));
	na.nla_len = (uint16_t)(b->len - off);
	memcpy(b->p + off, &na, sizeof(na));
}

static void
nb_start(struct nlbuf *b, void *buf, size_t cap, uint16_t type, uint32_t seq,
    uint8_t cmd, uint8_t version)
{
	struct nlmsghdr nh;
	struct genlmsghdr gh;
	unsigned char *q;

	b->p = buf;
	b->len = 0;
	b->cap = cap;
	b->full = 0;
	if ((q = nb_put(b, HDRLEN)) == NULL)
		return;
	memset(&nh, 0, sizeof(nh));
	nh.nlmsg_type = type;
	nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nh.nlmsg_seq = seq;
	memcpy(q, &nh, sizeof(nh));
	memset(&gh, 0, sizeof(gh));
	gh.cmd = cmd;
	gh.version = version;
	memcpy(q + NLMSG_HDRLEN, &gh, sizeof(gh));
}

static size_t
nb_finish(struct nlbuf *b)
{
	uint32_t l;

	if (b->full || b->len > UINT32_MAX)
		return (0);
	l = (uint32_t)b->len;
	memcpy(b->p + offsetof(struct nlmsghdr, nlmsg_len), &l, sizeof(l));
	return (b->len);
}

size_t
lri_nbdnl_getfamily(void *buf, size_t cap, uint32_t seq, const char *name)
{
	struct nlbuf b;

	nb_start(&b, buf, cap, GENL_ID_CTRL, seq, CTRL_CMD_GETFAMILY, 1);
	(void)nb_attr(&b, CTRL_ATTR_FAMILY_NAME, name, strlen(name) + 1);
	return (nb_finish(&b));
}

size_t
lri_nbdnl_connect_msg(void *buf, size_t cap, uint16_t family, uint32_t seq,
    const struct lri_nbdnl_connect *c)
{
	struct nlbuf b;
	size_t socks, item;

	nb_start(&b, buf, cap, family, seq, NBD_CMD_CONNECT, NBD_GENL_VERSION);
	nb_u32(&b, NBD_ATTR_INDEX, c->index);
	nb_u64(&b, NBD_ATTR_SIZE_BYTES, c->size);
	nb_u64(&b, NBD_ATTR_BLOCK_SIZE_BYTES, c->blksize);
	nb_u64(&b, NBD_ATTR_SERVER_FLAGS, c->flags);
	socks = nb_attr(&b, NBD_ATTR_SOCKETS | NLA_F_NESTED, NULL, 0);
	item = nb_attr(&b, NBD_SOCK_ITEM | NLA_F_NESTED, NULL, 0);
	nb_u32(&b, NBD_SOCK_FD, c->sockfd);
	nb_nest_end(&b, item);
	nb_nest_end(&b, socks);
	return (nb_finish(&b));
}

/* --- parsing -------------------------------------------------------------- */

static int
parse_attrs(const unsigned char *p, size_t len, uint16_t attr,
    size_t attrlen, struct lri_nbdnl_reply *r, struct diag *d)
{
	struct nlattr na;
	size_t off = 0, step;

	while (len - off >= NLA_HDRLEN) {
		memcpy(&na, p + off, sizeof(na));
		if (na.nla_len < NLA_HDRLEN || na.nla_len > len - off)
			return (diag_set(d, EBADMSG, "netlink reply: attribute "
			    "at %zu has length %u of %zu bytes left", off,
			    (unsigned)na.nla_len, len - off));
		if ((na.nla_type & NLA_TYPE_MASK) == attr) {
			if ((size_t)na.nla_len - NLA_HDRLEN != attrlen)
				return (diag_set(d, EBADMSG, "netlink reply: "
				    "attribute %u has %u payload bytes, not "
				    "%zu", (unsigned)attr, (unsigned)
				    (na.nla_len - NLA_HDRLEN), attrlen));
			if (attrlen == 2) {
				uint16_t v;

				memcpy(&v, p + off + NLA_HDRLEN, 2);
				r->value = v;
			} else {
				uint32_t v;

				memcpy(&v, p + off + NLA_HDRLEN, 4);
				r->value = v;
			}
			r->have = 1;
		}
		step = NLA_ALIGN((size_t)na.nla_len);
		off += step < len - off ? step : len - off;
	}
	return (0);
}

int
lri_nbdnl_parse(const void *buf, size_t len, uint32_t seq, uint16_t msgtype,
    uint16_t attr, size_t attrlen, struct lri_nbdnl_reply *r, struct diag *d)
{
	const unsigned char *p = buf;
	struct nlmsghdr nh;
	size_t off = 0, step, plen;
	int32_t err;

	if (attrlen != 2 && attrlen != 4)
		return (diag_set(d, EINVAL, "netlink: attribute size %zu",
		    attrlen));
	while (off < len) {
		if (len - off < NLMSG_HDRLEN)
			return (diag_set(d, EBADMSG, "netlink reply: %zu stray "
			    "bytes after the last message", len - off));
		memcpy(&nh, p + off, sizeof(nh));
		if (nh.nlmsg_len < NLMSG_HDRLEN || nh.nlmsg_len > len - off)
			return (diag_set(d, EBADMSG, "netlink reply: message "
			    "at %zu has length %u of %zu bytes left", off,
			    (unsigned)nh.nlmsg_len, len - off));
		plen = nh.nlmsg_len - NLMSG_HDRLEN;
		if (nh.nlmsg_seq != seq)
			goto next;
		if (nh.nlmsg_type == NLMSG_ERROR) {
			if (plen < sizeof(err))
				return (diag_set(d, EBADMSG, "netlink reply: "
				    "error message of %zu bytes", plen));
			memcpy(&err, p + off + NLMSG_HDRLEN, sizeof(err));
			if (err > 0 || err < -4095)
				return (diag_set(d, EBADMSG, "netlink reply: "
				    "error code %ld", (long)err));
			r->acked = 1;
			r->error = -err;
		} else if (nh.nlmsg_type == msgtype) {
			if (plen < GENL_HDRLEN)
				return (diag_set(d, EBADMSG, "netlink reply: "
				    "generic message of %zu bytes", plen));
			if (parse_attrs(p + off + HDRLEN, plen - GENL_HDRLEN,
			    attr, attrlen, r, d) != 0)
				return (EBADMSG);
		}
next:
		step = NLMSG_ALIGN((size_t)nh.nlmsg_len);
		off += step < len - off ? step : len - off;
	}
	return (0);
}

/* --- the kernel ----------------------------------------------------------- */

/*
 * Send msg and read replies until the ACK (or an error) for seq; the
 * wanted attribute lands in r.  Bounded by a 5 s wait per datagram.
 */
static int
transact(int fd, const void *msg, size_t len, uint32_t seq, uint16_t msgtype,
    uint16_t attr, size_t attrlen, struct lri_nbdnl_reply *r,
    const char *what, struct diag *d)
{
	static unsigned char rbuf[16384];
	struct sockaddr_nl sa;
	struct pollfd pfd;
	ssize_t n;
	int e;

	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	memset(r, 0, sizeof(*r));
	if (sendto(fd, msg, len, 0, (struct sockaddr *)&sa, sizeof(sa)) !=
	    (ssize_t)len)
		return (diag_set(d, errno, "%s: netlink send: %s", what,
		    strerror(errno)));
	while (!r->acked) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if ((e = poll(&pfd, 1, 5000)) <= 0) {
			if (e < 0 && errno == EINTR)
				continue;
			return (diag_set(d, ETIMEDOUT, "%s: no netlink reply "
			    "within 5 s", what));
		}
		n = recv(fd, rbuf, sizeof(rbuf), MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return (diag_set(d, errno, "%s: netlink receive: %s",
			    what, strerror(errno)));
		if ((size_t)n > sizeof(rbuf))
			return (diag_set(d, EMSGSIZE, "%s: netlink reply of "
			    "%zd bytes", what, n));
		if ((e = lri_nbdnl_parse(rbuf, (size_t)n, seq, msgtype, attr,
		    attrlen, r, d)) != 0)
			return (e);
	}
	return (0);
}

int
lri_nbdnl_attach(const struct lri_nbdnl_connect *c, struct diag *d)
{
	unsigned char msg[256];
	struct lri_nbdnl_reply r;
	struct sockaddr_nl sa;
	uint16_t family;
	size_t len;
	int fd, e;

	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
	    NETLINK_GENERIC)) < 0) {
		e = errno;
		return (diag_set(d, e == EPROTONOSUPPORT || e == EAFNOSUPPORT ?
		    ENOENT : e, "netlink socket: %s", strerror(e)));
	}
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		e = errno;
		close(fd);
		return (diag_set(d, e, "netlink bind: %s", strerror(e)));
	}
	len = lri_nbdnl_getfamily(msg, sizeof(msg), 1, NBD_GENL_FAMILY_NAME);
	if (len == 0) {
		e = diag_set(d, EMSGSIZE, "netlink: request too long");
		goto out;
	}
	if ((e = transact(fd, msg, len, 1, GENL_ID_CTRL, CTRL_ATTR_FAMILY_ID,
	    2, &r, "CTRL_CMD_GETFAMILY nbd", d)) != 0)
		goto out;
	if (r.error != 0 || !r.have) {
		e = r.error == ENOENT || r.error == 0 ? ENOENT : r.error;
		diag_set(d, e, "the kernel has no generic netlink family "
		    "\"nbd\"%s%s", r.error ? ": " : "", r.error ?
		    strerror(r.error) : "");
		goto out;
	}
	family = (uint16_t)r.value;
	len = lri_nbdnl_connect_msg(msg, sizeof(msg), family, 2, c);
	if (len == 0) {
		e = diag_set(d, EMSGSIZE, "netlink: request too long");
		goto out;
	}
	if ((e = transact(fd, msg, len, 2, family, NBD_ATTR_INDEX, 4, &r,
	    "NBD_CMD_CONNECT", d)) != 0)
		goto out;
	if (r.error != 0) {
		/* Not ENOENT: that means "fall back" to the caller. */
		e = r.error == ENOENT ? ENODEV : r.error;
		diag_set(d, e, "NBD_CMD_CONNECT: %s%s", strerror(r.error),
		    r.error == EBUSY ? " (the device is in use: is another "
		    "NBD client attached to it?)" : "");
		goto out;
	}
	if (r.have && r.value != c->index) {
		e = EIO;
		diag_set(d, e, "NBD_CMD_CONNECT attached /dev/nbd%u, not "
		    "/dev/nbd%u", (unsigned)r.value, c->index);
		goto out;
	}
	e = 0;
out:
	close(fd);
	return (e);
}
