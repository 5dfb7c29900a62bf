/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * grub.c - the GRUB configuration files of live.iso, as text:
 *
 *   /boot/grub/grub.cfg       the menu: the live system, copy to RAM
 *                             (live.toram=1), rescue shell (live.shell=1),
 *                             serial console; each entry passes
 *                             live.label=LABEL so the probe takes this
 *                             medium and no other, then --cmdline
 *   /boot/grub/loopback.cfg   the same entries for a GRUB that booted the
 *                             ISO from a file (`loopback loop FILE; set
 *                             iso_path=FILE; configfile
 *                             (loop)/boot/grub/loopback.cfg`): they pass
 *                             "live.iso=${iso_path}" so liveroot-init finds
 *                             the file again (findiso)
 *   early config              the first lines the i386-pc El Torito image
 *                             and the ESP's grub.cfg run: find this ISO by
 *                             its id file /.disk/liveroot-ID and go on with
 *                             its /boot/grub/grub.cfg
 *
 * Only commands that Debian's signed GRUB (gcdx64.efi) carries built in
 * are used, since under Secure Boot it loads no module from the medium.
 * The label and --cmdline were checked by the caller (mk_grub_text_ok):
 * nothing in them is GRUB script syntax.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mklive_int.h"

struct gtext {
	char	*buf;
	size_t	 len, cap;
	int	 over;
};

static void
gt_add(struct gtext *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= t->cap - t->len)
		t->over = 1;
	else
		t->len += (size_t)n;
}

#define SERIAL_CONSOLE	"console=tty0 console=ttyS0,115200"

/*
 * One menu entry; how the live system is found is `find`.  With --serial
 * every entry also puts the kernel's console on ttyS0 (the last console=
 * is /dev/console): whoever chose it on the serial port sees the boot.
 */
static void
gt_entry(struct gtext *t, const struct mklive_opts *o, const char *title,
    const char *id, const char *find, const char *extra)
{
	const char *con = o->serial && strstr(extra, "console=") == NULL ?
	    " " SERIAL_CONSOLE : "";

	gt_add(t, "menuentry '%s: %s' --id %s {\n"
	    "\techo 'Loading %s...'\n"
	    "\tlinux /boot/vmlinuz %s%s%s%s%s%s\n"
	    "\tinitrd /boot/initramfs.img\n"
	    "}\n", o->label, title, id, o->label, find,
	    extra[0] != '\0' ? " " : "", extra, con,
	    o->cmdline != NULL ? " " : "", o->cmdline != NULL ? o->cmdline : "");
}

static void
gt_menu(struct gtext *t, const struct mklive_opts *o, const char *find)
{
	if (o->serial)
		gt_add(t, "serial --unit=0 --speed=115200\n"
		    "terminal_input serial console\n"
		    "terminal_output serial console\n");
	gt_add(t, "if [ \"x$grub_platform\" = xefi ]; then\n"
	    "\tinsmod all_video\n"
	    "fi\n"
	    "set default=%s\n"
	    "set timeout=5\n\n", o->serial ? "serial" : "live");
	gt_entry(t, o, "live system", "live", find, "");
	gt_entry(t, o, "copy to RAM", "toram", find, "live.toram=1");
	gt_entry(t, o, "rescue shell", "shell", find, "live.shell=1");
	gt_entry(t, o, "serial console (ttyS0)", "serial", find,
	    SERIAL_CONSOLE);
}

int
mk_grub_cfg(const struct mk *m, enum mk_grub_file which, char *buf,
    size_t cap, size_t *len)
{
	const struct mklive_opts *o = m->o;
	struct gtext t = { buf, 0, cap, 0 };
	char find[128];

	switch (which) {
	case MK_GRUB_MENU:
		gt_add(&t, "# %s: the boot menu of this live ISO (liveroot "
		    "mklive %s).\n", o->label, o->version);
		snprintf(find, sizeof(find), "live.label=%s", o->label);
		gt_menu(&t, o, find);
		break;
	case MK_GRUB_LOOPBACK:
		gt_add(&t, "# %s: boot this ISO from a file, the loopback.cfg "
		    "convention of GRUB\n# multiboot tools (Ventoy's GRUB2 "
		    "mode, GLIM, Super GRUB2):\n#   loopback loop "
		    "/path/live.iso\n#   set iso_path=/path/live.iso\n"
		    "#   export iso_path\n#   configfile "
		    "(loop)/boot/grub/loopback.cfg\n", o->label);
		gt_add(&t, "search --no-floppy --set=root --file "
		    "/.disk/liveroot-%s\n", m->isoid);
		gt_menu(&t, o, "\"live.iso=${iso_path}\"");
		break;
	case MK_GRUB_EARLY:
		gt_add(&t, "search --no-floppy --set=root --file "
		    "/.disk/liveroot-%s\n"
		    "set prefix=($root)/boot/grub\n", m->isoid);
		break;
	case MK_GRUB_ESP:
		gt_add(&t, "# %s: the ESP hands over to the ISO's menu.\n"
		    "search --no-floppy --set=root --file /.disk/liveroot-%s\n"
		    "set prefix=($root)/boot/grub\n"
		    "configfile $prefix/grub.cfg\n", o->label, m->isoid);
		break;
	}
	if (t.over)
		return (diag_set(m->d, E2BIG, "the GRUB configuration is longer "
		    "than %zu bytes: shorten --cmdline", cap));
	*len = t.len;
	return (0);
}

/*
 * A label or --cmdline GRUB's script and the kernel command line take as
 * they are: printable ASCII without GRUB's special characters.  NULL when
 * fine, else the character that is not.
 */
const char *
mk_grub_text_bad(const char *s, int label)
{
	static const char special[] = "\\$;{}`|&<>'#";

	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e ||
		    strchr(special, *s) != NULL ||
		    (label && !(*s == '_' || *s == '-' || *s == '.' ||
		    (*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= 'a' && *s <= 'z'))))
			return (s);
	}
	return (NULL);
}
