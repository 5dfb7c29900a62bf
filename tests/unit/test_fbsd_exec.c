/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_fbsd_exec.c - the FreeBSD executor (lib/probe/plan_freebsd_steps.c)
 * run with RECORDING OPERATIONS, not on FreeBSD: every golden scenario of
 * tests/golden/freebsd (NAME.source, NAME.cmdline, NAME[.VARIANT].env) is
 * built as steps and executed, and the log must equal NAME[.VARIANT].calls,
 * the file the plan's sh script run against the recording stand-ins
 * (tests/integration/plan_freebsd_run.sh) is held to.  So the script and
 * the executor make the same calls, in the same order, with the same
 * arguments, or one of the two tests fails.
 *
 * The recording operations write each operation as the base-tool calls the
 * script makes for it (a media size is "diskinfo DEV" and the script's
 * "awk {print $3}"; a sha256 check is its dd | head | sha256 pipeline), and
 * behave as the stand-ins do under the same NAME.env settings
 * (STANDIN_FAIL, STANDIN_LATE, STANDIN_SIZE, STANDIN_SHA256, STANDIN_DISKS;
 * see tests/freebsd-standins/standin.sh).  What FreeBSD then does with the
 * calls is platform/freebsd/ops.c's, checked for compiling by the suite
 * 'freebsd' only.
 *
 * Beyond the goldens, a matrix of sources x live.* settings x stand-in
 * failures runs both forms side by side: the script that
 * plan_freebsd_commands() prints (the same steps, as sh lines), with sh
 * against the recording stand-ins, and the steps against the recording
 * operations; the two logs (and whether the inputs are refused) must
 * agree: each kind of step's sh line does what its operation does.
 *
 * argv[1]: tests/golden/freebsd.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/config.h>
#include <liveroot/plan_freebsd.h>
#include <liveroot/plan_freebsd_steps.h>

#include "t.h"

#define RAM	(4ULL << 30)	/* plan_freebsd_run.sh: --ram 4G */

struct rec {
	char		log[65536];
	size_t		len;
	char		err[16384];
	size_t		errlen;
	/* the stand-ins' settings */
	char		fail[512];
	char		late_dev[128];
	unsigned	late_n, late_seen;
	uint64_t	size;
	char		sha[65];
	char		disks[256];
};

static void LR_PRINTF(2, 3)
rec_line(struct rec *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(r->log + r->len, sizeof(r->log) - r->len, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n + 1 < sizeof(r->log) - r->len) {
		r->len += (size_t)n;
		r->log[r->len++] = '\n';
		r->log[r->len] = '\0';
	}
}

/* STANDIN_FAIL="NAME:WORD ...": NAME fails when WORD is one of its args. */
static int
fails(struct rec *r, const char *name, const char *const *args)
{
	char f[512], *tok, *save, *colon;
	size_t i;

	snprintf(f, sizeof(f), "%s", r->fail);
	for (tok = strtok_r(f, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		if ((colon = strchr(tok, ':')) == NULL)
			continue;
		*colon = '\0';
		if (strcmp(tok, name) != 0)
			continue;
		for (i = 0; args[i] != NULL; i++)
			if (strcmp(args[i], colon + 1) == 0)
				return (1);
	}
	return (0);
}

/* Log NAME ARGS...; 0, or EIO when the stand-in would fail. */
static int
call(struct rec *r, const char *name, ...)
{
	const char *args[48], *v;
	char line[4096];
	size_t n = 0, k;
	va_list ap;

	k = (size_t)snprintf(line, sizeof(line), "%s", name);
	va_start(ap, name);
	while ((v = va_arg(ap, const char *)) != NULL && n < 47) {
		args[n++] = v;
		k += (size_t)snprintf(line + k, sizeof(line) - k, " %s", v);
	}
	va_end(ap);
	args[n] = NULL;
	rec_line(r, "%s", line);
	return (fails(r, name, args) ? EIO : 0);
}

static int
r_kldload(void *a, const char *m, int quiet)
{
	(void)quiet;
	return (call(a, "kldload", "-n", m, NULL));
}

static int
r_dev_present(void *a, const char *dev)
{
	struct rec *r = a;
	int e = call(r, "diskinfo", dev, NULL);

	if (e == 0 && r->late_dev[0] != '\0' && strcmp(dev, r->late_dev) == 0)
		if (r->late_seen++ < r->late_n)
			e = ENOENT;
	return (e);
}

static int
r_dev_size(void *a, const char *dev, uint64_t *bytes)
{
	struct rec *r = a;
	int e = r_dev_present(r, dev);

	rec_line(r, "awk {print $3}");
	*bytes = r->size;
	return (e);
}

static int
r_file_size(void *a, const char *path, uint64_t *bytes)
{
	struct rec *r = a;

	*bytes = r->size;
	return (call(r, "stat", "-f", "%z", path, NULL));
}

static int
r_mkdir(void *a, const char *path)
{
	return (call(a, "mkdir", "-p", path, NULL));
}

static int
r_mount(void *a, const char *fstype, const char *from, const char *on,
    const char *opts)
{
	if (opts != NULL)
		return (call(a, "mount", "-t", fstype, "-o", opts, from, on,
		    NULL));
	return (call(a, "mount", "-t", fstype, from, on, NULL));
}

static int
r_unmount(void *a, const char *on)
{
	return (call(a, "umount", on, NULL));
}

static int
r_exec(void *a, const char *const *argv, int *status)
{
	struct rec *r = a;
	const char *name = strrchr(argv[0], '/');
	char line[4096];
	size_t i, k;

	name = name != NULL ? name + 1 : argv[0];
	k = (size_t)snprintf(line, sizeof(line), "%s", name);
	for (i = 1; argv[i] != NULL; i++)
		k += (size_t)snprintf(line + k, sizeof(line) - k, " %s",
		    argv[i]);
	rec_line(r, "%s", line);
	*status = fails(r, name, argv + 1) ? 1 : 0;
	return (0);
}

static int
r_md_attach(void *a, const struct fbsd_md *md, uint64_t bytes)
{
	char s[32], u[16];

	snprintf(u, sizeof(u), "%d", md->unit);
	if (md->swap) {
		if (md->mib)
			snprintf(s, sizeof(s), "%" PRIu64 "m", bytes / 1048576);
		else
			snprintf(s, sizeof(s), "%" PRIu64 "b", bytes);
		return (call(a, "mdconfig", "-a", "-t", "swap", "-s", s, "-u",
		    u, NULL));
	}
	if (md->readonly)
		return (call(a, "mdconfig", "-a", "-t", "vnode", "-o",
		    "readonly", "-f", md->file, "-u", u, NULL));
	return (call(a, "mdconfig", "-a", "-t", "vnode", "-f", md->file, "-u",
	    u, NULL));
}

static int
r_md_detach(void *a, int unit)
{
	char u[16];

	snprintf(u, sizeof(u), "%d", unit);
	return (call(a, "mdconfig", "-d", "-u", u, NULL));
}

static int
r_truncate(void *a, const char *path, uint64_t bytes)
{
	char s[32];

	snprintf(s, sizeof(s), "%" PRIu64, bytes);
	return (call(a, "truncate", "-s", s, path, NULL));
}

static int
r_fetch_size(void *a, const char *url, uint64_t *bytes)
{
	struct rec *r = a;

	*bytes = r->size;
	return (call(r, "fetch", "-s", url, NULL));
}

static int
r_fetch(void *a, const char *url, const char *dev)
{
	char of[160];
	int e;

	e = call(a, "fetch", "-o", "-", url, NULL);
	snprintf(of, sizeof(of), "of=%s", dev);
	if (call(a, "dd", of, "ibs=64k", "obs=1m", "conv=osync", NULL) != 0)
		e = EIO;
	return (e);
}

static int
r_sha256(void *a, const char *dev, uint64_t len, char hex[65])
{
	struct rec *r = a;
	char in[160], n[32];

	snprintf(in, sizeof(in), "if=%s", dev);
	snprintf(n, sizeof(n), "%" PRIu64, len);
	(void)call(r, "dd", in, "bs=1m", NULL);
	(void)call(r, "head", "-c", n, NULL);
	snprintf(hex, 65, "%s", r->sha);
	return (call(r, "sha256", "-q", NULL));
}

static int
r_copy(void *a, const char *from, const char *dev)
{
	char in[400], of[160];

	snprintf(in, sizeof(in), "if=%s", from);
	snprintf(of, sizeof(of), "of=%s", dev);
	return (call(a, "dd", in, of, "bs=1m", "conv=osync", NULL));
}

static int
r_kenv(void *a, const char *name, const char *value)
{
	char kv[1200];

	snprintf(kv, sizeof(kv), "%s=%s", name, value);
	return (call(a, "kenv", kv, NULL));
}

static int
r_reroot(void *a)
{
	return (call(a, "reboot", "-r", NULL));
}

static int
r_halt(void *a)
{
	return (call(a, "halt", NULL));
}

static void
r_sleep1(void *a)
{
	(void)call(a, "sleep", "1", NULL);
}

static void
r_disks(void *a, char *buf, size_t len)
{
	struct rec *r = a;

	(void)call(r, "sysctl", "-n", "kern.disks", NULL);
	snprintf(buf, len, "%s", r->disks);
}

static void
r_console(void *a, const char *line)
{
	struct rec *r = a;
	int n;

	n = snprintf(r->err + r->errlen, sizeof(r->err) - r->errlen, "%s\n",
	    line);
	if (n > 0 && (size_t)n < sizeof(r->err) - r->errlen)
		r->errlen += (size_t)n;
}

static void
rec_ops(struct rec *r, struct fbsd_ops *o)
{
	memset(o, 0, sizeof(*o));
	o->kldload = r_kldload;
	o->dev_present = r_dev_present;
	o->dev_size = r_dev_size;
	o->file_size = r_file_size;
	o->mkdir_p = r_mkdir;
	o->mount = r_mount;
	o->unmount = r_unmount;
	o->exec = r_exec;
	o->md_attach = r_md_attach;
	o->md_detach = r_md_detach;
	o->truncate = r_truncate;
	o->fetch_size = r_fetch_size;
	o->fetch = r_fetch;
	o->sha256 = r_sha256;
	o->copy = r_copy;
	o->kenv_set = r_kenv;
	o->reroot = r_reroot;
	o->halt = r_halt;
	o->sleep1 = r_sleep1;
	o->disks = r_disks;
	o->console = r_console;
	o->arg = r;
}

/* --- the golden files ------------------------------------------------------ */

static const char *gdir;

/* The file's text, its trailing newlines cut; NULL when absent. */
static char *
slurp(const char *name)
{
	char path[1024], *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", gdir, name);
	if ((f = fopen(path, "r")) == NULL)
		return (NULL);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return (NULL);
	}
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return (buf);
}

/* The stand-ins' settings from "KEY=VALUE" lines (a NAME.env's text). */
static void
rec_settings(struct rec *r, const char *what, const char *env)
{
	char *text, *line, *save, *eq;

	memset(r, 0, sizeof(*r));
	r->size = 268435456;
	memset(r->sha, '0', 64);
	snprintf(r->disks, sizeof(r->disks), "cd0 ada0");
	if (env == NULL || (text = strdup(env)) == NULL)
		return;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || (eq = strchr(line, '=')) == NULL)
			continue;
		*eq++ = '\0';
		if (strcmp(line, "STANDIN_FAIL") == 0)
			snprintf(r->fail, sizeof(r->fail), "%s", eq);
		else if (strcmp(line, "STANDIN_SIZE") == 0)
			r->size = strtoull(eq, NULL, 10);
		else if (strcmp(line, "STANDIN_SHA256") == 0)
			snprintf(r->sha, sizeof(r->sha), "%s", eq);
		else if (strcmp(line, "STANDIN_DISKS") == 0)
			snprintf(r->disks, sizeof(r->disks), "%s", eq);
		else if (strcmp(line, "STANDIN_LATE") == 0) {
			char *c = strrchr(eq, ':');

			if (c != NULL) {
				*c = '\0';
				snprintf(r->late_dev, sizeof(r->late_dev), "%s",
				    eq);
				r->late_n = (unsigned)strtoul(c + 1, NULL, 10);
			}
		} else
			fprintf(stderr, "%s: unknown setting %s\n", what, line);
	}
	free(text);
}

static void
rec_init(struct rec *r, const char *env)
{
	char *text = env != NULL ? slurp(env) : NULL;

	rec_settings(r, env, text);
	free(text);
}

static struct fbsd_steps st;
static struct rec rec;
static int nruns;

/* Scenario n's config and source; 0 or -1. */
static int
scenario(const char *n, struct live_config *c, struct fbsd_source *s)
{
	char name[300], *cmdline, *spec;
	struct diag d;
	int e;

	snprintf(name, sizeof(name), "%s.cmdline", n);
	cmdline = slurp(name);
	snprintf(name, sizeof(name), "%s.source", n);
	spec = slurp(name);
	if (cmdline == NULL || spec == NULL) {
		free(cmdline);
		free(spec);
		return (-1);
	}
	config_init(c);
	config_parse_cmdline(c, cmdline);
	diag_clear(&d);
	e = plan_freebsd_parse_source(spec, s, &d);
	free(cmdline);
	free(spec);
	return (e == 0 ? 0 : -1);
}

/* Run scenario n with key's .env; compare with key.calls. */
static void
run(const char *n, const char *key)
{
	static struct live_config c;
	static struct fbsd_source s;
	struct fbsd_ops ops;
	char name[300], *want;
	struct diag d;
	int status;

	if (scenario(n, &c, &s) != 0) {
		fprintf(stderr, "%s: cannot read the scenario\n", n);
		CHECK(0);
		return;
	}
	diag_clear(&d);
	CHECK_EQ(plan_freebsd_steps(&c, &s, config_overlay_bytes(&c, RAM),
	    &st, &d), 0);
	snprintf(name, sizeof(name), "%s.env", key);
	rec_init(&rec, name);
	rec_ops(&rec, &ops);
	status = fbsd_exec(&st, &ops, NULL);
	rec_line(&rec, "exit %d", status);
	snprintf(name, sizeof(name), "%s.calls", key);
	want = slurp(name);
	if (want == NULL) {
		fprintf(stderr, "%s: no %s\n", key, name);
		CHECK(0);
		return;
	}
	if (strcmp(want, rec.log) == 0 ||
	    (rec.len > 0 && strncmp(want, rec.log, rec.len - 1) == 0 &&
	    want[rec.len - 1] == '\0'))
		t_pass++;
	else {
		t_fail++;
		fprintf(stderr, "%s: the executor's calls differ from "
		    "%s.calls\n--- want\n%s\n--- got\n%s--- console\n%s", key,
		    key, want, rec.log, rec.err);
	}
	free(want);
	nruns++;
}

static int
cmp_str(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

static void
golden(void)
{
	char *names[128], *p;
	size_t n = 0, i, k;
	struct dirent *e;
	DIR *dir;

	if ((dir = opendir(gdir)) == NULL) {
		fprintf(stderr, "%s: %s\n", gdir, strerror(errno));
		CHECK(0);
		return;
	}
	while ((e = readdir(dir)) != NULL && n < 128)
		if (e->d_name[0] != '.' && ((p = strstr(e->d_name,
		    ".cmdline")) != NULL || (p = strstr(e->d_name, ".env")) !=
		    NULL) && p[strlen(p) - 1] != '~')
			names[n++] = strdup(e->d_name);
	closedir(dir);
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (i = 0; i < n; i++) {
		char base[300], key[256 - sizeof(".cmdline")];

		if ((p = strstr(names[i], ".cmdline")) != NULL &&
		    p[8] == '\0') {
			snprintf(base, sizeof(base), "%.*s",
			    (int)(p - names[i]), names[i]);
			run(base, base);
			continue;
		}
		/* NAME.env (NAME's own settings) or NAME.VARIANT.env */
		k = strlen(names[i]) - 4;
		snprintf(key, sizeof(key), "%.*s", (int)k, names[i]);
		snprintf(base, sizeof(base), "%s.cmdline", key);
		for (k = 0; k < n; k++)
			if (strcmp(names[k], base) == 0)
				break;
		if (k < n)
			continue;	/* NAME.env: used by run(NAME) */
		if ((p = strrchr(key, '.')) == NULL)
			continue;
		snprintf(base, sizeof(base), "%.*s", (int)(p - key), key);
		run(base, key);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	printf("%d golden runs (recording operations, not FreeBSD)\n", nruns);
	CHECK(nruns >= 20);
}

/* --- the checks beyond the goldens ---------------------------------------- */

static int
has_line(const char *log, const char *line)
{
	size_t n = strlen(line);
	const char *p = log;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == log || p[-1] == '\n') && (p[n] == '\n' ||
		    p[n] == '\0'))
			return (1);
		p += n;
	}
	return (0);
}

static void
one(const char *cmdline, const char *spec, const char *env)
{
	static struct live_config c;
	static struct fbsd_source s;
	struct fbsd_ops ops;
	struct diag d;
	int status, e;

	config_init(&c);
	config_parse_cmdline(&c, cmdline);
	diag_clear(&d);
	CHECK_EQ(plan_freebsd_parse_source(spec, &s, &d), 0);
	memset(&rec, 0, sizeof(rec));
	e = plan_freebsd_steps(&c, &s, config_overlay_bytes(&c, RAM), &st, &d);
	CHECK_EQ(e, 0);
	if (e != 0)
		return;
	rec.size = 268435456;
	memset(rec.sha, '0', 64);
	if (env != NULL)
		snprintf(rec.fail, sizeof(rec.fail), "%s", env);
	rec_ops(&rec, &ops);
	status = fbsd_exec(&st, &ops, NULL);
	rec_line(&rec, "exit %d", status);
}

struct lines {
	char	text[32768];
	size_t	len;
};

static void
collect(void *arg, const char *line)
{
	struct lines *l = arg;
	int n = snprintf(l->text + l->len, sizeof(l->text) - l->len, "%s\n",
	    line);

	if (n > 0 && (size_t)n < sizeof(l->text) - l->len)
		l->len += (size_t)n;
}

static void
extra(void)
{
	static struct lines lines;
	static struct live_config c;
	static struct fbsd_source s;
	static char url[1100], spec[1200];
	char kv[] = "kern.smp=1\0live.toram=1\0live.geom=gunion\0"
	    "live.timeout=7\0init_path=/sbin/init\0noequals\0"
	    "live.overlay=1G";	/* the last entry truncated: skipped */
	char ext[2048];
	struct diag d;
	size_t i, k;

	/* The hand-off rule: reroot exactly when the lower needs no vnode
	 * of the old root (RAM, or GEOM windows of a disk). */
	one("", "preload:/dev/md0", NULL);
	CHECK(has_line(rec.log, "reboot -r"));
	CHECK(st.handoff == LIVE_HANDOFF_REROOT);
	one("", "local:/dev/cd0", NULL);
	CHECK(has_line(rec.log, "kenv init_chroot=/newroot"));
	CHECK(!has_line(rec.log, "reboot -r"));
	one("live.toram=1", "findiso:/dev/da0s1:/isos/live.iso", NULL);
	CHECK(has_line(rec.log, "mdconfig -d -u 11"));
	CHECK(has_line(rec.log, "umount /livepart"));
	CHECK(has_line(rec.log, "reboot -r"));
	/* live.init is reroot's init_path; a failed reroot is an error. */
	one("live.init=/sbin/openrc-init", "net:http://h/r.uzip",
	    "reboot:-r");
	CHECK(has_line(rec.log, "kenv init_path=/sbin/openrc-init"));
	CHECK(has_line(rec.log, "exit 1"));
	CHECK(strstr(rec.err, "reboot -r failed") != NULL);
	/* A GEOM verb that fails stops the run and says which. */
	one("live.geom=rowr", "preload:/dev/md0", "geom:rowr");
	CHECK(has_line(rec.log, "geom rowr create live md0.uzip md12"));
	CHECK(has_line(rec.log, "exit 1"));
	CHECK(!has_line(rec.log, "reboot -r"));
	CHECK(strstr(rec.err, "/sbin/geom rowr exited with status 1") !=
	    NULL);
	/* No medium, live.shell=1: the block, no halt, status 1. */
	one("live.shell=1", "none", NULL);
	CHECK(strstr(rec.err, "liveroot: ROOT IMAGE NOT FOUND: no strategy "
	    "of live.probe=") != NULL);
	CHECK(strstr(rec.err, "liveroot: hint: ") != NULL);
	CHECK(!has_line(rec.log, "halt"));
	CHECK(has_line(rec.log, "exit 1"));

	/* A URL of 1023 bytes and 32 extents fit; a "$root" in a value is
	 * never expanded. */
	memset(url, 'a', sizeof(url));
	memcpy(url, "http://h/$root/", 15);
	url[1023] = '\0';
	snprintf(spec, sizeof(spec), "net:%s", url);
	config_init(&c);
	diag_clear(&d);
	CHECK_EQ(plan_freebsd_parse_source(spec, &s, &d), 0);
	CHECK_EQ(plan_freebsd_steps(&c, &s, 1 << 30, &st, &d), 0);
	one("", spec, NULL);
	CHECK(strstr(rec.log, "fetch -s http://h/$root/aaaa") != NULL);
	k = (size_t)snprintf(ext, sizeof(ext), "ventoy:/dev/ada0:");
	for (i = 0; i < FBSD_MAX_EXTENTS; i++)
		k += (size_t)snprintf(ext + k, sizeof(ext) - k, "%s%zu+512",
		    i ? "," : "", i * 1024);
	one("live.toram=1", ext, NULL);
	CHECK(has_line(rec.log, "gnop create -o 31744 -s 512 -Z lrext31 "
	    "/dev/ada0"));
	CHECK(strstr(rec.log, "gconcat create lrimg lrext0.nop lrext1.nop")
	    != NULL);
	CHECK(strstr(rec.log, " lrext31.nop\n") != NULL);
	CHECK(has_line(rec.log, "mdconfig -a -t swap -s 1m -u 10"));
	CHECK(has_line(rec.log, "reboot -r"));
	/* ... and the script of 32 extents holds them all. */
	memset(&lines, 0, sizeof(lines));
	config_init(&c);
	config_parse_cmdline(&c, "live.toram=1");
	CHECK_EQ(plan_freebsd_parse_source(ext, &s, &d), 0);
	CHECK_EQ(plan_freebsd_commands(&c, &s, 1 << 30, collect, &lines, &d),
	    0);
	CHECK(strstr(lines.text, " lrext30.nop lrext31.nop\n") != NULL);
	CHECK(strstr(lines.text, "\ngnop create -o 31744 -s 512 -Z lrext31 "
	    "/dev/ada0\n") != NULL);

	/* Refused whole: no URL, a control character. */
	config_init(&c);
	CHECK_EQ(plan_freebsd_parse_source("net:", &s, &d), 0);
	CHECK_EQ(plan_freebsd_steps(&c, &s, 1 << 30, &st, &d), EINVAL);
	CHECK_MSG(&d, "no URL");
	config_set(&c, "live.image", "/a\tb.uzip", LIVE_SRC_CMDLINE);
	CHECK_EQ(plan_freebsd_parse_source("local:/dev/cd0", &s, &d), 0);
	CHECK_EQ(plan_freebsd_steps(&c, &s, 1 << 30, &st, &d), EINVAL);
	CHECK_MSG(&d, "control character");

	/* The loader's variables are the boot arguments. */
	config_init(&c);
	CHECK_EQ(fbsd_config_from_kenv(&c, kv, sizeof(kv) - 1), 3);
	config_finish(&c);
	CHECK_EQ(c.toram, 1);
	CHECK(c.geom == LIVE_GEOM_GUNION);
	CHECK_EQ(c.timeout_s, 7);
	CHECK_EQ(c.overlay_bytes, 0);
	CHECK_EQ(fbsd_config_from_kenv(&c, "", 0), 0);
}

/* --- both forms side by side ------------------------------------------------ */

static char tmp[256];

static void
script_line(void *arg, const char *text)
{
	fprintf(arg, "%s\n", text);
}

/* A directory of stand-ins named as the tools (plan_freebsd_run.sh's). */
static int
matrix_setup(void)
{
	static const char *const tools[] = { "awk", "dd", "diskinfo",
	    "fetch", "gconcat", "geom", "gnop", "gpart", "gunion", "halt",
	    "head", "kenv", "kldload", "mdconfig", "mkdir", "mount",
	    "mount_cd9660", "reboot", "sha256", "sleep", "stat", "sysctl",
	    "truncate", "umount" };
	char standin[1024], path[600];
	size_t i;

	snprintf(tmp, sizeof(tmp), "%s/test_fbsd_exec.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmp) == NULL)
		return (-1);
	snprintf(standin, sizeof(standin), "%s/../../freebsd-standins/"
	    "standin.sh", gdir);
	if (realpath(standin, path) == NULL)
		return (-1);
	snprintf(standin, sizeof(standin), "%s", path);
	snprintf(path, sizeof(path), "%s/bin", tmp);
	if (mkdir(path, 0700) != 0)
		return (-1);
	for (i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		snprintf(path, sizeof(path), "%s/bin/%s", tmp, tools[i]);
		if (symlink(standin, path) != 0)
			return (-1);
	}
	return (0);
}

static void
matrix_cleanup(void)
{
	char cmd[600];

	if (tmp[0] != '\0' && strncmp(tmp, "/", 1) == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
		(void)!system(cmd);
	}
}

/* The script's log for c and s under env ("KEY=VALUE" or NULL), in log. */
static int
script_log(const struct live_config *c, const struct fbsd_source *s,
    uint64_t cap, const char *env, char *log, size_t len)
{
	char sh[600], lg[600], state[600], bin[600], cmd[2000];
	struct diag d;
	FILE *f;
	pid_t pid;
	int st, fd;
	size_t n;

	snprintf(sh, sizeof(sh), "%s/plan.sh", tmp);
	snprintf(lg, sizeof(lg), "%s/log", tmp);
	snprintf(state, sizeof(state), "%s/state", tmp);
	snprintf(bin, sizeof(bin), "%s/bin", tmp);
	if ((f = fopen(sh, "w")) == NULL)
		return (-1);
	diag_clear(&d);
	if (plan_freebsd_commands(c, s, cap, script_line, f, &d) != 0) {
		fclose(f);
		return (1);		/* refused */
	}
	fclose(f);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'; mkdir '%s'; : > '%s'", state,
	    state, lg);
	if (system(cmd) != 0)
		return (-1);
	if ((pid = fork()) < 0)
		return (-1);
	if (pid == 0) {
		char kv[600], *eq;

		setenv("STANDIN_LOG", lg, 1);
		setenv("STANDIN_STATE", state, 1);
		setenv("LIVEROOT_PATH", bin, 1);
		if (env != NULL) {
			snprintf(kv, sizeof(kv), "%s", env);
			if ((eq = strchr(kv, '=')) != NULL) {
				*eq = '\0';
				setenv(kv, eq + 1, 1);
			}
		}
		fd = open("/dev/null", O_RDWR);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execl("/bin/sh", "sh", sh, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return (-1);
	if ((f = fopen(lg, "a")) == NULL)
		return (-1);
	fprintf(f, "exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 +
	    WTERMSIG(st));
	fclose(f);
	if ((f = fopen(lg, "r")) == NULL)
		return (-1);
	n = fread(log, 1, len - 1, f);
	log[n] = '\0';
	fclose(f);
	return (0);
}

static void
matrix(void)
{
	static const char *const src[] = {
		"preload:/dev/md0",
		"local:/dev/cd0",
		"local:/dev/da0:1310720+268435456",
		"ventoy:/dev/ada0:1048576+134217728,272629760+67108864",
		"findiso:/dev/da0s1:/isos/live.iso",
		"findiso:/dev/da0s1:/isos/live.iso:ufs",
		"net:http://10.0.2.2/live/rootfs.uzip",
		"net:",
		"none",
	};
	static const char *const cmdline[] = {
		"",
		"live.toram=1",
		"live.geom=rowr live.overlay=512M",
		"live.geom=gunion live.handoff=chroot",
		"live.handoff=reroot live.init=/sbin/openrc-init",
		"live.image=boot/root.ufs live.shell=1",
		"live.toram=1 live.geom=rowr live.timeout=3",
		"live.sha256=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 live.geom=rowr",
	};
	static const char *const env[] = {
		NULL,
		"STANDIN_FAIL=kldload:geom_rowr",
		"STANDIN_FAIL=kldload:geom_uzip",
		"STANDIN_FAIL=mount:ufs",
		"STANDIN_FAIL=mdconfig:12",
		"STANDIN_FAIL=geom:rowr",
		"STANDIN_FAIL=gnop:lrext1",
		"STANDIN_FAIL=diskinfo:/dev/md10.uzip",
		"STANDIN_LATE=/dev/da0:2",
		"STANDIN_FAIL=fetch:-s",
		"STANDIN_FAIL=sha256:-q",
		"STANDIN_FAIL=reboot:-r",
		"STANDIN_FAIL=kenv:init_chroot=/newroot",
		"STANDIN_SIZE=1000448",
	};
	static char want[65536];
	static struct live_config c;
	static struct fbsd_source s;
	struct fbsd_ops ops;
	struct diag d;
	size_t i, j, k, runs = 0, bad = 0;
	uint64_t cap;
	int r, e, status;

	if (matrix_setup() != 0) {
		fprintf(stderr, "matrix: cannot set up %s: %s\n", tmp,
		    strerror(errno));
		CHECK(0);
		matrix_cleanup();
		return;
	}
	for (i = 0; i < sizeof(src) / sizeof(src[0]); i++)
	for (j = 0; j < sizeof(cmdline) / sizeof(cmdline[0]); j++)
	for (k = 0; k < sizeof(env) / sizeof(env[0]); k++) {
		/* every setting with the plain config, every config plain */
		if (j != 0 && k != 0)
			continue;
		config_init(&c);
		config_parse_cmdline(&c, cmdline[j]);
		diag_clear(&d);
		if (plan_freebsd_parse_source(src[i], &s, &d) != 0) {
			CHECK(0);
			continue;
		}
		cap = config_overlay_bytes(&c, RAM);
		r = script_log(&c, &s, cap, env[k], want, sizeof(want));
		if (r < 0) {
			fprintf(stderr, "matrix: the script did not run\n");
			CHECK(0);
			continue;
		}
		e = plan_freebsd_steps(&c, &s, cap, &st, &d);
		runs++;
		if (r == 1 || e != 0) {
			if ((r == 1) != (e != 0)) {
				bad++;
				fprintf(stderr, "matrix: %s | %s: the script "
				    "is %s, the steps are %s\n", src[i],
				    cmdline[j], r == 1 ? "refused" : "made",
				    e ? "refused" : "made");
			}
			continue;
		}
		rec_settings(&rec, "matrix", env[k]);
		rec_ops(&rec, &ops);
		status = fbsd_exec(&st, &ops, NULL);
		rec_line(&rec, "exit %d", status);
		if (strcmp(want, rec.log) != 0) {
			bad++;
			fprintf(stderr, "matrix: %s | %s | %s: the script and "
			    "the executor differ\n--- script\n%s--- executor\n"
			    "%s", src[i], cmdline[j], env[k] ? env[k] : "-",
			    want, rec.log);
		}
	}
	matrix_cleanup();
	printf("%zu side-by-side runs (the script with recording stand-ins, "
	    "the executor with recording operations), %zu differ\n", runs,
	    bad);
	CHECK(runs >= 150);
	CHECK_EQ(bad, 0);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_fbsd_exec tests/golden/freebsd\n");
		return (2);
	}
	gdir = argv[1];
	golden();
	extra();
	matrix();
	return (t_done());
}
