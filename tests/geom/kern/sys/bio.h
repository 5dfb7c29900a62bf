/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The harness's <sys/bio.h>: struct bio field for field as FreeBSD 14 has
 * it (the freebsd-layout test compares every offset and size with the real
 * header); daddr_t is spelled int64_t, as the host's daddr_t is narrower.
 */
#ifndef GH_SYS_BIO_H
#define GH_SYS_BIO_H
#include <sys/param.h>
#include <sys/queue.h>

#define	BIO_READ	0x01
#define	BIO_WRITE	0x02
#define	BIO_DELETE	0x03
#define	BIO_GETATTR	0x04
#define	BIO_FLUSH	0x05
#define	BIO_CMD0	0x06
#define	BIO_CMD1	0x07
#define	BIO_CMD2	0x08
#define	BIO_ZONE	0x09
#define	BIO_SPEEDUP	0x0a

#define	BIO_ERROR	0x01
#define	BIO_DONE	0x02
#define	BIO_ONQUEUE	0x04
#define	BIO_ORDERED	0x08
#define	BIO_UNMAPPED	0x10
#define	BIO_TRANSIENT_MAPPING	0x20
#define	BIO_VLIST	0x40
#define	BIO_SWAP	0x200
#define	BIO_SPEEDUP_WRITE	0x4000
#define	BIO_SPEEDUP_TRIM	0x8000

struct cdev;
struct disk;
struct vm_page;
struct g_consumer;
struct g_provider;

/* Only its size and alignment matter here (sys/disk_zone.h). */
struct disk_zone_args {
	uint8_t		zone_cmd;
	union {
		uint64_t	align;
		uint8_t		bytes[120];
	} zone_params;
};

struct bintime {
	time_t		sec;
	uint64_t	frac;
};

typedef void bio_task_t(void *);

struct bio {
	uint16_t bio_cmd;
	uint16_t bio_flags;
	uint16_t bio_cflags;
	uint16_t bio_pflags;
	struct cdev *bio_dev;
	struct disk *bio_disk;
	off_t	bio_offset;
	long	bio_bcount;
	caddr_t	bio_data;
	struct vm_page **bio_ma;
	int	bio_ma_offset;
	int	bio_ma_n;
	int	bio_error;
	long	bio_resid;
	void	(*bio_done)(struct bio *);
	void	*bio_driver1;
	void	*bio_driver2;
	void	*bio_caller1;
	void	*bio_caller2;
	TAILQ_ENTRY(bio) bio_queue;
	const char *bio_attribute;
	struct disk_zone_args bio_zone;
	struct g_consumer *bio_from;
	struct g_provider *bio_to;
	off_t	bio_length;
	off_t	bio_completed;
	u_int	bio_children;
	u_int	bio_inbed;
	struct bio *bio_parent;
	struct bintime bio_t0;
	bio_task_t *bio_task;
	void	*bio_task_arg;
	void	*bio_spare1;
	void	*bio_spare2;
	int64_t	bio_pblkno;
};

void	biodone(struct bio *bp);
int	biowait(struct bio *bp, const char *wmesg);
#endif
