/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * iso.c - OUT/live.iso: an ISO 9660 image (Rock Ridge and Joliet names)
 * made by xorriso, holding /rootfs.uzip, /boot/vmlinuz,
 * /boot/initramfs.img and /boot/grub under the volume id the caller gave,
 * and bootable from firmware (mklive_opts.boot):
 *
 *   BIOS  El Torito no-emulation image of GRUB i386-pc (grub-mkimage -O
 *         i386-pc-eltorito, its modules in /boot/grub/i386-pc) and GRUB's
 *         hybrid MBR (boot_hybrid.img), so the ISO boots as a CD and,
 *         copied byte for byte to a stick, as a disk;
 *   UEFI  a FAT image (the ESP) with \EFI\BOOT\BOOTX64.EFI = Debian's
 *         signed shim, grubx64.efi = Debian's signed GRUB for CDs
 *         (gcdx64.efi), mmx64.efi = MokManager, and a grub.cfg that goes on
 *         to the ISO's menu; the El Torito EFI entry points at it and the
 *         hybrid GPT makes it partition 2 of a stick.  With Microsoft's
 *         keys enrolled the firmware verifies shim, shim verifies GRUB,
 *         GRUB (through shim) the kernel: Debian's vmlinuz is signed.
 *
 * The layout is the one grub-mkrescue and Debian's own ISOs use, built
 * from the packages' files: no boot loader code of our own.  GRUB finds
 * the ISO again by /.disk/liveroot-ID (ID: the first 16 hex digits of
 * rootfs.uzip's sha256), not by a label another disk may share.
 * Everything is staged under OUT/.iso.tmp (removed after), written as
 * live.iso.tmp and renamed; a failure removes both.  With an epoch
 * (SOURCE_DATE_EPOCH), xorriso, mkfs.fat and mcopy take their times and
 * ids from it: the same inputs give the same bytes.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/os.h>

#include "mklive_int.h"

#define ESP_SLACK	(1u << 20)	/* free room in the ESP image */

static const char *
grub_pc_dir(const struct mklive_opts *o)
{
	return (o->grub_pc_dir != NULL ? o->grub_pc_dir : MKLIVE_GRUB_PC_DIR);
}

static const char *
shim_path(const struct mklive_opts *o)
{
	return (o->shim != NULL ? o->shim : MKLIVE_SHIM);
}

static const char *
grub_efi_path(const struct mklive_opts *o)
{
	return (o->grub_efi != NULL ? o->grub_efi : MKLIVE_GRUB_EFI);
}

/* DIR/NAME into buf; ENAMETOOLONG with m->d set. */
static int
join(struct mk *m, char *buf, size_t len, const char *dir, const char *name)
{
	if (os_path_join(buf, len, dir, name) != 0)
		return (diag_set(m->d, ENAMETOOLONG, "%s/%s: path too long",
		    dir, name));
	return (0);
}

/* A boot loader file the ISO needs: ENOENT naming its package. */
static int
need_file(struct mk *m, const char *path, const char *pkg)
{
	if (access(path, R_OK) == 0)
		return (0);
	m->r->bad_input = MKLIVE_IN_BOOTFILE;
	return (diag_set(m->d, ENOENT, "%s: %s: install the Debian package %s "
	    "(or leave its firmware out with --boot)", path, strerror(errno),
	    pkg));
}

int
mk_boot_check(struct mk *m)
{
	static const struct os_tool bios_tools[] = {
		{ "grub-mkimage", "grub-common" },
	};
	static const struct os_tool uefi_tools[] = {
		{ "mkfs.fat", "dosfstools" }, { "mcopy", "mtools" },
	};
	const struct mklive_opts *o = m->o;
	char p[PATH_MAX + 32];
	int e;

	if (o->tree == NULL)
		return (0);
	if (o->boot & MKLIVE_BOOT_BIOS) {
		if ((e = os_check_tools(bios_tools, 1, m->d)) != 0)
			return (e);
		snprintf(p, sizeof(p), "%s/boot_hybrid.img", grub_pc_dir(o));
		if ((e = need_file(m, p, "grub-pc-bin")) != 0)
			return (e);
		snprintf(p, sizeof(p), "%s/normal.mod", grub_pc_dir(o));
		if ((e = need_file(m, p, "grub-pc-bin")) != 0)
			return (e);
	}
	if (o->boot & MKLIVE_BOOT_UEFI) {
		if ((e = os_check_tools(uefi_tools, 2, m->d)) != 0 ||
		    (e = need_file(m, shim_path(o), "shim-signed")) != 0 ||
		    (e = need_file(m, grub_efi_path(o),
		    "grub-efi-amd64-signed")) != 0)
			return (e);
	}
	return (0);
}

/* "SOURCE_DATE_EPOCH=N" for the tools, or NULL. */
static char *const *
epoch_env(const struct mk *m, char *buf, size_t len, char *env[2])
{
	if (m->o->epoch == NULL)
		return (NULL);
	snprintf(buf, len, "SOURCE_DATE_EPOCH=%s", m->o->epoch);
	env[0] = buf;
	env[1] = NULL;
	return (env);
}

static int
run_env(struct mk *m, char *const argv[], char *const *env)
{
	struct os_run r;

	memset(&r, 0, sizeof(r));
	r.talk = m->o->talk;
	r.env = env;
	return (os_run(argv, &r, m->d));
}

/* DIR/NAME written with text. */
static int
put_text(struct mk *m, const char *dir, const char *name, const char *text,
    size_t len)
{
	char p[PATH_MAX];

	if (join(m, p, sizeof(p), dir, name) != 0)
		return (ENAMETOOLONG);
	return (os_write_file(p, text, len, 0644, m->d));
}

static int
put_cfg(struct mk *m, const char *dir, const char *name,
    enum mk_grub_file which)
{
	char text[8192];
	size_t len;
	int e;

	if ((e = mk_grub_cfg(m, which, text, sizeof(text), &len)) != 0)
		return (e);
	return (put_text(m, dir, name, text, len));
}

/* GRUB i386-pc: its modules and the El Torito image into tree/boot/grub. */
static int
iso_bios(struct mk *m, const char *tree, const char *work, char *const *env)
{
	const char *src = grub_pc_dir(m->o);
	char dir[PATH_MAX], from[PATH_MAX], to[PATH_MAX];
	char early[PATH_MAX], img[PATH_MAX];
	struct dirent *de;
	DIR *dp;
	size_t l;
	int e = 0;

	if (join(m, dir, sizeof(dir), tree, "boot/grub/i386-pc") != 0)
		return (ENAMETOOLONG);
	if ((e = os_mkdir_p(dir, 0755, m->d)) != 0)
		return (e);
	if ((dp = opendir(src)) == NULL)
		return (diag_set(m->d, errno, "%s: %s: install the Debian "
		    "package grub-pc-bin", src, strerror(errno)));
	while (e == 0 && (de = readdir(dp)) != NULL) {
		l = strlen(de->d_name);
		if (l < 5 || (strcmp(de->d_name + l - 4, ".mod") != 0 &&
		    strcmp(de->d_name + l - 4, ".lst") != 0))
			continue;
		if ((e = join(m, from, sizeof(from), src, de->d_name)) != 0 ||
		    (e = join(m, to, sizeof(to), dir, de->d_name)) != 0)
			break;
		e = os_copy_file(from, to, 0644, m->d);
	}
	closedir(dp);
	if (e != 0)
		return (e);
	if ((e = put_cfg(m, work, "early.cfg", MK_GRUB_EARLY)) != 0)
		return (e);
	if (join(m, early, sizeof(early), work, "early.cfg") != 0)
		return (ENAMETOOLONG);
	if (join(m, img, sizeof(img), dir, "eltorito.img") != 0)
		return (ENAMETOOLONG);
	{
		char *argv[] = { "grub-mkimage", "-O", "i386-pc-eltorito",
		    "-d", (char *)src, "-p", "/boot/grub", "-c", early, "-o",
		    img, "biosdisk", "iso9660", "search", "search_fs_file",
		    "configfile", "normal", NULL };

		if ((e = run_env(m, argv, env)) != 0)
			return (diag_prefix(m->d, "the BIOS boot image: "));
	}
	return (0);
}

/* The ESP image work/efi.img: shim, signed GRUB, MokManager, grub.cfg. */
static int
iso_esp(struct mk *m, const char *work, char *const *env, char *esp_img,
    size_t esp_len)
{
	const struct mklive_opts *o = m->o;
	char esp[PATH_MAX], boot[PATH_MAX], grub[PATH_MAX];
	char to[PATH_MAX], from_efi[PATH_MAX], from_boot[PATH_MAX];
	char volid[16];
	const char *files[3][2] = {
		{ shim_path(o), "BOOTX64.EFI" }, { grub_efi_path(o),
		"grubx64.efi" }, { MKLIVE_MOKMANAGER, "mmx64.efi" },
	};
	struct stat st;
	uint64_t total = 0;
	int e, fd;

	if (join(m, esp, sizeof(esp), work, "esp") != 0)
		return (ENAMETOOLONG);
	if (join(m, boot, sizeof(boot), esp, "EFI/BOOT") != 0)
		return (ENAMETOOLONG);
	if (join(m, grub, sizeof(grub), esp, "boot/grub") != 0)
		return (ENAMETOOLONG);
	if ((e = os_mkdir_p(boot, 0755, m->d)) != 0 ||
	    (e = os_mkdir_p(grub, 0755, m->d)) != 0)
		return (e);
	for (int i = 0; i < 3; i++) {
		/* MokManager only when shim-signed ships it */
		if (i == 2 && access(files[i][0], R_OK) != 0)
			continue;
		if (join(m, to, sizeof(to), boot, files[i][1]) != 0)
		return (ENAMETOOLONG);
		if ((e = os_copy_file(files[i][0], to, 0644, m->d)) != 0)
			return (e);
		if (stat(to, &st) == 0)
			total += (uint64_t)st.st_size;
	}
	if ((e = put_cfg(m, grub, "grub.cfg", MK_GRUB_ESP)) != 0)
		return (e);
	/* room for the files, their clusters and the FATs, in whole MiB */
	total = (total + total / 8 + ESP_SLACK + (1 << 20) - 1) &
	    ~(uint64_t)((1 << 20) - 1);
	if (join(m, esp_img, esp_len, work, "efi.img") != 0)
		return (ENAMETOOLONG);
	if ((fd = open(esp_img, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
		return (diag_set(m->d, errno, "%s: %s", esp_img,
		    strerror(errno)));
	if (ftruncate(fd, (off_t)total) != 0) {
		e = errno;
		close(fd);
		return (diag_set(m->d, e, "%s: %s", esp_img, strerror(e)));
	}
	close(fd);
	/* the volume id: from the ISO id, so a reproducible build has one */
	snprintf(volid, sizeof(volid), "%.8s", m->isoid);
	{
		char *argv[] = { "mkfs.fat", "-n", "EFIBOOT", "-i", volid,
		    esp_img, NULL, NULL };

		if (o->epoch != NULL) {		/* no clock, no random */
			argv[5] = "--invariant";
			argv[6] = esp_img;
		}
		if ((e = run_env(m, argv, env)) != 0)
			return (diag_prefix(m->d, "the EFI system partition: "));
	}
	if (join(m, from_efi, sizeof(from_efi), esp, "EFI") != 0)
		return (ENAMETOOLONG);
	if (join(m, from_boot, sizeof(from_boot), esp, "boot") != 0)
		return (ENAMETOOLONG);
	{
		char *argv[] = { "mcopy", "-s", "-Q", "-i", esp_img, from_efi,
		    from_boot, "::/", NULL };

		if ((e = run_env(m, argv, env)) != 0)
			return (diag_prefix(m->d, "the EFI system partition: "));
	}
	return (0);
}

/* xorriso's "UPDATE :  12.34% done" lines as progress events. */
static void
iso_line(void *arg, const char *line)
{
	struct mk *m = arg;
	const char *p;
	char *end;
	double pct;

	if ((p = strstr(line, "UPDATE :")) == NULL || strstr(p, "% done") ==
	    NULL || m->o->report == NULL)
		return;
	pct = strtod(p + 8, &end);
	if (end == p + 8 || pct < 0 || pct > 100)
		return;
	m->o->report(m->o->arg, MKLIVE_EV_ISO_PROGRESS, NULL,
	    (uint64_t)(pct * 100), 10000);
}

static int
iso_xorriso(struct mk *m, const char *tree, const char *esp_img,
    const char *tmp, char *const *env)
{
	const struct mklive_opts *o = m->o;
	const struct mklive_result *r = m->r;
	char hybrid[PATH_MAX + 32], g1[PATH_MAX + 16], g2[PATH_MAX + 16];
	char g3[PATH_MAX + 24], espiv[] = "--interval:appended_partition_2:all::";
	char g4[PATH_MAX + 24], g5[PATH_MAX + 32], g6[PATH_MAX + 40];
	char dates[48];
	char *argv[64];
	struct os_run run;
	int n = 0, e;

	snprintf(hybrid, sizeof(hybrid), "%s/boot_hybrid.img",
	    grub_pc_dir(o));
	snprintf(g1, sizeof(g1), "/rootfs.uzip=%s", r->uzip);
	snprintf(g2, sizeof(g2), "/boot/vmlinuz=%s", r->vmlinuz);
	snprintf(g3, sizeof(g3), "/boot/initramfs.img=%s", r->initramfs);
	snprintf(g4, sizeof(g4), "/rootfs.uzip.sig=%s", r->sig);
	snprintf(g5, sizeof(g5), "/rootfs.uzip.hashes=%s", r->hashes);
	snprintf(g6, sizeof(g6), "/rootfs.uzip.hashes.sig=%s", r->hashes_sig);
#define A(s)	(argv[n++] = (char *)(s))
	A("xorriso"); A("-as"); A("mkisofs"); A("-r"); A("-J");
	A("-joliet-long"); A("-V"); A(o->label); A("-o"); A(tmp);
	if (o->epoch != NULL) {
		/* SOURCE_DATE_EPOCH alone fixes the volume's dates and ids
		 * only: the files keep their mtimes */
		snprintf(dates, sizeof(dates), "=%s", o->epoch);
		A("--set_all_file_dates"); A(dates);
	}
	if (o->boot & MKLIVE_BOOT_BIOS) {
		A("--grub2-mbr"); A(hybrid); A("-partition_offset"); A("16");
		A("--mbr-force-bootable"); A("-b");
		A("boot/grub/i386-pc/eltorito.img"); A("-no-emul-boot");
		A("-boot-load-size"); A("4"); A("-boot-info-table");
		A("--grub2-boot-info");
	}
	if (o->boot & MKLIVE_BOOT_UEFI) {
		A("-append_partition"); A("2"); A("0xef"); A(esp_img);
		A("-appended_part_as_gpt");
		if (o->boot & MKLIVE_BOOT_BIOS)
			A("-eltorito-alt-boot");
		A("-e"); A(espiv); A("-no-emul-boot");
	}
	A("-graft-points"); A(tree); A(g1); A(g2); A(g3); A(g5);
	if (r->sig[0] != '\0')
		A(g4);
	if (r->hashes_sig[0] != '\0')
		A(g6);
	A(NULL);
#undef A
	memset(&run, 0, sizeof(run));
	run.env = env;
	run.line = iso_line;
	run.arg = m;
	if (o->report != NULL)
		run.failed_output = mk_tool_output;
	if (o->report != NULL)
		o->report(o->arg, MKLIVE_EV_ISO_START, NULL, 0, 10000);
	e = os_run(argv, &run, m->d);
	if (o->report != NULL)
		o->report(o->arg, MKLIVE_EV_ISO_END, NULL, 10000, 10000);
	return (e);
}

int
mk_iso(struct mk *m)
{
	const struct mklive_opts *o = m->o;
	struct mklive_result *r = m->r;
	char tmp[PATH_MAX + 8], stage[PATH_MAX + 16], tree[PATH_MAX + 32];
	char work[PATH_MAX], grub[PATH_MAX], esp_img[PATH_MAX];
	char ebuf[64], *envv[2], idfile[64], idtext[128];
	char *const *env = epoch_env(m, ebuf, sizeof(ebuf), envv);
	char *rm[] = { "rm", "-rf", stage, NULL };
	int e, n;

	if ((e = os_sha256_file(r->uzip, r->sha256, m->d)) != 0)
		return (diag_prefix(m->d, "sha256 of %s: ", r->uzip));
	snprintf(m->isoid, sizeof(m->isoid), "%.16s", r->sha256);
	snprintf(tmp, sizeof(tmp), "%s.tmp", r->iso);
	snprintf(stage, sizeof(stage), "%s/.iso.tmp", o->out);
	if (join(m, tree, sizeof(tree), stage, "tree") != 0)
		return (ENAMETOOLONG);
	if (join(m, work, sizeof(work), stage, "work") != 0)
		return (ENAMETOOLONG);
	if (join(m, grub, sizeof(grub), tree, "boot/grub") != 0)
		return (ENAMETOOLONG);
	mk_step(m, "ISO %s, label %s, boots from %s", r->iso, o->label,
	    (o->boot & (MKLIVE_BOOT_BIOS | MKLIVE_BOOT_UEFI)) ==
	    (MKLIVE_BOOT_BIOS | MKLIVE_BOOT_UEFI) ? "BIOS and UEFI (Secure "
	    "Boot: shim)" : o->boot & MKLIVE_BOOT_BIOS ? "BIOS" :
	    o->boot & MKLIVE_BOOT_UEFI ? "UEFI (Secure Boot: shim)" :
	    "-kernel only (no boot loader)");
	(void)unlink(tmp);
	(void)mk_run(m, rm, NULL, 0, 0, NULL);
	snprintf(idfile, sizeof(idfile), ".disk/liveroot-%s", m->isoid);
	n = snprintf(idtext, sizeof(idtext), "liveroot %s %s\n", o->label,
	    r->kver);
	if (join(m, esp_img, sizeof(esp_img), tree, ".disk") != 0)
		return (ENAMETOOLONG);
	if ((e = os_mkdir_p(work, 0755, m->d)) != 0 ||
	    (e = os_mkdir_p(grub, 0755, m->d)) != 0 ||
	    (e = os_mkdir_p(esp_img, 0755, m->d)) != 0 ||
	    (e = put_text(m, tree, idfile, idtext, (size_t)n)) != 0 ||
	    (e = put_cfg(m, grub, "grub.cfg", MK_GRUB_MENU)) != 0 ||
	    (e = put_cfg(m, grub, "loopback.cfg", MK_GRUB_LOOPBACK)) != 0)
		goto out;
	if ((o->boot & MKLIVE_BOOT_BIOS) &&
	    (e = iso_bios(m, tree, work, env)) != 0)
		goto out;
	if ((o->boot & MKLIVE_BOOT_UEFI) &&
	    (e = iso_esp(m, work, env, esp_img, sizeof(esp_img))) != 0)
		goto out;
	if ((e = iso_xorriso(m, tree, esp_img, tmp, env)) != 0) {
		diag_prefix(m->d, "making %s: ", r->iso);
		goto out;
	}
	if (rename(tmp, r->iso) != 0)
		e = diag_set(m->d, errno, "rename %s: %s", tmp,
		    strerror(errno));
out:
	if (e != 0)
		(void)unlink(tmp);
	(void)mk_run(m, rm, NULL, 0, 0, NULL);
	return (e);
}
