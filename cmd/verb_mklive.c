/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verb_mklive.c - `liveroot mklive`: from a directory tree to everything a
 * live boot needs, built by mklive_build() (lib/mklive, mklive.h).  Here:
 * the options and their checks, the defaults (boot modules of
 * initramfs.h, the kernel caches to try, liveroot-init next to this
 * program), the step lines on stderr (-v, or when it is a terminal), the
 * progress of rootfs.uzip, the summary or --json on stdout, and the option
 * names the library's messages leave out (mklive_result.bad_input).  While
 * rootfs.uzip is written, SIGINT, SIGTERM and SIGHUP remove its partial
 * output (mkuzip_signals() of verb_mkuzip.c).  Single-threaded.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/codec.h>
#include <liveroot/initramfs.h>
#include <liveroot/mklive.h>
#include <liveroot/pack.h>

#include "cli.h"
#include "verbs.h"

#ifndef LIVEROOT_VERSION
#define LIVEROOT_VERSION "unknown"
#endif
/* Meson defines both (cmd/meson.build); these are its defaults. */
#ifndef LIVEROOT_LIBEXECDIR
#define LIVEROOT_LIBEXECDIR "/usr/local/libexec/liveroot"
#endif
#ifndef LIVEROOT_BIN2LIBEXEC
#define LIVEROOT_BIN2LIBEXEC "../libexec/liveroot"
#endif

static const char mklive_usage[] =
"usage: liveroot mklive [options] TREE\n"
"       liveroot mklive --initramfs-only [options]\n"
"\n"
"Build a live system from the directory TREE: an ext4 image of it, that\n"
"image as rootfs.uzip, the initramfs with liveroot-init as /init, a hybrid\n"
"ISO (live.iso) that boots from BIOS and UEFI (Secure Boot too, through\n"
"Debian's signed shim, GRUB and kernel) as a CD or written as it is to a\n"
"USB stick, with a GRUB menu and /boot/grub/loopback.cfg for multiboot\n"
"sticks, and a netboot directory (kernel, initramfs, rootfs.uzip, its\n"
"sha256, an iPXE script).  SOURCE_DATE_EPOCH makes the build reproducible.\n"
"\n"
"options:\n"
"  -o, --out DIR            output directory (default ./live)\n"
"  -L, --label LABEL        ISO volume label (default LIVEROOT)\n"
"      --free SIZE          free space in the ext4 file system: 64M, 1G or\n"
"                           N% of the content (default: 64M or 25%, larger)\n"
"  -A, --codec NAME         rootfs.uzip codec: zstd (default), zlib, lzma\n"
"  -s, --cluster-size N     rootfs.uzip cluster size (default 65536)\n"
"      --kernel VMLINUZ     the kernel (a bzImage, e.g. /boot/vmlinuz-VERSION)\n"
"      --modules-dir DIR    its modules: /lib/modules/VERSION (with --kernel)\n"
"      --kver VERSION       an installed kernel: /boot/vmlinuz-VERSION and\n"
"                           /lib/modules/VERSION\n"
"      --kernel-dir DIR     kernel cache of scripts/kernel.sh (default, when\n"
"                           no --kernel/--kver:\n"
"                           $LIVEROOT_CACHE/kernel, ./cache/kernel, or the\n"
"                           cache/kernel of the source tree)\n"
"      --init PATH          the /init binary (default: liveroot-init next to\n"
"                           this program, else in " LIVEROOT_LIBEXECDIR ")\n"
"      --busybox PATH       static busybox (default /bin/busybox)\n"
"      --modules LIST       modules to load at boot, comma separated, each\n"
"                           'name [args]' (replaces the default set)\n"
"      --add-modules LIST   modules added to the default set\n"
"      --extra-initramfs DIR  copy DIR over the initramfs (repeatable)\n"
"      --compress NAME      initramfs compression: zstd (default), gzip, none\n"
"      --net-base URL       where boot.ipxe fetches from (default\n"
"                           http://10.0.2.100, QEMU's guestfwd address)\n"
"      --cmdline ARGS       extra kernel arguments for every GRUB entry and\n"
"                           boot.ipxe\n"
"      --serial             GRUB talks on the serial port (ttyS0, 115200)\n"
"                           and boots its serial-console entry by default;\n"
"                           boot.ipxe passes console=ttyS0\n"
"      --boot LIST          firmware live.iso boots from: bios,uefi (the\n"
"                           default), bios, uefi, or none (-kernel only)\n"
"      --shim FILE          UEFI first stage (default " MKLIVE_SHIM ")\n"
"      --grub-efi FILE      UEFI GRUB (default " MKLIVE_GRUB_EFI ")\n"
"      --init-path PATH     the live system's init inside TREE (default\n"
"                           /sbin/init, which must exist)\n"
"      --sign SECKEY        sign rootfs.uzip with this signify secret key:\n"
"                           rootfs.uzip.sig beside it, in the ISO, netboot\n"
"                           (and rootfs.uzip.hashes: rootfs.uzip.hashes.sig)\n"
"      --pubkey PUBKEY      put this signify public key in the initramfs:\n"
"                           liveroot-init then refuses a root image without\n"
"                           a valid signature of it, from any source\n"
"      --ca FILE            CA bundle (PEM) that https:// live.url= is\n"
"                           verified with at boot (default\n"
"                           " MKLIVE_DEFAULT_CA ")\n"
"      --initramfs-only     build only OUT/initramfs.img (no TREE needed)\n"
"      --keep-ext4          keep OUT/rootfs.ext4 (freebsd: OUT/system.ffs)\n"
"      --platform NAME      linux (default) or freebsd: OUT/cdroot/ with\n"
"                           system.uzip (makefs -t ffs), boot/loader.conf,\n"
"                           and README.freebsd, finished on a FreeBSD host\n"
"      --json               print the outputs as JSON on stdout\n"
"  -v, --verbose            say each step (also shown when stderr is a tty)\n"
"  -q, --quiet              no step lines and no summary (errors and warnings\n"
"                           are still printed)\n"
"  -h, --help               this text\n"
"\n"
"Exit status: 0 built, 2 error.  See liveroot-mklive(8).\n";

static const char *const mklive_default_modules[] = {
	INITRAMFS_DEFAULT_MODULES
};

/* What the steps print, and the progress of rootfs.uzip. */
struct mklive_ui {
	int			verbose;	/* -v */
	int			quiet;		/* -q: no step lines, no summary */
	int			iso_pct;	/* xorriso's last, 0.1%; -1 none */
	struct cli_progress	p;
};

static void
mklive_report(void *arg, enum mklive_event ev, const char *text,
    uint64_t done, uint64_t total)
{
	struct mklive_ui *ui = arg;

	switch (ev) {
	case MKLIVE_EV_STEP:
		if (ui->quiet || (!ui->verbose && !isatty(STDERR_FILENO)))
			break;
		fprintf(stderr, "liveroot mklive: %s\n", text);
		break;
	case MKLIVE_EV_TOOL_OUTPUT:
		fputs(text, stderr);
		break;
	case MKLIVE_EV_NO_CA:
		fprintf(stderr, "liveroot mklive: no %s (Debian package "
		    "ca-certificates): https:// URLs will not verify at boot; "
		    "install it or give --ca FILE\n", text);
		break;
	case MKLIVE_EV_UZIP_START:
		cli_progress_start(&ui->p, "liveroot mklive: rootfs.uzip", 0);
		mkuzip_signals(1);
		break;
	case MKLIVE_EV_UZIP_PROGRESS:
		ui->p.total = total;	/* a percentage once it is known */
		cli_progress_cb(done, total, &ui->p);
		break;
	case MKLIVE_EV_UZIP_END:
		mkuzip_signals(0);
		cli_progress_done(&ui->p);
		break;
	case MKLIVE_EV_ISO_START:	/* xorriso's own percentage */
		ui->iso_pct = -1;
		break;
	case MKLIVE_EV_ISO_PROGRESS:
		if (ui->quiet || !isatty(STDERR_FILENO) || total == 0)
			break;
		ui->iso_pct = (int)(done * 1000 / total);
		fprintf(stderr, "\rliveroot mklive: live.iso %5.1f%% ",
		    ui->iso_pct / 10.0);
		break;
	case MKLIVE_EV_ISO_END:
		if (ui->iso_pct >= 0)
			fprintf(stderr, "\rliveroot mklive: live.iso 100.0%%\n");
		break;
	}
}

/* The library's message with the option that fixes it. */
static void
mklive_hint(const struct mklive_opts *o, const struct mklive_result *r,
    struct diag *d)
{
	size_t l;

	switch (r->bad_input) {
	case MKLIVE_IN_NONE:
		break;
	case MKLIVE_IN_KCACHE:
		diag_set(d, d->code, "no kernel cache found ($LIVEROOT_CACHE/"
		    "kernel, ./cache/kernel): run scripts/kernel.sh or give "
		    "--kernel-dir");
		break;
	case MKLIVE_IN_KDIR:
		diag_prefix(d, "--kernel-dir ");
		break;
	case MKLIVE_IN_INIT:
		diag_prefix(d, "the /init binary (build liveroot-init or give "
		    "--init): ");
		break;
	case MKLIVE_IN_CA:
		diag_prefix(d, "--ca: ");
		break;
	case MKLIVE_IN_CA_PEM:
		l = strlen(d->msg);
		snprintf(d->msg + l, sizeof(d->msg) - l, ": give a CA bundle "
		    "with --ca FILE");
		break;
	case MKLIVE_IN_EXTRA:
		diag_prefix(d, "--extra-initramfs %s: ", o->extra[r->bad_index]);
		break;
	case MKLIVE_IN_TREE:
		break;
	case MKLIVE_IN_KERNEL:
		diag_prefix(d, "--kernel: ");
		break;
	case MKLIVE_IN_MODDIR:
		diag_prefix(d, "--modules-dir: ");
		break;
	case MKLIVE_IN_BOOTFILE:
		break;
	case MKLIVE_IN_LABEL:
		diag_prefix(d, "--label: ");
		break;
	case MKLIVE_IN_CMDLINE:
		diag_prefix(d, "--cmdline: ");
		break;
	case MKLIVE_IN_SIGNKEY:
		diag_prefix(d, "--sign: ");
		break;
	case MKLIVE_IN_PUBKEY:
		diag_prefix(d, "--pubkey: ");
		break;

	case MKLIVE_IN_NETBOOT:
		diag_set(d, E2BIG, "--net-base/--cmdline too long");
		break;
	}
}

/* Appends the comma-separated modules of list; ENOMEM or E2BIG. */
static int
add_modules(char **mods, int *nmods, const char *list)
{
	char *copy, *tok, *save = NULL;
	int e = 0;

	if ((copy = strdup(list)) == NULL)
		return (ENOMEM);
	for (tok = strtok_r(copy, ",", &save); tok != NULL && e == 0;
	    tok = strtok_r(NULL, ",", &save)) {
		tok += strspn(tok, " ");
		if (*tok == '\0')
			continue;
		if (*nmods >= MKLIVE_MAXMOD)
			e = E2BIG;
		else if ((mods[*nmods] = strdup(tok)) == NULL)
			e = ENOMEM;
		else
			(*nmods)++;
	}
	free(copy);
	return (e);
}

static void
print_result(const struct mklive_opts *o, const struct mklive_result *r,
    int json, int quiet)
{
	if (o->platform == MKLIVE_FREEBSD) {
		if (json) {
			printf("{\"platform\":\"freebsd\",\"cdroot\":");
			cli_json_str(stdout, r->cdroot);
			printf(",\"system_uzip_bytes\":%ju,\"ffs_bytes\":%ju,"
			    "\"sha256\":\"%s\"}\n", (uintmax_t)r->uzip_bytes,
			    (uintmax_t)r->ext4_bytes, r->sha256);
		} else if (!quiet)
			printf("system.uzip %s (%ju KiB from a %ju MiB FFS)\n"
			    "cdroot      %s (boot/loader.conf, ramdisk.files)\n"
			    "next        %s: the FreeBSD commands\n", r->uzip,
			    (uintmax_t)(r->uzip_bytes >> 10),
			    (uintmax_t)(r->ext4_bytes >> 20), r->cdroot,
			    r->readme);
		return;
	}
	if (json) {
		printf("{\"kernel_version\":");
		cli_json_str(stdout, r->kver);
		printf(",\"initramfs\":");
		cli_json_str(stdout, r->initramfs);
		printf(",\"initramfs_bytes\":%ju",
		    (uintmax_t)r->initramfs_bytes);
		printf(",\"modules\":%d", r->nloaded);
		if (o->tree != NULL) {
			printf(",\"rootfs_uzip\":");
			cli_json_str(stdout, r->uzip);
			printf(",\"rootfs_uzip_bytes\":%ju,\"ext4_bytes\":%ju",
			    (uintmax_t)r->uzip_bytes, (uintmax_t)r->ext4_bytes);
			if (r->sig[0] != '\0') {
				printf(",\"signature\":");
				cli_json_str(stdout, r->sig);
			}
			printf(",\"hashes\":");
			cli_json_str(stdout, r->hashes);
			printf(",\"sha256\":\"%s\",\"iso\":", r->sha256);
			cli_json_str(stdout, r->iso);
			printf(",\"label\":");
			cli_json_str(stdout, o->label);
			printf(",\"netboot\":\"%s/netboot\"", o->out);
		}
		printf(",\"vmlinuz\":");
		cli_json_str(stdout, r->vmlinuz);
		printf("}\n");
		return;
	}
	if (quiet)
		return;
	printf("kernel      %s\n", r->kver);
	printf("initramfs   %s (%ju KiB, %d boot modules)\n", r->initramfs,
	    (uintmax_t)(r->initramfs_bytes >> 10), r->nloaded);
	if (o->tree == NULL)
		return;
	printf("rootfs.uzip %s (%ju KiB from a %ju MiB ext4)\n", r->uzip,
	    (uintmax_t)(r->uzip_bytes >> 10), (uintmax_t)(r->ext4_bytes >> 20));
	printf("hashes      %s\n", r->hashes);
	if (r->sig[0] != '\0')
		printf("signature   %s\n", r->sig);
	printf("iso         %s (label %s)\n", r->iso, o->label);
	printf("netboot     %s/netboot (boot.ipxe, sha256 %s)\n", o->out,
	    r->sha256);
}

/* Everything the command line gives, and the defaults filled in. */
struct mklive_args {
	struct mklive_opts	o;
	struct mklive_ui	ui;
	const char		*free_s;
	const char		*codec;
	const char		*platform;
	const char		*kver;		/* --kver */
	const char		*boot;		/* --boot */
	char			 kver_kernel[PATH_MAX];
	char			 kver_mods[PATH_MAX];
	const char		*addmods[MKLIVE_MAXEXTRA];
	int			 naddmods;
	int			 usermods;
	char			*mods[MKLIVE_MAXMOD];
	int			 nmods;
	const char		*extra[MKLIVE_MAXEXTRA];
	int			 json;
	char			 self_dir[1024];
	char			 init[PATH_MAX + 16];
	char			 kdir_try[3][PATH_MAX];
	const char		*kdir_tryp[4];
};

/* getopt; returns -1 to go on, or the exit status. */
static int
mklive_parse(struct mklive_args *a, int argc, char **argv)
{
	enum { O_FREE = 256, O_KDIR, O_INIT, O_BB, O_MODS, O_ADDMODS,
	    O_EXTRA, O_COMPRESS, O_NETBASE, O_CMDLINE, O_IONLY, O_KEEP,
	    O_JSON, O_CA, O_PLATFORM, O_KERNEL, O_MODDIR, O_KVER, O_SERIAL,
	    O_BOOT, O_SHIM, O_GRUBEFI, O_INITPATH, O_SIGN, O_PUBKEY };
	static const struct option lo[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "label", required_argument, NULL, 'L' },
		{ "free", required_argument, NULL, O_FREE },
		{ "codec", required_argument, NULL, 'A' },
		{ "cluster-size", required_argument, NULL, 's' },
		{ "kernel-dir", required_argument, NULL, O_KDIR },
		{ "kernel", required_argument, NULL, O_KERNEL },
		{ "modules-dir", required_argument, NULL, O_MODDIR },
		{ "kver", required_argument, NULL, O_KVER },
		{ "serial", no_argument, NULL, O_SERIAL },
		{ "boot", required_argument, NULL, O_BOOT },
		{ "shim", required_argument, NULL, O_SHIM },
		{ "grub-efi", required_argument, NULL, O_GRUBEFI },
		{ "init-path", required_argument, NULL, O_INITPATH },
		{ "sign", required_argument, NULL, O_SIGN },
		{ "pubkey", required_argument, NULL, O_PUBKEY },
		{ "init", required_argument, NULL, O_INIT },
		{ "busybox", required_argument, NULL, O_BB },
		{ "modules", required_argument, NULL, O_MODS },
		{ "add-modules", required_argument, NULL, O_ADDMODS },
		{ "extra-initramfs", required_argument, NULL, O_EXTRA },
		{ "compress", required_argument, NULL, O_COMPRESS },
		{ "net-base", required_argument, NULL, O_NETBASE },
		{ "cmdline", required_argument, NULL, O_CMDLINE },
		{ "ca", required_argument, NULL, O_CA },
		{ "initramfs-only", no_argument, NULL, O_IONLY },
		{ "keep-ext4", no_argument, NULL, O_KEEP },
		{ "json", no_argument, NULL, O_JSON },
		{ "platform", required_argument, NULL, O_PLATFORM },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct mklive_opts *o = &a->o;
	unsigned long ul;
	char *end;
	int c, ionly = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:L:A:s:vqh", lo, NULL)) != -1) {
		switch (c) {
		case 'o':
			o->out = optarg;
			break;
		case 'L':
			o->label = optarg;
			break;
		case O_FREE:
			a->free_s = optarg;
			break;
		case 'A':
			a->codec = optarg;
			break;
		case 's':
			errno = 0;
			ul = strtoul(optarg, &end, 0);
			if (errno != 0 || *end != '\0' || ul < 512 ||
			    ul > (1UL << 20) || ul % 512 != 0) {
				cli_err("--cluster-size %s: a multiple of 512 "
				    "up to 1048576", optarg);
				return (CLI_ERROR);
			}
			o->blksz = (uint32_t)ul;
			break;
		case O_KDIR:
			o->kdir = optarg;
			break;
		case O_INIT:
			o->init = optarg;
			break;
		case O_KERNEL:
			o->kernel = optarg;
			break;
		case O_MODDIR:
			o->modules_dir = optarg;
			break;
		case O_KVER:
			a->kver = optarg;
			break;
		case O_SERIAL:
			o->serial = 1;
			break;
		case O_BOOT:
			a->boot = optarg;
			break;
		case O_SHIM:
			o->shim = optarg;
			break;
		case O_GRUBEFI:
			o->grub_efi = optarg;
			break;
		case O_INITPATH:
			o->init_path = optarg;
			break;
		case O_SIGN:
			o->sign_key = optarg;
			break;
		case O_PUBKEY:
			o->pubkey = optarg;
			break;

		case O_BB:
			o->busybox = optarg;
			break;
		case O_MODS:
			a->usermods = 1;
			if (add_modules(a->mods, &a->nmods, optarg) != 0) {
				cli_err("--modules: too many modules (at most "
				    "%d)", MKLIVE_MAXMOD);
				return (CLI_ERROR);
			}
			break;
		case O_ADDMODS:
			if (a->naddmods >= MKLIVE_MAXEXTRA) {
				cli_err("--add-modules given too often");
				return (CLI_ERROR);
			}
			a->addmods[a->naddmods++] = optarg;
			break;
		case O_EXTRA:
			if (o->nextra >= MKLIVE_MAXEXTRA) {
				cli_err("--extra-initramfs: at most %d "
				    "directories", MKLIVE_MAXEXTRA);
				return (CLI_ERROR);
			}
			a->extra[o->nextra++] = optarg;
			break;
		case O_COMPRESS:
			o->compress = optarg;
			break;
		case O_NETBASE:
			o->net_base = optarg;
			break;
		case O_CMDLINE:
			o->cmdline = optarg;
			break;
		case O_CA:
			o->ca = optarg;
			break;
		case O_IONLY:
			ionly = 1;
			break;
		case O_KEEP:
			o->keep_ext4 = 1;
			break;
		case O_JSON:
			a->json = 1;
			break;
		case O_PLATFORM:
			a->platform = optarg;
			break;
		case 'v':
			a->ui.verbose = 1;
			break;
		case 'q':
			a->ui.quiet = 1;
			break;
		default:
			return (cli_opt_error(c, argc, argv));
		}
	}
	if (!ionly) {
		if (optind != argc - 1) {
			cli_err(optind >= argc ? "no TREE given" :
			    "one TREE only");
			return (cli_usage(mklive_usage, 1));
		}
		o->tree = argv[optind];
	} else if (optind != argc) {
		cli_err("--initramfs-only takes no TREE");
		return (cli_usage(mklive_usage, 1));
	}
	return (-1);
}

/* --free: MKLIVE_FREE_BYTES, or _PCT when it ends in '%'.  0 or EINVAL. */
static int
mklive_free(struct mklive_args *a)
{
	uint64_t v;

	if (a->free_s == NULL || a->o.tree == NULL)
		return (0);
	/* with a whole of 100, "N%" parses to N itself */
	if (cli_parse_size_pct(a->free_s, 100, &v) != 0) {
		cli_err("--free %s: not a size (64M, 1G) or a percentage "
		    "(25%%)", a->free_s);
		return (EINVAL);
	}
	a->o.free_mode = a->free_s[strlen(a->free_s) - 1] == '%' ?
	    MKLIVE_FREE_PCT : MKLIVE_FREE_BYTES;
	a->o.free = v;
	return (0);
}

/* The kernel caches tried without --kernel-dir, in order. */
static void
mklive_kdirs(struct mklive_args *a)
{
	const char *env = getenv("LIVEROOT_CACHE");
	int n = 0;

	if (env != NULL && *env != '\0')
		snprintf(a->kdir_try[n++], PATH_MAX, "%.4000s/kernel", env);
	snprintf(a->kdir_try[n++], PATH_MAX, "cache/kernel");
	if (a->self_dir[0] != '\0')
		snprintf(a->kdir_try[n++], PATH_MAX, "%.4000s/../../cache/"
		    "kernel", a->self_dir);
	for (int i = 0; i < n; i++)
		a->kdir_tryp[i] = a->kdir_try[i];
	a->kdir_tryp[n] = NULL;
	a->o.kdir_try = a->kdir_tryp;
}

/* --boot LIST: bios, uefi, both, or none.  0 or EINVAL printed. */
static int
mklive_boot(struct mklive_args *a)
{
	char list[64], *tok, *save = NULL;

	a->o.boot = MKLIVE_BOOT_BIOS | MKLIVE_BOOT_UEFI;
	if (a->boot == NULL)
		return (0);
	if (strlen(a->boot) >= sizeof(list))
		goto bad;
	strcpy(list, a->boot);
	a->o.boot = 0;
	if (strcmp(list, "none") == 0)
		return (0);
	for (tok = strtok_r(list, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "bios") == 0)
			a->o.boot |= MKLIVE_BOOT_BIOS;
		else if (strcmp(tok, "uefi") == 0)
			a->o.boot |= MKLIVE_BOOT_UEFI;
		else
			goto bad;
	}
	if (a->o.boot != 0)
		return (0);
bad:
	cli_err("--boot %s: bios, uefi, bios,uefi or none", a->boot);
	return (EINVAL);
}

/* --kernel/--modules-dir/--kver against each other; 0 or printed. */
static int
mklive_kernel_opts(struct mklive_args *a)
{
	struct mklive_opts *o = &a->o;

	if (a->kver != NULL) {
		if (o->kernel != NULL || o->modules_dir != NULL ||
		    o->kdir != NULL) {
			cli_err("--kver names the kernel and its modules: give "
			    "it without --kernel, --modules-dir, --kernel-dir");
			return (EINVAL);
		}
		if (a->kver[0] == '\0' || strchr(a->kver, '/') != NULL ||
		    strlen(a->kver) > 200) {
			cli_err("--kver %s: a kernel release such as %s", a->kver,
			    "6.1.0-57-amd64");
			return (EINVAL);
		}
		snprintf(a->kver_kernel, sizeof(a->kver_kernel),
		    "/boot/vmlinuz-%s", a->kver);
		snprintf(a->kver_mods, sizeof(a->kver_mods), "/lib/modules/%s",
		    a->kver);
		o->kernel = a->kver_kernel;
		o->modules_dir = a->kver_mods;
	} else if (o->modules_dir != NULL && o->kernel == NULL) {
		cli_err("--modules-dir goes with --kernel VMLINUZ (or use "
		    "--kver VERSION)");
		return (EINVAL);
	} else if (o->kernel != NULL && o->kdir != NULL) {
		cli_err("--kernel and --kernel-dir both name a kernel: give one");
		return (EINVAL);
	}
	if (o->kernel != NULL && access(o->kernel, R_OK) != 0) {
		cli_err("%s %s: %s%s", a->kver ? "--kver" : "--kernel",
		    o->kernel, strerror(errno), a->kver ? ": install the "
		    "kernel's linux-image package or give --kernel and "
		    "--modules-dir" : "");
		return (ENOENT);
	}
	if (o->kernel != NULL && o->modules_dir == NULL) {
		cli_err("--kernel %s needs --modules-dir DIR (its "
		    "/lib/modules/VERSION)", o->kernel);
		return (EINVAL);
	}
	if (o->init_path != NULL && o->init_path[0] != '/') {
		cli_err("--init-path %s: an absolute path inside the tree "
		    "(/sbin/init, /lib/systemd/systemd)", o->init_path);
		return (EINVAL);
	}
	return (0);
}

/* Checks what mklive_build() takes as given; 0 or an error printed. */
static int
mklive_check(struct mklive_args *a)
{
	struct mklive_opts *o = &a->o;
	const struct lr_codec *codec;
	struct stat st;
	ssize_t n;
	char *s;
	int i;

	if ((codec = lr_codec_by_name(a->codec)) == NULL) {
		cli_err("--codec %s: one of zstd, zlib, lzma", a->codec);
		return (EINVAL);
	}
	o->codec = codec;
	if (mklive_boot(a) != 0 || mklive_kernel_opts(a) != 0)
		return (EINVAL);
	if (strcmp(a->platform, "linux") != 0 &&
	    strcmp(a->platform, "freebsd") != 0) {
		cli_err("--platform %s: linux or freebsd", a->platform);
		return (EINVAL);
	}
	o->platform = a->platform[0] == 'f' ? MKLIVE_FREEBSD : MKLIVE_LINUX;
	if (o->epoch != NULL &&
	    (o->epoch[0] == '\0' || strspn(o->epoch, "0123456789") !=
	    strlen(o->epoch))) {
		cli_err("SOURCE_DATE_EPOCH=%s: not seconds since 1970 (digits); "
		    "fix or unset it", o->epoch);
		return (EINVAL);
	}
	if (pack_compressor(o->compress) == NULL) {
		cli_err("--compress %s: one of zstd, gzip, none", o->compress);
		return (EINVAL);
	}
	if (strlen(o->out) > 900) {
		cli_err("--out %.40s...: path too long (at most 900 bytes)",
		    o->out);
		return (EINVAL);
	}
	if (strlen(o->label) == 0 || strlen(o->label) > 32) {
		cli_err("--label '%s': 1 to 32 characters (ISO 9660 volume id)",
		    o->label);
		return (EINVAL);
	}
	if (!a->usermods)
		for (i = 0; i < (int)(sizeof(mklive_default_modules) /
		    sizeof(mklive_default_modules[0])); i++)
			(void)add_modules(a->mods, &a->nmods,
			    mklive_default_modules[i]);
	for (i = 0; i < a->naddmods; i++)
		if (add_modules(a->mods, &a->nmods, a->addmods[i]) != 0) {
			cli_err("--add-modules: too many modules");
			return (E2BIG);
		}
	if (o->ca != NULL && access(o->ca, R_OK) != 0) {
		cli_err("--ca %s: %s: give a readable CA bundle (PEM)", o->ca,
		    strerror(errno));
		return (EACCES);
	}
	for (i = 0; i < o->nextra; i++)
		if (stat(a->extra[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
			cli_err("--extra-initramfs %s: not a directory",
			    a->extra[i]);
			return (ENOTDIR);
		}
	if (o->tree != NULL && (stat(o->tree, &st) != 0 ||
	    !S_ISDIR(st.st_mode))) {
		cli_err("%s: not a directory (the root tree to make the live "
		    "system of)", o->tree);
		return (ENOTDIR);
	}
	if (o->platform == MKLIVE_FREEBSD)	/* no initramfs: no init */
		return (mklive_free(a));
	n = readlink("/proc/self/exe", a->self_dir, sizeof(a->self_dir) - 1);
	a->self_dir[n > 0 ? n : 0] = '\0';
	if ((s = strrchr(a->self_dir, '/')) != NULL)
		*s = '\0';
	if (o->init == NULL) {
		/*
		 * liveroot-init next to this program (a build tree), else in
		 * LIBEXECDIR/liveroot: first the way from this program's
		 * directory (a relocated or DESTDIR copy), then the absolute
		 * path of the configured prefix.
		 */
		static const char *const sub[3] = { "",
		    "/" LIVEROOT_BIN2LIBEXEC, "" };

		for (i = 0; i < 3; i++) {
			if (i < 2 && (a->self_dir[0] == '\0' ||
			    (i == 1 && LIVEROOT_BIN2LIBEXEC[0] == '\0')))
				continue;
			snprintf(a->init, sizeof(a->init), "%s%s/liveroot-init",
			    i < 2 ? a->self_dir : LIVEROOT_LIBEXECDIR, sub[i]);
			if (access(a->init, R_OK) == 0)
				break;
		}
		if (i == 3) {
			cli_err("liveroot-init is neither next to this program "
			    "(%s) nor in %s: install liveroot (meson install), "
			    "build it (ninja), or name the /init binary with "
			    "--init", a->self_dir, LIVEROOT_LIBEXECDIR);
			return (ENOENT);
		}
		o->init = a->init;
	}
	if (access(o->init, R_OK) != 0) {
		cli_err("--init %s: %s: name a readable /init binary (e.g. "
		    "liveroot-init)", o->init, strerror(errno));
		return (ENOENT);
	}
	if (access(o->busybox, X_OK) != 0) {
		cli_err("%s: %s: install the Debian package busybox-static or "
		    "give --busybox", o->busybox, strerror(errno));
		return (ENOENT);
	}
	return (mklive_free(a));
}

int
verb_mklive(int argc, char **argv)
{
	struct mklive_args a;
	struct mklive_result r;
	struct diag d;
	int e, i, rc;

	memset(&a, 0, sizeof(a));
	diag_clear(&d);
	a.o.out = "live";
	a.o.label = "LIVEROOT";
	a.codec = "zstd";
	a.platform = "linux";
	a.o.epoch = getenv("SOURCE_DATE_EPOCH");
	a.o.blksz = 65536;
	a.o.busybox = "/bin/busybox";
	a.o.compress = "zstd";
	a.o.net_base = "http://10.0.2.100";
	a.o.version = LIVEROOT_VERSION;
	if (cli_wants_help(argc, argv))
		return (cli_usage(mklive_usage, 0));
	if ((rc = mklive_parse(&a, argc, argv)) >= 0)
		return (rc);
	rc = CLI_ERROR;
	if (mklive_check(&a) == 0) {
		mklive_kdirs(&a);
		a.o.mods = (const char *const *)a.mods;
		a.o.nmods = a.nmods;
		a.o.extra = a.extra;
		a.o.talk = a.ui.verbose;
		a.o.report = mklive_report;
		a.o.arg = &a.ui;
		if ((e = mklive_build(&a.o, &r, &d)) != 0) {
			mklive_hint(&a.o, &r, &d);
			rc = cli_diag(&d, e);
		} else {
			print_result(&a.o, &r, a.json, a.ui.quiet);
			rc = CLI_OK;
		}
	}
	for (i = 0; i < a.nmods; i++)
		free(a.mods[i]);
	return (rc);
}
