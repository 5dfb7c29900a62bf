/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_nbdnl.c - the hand-written generic netlink of nbdnl.c, no kernel:
 * the CTRL_CMD_GETFAMILY and NBD_CMD_CONNECT requests byte by byte (what
 * nbd-client's libnl sends: headers, attributes 4-byte aligned, the
 * socket nested twice), no byte written past a short buffer; and the
 * reply parser on exact-size buffers (ASan sees a one-byte over-read):
 * the controller's answer and its ACK, an error, a stranger's seq, and
 * every crafted length — a message or attribute longer than what holds
 * it, shorter than its header, a family id of the wrong size, a short or
 * out-of-range error code — refused as EBADMSG, every truncation of a
 * good reply answered without a crash.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/genetlink.h>
#include <linux/nbd-netlink.h>
#include <linux/netlink.h>

#include "nbdnl.h"

#include "t.h"

static void
put16(unsigned char *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void
put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint16_t
get16(const unsigned char *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return (v);
}

static uint32_t
get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return (v);
}

static uint64_t
get64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return (v);
}

/* Parse len bytes of src from an exact-size heap copy. */
static int
parse(const void *src, size_t len, uint32_t seq, uint16_t type,
    uint16_t attr, size_t alen, struct lri_nbdnl_reply *r, struct diag *d)
{
	unsigned char *b = malloc(len ? len : 1);
	int e;

	memcpy(b, src, len);
	memset(r, 0, sizeof(*r));
	diag_clear(d);
	e = lri_nbdnl_parse(b, len, seq, type, attr, alen, r, d);
	CHECK(memcmp(b, src, len) == 0);
	free(b);
	return (e);
}

static void
test_getfamily(void)
{
	unsigned char b[64], c[64];
	size_t n, cap;

	memset(b, 0xee, sizeof(b));
	n = lri_nbdnl_getfamily(b, sizeof(b), 7, "nbd");
	CHECK_EQ(n, 28);
	CHECK_EQ(get32(b), 28);			/* nlmsg_len */
	CHECK_EQ(get16(b + 4), GENL_ID_CTRL);	/* nlmsg_type */
	CHECK_EQ(get16(b + 6), NLM_F_REQUEST | NLM_F_ACK);
	CHECK_EQ(get32(b + 8), 7);		/* seq */
	CHECK_EQ(get32(b + 12), 0);		/* port id */
	CHECK_EQ(b[16], CTRL_CMD_GETFAMILY);
	CHECK_EQ(b[17], 1);
	CHECK_EQ(get16(b + 18), 0);
	CHECK_EQ(get16(b + 20), 8);		/* nla_len: 4 + "nbd\0" */
	CHECK_EQ(get16(b + 22), CTRL_ATTR_FAMILY_NAME);
	CHECK(memcmp(b + 24, "nbd", 4) == 0);
	CHECK_EQ(b[28], 0xee);
	/* Too short a buffer: 0, nothing written past it. */
	for (cap = 0; cap < 28; cap++) {
		memset(c, 0xee, sizeof(c));
		CHECK_EQ(lri_nbdnl_getfamily(c, cap, 7, "nbd"), 0);
		CHECK_EQ(c[cap], 0xee);
	}
	/* A name that needs padding: "nbdx\0" is 5 bytes, padded to 8. */
	n = lri_nbdnl_getfamily(b, sizeof(b), 1, "nbdx");
	CHECK_EQ(n, 32);
	CHECK_EQ(get16(b + 20), 9);
}

static void
test_connect(void)
{
	struct lri_nbdnl_connect c;
	struct lri_nbdnl_reply r;
	struct diag d;
	unsigned char b[128], s[128];
	size_t n, cap;

	memset(&c, 0, sizeof(c));
	c.index = 3;
	c.size = 0x123456789aULL;
	c.blksize = 4096;
	c.flags = 0x2d;
	c.sockfd = 9;
	memset(b, 0xee, sizeof(b));
	n = lri_nbdnl_connect_msg(b, sizeof(b), 0x1a, 5, &c);
	CHECK_EQ(n, 80);
	CHECK_EQ(get32(b), 80);
	CHECK_EQ(get16(b + 4), 0x1a);
	CHECK_EQ(get16(b + 6), NLM_F_REQUEST | NLM_F_ACK);
	CHECK_EQ(get32(b + 8), 5);
	CHECK_EQ(b[16], NBD_CMD_CONNECT);
	CHECK_EQ(b[17], NBD_GENL_VERSION);
	CHECK_EQ(get16(b + 20), 8);
	CHECK_EQ(get16(b + 22), NBD_ATTR_INDEX);
	CHECK_EQ(get32(b + 24), 3);
	CHECK_EQ(get16(b + 28), 12);
	CHECK_EQ(get16(b + 30), NBD_ATTR_SIZE_BYTES);
	CHECK(get64(b + 32) == 0x123456789aULL);
	CHECK_EQ(get16(b + 40), 12);
	CHECK_EQ(get16(b + 42), NBD_ATTR_BLOCK_SIZE_BYTES);
	CHECK_EQ(get64(b + 44), 4096);
	CHECK_EQ(get16(b + 52), 12);
	CHECK_EQ(get16(b + 54), NBD_ATTR_SERVER_FLAGS);
	CHECK_EQ(get64(b + 56), 0x2d);
	/* [SOCKETS [SOCK_ITEM [SOCK_FD 9]]] */
	CHECK_EQ(get16(b + 64), 16);
	CHECK_EQ(get16(b + 66), NBD_ATTR_SOCKETS | NLA_F_NESTED);
	CHECK_EQ(get16(b + 68), 12);
	CHECK_EQ(get16(b + 70), NBD_SOCK_ITEM | NLA_F_NESTED);
	CHECK_EQ(get16(b + 72), 8);
	CHECK_EQ(get16(b + 74), NBD_SOCK_FD);
	CHECK_EQ(get32(b + 76), 9);
	CHECK_EQ(b[80], 0xee);
	for (cap = 0; cap < 80; cap++) {
		memset(s, 0xee, sizeof(s));
		CHECK_EQ(lri_nbdnl_connect_msg(s, cap, 0x1a, 5, &c), 0);
		CHECK_EQ(s[cap], 0xee);
	}
	/* Our parser reads our own request: the index is found. */
	CHECK_EQ(parse(b, n, 5, 0x1a, NBD_ATTR_INDEX, 4, &r, &d), 0);
	CHECK(r.have && r.value == 3 && !r.acked);
}

/* A reply: NEWFAMILY {name "nbd", id 0x1b} for seq 1, then its ACK. */
static size_t
family_reply(unsigned char *b, uint32_t seq)
{
	size_t o;

	memset(b, 0, 128);
	/* message 1: 16 + 4 + 8 (name) + 8 (id, 2 bytes padded) = 36 */
	put32(b, 36);
	put16(b + 4, GENL_ID_CTRL);
	put32(b + 8, seq);
	b[16] = CTRL_CMD_NEWFAMILY;
	b[17] = 2;
	put16(b + 20, 8);
	put16(b + 22, CTRL_ATTR_FAMILY_NAME);
	memcpy(b + 24, "nbd", 4);
	put16(b + 28, 6);
	put16(b + 30, CTRL_ATTR_FAMILY_ID);
	put16(b + 32, 0x1b);
	o = 36;
	/* message 2: NLMSG_ERROR 0 (+ the request's header) */
	put32(b + o, 36);
	put16(b + o + 4, NLMSG_ERROR);
	put32(b + o + 8, seq);
	put32(b + o + 16, 0);
	return (o + 36);
}

static void
test_parse(void)
{
	struct lri_nbdnl_reply r;
	struct diag d;
	unsigned char b[128], t[128];
	size_t n, i;
	int e;

	n = family_reply(b, 1);
	CHECK_EQ(parse(b, n, 1, GENL_ID_CTRL, CTRL_ATTR_FAMILY_ID, 2, &r, &d),
	    0);
	CHECK(r.have && r.value == 0x1b && r.acked && r.error == 0);
	/* The same answer for another request: skipped whole. */
	CHECK_EQ(parse(b, n, 2, GENL_ID_CTRL, CTRL_ATTR_FAMILY_ID, 2, &r, &d),
	    0);
	CHECK(!r.have && !r.acked);
	/* A family id of 4 bytes is not a u16. */
	CHECK_EQ(parse(b, n, 1, GENL_ID_CTRL, CTRL_ATTR_FAMILY_ID, 4, &r, &d),
	    EBADMSG);
	CHECK_MSG(&d, "payload bytes");
	/* The attribute's length runs past its message. */
	memcpy(t, b, n);
	put16(t + 28, 10);
	CHECK_EQ(parse(t, n, 1, GENL_ID_CTRL, CTRL_ATTR_FAMILY_ID, 2, &r, &d),
	    EBADMSG);
	CHECK_MSG(&d, "attribute at");
	/* An attribute shorter than its own header. */
	memcpy(t, b, n);
	put16(t + 20, 3);
	CHECK_EQ(parse(t, n, 1, GENL_ID_CTRL, CTRL_ATTR_FAMILY_ID, 2, &r, &d),
	    EBADMSG);
	/* A message longer than the datagram. */
	memcpy(t, b, n);
	put32(t + 36, 37);
	CHECK_EQ(parse(t, n, 1, GENL_ID_CTRL, CTRL_ATTR_FAMILY_ID, 2, &r, &d),
	    EBADMSG);
	CHECK_MSG(&d, "message at 36");
	/* A message shorter than its header. */
	memcpy(t, b, n);
	put32(t, 15);
	CHECK_EQ(parse(t, n, 1, GENL_ID_CTRL, CTRL_ATTR_FAMILY_ID, 2, &r, &d),
	    EBADMSG);
	/* A generic message without room for its genetlink header. */
	memcpy(t, b, n);
	put32(t, 18);
	CHECK_EQ(parse(t, 18, 1, GENL_ID_CTRL, CTRL_ATTR_FAMILY_ID, 2, &r, &d),
	    EBADMSG);
	CHECK_MSG(&d, "generic message");
	/* An error message cut before its code. */
	memcpy(t, b + 36, 36);
	put32(t, 18);
	CHECK_EQ(parse(t, 18, 1, GENL_ID_CTRL, 1, 2, &r, &d), EBADMSG);
	CHECK_MSG(&d, "error message");
	/* The error: ENOENT (no such family); a positive code is crafted. */
	memcpy(t, b + 36, 36);
	put32(t + 16, (uint32_t)-ENOENT);
	CHECK_EQ(parse(t, 36, 1, GENL_ID_CTRL, 1, 2, &r, &d), 0);
	CHECK(r.acked && r.error == ENOENT && !r.have);
	put32(t + 16, 5);
	CHECK_EQ(parse(t, 36, 1, GENL_ID_CTRL, 1, 2, &r, &d), EBADMSG);
	put32(t + 16, (uint32_t)-100000);
	CHECK_EQ(parse(t, 36, 1, GENL_ID_CTRL, 1, 2, &r, &d), EBADMSG);
	/* Stray bytes after the last message. */
	memcpy(t, b, n);
	CHECK_EQ(parse(t, n + 3, 1, GENL_ID_CTRL, 1, 2, &r, &d), EBADMSG);
	CHECK_MSG(&d, "stray");
	/* Every truncation: an answer, never a crash (ASan watches). */
	for (i = 0; i <= n; i++) {
		e = parse(b, i, 1, GENL_ID_CTRL, CTRL_ATTR_FAMILY_ID, 2, &r,
		    &d);
		CHECK(e == 0 || e == EBADMSG);
		CHECK(i == n || !r.acked);
	}
	/* A last message whose length is not a multiple of 4 is fine. */
	memcpy(t, b, 36);
	put32(t, 34);
	put16(t + 28, 6);
	CHECK_EQ(parse(t, 34, 1, GENL_ID_CTRL, CTRL_ATTR_FAMILY_ID, 2, &r, &d),
	    0);
	CHECK(r.have && r.value == 0x1b);
	/* A wrong attribute size asked for by the caller. */
	CHECK_EQ(parse(b, n, 1, GENL_ID_CTRL, 1, 3, &r, &d), EINVAL);
}

int
main(void)
{
	test_getfamily();
	test_connect();
	test_parse();
	printf("%d passed, %d failed\n", t_pass, t_fail);
	return (t_fail != 0);
}
