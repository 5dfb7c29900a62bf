/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_locate.c - the whole locate chain (partition table -> FAT/exFAT ->
 * ISO file -> root image, extent composition, Ventoy os_param and location
 * list) and the device description over a sparse device built from the
 * input.  Any result is fine; a crash, a hang, an over-read or a composed
 * map that does not validate against the device is not.
 *
 * Input (little-endian), so that seeds stay small although the media they
 * describe are megabytes of mostly zeros:
 *   u8  flags: 0x01 label "LIVE_TEST", 0x02 iso "/live.iso",
 *              0x1c strategy mask << 2 (0 = all), 0x20 a Ventoy param follows
 *   u16 device size in 64 KiB units (at least 1, at most 1024)
 *   [u16 param length, param bytes]       when flags & 0x20
 *   { u32 sector (512 bytes), u16 length, bytes }...   written in order
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/bdev.h>
#include <liveroot/inventory.h>
#include <liveroot/locate.h>
#include <liveroot/util.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct locate_opts o;
	struct locate_result r;
	struct bdev *dev;
	uint64_t devsize;
	size_t pos = 3;
	char desc[512];
	uint8_t flags;

	if (size < 3)
		return (0);
	flags = data[0];
	devsize = (uint64_t)LR_MAX(1, LR_MIN(1024, lr_le16dec(data + 1))) <<
	    16;
	memset(&o, 0, sizeof(o));
	if (flags & 0x01)
		o.label = "LIVE_TEST";
	if (flags & 0x02)
		o.iso = "/live.iso";
	o.strategies = (flags >> 2) & 7;
	if (flags & 0x20) {
		size_t plen;

		if (size - pos < 2)
			return (0);
		plen = lr_le16dec(data + pos);
		pos += 2;
		if (plen > size - pos)
			return (0);
		o.ventoy_param = data + pos;
		o.ventoy_param_len = plen;
		pos += plen;
	}
	if (bdev_mem_new(devsize, 0, &dev, NULL) != 0)
		return (0);
	while (size - pos >= 6) {
		uint64_t off = (uint64_t)lr_le32dec(data + pos) * 512;
		size_t len = lr_le16dec(data + pos + 4);

		pos += 6;
		len = LR_MIN(len, size - pos);
		if (off < devsize)
			(void)bdev_write(dev, data + pos, (size_t)LR_MIN(
			    (uint64_t)len, devsize - off), off, NULL);
		pos += len;
	}
	if (probe_locate_device("fuzz", dev, &o, &r, NULL) == 0 && r.found) {
		uint64_t total = 0;
		size_t i;

		if (bdev_extmap_validate(r.ext, r.next, r.image_size,
		    devsize, NULL) != 0)
			abort();
		for (i = 0; i < r.next; i++)
			total += r.ext[i].len;
		if (total != r.image_size)
			abort();
	}
	locate_result_free(&r);
	probe_describe_device(dev, desc, sizeof(desc));
	bdev_destroy(dev);
	return (0);
}
