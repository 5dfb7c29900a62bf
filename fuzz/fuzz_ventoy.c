/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_ventoy.c - every Ventoy decoder on the raw input (exact-size
 * buffers): the input as an ACPI table (and the location list it carries),
 * as os_param followed by a location list, as an EFI variable, as a bare
 * location list, and as low memory to scan.  Any result is fine; a crash or
 * an over-read is not.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <liveroot/fmt_ventoy.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fmt_extent ext[32];
	struct fmt_ventoy_param p;
	struct fmt_ventoy_loc loc;
	const uint8_t *lp;
	struct diag d;
	size_t ll, n, off;
	uint8_t mbr[512];

	if (fmt_ventoy_acpi_decode(data, size, &p, &lp, &ll, &d) == 0) {
		(void)fmt_ventoy_loc_decode(lp, ll, p.image_size, p.disk_size,
		    &loc, ext, 32, &n, &d);
		memset(mbr, 0, sizeof(mbr));
		(void)fmt_ventoy_disk_match(&p, mbr, sizeof(mbr));
	}
	if (fmt_ventoy_param_decode(data, size, &p, &d) == 0)
		(void)fmt_ventoy_loc_decode(data + FMT_VENTOY_PARAM_SIZE,
		    size - FMT_VENTOY_PARAM_SIZE, p.image_size, p.disk_size,
		    &loc, ext, 32, &n, &d);
	(void)fmt_ventoy_efivar_decode(data, size, &p, &d);
	(void)fmt_ventoy_loc_decode(data, size, 0, 0, &loc, ext, 32, &n, &d);
	(void)fmt_ventoy_loc_decode(data, size, 0, 0, &loc, NULL, 0, &n, &d);
	(void)fmt_ventoy_scan(data, size, &off, &p);
	return (0);
}
