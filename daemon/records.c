/*
 * The per-decision records: 16-byte little-endian records appended
 * through a memory buffer to the last of a run of segment files, made
 * durable by records_sync before each checkpoint, and cut back to the
 * checkpointed index on open. Old segments go once the retention passes.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "records.h"
#include "xmalloc.h"

#define RECORDS_BUF	(64 * 1024)		/* normal write size */
#define RECORDS_BUF_MAX	(64 * 1024 * 1024)	/* held while writes fail */
#define RECORDS_LEGACY	"records"		/* segment 0, from before */
#define RECORDS_SEG_MAX	999999

/* One segment: complete but for the last, which is appended to. */
struct records_seg {
	uint32_t	 number;
	int32_t		 last_day;	/* latest decided day; INT32_MIN: none */
	uint64_t	 len;		/* bytes, for all but the last */
};

struct records {
	char		*dir;
	int		 fd;		/* the last segment */
	char		*path;		/* its path */
	struct records_seg *segs;
	int		 nsegs;
	int		 capsegs;
	int		*unsynced;	/* rotated segments to fdatasync */
	int		 nunsynced;
	bool		 dir_dirty;	/* a segment was created since a sync */
	uint64_t	 written;	/* bytes in the last segment's file */
	unsigned char	*buf;		/* records not yet written */
	size_t		 len;
	size_t		 cap;
	uint64_t	 lost;		/* dropped when buf hit its cap */
	bool		 failing;	/* a write failed: warned already */
};

static void
record_put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static uint16_t
record_get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

void
record_pack(const struct record *rec, unsigned char out[RECORD_SIZE])
{
	uint32_t day = (uint32_t)rec->day;

	out[0] = (unsigned char)day;
	out[1] = (unsigned char)(day >> 8);
	out[2] = (unsigned char)(day >> 16);
	out[3] = (unsigned char)(day >> 24);
	record_put16(out + 4, rec->office);
	out[6] = rec->benefit;
	/* Byte 7: bit 0 kind, bits 1-2 detail, bits 4-7 event (decision 0). */
	out[7] = (unsigned char)((rec->kind & 1) | (rec->detail & 3) << 1 |
	    (rec->event & 0xf) << 4);
	out[8] = rec->outcome;
	out[9] = rec->age;
	out[10] = rec->sex;
	out[11] = rec->diagnosis;
	out[12] = rec->employment;
	out[13] = rec->care;
	record_put16(out + 14, rec->case_day);
}

void
record_unpack(const unsigned char in[RECORD_SIZE], struct record *rec)
{
	uint32_t day = (uint32_t)in[0] | (uint32_t)in[1] << 8 |
	    (uint32_t)in[2] << 16 | (uint32_t)in[3] << 24;

	/* Padding too: readers compare whole records. */
	memset(rec, 0, sizeof *rec);
	rec->day = (int32_t)day;
	rec->office = record_get16(in + 4);
	rec->benefit = in[6];
	/* Records from before events hold 0 or 1: decisions, no detail. */
	rec->kind = in[7] & 1;
	rec->detail = (in[7] >> 1) & 3;
	rec->event = in[7] >> 4;
	rec->outcome = in[8];
	rec->age = in[9];
	rec->sex = in[10];
	rec->diagnosis = in[11];
	rec->employment = in[12];
	rec->care = in[13];
	rec->case_day = record_get16(in + 14);
}

void
record_from_decision(const struct decision *d, int office, int32_t day,
    struct record *rec)
{
	rec->day = day;
	rec->office = (uint16_t)office;
	rec->benefit = d->benefit;
	rec->kind = d->kind;
	rec->outcome = d->outcome;
	rec->age = d->age;
	rec->sex = d->sex;
	rec->diagnosis = d->diagnosis;
	rec->employment = d->employment;
	rec->care = d->care;
	rec->case_day = d->case_day;
	rec->event = d->event;
	rec->detail = d->detail;
}

static char *
records_seg_path(const char *dir, uint32_t number)
{
	if (number == 0)
		return xasprintf("%s/%s", dir, RECORDS_LEGACY);
	return xasprintf("%s/%s.%06u", dir, RECORDS_LEGACY, number);
}

/* The number of a segment file name, or -1. */
static int64_t
records_seg_number(const char *name)
{
	const char *p;
	int64_t n = 0;

	if (strncmp(name, RECORDS_LEGACY ".", sizeof RECORDS_LEGACY) != 0)
		return -1;
	p = name + sizeof RECORDS_LEGACY;
	if (strlen(p) != 6)
		return -1;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		n = n * 10 + (*p - '0');
	}
	return n > 0 ? n : -1;
}

static void
records_seg_add(struct records *r, uint32_t number, int32_t last_day,
    uint64_t len)
{
	if (r->nsegs == r->capsegs) {
		r->capsegs = r->capsegs ? r->capsegs * 2 : 16;
		r->segs = xreallocarray(r->segs, (size_t)r->capsegs,
		    sizeof *r->segs);
	}
	r->segs[r->nsegs].number = number;
	r->segs[r->nsegs].last_day = last_day;
	r->segs[r->nsegs].len = len;
	r->nsegs++;
}

static bool
records_seg_listed(const struct records *r, uint32_t number)
{
	int i;

	for (i = 0; i < r->nsegs; i++) {
		if (r->segs[i].number == number)
			return true;
	}
	return false;
}

/*
 * Remove the segment files the index does not hold: those numbered past
 * its last were written after the checkpoint, earlier ones expired.
 */
static void
records_remove_unlisted(struct records *r)
{
	DIR *d = opendir(r->dir);
	struct dirent *de;
	int64_t n;
	char *path;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if ((n = records_seg_number(de->d_name)) < 0 ||
		    records_seg_listed(r, (uint32_t)n))
			continue;
		path = records_seg_path(r->dir, (uint32_t)n);
		if (unlink(path) == 0)
			log_info("records: removed %s, which the checkpoint "
			    "does not hold", path);
		free(path);
	}
	closedir(d);
}

static void
records_day_cb(const struct record *rec, void *arg)
{
	int32_t *last = arg;

	if (rec->day > *last)
		*last = rec->day;
}

/* Read the segment index the checkpoint saved. */
static int
records_load_index(struct records *r, struct buf_reader *index, char **cause)
{
	uint32_t n, i, number, day;
	uint64_t len;

	if (buf_get_u32(index, &n) == -1 || n == 0) {
		*cause = xstrdup("records: the checkpoint's segment index is "
		    "empty or truncated");
		return -1;
	}
	for (i = 0; i < n; i++) {
		buf_get_u32(index, &number);
		buf_get_u32(index, &day);
		if (buf_get_u64(index, &len) == -1 || len % RECORD_SIZE != 0 ||
		    number > RECORDS_SEG_MAX || (r->nsegs > 0 &&
		    number <= r->segs[r->nsegs - 1].number)) {
			*cause = xstrdup("records: the checkpoint's segment "
			    "index is damaged");
			return -1;
		}
		records_seg_add(r, number, (int32_t)day, len);
	}
	return 0;
}

/*
 * Complete segments must be whole; one that is gone expired after the
 * checkpoint was written, and is dropped from the index.
 */
static int
records_check_complete(struct records *r, char **cause)
{
	struct stat st;
	char *path;
	int i, k = 0;

	for (i = 0; i < r->nsegs - 1; i++) {
		path = records_seg_path(r->dir, r->segs[i].number);
		if (stat(path, &st) == -1 && errno == ENOENT) {
			log_info("records: %s is gone (expired)", path);
			free(path);
			continue;
		}
		if ((uint64_t)st.st_size < r->segs[i].len) {
			*cause = xasprintf("records: %s is shorter than the "
			    "checkpoint says", path);
			free(path);
			return -1;
		}
		free(path);
		r->segs[k++] = r->segs[i];
	}
	r->segs[k++] = r->segs[r->nsegs - 1];
	r->nsegs = k;
	return 0;
}

struct records *
records_open(const char *dir, struct buf_reader *index, uint64_t legacy_len,
    char **cause)
{
	struct records *r;
	struct records_seg *last;
	struct stat st;
	int fd = -1;

	if (legacy_len % RECORD_SIZE != 0) {
		*cause = xasprintf("records: length %" PRIu64 " is not a "
		    "whole number of records", legacy_len);
		return NULL;
	}
	r = xcalloc(1, sizeof *r);
	r->dir = xstrdup(dir);
	r->fd = -1;
	if (index != NULL) {
		if (records_load_index(r, index, cause) == -1 ||
		    records_check_complete(r, cause) == -1)
			goto fail;
	} else {
		/*
		 * A checkpoint from before segments, or none: the single
		 * file, if any, is segment 0; its latest day is read once.
		 */
		r->path = records_seg_path(dir, 0);
		if (stat(r->path, &st) == 0 && legacy_len > 0) {
			int32_t day = INT32_MIN;

			if ((uint64_t)st.st_size >= legacy_len &&
			    records_scan(r->path, legacy_len, records_day_cb,
			    &day) == -1) {
				*cause = xasprintf("records: read %s: %s",
				    r->path, strerror(errno));
				goto fail;
			}
			records_seg_add(r, 0, day, legacy_len);
			log_notice("records: %s becomes the first segment",
			    r->path);
		} else if (legacy_len > 0) {
			*cause = xasprintf("records: %s is missing (the "
			    "checkpoint holds %" PRIu64 " bytes)", r->path,
			    legacy_len);
			goto fail;
		} else
			unlink(r->path);
		free(r->path);
		r->path = NULL;
		if (r->nsegs == 0)
			records_seg_add(r, 1, INT32_MIN, 0);
	}
	records_remove_unlisted(r);

	last = &r->segs[r->nsegs - 1];
	r->path = records_seg_path(dir, last->number);
	if ((fd = open(r->path, O_RDWR|O_CREAT|O_CLOEXEC, 0640)) == -1) {
		*cause = xasprintf("records: open %s: %s", r->path,
		    strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) == -1) {
		*cause = xasprintf("records: stat %s: %s", r->path,
		    strerror(errno));
		goto fail;
	}
	/* Records the checkpoint counts are gone: say so, do not go on. */
	if ((uint64_t)st.st_size < last->len) {
		*cause = xasprintf("records: %s: records file is shorter than "
		    "the checkpoint says (%jd < %" PRIu64 " bytes)", r->path,
		    (intmax_t)st.st_size, last->len);
		goto fail;
	}
	/* Records written after the checkpoint would be counted twice. */
	if ((uint64_t)st.st_size > last->len &&
	    ftruncate(fd, (off_t)last->len) == -1) {
		*cause = xasprintf("records: truncate %s: %s", r->path,
		    strerror(errno));
		goto fail;
	}
	r->fd = fd;
	r->written = last->len;
	r->dir_dirty = true;
	r->cap = RECORDS_BUF;
	r->buf = xmalloc(r->cap);
	return r;

fail:
	if (fd != -1)
		close(fd);
	free(r->dir);
	free(r->path);
	free(r->segs);
	free(r);
	return NULL;
}

void
records_close(struct records *r)
{
	int i;

	if (r == NULL)
		return;
	if (r->fd != -1)
		close(r->fd);
	for (i = 0; i < r->nunsynced; i++)
		close(r->unsynced[i]);
	free(r->unsynced);
	free(r->segs);
	free(r->dir);
	free(r->path);
	free(r->buf);
	free(r);
}

/*
 * Write out the buffer. On failure what is left stays buffered for the
 * next try and errno is kept for the caller; the warning is logged once
 * per run of failures.
 */
int
records_flush(struct records *r)
{
	size_t off = 0;
	ssize_t n;
	int saved;

	while (off < r->len) {
		n = pwrite(r->fd, r->buf + off, r->len - off,
		    (off_t)r->written);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			saved = errno;
			if (!r->failing)
				log_warn("records: write %s", r->path);
			r->failing = true;
			memmove(r->buf, r->buf + off, r->len - off);
			r->len -= off;
			errno = saved;
			return -1;
		}
		off += (size_t)n;
		r->written += (uint64_t)n;
	}
	r->len = 0;
	if (r->failing && r->lost == 0) {
		log_info("records: %s: writing again", r->path);
		r->failing = false;
	}
	return 0;
}

int
records_append(struct records *r, const struct record *rec)
{
	int ret = 0, saved;

	if (r->len + RECORD_SIZE > r->cap && records_flush(r) == -1) {
		/*
		 * Keep what cannot be written yet, up to a cap; the caller
		 * stops taking entries, so the cap is a guard. Past it the
		 * record is dropped and records_sync fails from then on, so
		 * no checkpoint claims it.
		 */
		saved = errno;
		if (r->cap >= RECORDS_BUF_MAX) {
			if (r->lost++ == 0)
				log_errorx("records: %s: buffer full, records "
				    "lost; checkpoints stop until restart",
				    r->path);
			errno = saved;
			return -1;
		}
		r->cap *= 2;
		r->buf = xreallocarray(r->buf, r->cap, 1);
		errno = saved;
		ret = -1;
	}
	record_pack(rec, r->buf + r->len);
	r->len += RECORD_SIZE;
	if (rec->day > r->segs[r->nsegs - 1].last_day)
		r->segs[r->nsegs - 1].last_day = rec->day;
	return ret;
}

/* fdatasync fd; false after logging once. */
static bool
records_fdatasync(struct records *r, int fd, const char *what)
{
	int saved;

	if (fdatasync(fd) == 0)
		return true;
	saved = errno;
	if (!r->failing)
		log_warn("records: fdatasync %s", what);
	r->failing = true;
	errno = saved;
	return false;
}

int
records_sync(struct records *r, uint64_t *len)
{
	int i, dfd;

	if (r->lost != 0) {
		errno = EIO;
		return -1;
	}
	if (records_flush(r) == -1)
		return -1;
	/* Rotated segments first: the index calls them complete. */
	for (i = 0; i < r->nunsynced; i++) {
		if (!records_fdatasync(r, r->unsynced[i], r->dir))
			return -1;
	}
	if (!records_fdatasync(r, r->fd, r->path))
		return -1;
	if (r->dir_dirty) {
		if ((dfd = open(r->dir, O_RDONLY|O_DIRECTORY|O_CLOEXEC)) == -1 ||
		    !records_fdatasync(r, dfd, r->dir)) {
			if (dfd != -1)
				close(dfd);
			else if (!r->failing) {
				log_warn("records: open %s", r->dir);
				r->failing = true;
			}
			return -1;
		}
		close(dfd);
		r->dir_dirty = false;
	}
	for (i = 0; i < r->nunsynced; i++)
		close(r->unsynced[i]);
	r->nunsynced = 0;
	if (r->failing)
		log_info("records: %s: writing again", r->path);
	r->failing = false;
	*len = r->written;
	return 0;
}

uint64_t
records_length(const struct records *r)
{
	return r->written + r->len;
}

void
records_save(const struct records *r, struct buf *b)
{
	int i;

	buf_put_u32(b, (uint32_t)r->nsegs);
	for (i = 0; i < r->nsegs; i++) {
		buf_put_u32(b, r->segs[i].number);
		buf_put_u32(b, (uint32_t)r->segs[i].last_day);
		buf_put_u64(b, i == r->nsegs - 1 ? r->written :
		    r->segs[i].len);
	}
}

int
records_rotate(struct records *r)
{
	struct records_seg *last = &r->segs[r->nsegs - 1];
	uint32_t number = last->number + 1;
	char *path;
	int fd;

	if (records_length(r) == 0)
		return 0;
	if (number > RECORDS_SEG_MAX) {
		errno = ERANGE;
		return -1;
	}
	if (records_flush(r) == -1)
		return -1;
	path = records_seg_path(r->dir, number);
	fd = open(path, O_RDWR|O_CREAT|O_TRUNC|O_CLOEXEC, 0640);
	if (fd == -1) {
		log_warn("records: open %s", path);
		free(path);
		return -1;
	}
	last->len = r->written;
	r->unsynced = xreallocarray(r->unsynced, (size_t)r->nunsynced + 1,
	    sizeof *r->unsynced);
	r->unsynced[r->nunsynced++] = r->fd;
	records_seg_add(r, number, INT32_MIN, 0);
	r->fd = fd;
	free(r->path);
	r->path = path;
	r->written = 0;
	r->dir_dirty = true;
	log_debug("records: segment %s started", path);
	return 0;
}

int
records_expire(struct records *r, int32_t before_day)
{
	char *path;
	int i, k = 0, gone = 0;

	for (i = 0; i < r->nsegs - 1; i++) {
		if (r->segs[i].last_day >= before_day) {
			r->segs[k++] = r->segs[i];
			continue;
		}
		path = records_seg_path(r->dir, r->segs[i].number);
		if (unlink(path) == -1 && errno != ENOENT) {
			log_warn("records: unlink %s", path);
			r->segs[k++] = r->segs[i];
		} else {
			log_info("records: %s removed: past the retention",
			    path);
			gone++;
		}
		free(path);
	}
	r->segs[k++] = r->segs[r->nsegs - 1];
	r->nsegs = k;
	if (gone > 0)
		r->dir_dirty = true;
	return gone;
}

int
records_segments(const struct records *r)
{
	return r->nsegs;
}

uint64_t
records_bytes(const struct records *r)
{
	uint64_t n = records_length(r);
	int i;

	for (i = 0; i < r->nsegs - 1; i++)
		n += r->segs[i].len;
	return n;
}

int
records_view(struct records *r, struct records_view *v)
{
	int i;

	memset(v, 0, sizeof *v);
	if (records_flush(r) == -1)
		return -1;
	v->n = r->nsegs;
	v->segs = xcalloc((size_t)v->n, sizeof *v->segs);
	for (i = 0; i < r->nsegs; i++) {
		v->segs[i].path = records_seg_path(r->dir, r->segs[i].number);
		v->segs[i].len = i == r->nsegs - 1 ? r->written :
		    r->segs[i].len;
		v->segs[i].last_day = r->segs[i].last_day;
	}
	return 0;
}

void
records_view_free(struct records_view *v)
{
	int i;

	for (i = 0; i < v->n; i++)
		free(v->segs[i].path);
	free(v->segs);
	memset(v, 0, sizeof *v);
}

int
records_view_scan(const struct records_view *v, int32_t min_day,
    void (*fn)(const struct record *rec, void *arg), void *arg)
{
	int i;

	for (i = 0; i < v->n; i++) {
		if (v->segs[i].last_day < min_day || v->segs[i].len == 0)
			continue;
		if (records_scan(v->segs[i].path, v->segs[i].len, fn,
		    arg) == -1)
			return -1;
	}
	return 0;
}

int
records_scan(const char *path, uint64_t len,
    void (*fn)(const struct record *rec, void *arg), void *arg)
{
	struct record rec;
	unsigned char *buf;
	uint64_t off = 0;
	size_t want, i;
	ssize_t n;
	int fd, saved, ret = -1;

	if (len % RECORD_SIZE != 0) {
		errno = EINVAL;
		return -1;
	}
	if ((fd = open(path, O_RDONLY|O_CLOEXEC)) == -1)
		return -1;
	buf = xmalloc(RECORDS_BUF);
	while (off < len) {
		want = len - off < RECORDS_BUF ? (size_t)(len - off) :
		    RECORDS_BUF;
		n = pread(fd, buf, want, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto out;
		/* A part record is read again next time, from its start. */
		n -= n % RECORD_SIZE;
		if (n == 0) {
			/* The file ends before len: records are missing. */
			errno = EIO;
			goto out;
		}
		for (i = 0; i < (size_t)n; i += RECORD_SIZE) {
			record_unpack(buf + i, &rec);
			fn(&rec, arg);
		}
		off += (uint64_t)n;
	}
	ret = 0;
out:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return ret;
}
