/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_os.c - the userland helpers of os.h: whole files read to their end
 * and bounded (a file over the bound is EFBIG, never a silently cut
 * prefix; a /proc file that says size 0 is read whole), written with an
 * exact mode whatever the umask, copied, linked; the durable replace that
 * refuses what is in the way of its temporary file; the tool runner
 * (capture, a quiet tool's output handed over only when it fails, exit
 * status, signal, exec failure, a missing tool named with its package);
 * SHA-256 against the FIPS 180-2 vectors.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liveroot/os.h>

#include "t.h"

static char dir[] = "/tmp/test_os.XXXXXX";

static void
put(const char *name, const char *text)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	CHECK_EQ(os_write_file(p, text, strlen(text), 0644, NULL), 0);
}

static void
test_files(void)
{
	struct diag d;
	struct stat st;
	char p[PATH_MAX], q[PATH_MAX], *buf = NULL, big[5000];
	size_t len = 0;
	mode_t um;

	CHECK_EQ(os_path_join(p, sizeof(p), dir, "a/b/c"), 0);
	CHECK_EQ(os_path_join(p, 8, dir, "a"), ENAMETOOLONG);
	CHECK_EQ(os_mkdir_p(p, 0755, NULL), 0);
	CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
	CHECK_EQ(os_mkdir_p(p, 0755, NULL), 0);		/* there already */
	diag_clear(&d);
	CHECK_EQ(os_mkdir_p("", 0755, &d), ENOENT);
	CHECK_MSG(&d, "empty path");
	snprintf(q, sizeof(q), "%s/f/in/sub", dir);
	put("plain", "x");
	snprintf(p, sizeof(p), "%s/plain/sub", dir);
	diag_clear(&d);
	CHECK_EQ(os_mkdir_p(p, 0755, &d), ENOTDIR);
	CHECK_MSG(&d, "plain/sub");

	/* the mode is exact, whatever the umask */
	um = umask(077);
	CHECK_EQ(os_write_file(q, "hello", 5, 0644, NULL), 0);
	umask(um);
	CHECK(stat(q, &st) == 0 && (st.st_mode & 07777) == 0644);
	CHECK_EQ(os_read_file(q, 5, &buf, &len, NULL), 0);
	CHECK_EQ(len, 5);
	CHECK(buf != NULL && strcmp(buf, "hello") == 0);
	free(buf);

	/* one byte over the bound: EFBIG, not "hell" */
	buf = NULL;
	diag_clear(&d);
	CHECK_EQ(os_read_file(q, 4, &buf, &len, &d), EFBIG);
	CHECK(buf == NULL);
	CHECK_MSG(&d, "larger than 4 bytes");
	/* over the first buffer of 4096 bytes, and /proc (size 0) */
	memset(big, 'b', sizeof(big));
	CHECK_EQ(os_write_file(q, big, sizeof(big), 0600, NULL), 0);
	CHECK_EQ(os_read_file(q, sizeof(big), &buf, &len, NULL), 0);
	CHECK_EQ(len, sizeof(big));
	free(buf);
	CHECK_EQ(os_read_file("/proc/self/stat", 1 << 16, &buf, &len, NULL),
	    0);
	CHECK(len > 10 && buf[len] == '\0');
	free(buf);
	CHECK_EQ(os_read_file("/proc/self/stat", 3, &buf, &len, NULL), EFBIG);
	diag_clear(&d);
	snprintf(p, sizeof(p), "%s/none", dir);
	CHECK_EQ(os_read_file(p, 10, &buf, &len, &d), ENOENT);
	CHECK_MSG(&d, "/none: No such file");

	/* copy with its mode, then a hard link (the old one replaced) */
	snprintf(p, sizeof(p), "%s/copy/c", dir);
	CHECK_EQ(os_copy_file(q, p, 0751, NULL), 0);
	CHECK(stat(p, &st) == 0 && (st.st_mode & 07777) == 0751 &&
	    st.st_size == (off_t)sizeof(big));
	snprintf(q, sizeof(q), "%s/copy/l", dir);
	put("copy/l", "old");
	CHECK_EQ(os_link_or_copy(p, q, NULL), 0);
	CHECK(stat(q, &st) == 0 && st.st_nlink == 2);
	diag_clear(&d);
	snprintf(q, sizeof(q), "%s/none", dir);
	CHECK_EQ(os_copy_file(q, p, 0644, &d), ENOENT);
	CHECK_MSG(&d, "none");
}

static void
test_atomic(void)
{
	struct diag d;
	struct stat st;
	char p[PATH_MAX], tmp[PATH_MAX + 8], *buf = NULL;
	size_t len;

	snprintf(p, sizeof(p), "%s/map", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", p);
	CHECK_EQ(os_atomic_write(p, "one", 3, "the map", NULL), 0);
	CHECK_EQ(os_read_file(p, 10, &buf, &len, NULL), 0);
	CHECK(buf != NULL && strcmp(buf, "one") == 0);
	free(buf);
	CHECK(access(tmp, F_OK) != 0);
	/* a leftover of a crash: removed, then the write goes on */
	put("map.tmp", "leftover");
	CHECK_EQ(os_atomic_write(p, "two", 3, "the map", NULL), 0);
	CHECK_EQ(os_read_file(p, 10, &buf, &len, NULL), 0);
	CHECK(buf != NULL && strcmp(buf, "two") == 0);
	free(buf);
	/* a symbolic link there is neither followed nor replaced */
	snprintf(tmp, sizeof(tmp), "%s.tmp", p);
	CHECK_EQ(symlink("victim", tmp), 0);
	diag_clear(&d);
	CHECK_EQ(os_atomic_write(p, "three", 5, "the map", &d), EEXIST);
	CHECK_MSG(&d, "map.tmp: cannot save the map: a symbolic link is in "
	    "the way");
	CHECK(lstat(tmp, &st) == 0 && S_ISLNK(st.st_mode));
	snprintf(p, sizeof(p), "%s/victim", dir);
	CHECK(access(p, F_OK) != 0);
	unlink(tmp);
}

struct seen {
	int	calls;
	char	text[256];
};

static void
failed_output(void *arg, const char *text)
{
	struct seen *s = arg;

	s->calls++;
	snprintf(s->text, sizeof(s->text), "%s", text);
}

static void
test_run(void)
{
	static const struct os_tool tools[] = { { "sh", "dash" },
	    { "no-such-tool-here", "the-package" } };
	char *t_true[] = { "true", NULL }, *t_false[] = { "false", NULL };
	char *t_out[] = { "sh", "-c", "echo out", NULL };
	char *t_echo[] = { "sh", "-c", "echo out; echo err >&2", NULL };
	char *t_talk[] = { "sh", "-c", "echo said; exit 3", NULL };
	char *t_kill[] = { "sh", "-c", "kill -TERM $$", NULL };
	char *t_none[] = { "no-such-tool-here", NULL };
	char p[PATH_MAX], out[64];
	char *t_bad[] = { p, NULL };
	struct os_run r;
	struct seen s;
	struct diag d;

	CHECK_EQ(os_run(t_true, NULL, NULL), 0);
	diag_clear(&d);
	CHECK_EQ(os_run(t_false, NULL, &d), EIO);
	CHECK(strcmp(d.msg, "false failed (exit status 1)") == 0);

	/* capture stdout only, then both */
	memset(&r, 0, sizeof(r));
	r.out = out;
	r.outlen = sizeof(out);
	CHECK_EQ(os_run(t_out, &r, NULL), 0);
	CHECK(strcmp(out, "out\n") == 0);
	r.merge = 1;
	CHECK_EQ(os_run(t_echo, &r, NULL), 0);
	CHECK(strstr(out, "out\n") != NULL && strstr(out, "err\n") != NULL);
	r.outlen = 3;
	CHECK_EQ(os_run(t_echo, &r, NULL), 0);
	CHECK_EQ(strlen(out), 2);		/* cut at outlen - 1 */

	/* a quiet tool: its output is handed over only when it fails */
	memset(&r, 0, sizeof(r));
	memset(&s, 0, sizeof(s));
	r.failed_output = failed_output;
	r.arg = &s;
	CHECK_EQ(os_run(t_echo, &r, NULL), 0);
	CHECK_EQ(s.calls, 0);
	diag_clear(&d);
	CHECK_EQ(os_run(t_talk, &r, &d), EIO);
	CHECK_EQ(s.calls, 1);
	CHECK(strcmp(s.text, "said\n") == 0);
	CHECK(strcmp(d.msg, "sh failed (exit status 3); its messages are "
	    "above") == 0);

	diag_clear(&d);
	CHECK_EQ(os_run(t_kill, NULL, &d), EIO);
	CHECK(strcmp(d.msg, "sh killed by signal 15") == 0);
	diag_clear(&d);
	CHECK_EQ(os_run(t_none, NULL, &d), ENOENT);
	CHECK(strcmp(d.msg, "'no-such-tool-here' not found in PATH") == 0);

	/* executable but no format the kernel runs: the exec error itself */
	snprintf(p, sizeof(p), "%s/notexec", dir);
	CHECK_EQ(os_write_file(p, "\x7f" "ELF?", 5, 0755, NULL), 0);
	diag_clear(&d);
	CHECK_EQ(os_run(t_bad, NULL, &d), ENOEXEC);
	CHECK_MSG(&d, "exec ");
	CHECK_MSG(&d, "notexec: Exec format error");

	diag_clear(&d);
	CHECK_EQ(os_check_tools(tools, 1, &d), 0);
	CHECK_EQ(os_check_tools(tools, 2, &d), ENOENT);
	CHECK_MSG(&d, "'no-such-tool-here' not found: install the Debian "
	    "package the-package");
	CHECK_EQ(os_find_in_path("sh", p, sizeof(p)), 0);
	CHECK(p[0] == '/');
}

static void
test_sha256(void)
{
	static const char *const abc_hex =
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	static const char *const empty_hex =
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	/* FIPS 180-2 B.2: the 448-bit message */
	static const char *const two =
	    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	static const char *const two_hex =
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
	struct os_sha256 *c = NULL;
	uint8_t dig[OS_SHA256_LEN];
	char hex[OS_SHA256_HEXLEN + 1], p[PATH_MAX];
	struct diag d;
	size_t i;

	CHECK_EQ(os_sha256_buf("abc", 3, dig), 0);
	os_hex(dig, sizeof(dig), hex);
	CHECK(strcmp(hex, abc_hex) == 0);
	CHECK_EQ(os_sha256_buf("", 0, dig), 0);
	os_hex(dig, sizeof(dig), hex);
	CHECK(strcmp(hex, empty_hex) == 0);

	/* byte by byte, after a reset that drops what came before */
	CHECK_EQ(os_sha256_new(&c), 0);
	CHECK_EQ(os_sha256_update(c, "junk", 4), 0);
	CHECK_EQ(os_sha256_reset(c), 0);
	for (i = 0; i < strlen(two); i++)
		CHECK_EQ(os_sha256_update(c, two + i, 1), 0);
	CHECK_EQ(os_sha256_final(c, dig), 0);
	os_sha256_free(c);
	os_sha256_free(NULL);
	os_hex(dig, sizeof(dig), hex);
	CHECK(strcmp(hex, two_hex) == 0);

	put("two", two);
	snprintf(p, sizeof(p), "%s/two", dir);
	CHECK_EQ(os_sha256_file(p, hex, NULL), 0);
	CHECK(strcmp(hex, two_hex) == 0);
	diag_clear(&d);
	snprintf(p, sizeof(p), "%s/none", dir);
	CHECK_EQ(os_sha256_file(p, hex, &d), ENOENT);
	CHECK_MSG(&d, "none");

	CHECK(os_sha256_hex_ok(abc_hex));
	CHECK(os_sha256_hex_ok("BA7816BF8F01CFEA414140DE5DAE2223B00361A39617"
	    "7A9CB410FF61F20015AD"));
	CHECK(!os_sha256_hex_ok(NULL));
	CHECK(!os_sha256_hex_ok(""));
	CHECK(!os_sha256_hex_ok("ba7816bf"));
	CHECK(!os_sha256_hex_ok("ga7816bf8f01cfea414140de5dae2223b00361a3961"
	    "77a9cb410ff61f20015ad"));
	CHECK(!os_sha256_hex_ok("ba7816bf8f01cfea414140de5dae2223b00361a3961"
	    "77a9cb410ff61f20015ad0"));
}

int
main(void)
{
	char cmd[PATH_MAX + 16];

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return (1);
	}
	test_files();
	test_atomic();
	test_run();
	test_sha256();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_EQ(system(cmd), 0);
	return (t_done());
}
