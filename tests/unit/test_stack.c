/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_stack.c - one stack spec, one stack_open (liveroot/stack.h): every
 * shape of stack on real files (raw and uzip lowers, no upper, RAM and file
 * uppers), the uzip overlay whose lower is the decompressed image, and the
 * plan: for every golden command line (tests/golden/freebsd/ *.cmdline) and
 * the init_plan.sh cases, the spec read back from the printed plan lines
 * equals plan_stack_spec(), the spec liveroot-init hands to its server.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/bdev.h>
#include <liveroot/chain.h>
#include <liveroot/config.h>
#include <liveroot/rowr.h>
#include <liveroot/rowrmap.h>
#include <liveroot/stack.h>
#include <liveroot/uzip_write.h>

#include "t.h"

#define IMG_SIZE	(1u << 20)		/* 1 MiB */

static char dir[64];
static char raw_path[128], uz_path[128];
static uint8_t *raw_bytes;

static char *
path(const char *name)
{
	static char p[4][160];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return (p[k]);
}

static void
setup(void)
{
	struct uzip_write_opts uo = { .codec = UZIP_CODEC_ZLIB, .level = -1,
	    .jobs = 1 };
	struct diag d;
	uint64_t s = 7;
	FILE *f;
	size_t i;

	snprintf(dir, sizeof(dir), "/tmp/test_stack.XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(raw_path, sizeof(raw_path), "%s/raw.img", dir);
	snprintf(uz_path, sizeof(uz_path), "%s/img.uzip", dir);
	if ((raw_bytes = malloc(IMG_SIZE)) == NULL)
		abort();
	/* Half random, half text: something to compress. */
	for (i = 0; i < IMG_SIZE; i++)
		raw_bytes[i] = i < IMG_SIZE / 2 ? (uint8_t)t_rand(&s) :
		    (uint8_t)("liveroot "[i % 9]);
	if ((f = fopen(raw_path, "wb")) == NULL ||
	    fwrite(raw_bytes, 1, IMG_SIZE, f) != IMG_SIZE || fclose(f) != 0)
		abort();
	diag_clear(&d);
	if (uzip_write(raw_path, uz_path, &uo, NULL, &d) != 0) {
		fprintf(stderr, "uzip_write: %s\n", d.msg);
		abort();
	}
}

static int
reads_as(struct bdev *b, uint64_t off, const uint8_t *want, size_t n)
{
	uint8_t *buf = malloc(n);
	int ok;

	ok = buf != NULL && bdev_read(b, buf, n, off, NULL) == 0 &&
	    memcmp(buf, want, n) == 0;
	free(buf);
	return (ok);
}

/* stack_open that must succeed; NULL (counted as a failure) if not. */
static struct bdev *
open_ok(const struct stack_spec *s)
{
	struct bdev *b;
	struct diag d;

	diag_clear(&d);
	if (stack_open(s, &b, &d) != 0) {
		t_fail++;
		fprintf(stderr, "stack_open: %s\n", d.msg);
		return (NULL);
	}
	t_pass++;
	return (b);
}

static void
test_lower_alone(void)
{
	struct stack_spec s = { .lower = raw_path };
	struct bdev *b;
	struct diag d;
	uint8_t x[512];

	if ((b = open_ok(&s)) == NULL)
		return;
	CHECK_EQ(b->size, IMG_SIZE);
	CHECK(b->readonly);
	memset(x, 0x5a, sizeof(x));
	CHECK(bdev_write(b, x, sizeof(x), 0, NULL) != 0);
	bdev_destroy(b);

	s.flags = STACK_WRITABLE_LOWER;
	if ((b = open_ok(&s)) == NULL)
		return;
	CHECK(!b->readonly);
	bdev_destroy(b);

	s.flags = 0;
	s.lower = path("missing.img");
	diag_clear(&d);
	CHECK(stack_open(&s, &b, &d) == ENOENT);
	CHECK_MSG(&d, "missing.img");
	s.lower = NULL;
	CHECK_EQ(stack_open(&s, &b, &d), EINVAL);
}

static void
test_uzip_modes(void)
{
	struct stack_spec s = { .lower = uz_path };
	struct stat st;
	struct bdev *b;
	struct diag d;

	diag_clear(&d);
	CHECK_EQ(stack_open(&s, &b, &d), 0);		/* auto */
	CHECK_EQ(b->size, IMG_SIZE);
	CHECK(reads_as(b, 0, raw_bytes, IMG_SIZE));
	bdev_destroy(b);
	s.uzip = STACK_UZIP_YES;
	CHECK_EQ(stack_open(&s, &b, &d), 0);
	CHECK_EQ(b->size, IMG_SIZE);
	bdev_destroy(b);
	s.uzip = STACK_UZIP_NO;				/* the file's bytes */
	CHECK_EQ(stack_open(&s, &b, &d), 0);
	CHECK_EQ(stat(uz_path, &st), 0);
	CHECK_EQ(b->size, (uint64_t)st.st_size);
	bdev_destroy(b);
	s.lower = raw_path;
	s.uzip = STACK_UZIP_YES;
	CHECK_EQ(stack_open(&s, &b, &d), EINVAL);
	CHECK_MSG(&d, "raw.img: not a uzip image");
}

static void
test_ram_upper(void)
{
	struct stack_spec s = { .lower = uz_path, .upper = STACK_UPPER_RAM,
	    .ram_cap = 64 * 1024 };
	struct bdev *b;
	struct diag d;
	uint8_t x[8192];

	if ((b = open_ok(&s)) == NULL)
		return;
	CHECK(bdev_is_rowr(b));
	memset(x, 0xab, sizeof(x));
	diag_clear(&d);
	CHECK_EQ(b->size, IMG_SIZE);
	CHECK_EQ(bdev_write(b, x, sizeof(x), 4096, &d), 0);
	CHECK(reads_as(b, 4096, x, sizeof(x)));
	CHECK(reads_as(b, 0, raw_bytes, 4096));
	CHECK(reads_as(b, 12288, raw_bytes + 12288, 4096));
	/* Past the 64 KiB cap: ENOSPC. */
	CHECK_EQ(bdev_write(b, raw_bytes, 128 * 1024, 256 * 1024, &d), ENOSPC);
	bdev_destroy(b);

	s.ram_pct = 50;				/* 512 KiB of the 1 MiB lower */
	s.granule = 65536;
	CHECK_EQ(stack_open(&s, &b, &d), 0);
	CHECK_EQ(bdev_write(b, raw_bytes, 256 * 1024, 0, &d), 0);
	bdev_destroy(b);
	s.granule = 3000;
	CHECK_EQ(stack_open(&s, &b, &d), EINVAL);
	CHECK_MSG(&d, "granule 3000");
}

/*
 * The bug: `overlay create X.uzip UPPER` made the overlay on the
 * compressed file, and every later open (which decompresses) refused it.
 */
static void
test_file_upper_on_uzip(void)
{
	struct stack_spec s = { .lower = uz_path, .upper = STACK_UPPER_FILE,
	    .upper_path = path("up.img") };
	struct bdev_rowr_info info;
	struct bdev *b;
	struct diag d;
	struct stat st;
	uint8_t x[4096];

	memset(x, 0x42, sizeof(x));
	diag_clear(&d);
	CHECK_EQ(stack_create(&s, &d), 0);
	CHECK_EQ(stat(s.upper_path, &st), 0);
	CHECK_EQ(st.st_size, IMG_SIZE);
	CHECK_EQ(bdev_rowr_read_info(path("up.img.rowrmap"), &info, &d), 0);
	CHECK_EQ(info.size, IMG_SIZE);
	CHECK_EQ(info.lower_kind, LR_ROWRMAP_ID_UZIP);
	CHECK_EQ(stack_create(&s, &d), EEXIST);

	s.lower = NULL;				/* the map names it */
	CHECK_EQ(stack_open(&s, &b, &d), 0);
	CHECK_EQ(b->size, IMG_SIZE);
	CHECK_EQ(bdev_write(b, x, sizeof(x), 8192, &d), 0);
	CHECK_EQ(bdev_flush(b, &d), 0);
	bdev_destroy(b);
	CHECK_EQ(bdev_rowr_open_files(s.upper_path, 1, &b, &d), 0);
	CHECK(reads_as(b, 8192, x, sizeof(x)));
	CHECK(reads_as(b, 0, raw_bytes, 8192));
	bdev_destroy(b);

	s.flags = STACK_LOWER_RW | STACK_RESUME;	/* what commit asks */
	CHECK_EQ(stack_open(&s, &b, &d), EROFS);
	CHECK_MSG(&d, "is a uzip image, which is read-only");

	/* The same through the files helpers. */
	diag_clear(&d);
	CHECK_EQ(bdev_rowr_create_files(uz_path, path("up2.img"), NULL, &d),
	    0);
	CHECK_EQ(bdev_rowr_open_files(path("up2.img"), 0, &b, &d), 0);
	CHECK_EQ(b->size, IMG_SIZE);
	bdev_destroy(b);

	/* No map, no create: an error naming the map; create needs a lower. */
	s.upper_path = path("none.img");
	s.flags = 0;
	CHECK(stack_open(&s, &b, &d) != 0);
	CHECK_MSG(&d, "none.img.rowrmap");
	s.flags = STACK_CREATE;
	CHECK_EQ(stack_open(&s, &b, &d), EINVAL);
	CHECK_MSG(&d, "name its lower");
}

static void
test_open_on(void)
{
	struct stack_spec s = { .upper = STACK_UPPER_RAM, .ram_cap = 1 << 20 };
	struct bdev *img, *b, *bad;
	struct diag d;
	uint8_t hdr[4096];
	int uz = -1;

	diag_clear(&d);
	CHECK_EQ(bdev_file_open(uz_path, BDEV_FILE_RDONLY, 0, &img, &d), 0);
	CHECK_EQ(stack_check_on(img, &s, &d), 0);
	CHECK_EQ(stack_open_on(img, &s, &b, &uz, &d), 0);
	CHECK_EQ(uz, 1);
	CHECK_EQ(b->size, IMG_SIZE);
	CHECK(reads_as(b, 0, raw_bytes, IMG_SIZE));
	bdev_destroy(b);

	CHECK_EQ(bdev_file_open(raw_path, BDEV_FILE_RDONLY, 0, &img, &d), 0);
	CHECK_EQ(stack_open_on(img, &s, &b, &uz, &d), 0);
	CHECK_EQ(uz, 0);
	bdev_destroy(b);

	/* A uzip header whose table is cut off: check refuses, img lives. */
	CHECK_EQ(bdev_file_open(uz_path, BDEV_FILE_RDONLY, 0, &img, &d), 0);
	CHECK_EQ(bdev_read(img, hdr, sizeof(hdr), 0, &d), 0);
	bdev_destroy(img);
	CHECK_EQ(bdev_mem_new(sizeof(hdr), 0, &bad, &d), 0);
	CHECK_EQ(bdev_write(bad, hdr, sizeof(hdr), 0, &d), 0);
	CHECK(stack_check_on(bad, &s, &d) != 0);
	CHECK(bdev_read(bad, hdr, 16, 0, NULL) == 0);	/* still ours */
	CHECK(stack_open_on(bad, &s, &b, &uz, &d) != 0);	/* consumed */
	s.upper = STACK_UPPER_FILE;
	CHECK_EQ(bdev_mem_new(4096, 0, &bad, &d), 0);
	CHECK_EQ(stack_open_on(bad, &s, &b, &uz, &d), EINVAL);
}

/* A file upper on an open device: the boot's persistence (stack_open_on). */
static void
test_open_on_file(void)
{
	struct stack_spec s = { .upper = STACK_UPPER_FILE, .lower =
	    "rootfs.uzip on /dev/sr0", .flags = STACK_CREATE };
	struct bdev *img, *b;
	struct rlimit old, lim;
	struct diag d;
	uint8_t w[4096];
	int uz = -1;

	s.upper_path = path("boot.ovl");
	memset(w, 0xa5, sizeof(w));
	diag_clear(&d);
	/* made on the first open: written, saved on close */
	CHECK_EQ(bdev_file_open(uz_path, BDEV_FILE_RDONLY, 0, &img, &d), 0);
	CHECK_EQ(stack_open_on(img, &s, &b, &uz, &d), 0);
	CHECK_EQ(uz, 1);
	CHECK(access(path("boot.ovl.rowrmap"), F_OK) == 0);
	CHECK_EQ(bdev_write(b, w, sizeof(w), 8192, &d), 0);
	CHECK_EQ(bdev_flush(b, &d), 0);
	bdev_destroy(b);
	/* reopened (no CREATE needed): the write is there, the rest is the
	 * image */
	s.flags = 0;
	CHECK_EQ(bdev_file_open(uz_path, BDEV_FILE_RDONLY, 0, &img, &d), 0);
	CHECK_EQ(stack_open_on(img, &s, &b, &uz, &d), 0);
	CHECK(reads_as(b, 8192, w, sizeof(w)));
	CHECK(reads_as(b, 0, raw_bytes, 8192));
	CHECK(reads_as(b, 12288, raw_bytes + 12288, IMG_SIZE - 12288));
	bdev_destroy(b);
	/* another image of the same size: refused, the map says whose */
	CHECK_EQ(bdev_file_open(raw_path, BDEV_FILE_RDONLY, 0, &img, &d), 0);
	CHECK_EQ(stack_open_on(img, &s, &b, &uz, &d), BDEV_ROWR_ELOWER);
	CHECK_MSG(&d, "rootfs.uzip on /dev/sr0");
	/* no map and no CREATE */
	s.upper_path = path("none.ovl");
	CHECK_EQ(bdev_file_open(uz_path, BDEV_FILE_RDONLY, 0, &img, &d), 0);
	CHECK_EQ(stack_open_on(img, &s, &b, &uz, &d), ENOENT);
	CHECK(access(path("none.ovl"), F_OK) != 0);
	/* an upper left without its map, too small for the union */
	s.flags = STACK_CREATE;
	s.upper_path = path("small.ovl");
	{
		FILE *f = fopen(path("small.ovl"), "w");

		CHECK(f != NULL && fclose(f) == 0);
	}
	CHECK_EQ(bdev_file_open(uz_path, BDEV_FILE_RDONLY, 0, &img, &d), 0);
	CHECK_EQ(stack_open_on(img, &s, &b, &uz, &d), EINVAL);
	CHECK_MSG(&d, "without its map");
	/* a file system that cannot hold the union (FAT32's 4 GiB, here
	 * RLIMIT_FSIZE): named, nothing left behind */
	s.upper_path = path("big.ovl");
	CHECK_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = IMG_SIZE / 2;
	signal(SIGXFSZ, SIG_IGN);
	CHECK_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
	CHECK_EQ(bdev_file_open(uz_path, BDEV_FILE_RDONLY, 0, &img, &d), 0);
	CHECK_EQ(stack_open_on(img, &s, &b, &uz, &d), EFBIG);
	CHECK_MSG(&d, "cannot hold");
	CHECK_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
	CHECK(access(path("big.ovl"), F_OK) != 0);
	CHECK(access(path("big.ovl.rowrmap"), F_OK) != 0);
}

static void
test_equal(void)
{
	struct stack_spec a = { .upper = STACK_UPPER_RAM, .ram_cap = 1024 },
	    b = a;

	CHECK(stack_spec_equal(&a, &b));
	b.granule = 8192;
	CHECK(!stack_spec_equal(&a, &b));
	b = a;
	b.lower = "x";
	CHECK(!stack_spec_equal(&a, &b));
}

/* --- the plan is the spec ----------------------------------------------- */

struct lines {
	char	uzip[256];
	char	rowr[256];
	int	n;
};

static void
grab(void *arg, const char *text)
{
	struct lines *l = arg;
	const char *t = strchr(text, ' ');

	l->n++;
	if (t == NULL)
		return;
	if (strncmp(t + 1, "uzip: ", 6) == 0)
		snprintf(l->uzip, sizeof(l->uzip), "%s", t + 1);
	else if (strncmp(t + 1, "rowr: ", 6) == 0)
		snprintf(l->rowr, sizeof(l->rowr), "%s", t + 1);
}

/* The spec a reader gets from the printed uzip and rowr lines. */
static int
spec_of_lines(const struct lines *l, struct stack_spec *s)
{
	const char *p;

	memset(s, 0, sizeof(*s));
	if (strcmp(l->uzip, "uzip: decompress (read-only)") == 0)
		s->uzip = STACK_UZIP_YES;
	else if (strcmp(l->uzip, "uzip: no, the image is a raw file system") ==
	    0)
		s->uzip = STACK_UZIP_NO;
	else if (strcmp(l->uzip, "uzip: if the image starts with the uzip "
	    "magic") == 0)
		s->uzip = STACK_UZIP_AUTO;
	else
		return (-1);
	if (strncmp(l->rowr, "rowr: RAM upper capped at ", 26) != 0 ||
	    (p = strchr(l->rowr, '(')) == NULL)
		return (-1);
	s->upper = STACK_UPPER_RAM;
	s->ram_cap = strtoull(p + 1, NULL, 10);
	if ((p = strstr(l->rowr, ", granule ")) == NULL)
		return (-1);
	s->granule = (uint32_t)strtoul(p + 10, NULL, 10);
	return (0);
}

static int plans_checked;

static void
check_plan(const char *cmdline, const char *name)
{
	static const int uz[] = { -1, 0, 1 };
	struct live_config c;
	struct live_plan p;
	struct stack_spec printed, boot;
	struct lines l;
	size_t k;

	config_init(&c);
	config_parse_cmdline(&c, cmdline);
	config_finish(&c);
	for (k = 0; k < 3; k++) {
		plan_build(&c, NULL, uz[k], 1ull << 30, PLAN_LINUX, &p);
		memset(&l, 0, sizeof(l));
		plan_lines(&p, grab, &l);
		plan_stack_spec(&p, &boot);
		if (spec_of_lines(&l, &printed) != 0 ||
		    !stack_spec_equal(&printed, &boot)) {
			t_fail++;
			fprintf(stderr, "%s (uzip %d): the printed plan (%s / "
			    "%s) is not the spec the boot runs\n", name, uz[k],
			    l.uzip, l.rowr);
		} else
			t_pass++;
		CHECK_EQ(boot.upper, STACK_UPPER_RAM);
		CHECK(boot.lower == NULL);
		CHECK_EQ(boot.ram_cap, config_overlay_bytes(&c, 1ull << 30));
		CHECK_EQ(p.nbd_blksize, 512);
	}
	plans_checked++;
}

/*
 * tests/golden/freebsd: under SRCDIR when set, else next to this file's
 * source (__FILE__ is relative to the build directory, which holds this
 * program in tests/unit/).
 */
static void
golden_dir(char *out, size_t len)
{
	const char *src = getenv("SRCDIR"), *bd = "";
	char file[1024], exe[1024], *fd;
	ssize_t n;

	if (src != NULL) {
		snprintf(out, len, "%s/tests/golden/freebsd", src);
		return;
	}
	snprintf(file, sizeof(file), "%s", __FILE__);
	fd = dirname(file);
	if (fd[0] != '/') {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = '\0';
		bd = dirname(dirname(dirname(exe)));
	}
	snprintf(out, len, "%s%s%s/../golden/freebsd", bd, fd[0] == '/' ? "" :
	    "/", fd);
}

/* The golden command lines. */
static void
test_plan_goldens(void)
{
	char gdir[2200], file[2600], text[4096];
	struct dirent *e;
	size_t n, len;
	DIR *dp;
	FILE *f;
	int found = 0;

	golden_dir(gdir, sizeof(gdir));
	if ((dp = opendir(gdir)) == NULL) {
		t_fail++;
		fprintf(stderr, "%s: %s (set SRCDIR to the source tree)\n",
		    gdir, strerror(errno));
		return;
	}
	while ((e = readdir(dp)) != NULL) {
		len = strlen(e->d_name);
		if (len < 9 || strcmp(e->d_name + len - 8, ".cmdline") != 0)
			continue;
		snprintf(file, sizeof(file), "%s/%s", gdir, e->d_name);
		if ((f = fopen(file, "r")) == NULL)
			continue;
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
		text[n] = '\0';
		check_plan(text, e->d_name);
		found++;
	}
	closedir(dp);
	CHECK(found >= 10);
}

/* The command lines of tests/integration/init_plan.sh. */
static void
test_plan_cases(void)
{
	static const char *const cases[] = {
		"BOOT_IMAGE=/vmlinuz console=ttyS0 quiet "
		    "example.check=overlay64",
		"console=ttyS0",
		"live.overlay=32M",
		"live.handoff=chroot",
		"live.shell=1",
		"live.probe=preload,local,ventoy,net live.timeout=7",
		"root=live:http://10.0.2.100/rootfs.uzip",
		"",
		"live.lable=X",
		"live.overlay=lots",
		"live.probe=local,floppy",
		"live.pubkey=/k.pem",
		"root=live:CDLABEL=MY_LIVE \"live.iso=/isos/my live.iso\" "
		    "live.overlay=25% live.lable=1 live.timeout=9",
		"live.shell=0",
		"console=ttyS0 live.label=FILECMD",
		"live.overlay=100%",
		"live.overlay=1%",
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_plan(cases[i], cases[i]);
}

int
main(void)
{
	char cmd[128];

	setup();
	test_lower_alone();
	test_uzip_modes();
	test_ram_upper();
	test_file_upper_on_uzip();
	test_open_on();
	test_open_on_file();
	test_equal();
	test_plan_goldens();
	test_plan_cases();
	CHECK(plans_checked > 20);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
	free(raw_bytes);
	return (t_done());
}
