/*
 * The per-decision records file: 16-byte little-endian records appended
 * through a memory buffer, made durable by records_sync before each
 * checkpoint, and cut back to the checkpointed length on open.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "records.h"
#include "xmalloc.h"

#define RECORDS_BUF	(64 * 1024)		/* normal write size */
#define RECORDS_BUF_MAX	(64 * 1024 * 1024)	/* held while writes fail */

struct records {
	int		 fd;
	char		*path;
	uint64_t	 written;	/* bytes in the file */
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
	out[7] = rec->kind;
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

	rec->day = (int32_t)day;
	rec->office = record_get16(in + 4);
	rec->benefit = in[6];
	rec->kind = in[7];
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
}

struct records *
records_open(const char *path, uint64_t valid_len, char **cause)
{
	struct records *r;
	struct stat st;
	int fd;

	if (valid_len % RECORD_SIZE != 0) {
		*cause = xasprintf("records: %s: length %" PRIu64 " is not a "
		    "whole number of records", path, valid_len);
		return NULL;
	}
	if ((fd = open(path, O_RDWR|O_CREAT|O_CLOEXEC, 0640)) == -1) {
		*cause = xasprintf("records: open %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		*cause = xasprintf("records: stat %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	/* Records the checkpoint counts are gone: say so, do not go on. */
	if ((uint64_t)st.st_size < valid_len) {
		*cause = xasprintf("records: %s: records file is shorter than "
		    "the checkpoint says (%jd < %" PRIu64 " bytes)", path,
		    (intmax_t)st.st_size, valid_len);
		goto fail;
	}
	/* Records written after the checkpoint would be counted twice. */
	if ((uint64_t)st.st_size > valid_len &&
	    ftruncate(fd, (off_t)valid_len) == -1) {
		*cause = xasprintf("records: truncate %s: %s", path,
		    strerror(errno));
		goto fail;
	}

	r = xcalloc(1, sizeof *r);
	r->fd = fd;
	r->path = xstrdup(path);
	r->written = valid_len;
	r->cap = RECORDS_BUF;
	r->buf = xmalloc(r->cap);
	return r;

fail:
	close(fd);
	return NULL;
}

void
records_close(struct records *r)
{
	if (r == NULL)
		return;
	close(r->fd);
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
	return 0;
}

void
records_append(struct records *r, const struct record *rec)
{
	if (r->len + RECORD_SIZE > r->cap && records_flush(r) == -1) {
		/*
		 * Keep what cannot be written yet, up to a cap; past it the
		 * record is dropped and records_sync fails from then on, so
		 * no checkpoint claims it.
		 */
		if (r->cap >= RECORDS_BUF_MAX) {
			if (r->lost++ == 0)
				log_errorx("records: %s: buffer full, records "
				    "lost; checkpoints stop until restart",
				    r->path);
			return;
		}
		r->cap *= 2;
		r->buf = xreallocarray(r->buf, r->cap, 1);
	}
	record_pack(rec, r->buf + r->len);
	r->len += RECORD_SIZE;
}

int
records_sync(struct records *r, uint64_t *len)
{
	if (r->lost != 0) {
		errno = EIO;
		return -1;
	}
	if (records_flush(r) == -1)
		return -1;
	if (fdatasync(r->fd) == -1) {
		if (!r->failing)
			log_warn("records: fdatasync %s", r->path);
		r->failing = true;
		return -1;
	}
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
