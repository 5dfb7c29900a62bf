/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_nbd.c - the NBD server's parsers (handshake options, request headers)
 * fed a hostile client stream.  Input byte 0 selects the mode (bit 0:
 * handshake, bit 1: read-only export); the rest is what the client sends,
 * after which it half-closes.  A drain thread swallows the replies.  The
 * export is a 64 KiB RAM device, so every valid read is small.  The server
 * must end (no hang), must not crash, and the device must stay usable.
 */
#include <sys/socket.h>

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <liveroot/bdev.h>
#include <liveroot/nbd.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
	struct nbd_server	*s;
	int			 fd;
	int			 handshake;
};

static void *
fz_serve(void *arg)
{
	struct fz *z = arg;
	struct diag d;

	(void)nbd_server_serve_fd(z->s, z->fd, z->handshake, &d);
	return (NULL);
}

static void *
fz_drain(void *arg)
{
	int fd = *(int *)arg;
	char buf[65536];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	return (NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nbd_export_opts o = { .name = "x", .threads = 2 };
	struct bdev *b;
	struct fz z;
	pthread_t ts, td;
	size_t off;
	ssize_t r;
	int sv[2];
	uint8_t c;

	if (size < 1)
		return (0);
	o.readonly = (data[0] & 2) != 0;
	if (bdev_mem_new(65536, 0, &b, NULL) != 0)
		return (0);
	if (nbd_server_new(b, &o, &z.s, NULL) != 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		abort();
	z.fd = sv[1];
	z.handshake = data[0] & 1;
	pthread_create(&ts, NULL, fz_serve, &z);
	pthread_create(&td, NULL, fz_drain, &sv[0]);
	for (off = 1; off < size; off += (size_t)r)
		if ((r = send(sv[0], data + off, size - off, MSG_NOSIGNAL)) <= 0)
			break;
	shutdown(sv[0], SHUT_WR);
	pthread_join(ts, NULL);
	pthread_join(td, NULL);
	close(sv[0]);
	nbd_server_destroy(z.s);
	/* The device still works. */
	c = 1;
	if (bdev_read(b, &c, 1, 65535, NULL) != 0)
		abort();
	bdev_destroy(b);
	return (0);
}
