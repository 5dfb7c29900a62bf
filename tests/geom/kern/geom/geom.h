/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The harness's <geom/geom.h>: the GEOM KPI a class uses, with FreeBSD 14's
 * declarations, and g_class, g_geom, g_consumer and g_provider field for
 * field (checked against the real header by the freebsd-layout test).  The
 * implementation is tests/geom/gh.c.
 */
#ifndef GH_GEOM_GEOM_H
#define GH_GEOM_GEOM_H
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/queue.h>
#include <sys/malloc.h>
#include <sys/module.h>

struct g_class;
struct g_geom;
struct g_consumer;
struct g_provider;
struct g_stat;
struct thread;
struct bio;
struct sbuf;
struct gctl_req;
struct g_configargs;
struct disk_zone_args;
struct devstat;

typedef int g_config_t (struct g_configargs *ca);
typedef void g_ctl_req_t (struct gctl_req *, struct g_class *cp, char const *verb);
typedef int g_ctl_create_geom_t (struct gctl_req *, struct g_class *cp, struct g_provider *pp);
typedef int g_ctl_destroy_geom_t (struct gctl_req *, struct g_class *cp, struct g_geom *gp);
typedef int g_ctl_config_geom_t (struct gctl_req *, struct g_geom *gp, const char *verb);
typedef void g_init_t (struct g_class *mp);
typedef void g_fini_t (struct g_class *mp);
typedef struct g_geom * g_taste_t (struct g_class *, struct g_provider *, int flags);
typedef int g_ioctl_t(struct g_provider *pp, u_long cmd, void *data, int fflag, struct thread *td);
typedef int g_access_t (struct g_provider *, int, int, int);
typedef void g_orphan_t (struct g_consumer *);
typedef void g_start_t (struct bio *);
typedef void g_spoiled_t (struct g_consumer *);
typedef void g_attrchanged_t (struct g_consumer *, const char *attr);
typedef void g_provgone_t (struct g_provider *);
typedef void g_dumpconf_t (struct sbuf *, const char *indent, struct g_geom *,
    struct g_consumer *, struct g_provider *);
typedef void g_resize_t(struct g_consumer *cp);

struct g_class {
	const char		*name;
	u_int			version;
	u_int			spare0;
	g_taste_t		*taste;
	g_ctl_req_t		*ctlreq;
	g_init_t		*init;
	g_fini_t		*fini;
	g_ctl_destroy_geom_t	*destroy_geom;
	g_start_t		*start;
	g_spoiled_t		*spoiled;
	g_attrchanged_t		*attrchanged;
	g_dumpconf_t		*dumpconf;
	g_access_t		*access;
	g_orphan_t		*orphan;
	g_ioctl_t		*ioctl;
	g_provgone_t		*providergone;
	g_resize_t		*resize;
	void			*spare1;
	void			*spare2;
	LIST_ENTRY(g_class)	class;
	LIST_HEAD(,g_geom)	geom;
};

#define	G_VERSION_00	0x19950323
#define	G_VERSION_01	0x20041207
#define	G_VERSION	G_VERSION_01

struct g_geom {
	char			*name;
	struct g_class		*class;
	LIST_ENTRY(g_geom)	geom;
	LIST_HEAD(,g_consumer)	consumer;
	LIST_HEAD(,g_provider)	provider;
	TAILQ_ENTRY(g_geom)	geoms;
	int			rank;
	g_start_t		*start;
	g_spoiled_t		*spoiled;
	g_attrchanged_t		*attrchanged;
	g_dumpconf_t		*dumpconf;
	g_access_t		*access;
	g_orphan_t		*orphan;
	g_ioctl_t		*ioctl;
	g_provgone_t		*providergone;
	g_resize_t		*resize;
	void			*spare0;
	void			*spare1;
	void			*softc;
	unsigned		flags;
#define	G_GEOM_WITHER		0x01
#define	G_GEOM_VOLATILE_BIO	0x02
#define	G_GEOM_IN_ACCESS	0x04
#define	G_GEOM_ACCESS_WAIT	0x08
};

struct g_consumer {
	struct g_geom		*geom;
	LIST_ENTRY(g_consumer)	consumer;
	struct g_provider	*provider;
	LIST_ENTRY(g_consumer)	consumers;
	int			acr, acw, ace;
	int			flags;
#define	G_CF_SPOILED		0x1
#define	G_CF_ORPHAN		0x4
#define	G_CF_DIRECT_SEND	0x10
#define	G_CF_DIRECT_RECEIVE	0x20
	struct devstat		*stat;
	u_int			nstart, nend;
	void			*private;
	u_int			index;
};

struct g_geom_alias {
	LIST_ENTRY(g_geom_alias) ga_next;
	const char		*ga_alias;
};

struct g_provider {
	char			*name;
	LIST_ENTRY(g_provider)	provider;
	struct g_geom		*geom;
	LIST_HEAD(,g_consumer)	consumers;
	int			acr, acw, ace;
	int			error;
	TAILQ_ENTRY(g_provider)	orphan;
	off_t			mediasize;
	u_int			sectorsize;
	off_t			stripesize;
	off_t			stripeoffset;
	struct devstat		*stat;
	u_int			spare1;
	u_int			spare2;
	u_int			flags;
#define	G_PF_WITHER		0x2
#define	G_PF_ORPHAN		0x4
#define	G_PF_ACCEPT_UNMAPPED	0x8
#define	G_PF_DIRECT_SEND	0x10
#define	G_PF_DIRECT_RECEIVE	0x20
	LIST_HEAD(,g_geom_alias) aliases;
	void			*private;
	u_int			index;
};

/* geom_event.c */
typedef void g_event_t(void *, int flag);
struct g_event;
#define	EV_CANCEL	1
int	g_post_event(g_event_t *func, void *arg, int flag, ...);
void	g_cancel_event(void *ref);
void	g_orphan_provider(struct g_provider *pp, int error);
struct g_event *g_alloc_event(int flag);
void	g_post_event_ep(g_event_t *func, void *arg, struct g_event *ep, ...);

/* geom_subr.c */
int	g_access(struct g_consumer *cp, int nread, int nwrite, int nexcl);
int	g_attach(struct g_consumer *cp, struct g_provider *pp);
void	g_destroy_consumer(struct g_consumer *cp);
void	g_destroy_geom(struct g_geom *pp);
void	g_destroy_provider(struct g_provider *pp);
void	g_detach(struct g_consumer *cp);
void	g_error_provider(struct g_provider *pp, int error);
struct g_provider *g_provider_by_name(char const *arg);
int	g_handleattr(struct bio *bp, const char *attribute, const void *val,
	    int len);
int	g_handleattr_int(struct bio *bp, const char *attribute, int val);
struct g_consumer *g_new_consumer(struct g_geom *gp);
struct g_geom *g_new_geomf(struct g_class *mp, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
struct g_provider *g_new_providerf(struct g_geom *gp, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	g_std_access(struct g_provider *pp, int dr, int dw, int de);
void	g_std_done(struct bio *bp);
void	g_std_spoiled(struct g_consumer *cp);
void	g_wither_geom(struct g_geom *gp, int error);
void	g_wither_geom_close(struct g_geom *gp, int error);
void	g_wither_provider(struct g_provider *pp, int error);
int	g_modevent(module_t, int, void *);

/* geom_io.c */
struct bio *g_clone_bio(struct bio *);
void	g_destroy_bio(struct bio *);
void	g_io_deliver(struct bio *bp, int error);
void	g_io_request(struct bio *bp, struct g_consumer *cp);
struct bio *g_new_bio(void);
struct bio *g_alloc_bio(void);

MALLOC_DECLARE(M_GEOM);

static __inline void *
g_malloc(int size, int flags)
{
	return (malloc(size, M_GEOM, flags));
}

static __inline void
g_free(void *ptr)
{
	free(ptr, M_GEOM);
}

void	gh_topology_lock(void);
void	gh_topology_unlock(void);
int	gh_topology_locked(void);
void	gh_topology_assert(const char *file, int line);
#define	g_topology_lock()	gh_topology_lock()
#define	g_topology_unlock()	gh_topology_unlock()
#define	g_topology_locked()	gh_topology_locked()
#define	g_topology_assert()	gh_topology_assert(__FILE__, __LINE__)

#define	DECLARE_GEOM_CLASS(class, name)					\
	extern int gh_declare_geom_class_##name

#ifndef	_PATH_DEV
#define	_PATH_DEV	"/dev/"
#endif

/* geom_ctl.c */
int	gctl_set_param(struct gctl_req *req, const char *param, void const *ptr,
	    int len);
void	*gctl_get_param(struct gctl_req *req, const char *param, int *len);
char const *gctl_get_asciiparam(struct gctl_req *req, const char *param);
void	*gctl_get_paraml(struct gctl_req *req, const char *param, int len);
void	*gctl_get_paraml_opt(struct gctl_req *req, const char *param, int len);
int	gctl_error(struct gctl_req *req, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	gctl_msg(struct gctl_req *req, int, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	gctl_post_messages(struct gctl_req *req);
struct g_provider *gctl_get_provider(struct gctl_req *req, char const *arg);
#endif
