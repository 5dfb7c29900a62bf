/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_nbdnl.c - the generic netlink reply parser of liveroot-init's NBD
 * attach (platform/linux/nbdnl.c) on the raw input, an exact-size buffer:
 * the first byte picks the question (the controller's u16 family id or
 * NBD_CMD_CONNECT's u32 index, seq 1 or 2), the rest is the datagram.
 * Promises checked: the input is never written, the answer is 0 or
 * EBADMSG, an error is the negation of a kernel errno (1..4095), a found
 * u16 fits in 16 bits, the same answer twice; and a CONNECT request built
 * from the input's bytes parses back to its own index.  A broken promise
 * aborts (a finding).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/genetlink.h>
#include <linux/nbd-netlink.h>

#include "nbdnl.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lri_nbdnl_reply a, b;
	struct lri_nbdnl_connect c;
	struct diag d;
	unsigned char req[256];
	uint16_t type, attr;
	size_t alen, n;
	uint32_t seq;
	uint8_t *copy;
	int e;

	if (size == 0)
		return (0);
	seq = 1 + (data[0] & 1);
	if (data[0] & 2) {
		type = (uint16_t)(0x10 + (data[0] >> 4));	/* a family */
		attr = NBD_ATTR_INDEX;
		alen = 4;
	} else {
		type = GENL_ID_CTRL;
		attr = CTRL_ATTR_FAMILY_ID;
		alen = 2;
	}
	data++;
	size--;
	if ((copy = malloc(size ? size : 1)) == NULL)
		return (0);
	if (size != 0)
		memcpy(copy, data, size);
	memset(&a, 0, sizeof(a));
	diag_clear(&d);
	e = lri_nbdnl_parse(copy, size, seq, type, attr, alen, &a, &d);
	if (size != 0 && memcmp(copy, data, size) != 0)
		abort();
	if (e != 0 && e != EBADMSG)
		abort();
	if (a.acked && (a.error < 0 || a.error > 4095))
		abort();
	if (a.have && alen == 2 && a.value > 0xffff)
		abort();
	memset(&b, 0, sizeof(b));
	if (lri_nbdnl_parse(copy, size, seq, type, attr, alen, &b, &d) != e ||
	    memcmp(&a, &b, sizeof(a)) != 0)
		abort();
	free(copy);

	/* Round trip: a request from the input's bytes, parsed back. */
	memset(&c, 0, sizeof(c));
	memcpy(&c, data, size < sizeof(c) ? size : sizeof(c));
	n = lri_nbdnl_connect_msg(req, sizeof(req), type, seq, &c);
	if (n != 80)
		abort();
	memset(&a, 0, sizeof(a));
	if (lri_nbdnl_parse(req, n, seq, type, NBD_ATTR_INDEX, 4, &a, &d) !=
	    0 || !a.have || a.value != c.index || a.acked)
		abort();
	return (0);
}
