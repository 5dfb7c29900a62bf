/* SPDX-License-Identifier: BSD-2-Clause */
/* The harness's sbuf(9): an auto-extending string. */
#ifndef GH_SYS_SBUF_H
#define GH_SYS_SBUF_H
#include <sys/param.h>
struct sbuf {
	char	*s_buf;
	size_t	 s_len;
	size_t	 s_size;
	int	 s_done;
};
struct sbuf *sbuf_new_auto(void);
int	sbuf_printf(struct sbuf *s, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	sbuf_vprintf(struct sbuf *s, const char *fmt, va_list ap);
int	sbuf_cat(struct sbuf *s, const char *str);
int	sbuf_finish(struct sbuf *s);
char	*sbuf_data(struct sbuf *s);
ssize_t	sbuf_len(struct sbuf *s);
int	sbuf_done(const struct sbuf *s);
void	sbuf_delete(struct sbuf *s);
#endif
