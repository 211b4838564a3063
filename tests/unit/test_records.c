/*
 * Tests for the records: the packed layout, filling from a decision,
 * append/sync/scan, cutting back to the checkpointed index on open,
 * segments, retention and the single file from before segments.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "buf.h"
#include "records.h"

struct tmp {
	char	dir[64];
	char	path[96];
};

static int
setup(void **state)
{
	struct tmp *t = calloc(1, sizeof *t);

	if (t == NULL)
		return -1;
	strcpy(t->dir, "/tmp/test_records.XXXXXX");
	if (mkdtemp(t->dir) == NULL) {
		free(t);
		return -1;
	}
	/* The first segment of a new directory. */
	snprintf(t->path, sizeof t->path, "%s/records.000001", t->dir);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct tmp *t = *state;
	struct dirent *de;
	char path[512];
	DIR *d;

	if ((d = opendir(t->dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s", t->dir,
			    de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(t->dir);
	free(t);
	return 0;
}

static void
assert_record_equal(const struct record *a, const struct record *b)
{
	assert_int_equal(a->day, b->day);
	assert_int_equal(a->office, b->office);
	assert_int_equal(a->benefit, b->benefit);
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->outcome, b->outcome);
	assert_int_equal(a->age, b->age);
	assert_int_equal(a->sex, b->sex);
	assert_int_equal(a->diagnosis, b->diagnosis);
	assert_int_equal(a->employment, b->employment);
	assert_int_equal(a->care, b->care);
	assert_int_equal(a->case_day, b->case_day);
	assert_int_equal(a->event, b->event);
	assert_int_equal(a->detail, b->detail);
}

/* The layout is fixed byte by byte, extremes included. */
static void
test_pack(void **state)
{
	static const struct {
		struct record	rec;
		unsigned char	bytes[RECORD_SIZE];
	} cases[] = {
		{ { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
		  { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 } },
		{ { 19500, 17, 1, 1, 2, 3, 2, 6, 1, 2, 181, 0, 0 },
		  { 0x2c, 0x4c, 0, 0, 17, 0, 1, 1, 2, 3, 2, 6, 1, 2, 181,
		    0 } },
		{ { INT32_MAX, UINT16_MAX, 255, 1, 255, 255, 255, 255, 255,
		    255, UINT16_MAX, 15, 3 },
		  { 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xf7, 0xff,
		    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
		/* Byte 7: bit 0 kind, bits 1-2 detail, bits 4-7 event. */
		{ { 19500, 3, 0, 1, 4, 1, 1, 2, 1, 1, 90, 1, 0 },
		  { 0x2c, 0x4c, 0, 0, 3, 0, 0, 0x11, 4, 1, 1, 2, 1, 1, 90,
		    0 } },
		{ { 19500, 3, 0, 0, 7, 1, 1, 2, 1, 1, 180, 3, 2 },
		  { 0x2c, 0x4c, 0, 0, 3, 0, 0, 0x34, 7, 1, 1, 2, 1, 1, 180,
		    0 } },
		{ { 19500, 3, 0, 1, 1, 1, 1, 2, 1, 1, 10, 0, 1 },
		  { 0x2c, 0x4c, 0, 0, 3, 0, 0, 0x03, 1, 1, 1, 2, 1, 1, 10,
		    0 } },
		{ { INT32_MIN, 0x1234, 0, 1, 3, 5, 3, 26, 5, 0, 3000, 0, 0 },
		  { 0, 0, 0, 0x80, 0x34, 0x12, 0, 1, 3, 5, 3, 26, 5, 0, 0xb8,
		    0x0b } },
		{ { -1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0 },
		  { 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		    0 } },
	};
	unsigned char out[RECORD_SIZE];
	struct record back;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(out, 0xaa, sizeof out);
		record_pack(&cases[i].rec, out);
		assert_memory_equal(out, cases[i].bytes, RECORD_SIZE);
		memset(&back, 0x55, sizeof back);
		record_unpack(out, &back);
		assert_record_equal(&back, &cases[i].rec);
	}
}

/*
 * Records written before events had the kind alone in byte 7 (0 or 1):
 * they read back as decisions without detail, the rest unchanged.
 */
static void
test_unpack_old(void **state)
{
	static const unsigned char old[2][RECORD_SIZE] = {
		{ 0x2c, 0x4c, 0, 0, 17, 0, 1, 0, 1, 3, 2, 6, 1, 2, 181, 0 },
		{ 0x2c, 0x4c, 0, 0, 17, 0, 1, 1, 2, 3, 2, 6, 1, 2, 181, 0 },
	};
	unsigned char again[RECORD_SIZE];
	struct record rec;
	int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		memset(&rec, 0x55, sizeof rec);
		record_unpack(old[i], &rec);
		assert_int_equal(rec.event, EVENT_DECISION);
		assert_int_equal(rec.detail, DETAIL_MISSING);
		assert_int_equal(rec.kind, i);
		assert_int_equal(rec.outcome, i + 1);
		assert_int_equal(rec.office, 17);
		assert_int_equal(rec.case_day, 181);
		/* And write back the same bytes. */
		record_pack(&rec, again);
		assert_memory_equal(again, old[i], RECORD_SIZE);
	}
}

static void
test_from_decision(void **state)
{
	struct decision d;
	struct record rec;

	(void)state;
	memset(&d, 0, sizeof d);
	d.benefit = 3;
	d.kind = DECISION_ONGOING;
	d.outcome = OUTCOME_PARTIAL;
	d.age = AGE_50_59;
	d.sex = SEX_X;
	d.diagnosis = 'M' - 'A' + 1;
	d.employment = EMPLOYMENT_STUDENT;
	d.care = CARE_SPECIALIST;
	d.case_day = 2999;
	memset(&rec, 0xff, sizeof rec);
	record_from_decision(&d, 4711, 19800, &rec);
	assert_int_equal(rec.day, 19800);
	assert_int_equal(rec.office, 4711);
	assert_int_equal(rec.benefit, 3);
	assert_int_equal(rec.kind, DECISION_ONGOING);
	assert_int_equal(rec.outcome, OUTCOME_PARTIAL);
	assert_int_equal(rec.age, AGE_50_59);
	assert_int_equal(rec.sex, SEX_X);
	assert_int_equal(rec.diagnosis, 13);
	assert_int_equal(rec.employment, EMPLOYMENT_STUDENT);
	assert_int_equal(rec.care, CARE_SPECIALIST);
	assert_int_equal(rec.case_day, 2999);
	assert_int_equal(rec.event, EVENT_DECISION);
	assert_int_equal(rec.detail, DETAIL_MISSING);

	/* Events keep their kind and detail through a pack. */
	d.event = EVENT_ASSESSMENT;
	d.detail = DETAIL_CHECKPOINT_365;
	d.outcome = OUTCOME_LATE;
	record_from_decision(&d, 2, 19800, &rec);
	assert_int_equal(rec.event, EVENT_ASSESSMENT);
	assert_int_equal(rec.detail, DETAIL_CHECKPOINT_365);
	{
		unsigned char raw[RECORD_SIZE];
		struct record back;

		record_pack(&rec, raw);
		record_unpack(raw, &back);
		assert_record_equal(&back, &rec);
	}
}

/* A record that says which one it is, for scanning back. */
static void
nth(uint32_t i, struct record *rec)
{
	memset(rec, 0, sizeof *rec);
	rec->day = (int32_t)i;
	rec->office = (uint16_t)(i * 7);
	rec->outcome = (uint8_t)(i % 4);
	rec->case_day = (uint16_t)(i % 3001);
}

struct scan {
	uint32_t	n;
	int		bad;
};

static void
scan_cb(const struct record *rec, void *arg)
{
	struct scan *sc = arg;
	struct record want;

	nth(sc->n, &want);
	if (memcmp(rec, &want, sizeof want) != 0)
		sc->bad++;
	sc->n++;
}

static void
append_n(struct records *r, uint32_t from, uint32_t to)
{
	struct record rec;
	uint32_t i;

	for (i = from; i < to; i++) {
		nth(i, &rec);
		records_append(r, &rec);
	}
}

/* Sync and keep the index, as a checkpoint does. */
static void
checkpoint(struct records *r, struct buf *index, uint64_t *len)
{
	buf_reset(index);
	assert_int_equal(records_sync(r, len), 0);
	records_save(r, index);
}

/* Open dir as a start from that checkpoint does. */
static struct records *
reopen(const struct tmp *t, const struct buf *index, char **cause)
{
	struct buf_reader rd;

	buf_reader_init(&rd, index->data, index->len);
	return records_open(t->dir, &rd, 0, cause);
}

/* Many records, past the write buffer, come back in order. */
static void
test_append_scan(void **state)
{
	struct tmp *t = *state;
	struct records *r;
	struct scan sc = { 0, 0 };
	struct stat st;
	struct buf index;
	uint64_t len = 1;
	char *cause = NULL;

	buf_init(&index);
	r = records_open(t->dir, NULL, 0, &cause);
	assert_non_null(r);
	assert_null(cause);
	assert_int_equal(records_length(r), 0);
	append_n(r, 0, 10000);
	assert_int_equal(records_length(r), 10000 * RECORD_SIZE);
	checkpoint(r, &index, &len);
	assert_int_equal(len, 10000 * RECORD_SIZE);
	assert_int_equal(stat(t->path, &st), 0);
	assert_int_equal(st.st_size, 10000 * RECORD_SIZE);
	assert_int_equal((st.st_mode & 0777) & ~0640, 0);

	assert_int_equal(records_scan(t->path, len, scan_cb, &sc), 0);
	assert_int_equal(sc.n, 10000);
	assert_int_equal(sc.bad, 0);
	/* Only up to the length asked for. */
	sc.n = 0;
	assert_int_equal(records_scan(t->path, 123 * RECORD_SIZE, scan_cb,
	    &sc), 0);
	assert_int_equal(sc.n, 123);
	assert_int_equal(sc.bad, 0);
	/* Beyond the end, or not whole records: an error. */
	sc.n = 0;
	errno = 0;
	assert_int_equal(records_scan(t->path, len + RECORD_SIZE, scan_cb,
	    &sc), -1);
	assert_int_equal(errno, EIO);
	assert_int_equal(records_scan(t->path, 17, scan_cb, &sc), -1);
	sc.n = 0;
	assert_int_equal(records_scan(t->path, 0, scan_cb, &sc), 0);
	assert_int_equal(sc.n, 0);
	records_close(r);

	/* Reopen at the synced length and go on appending. */
	r = reopen(t, &index, &cause);
	assert_non_null(r);
	assert_int_equal(records_length(r), len);
	append_n(r, 10000, 10005);
	assert_int_equal(records_sync(r, &len), 0);
	assert_int_equal(len, 10005 * RECORD_SIZE);
	records_close(r);
	sc.n = 0;
	assert_int_equal(records_scan(t->path, len, scan_cb, &sc), 0);
	assert_int_equal(sc.n, 10005);
	assert_int_equal(sc.bad, 0);
	buf_free(&index);
}

/* What was appended after the checkpoint is cut off on reopen. */
static void
test_reopen_truncates(void **state)
{
	struct tmp *t = *state;
	struct records *r;
	struct scan sc = { 0, 0 };
	struct stat st;
	struct buf index;
	uint64_t len, ignored;
	char *cause = NULL;

	buf_init(&index);
	r = records_open(t->dir, NULL, 0, &cause);
	assert_non_null(r);
	append_n(r, 0, 100);
	checkpoint(r, &index, &len);
	/* More than a write buffer, so part of it reaches the file. */
	append_n(r, 100, 100 + 5000);
	assert_int_equal(records_sync(r, &ignored), 0);
	records_close(r);
	assert_int_equal(stat(t->path, &st), 0);
	assert_true((uint64_t)st.st_size > len);

	r = reopen(t, &index, &cause);
	assert_non_null(r);
	assert_int_equal(records_length(r), len);
	assert_int_equal(stat(t->path, &st), 0);
	assert_int_equal(st.st_size, len);
	append_n(r, 100, 110);
	checkpoint(r, &index, &len);
	records_close(r);
	assert_int_equal(len, 110 * RECORD_SIZE);
	assert_int_equal(records_scan(t->path, len, scan_cb, &sc), 0);
	assert_int_equal(sc.n, 110);
	assert_int_equal(sc.bad, 0);

	/* Unsynced records are not kept by close. */
	r = reopen(t, &index, &cause);
	assert_non_null(r);
	append_n(r, 110, 120);
	records_close(r);
	assert_int_equal(stat(t->path, &st), 0);
	assert_int_equal(st.st_size, len);
	buf_free(&index);
}

/* A file shorter than the checkpoint says is lost data: refuse it. */
static void
test_open_errors(void **state)
{
	static const struct {
		uint64_t	 have;
		uint64_t	 valid;
		const char	*cause;	/* NULL: opens */
	} cases[] = {
		{ 0, 0, NULL },
		{ 32, 32, NULL },
		{ 48, 32, NULL },
		{ 0, 16, "shorter than the checkpoint" },
		{ 32, 48, "shorter than the checkpoint" },
		{ 32, 20, "whole number" },
	};
	struct tmp *t = *state;
	struct records *r;
	unsigned char zero[64] = { 0 };
	char *cause;
	char bad[160];
	size_t i;
	int fd;

	/* The single file of a checkpoint from before segments. */
	snprintf(t->path, sizeof t->path, "%s/records", t->dir);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		unlink(t->path);
		fd = open(t->path, O_WRONLY|O_CREAT, 0600);
		assert_true(fd != -1);
		assert_int_equal(write(fd, zero, cases[i].have),
		    (ssize_t)cases[i].have);
		close(fd);
		cause = NULL;
		r = records_open(t->dir, NULL, cases[i].valid, &cause);
		if (cases[i].cause == NULL) {
			assert_non_null(r);
			assert_int_equal(records_length(r), cases[i].valid);
			records_close(r);
		} else {
			assert_null(r);
			assert_non_null(cause);
			assert_non_null(strstr(cause, cases[i].cause));
			free(cause);
		}
	}
	cause = NULL;
	snprintf(bad, sizeof bad, "%s/no/such/dir", t->dir);
	assert_null(records_open(bad, NULL, 0, &cause));
	assert_non_null(cause);
	free(cause);
	errno = 0;
	assert_int_equal(records_scan(bad, 0, scan_cb, NULL), -1);
	assert_int_equal(errno, ENOENT);
}

/* A file that ends inside a record yields only the whole ones, then fails. */
static void
test_scan_short(void **state)
{
	struct tmp *t = *state;
	unsigned char raw[RECORD_SIZE + 4];
	struct record rec;
	struct scan sc = { 0, 0 };
	int fd;

	nth(0, &rec);
	record_pack(&rec, raw);
	memset(raw + RECORD_SIZE, 0xee, 4);
	fd = open(t->path, O_WRONLY|O_CREAT|O_TRUNC, 0600);
	assert_true(fd != -1);
	assert_int_equal(write(fd, raw, sizeof raw), (ssize_t)sizeof raw);
	close(fd);
	errno = 0;
	assert_int_equal(records_scan(t->path, 2 * RECORD_SIZE, scan_cb, &sc),
	    -1);
	assert_int_equal(errno, EIO);
	assert_int_equal(sc.n, 1);
	assert_int_equal(sc.bad, 0);
}

/* A device that is always full: sync fails and says so, nothing crashes. */
static void
test_write_error(void **state)
{
	struct tmp *t = *state;
	struct records *r;
	uint64_t len = 77;
	char *cause = NULL;

	if (access("/dev/full", W_OK) != 0)
		skip();
	assert_int_equal(symlink("/dev/full", t->path), 0);
	r = records_open(t->dir, NULL, 0, &cause);
	assert_non_null(r);
	/* Past the write buffer: the failed write keeps the records. */
	append_n(r, 0, 10000);
	assert_int_equal(records_length(r), 10000 * RECORD_SIZE);
	errno = 0;
	assert_int_equal(records_sync(r, &len), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(len, 77);
	assert_int_equal(records_sync(r, &len), -1);
	records_close(r);
}


struct days {
	int		n;
	int32_t		first;
	int32_t		prev;
	bool		ordered;
};

static void
days_cb(const struct record *rec, void *arg)
{
	struct days *d = arg;

	if (d->n == 0)
		d->first = rec->day;
	else if (rec->day != d->prev + 1)
		d->ordered = false;
	d->prev = rec->day;
	d->n++;
}

static bool
exists(const struct tmp *t, const char *name)
{
	char path[160];
	struct stat st;

	snprintf(path, sizeof path, "%s/%s", t->dir, name);
	return stat(path, &st) == 0;
}

/* Rotated segments read back as one run; old ones can be skipped. */
static void
test_segments(void **state)
{
	struct tmp *t = *state;
	struct records *r;
	struct records_view v;
	struct days d;
	char *cause = NULL;

	r = records_open(t->dir, NULL, 0, &cause);
	assert_non_null(r);
	append_n(r, 0, 100);
	assert_int_equal(records_rotate(r), 0);
	append_n(r, 100, 5250);		/* past the write buffer */
	assert_int_equal(records_rotate(r), 0);
	/* An empty last segment is not rotated. */
	assert_int_equal(records_rotate(r), 0);
	append_n(r, 5250, 5300);
	assert_int_equal(records_segments(r), 3);
	assert_int_equal(records_bytes(r), 5300 * RECORD_SIZE);
	assert_true(exists(t, "records.000003"));

	assert_int_equal(records_view(r, &v), 0);
	assert_int_equal(v.n, 3);
	assert_int_equal(v.segs[0].last_day, 99);
	assert_int_equal(v.segs[1].last_day, 5249);
	assert_int_equal(v.segs[2].len, 50 * RECORD_SIZE);
	memset(&d, 0, sizeof d);
	d.ordered = true;
	assert_int_equal(records_view_scan(&v, INT32_MIN, days_cb, &d), 0);
	assert_int_equal(d.n, 5300);
	assert_int_equal(d.first, 0);
	assert_true(d.ordered);
	/* A segment whose latest day is before min_day is not read. */
	memset(&d, 0, sizeof d);
	d.ordered = true;
	assert_int_equal(records_view_scan(&v, 100, days_cb, &d), 0);
	assert_int_equal(d.n, 5200);
	assert_int_equal(d.first, 100);
	assert_true(d.ordered);
	/* Appends after the view are not in it. */
	append_n(r, 5300, 5310);
	memset(&d, 0, sizeof d);
	assert_int_equal(records_view_scan(&v, INT32_MIN, days_cb, &d), 0);
	assert_int_equal(d.n, 5300);
	records_view_free(&v);
	records_close(r);
}

/*
 * Exactly once: after a crash, a segment started after the checkpoint is
 * removed and the checkpoint's last segment is cut to its length.
 */
static void
test_segments_reopen(void **state)
{
	struct tmp *t = *state;
	struct records *r;
	struct records_view v;
	struct buf index;
	struct days d;
	uint64_t len;
	char *cause = NULL;

	buf_init(&index);
	r = records_open(t->dir, NULL, 0, &cause);
	assert_non_null(r);
	append_n(r, 0, 100);
	assert_int_equal(records_rotate(r), 0);
	append_n(r, 100, 150);
	checkpoint(r, &index, &len);
	assert_int_equal(len, 50 * RECORD_SIZE);
	/* After the checkpoint: more in segment 2, then a segment 3. */
	append_n(r, 150, 170);
	assert_int_equal(records_rotate(r), 0);
	append_n(r, 170, 200);
	assert_int_equal(records_flush(r), 0);
	records_close(r);
	assert_true(exists(t, "records.000003"));

	r = reopen(t, &index, &cause);
	assert_non_null(r);
	assert_null(cause);
	assert_false(exists(t, "records.000003"));
	assert_int_equal(records_segments(r), 2);
	assert_int_equal(records_length(r), 50 * RECORD_SIZE);
	/* Appending goes on where the checkpoint was. */
	append_n(r, 150, 160);
	assert_int_equal(records_view(r, &v), 0);
	memset(&d, 0, sizeof d);
	d.ordered = true;
	assert_int_equal(records_view_scan(&v, INT32_MIN, days_cb, &d), 0);
	assert_int_equal(d.n, 160);
	assert_true(d.ordered);
	records_view_free(&v);
	records_close(r);

	/* A complete segment shorter than the index says: refused. */
	assert_int_equal(truncate(t->path, 10 * RECORD_SIZE), 0);
	assert_null(reopen(t, &index, &cause));
	assert_non_null(strstr(cause, "shorter than the checkpoint"));
	free(cause);
	cause = NULL;
	/* A damaged index: refused, not read as empty. */
	index.len -= 3;
	assert_null(reopen(t, &index, &cause));
	assert_non_null(strstr(cause, "segment index"));
	free(cause);
	buf_free(&index);
}

/* Segments past the retention go; the last never does. */
static void
test_expire(void **state)
{
	struct tmp *t = *state;
	struct records *r;
	struct records_view v;
	struct buf index;
	struct days d;
	uint64_t len;
	char *cause = NULL;

	buf_init(&index);
	r = records_open(t->dir, NULL, 0, &cause);
	assert_non_null(r);
	append_n(r, 0, 100);
	assert_int_equal(records_rotate(r), 0);
	append_n(r, 100, 200);
	assert_int_equal(records_rotate(r), 0);
	append_n(r, 200, 300);
	checkpoint(r, &index, &len);
	/* Day 99 is the first segment's latest: it stays at 99. */
	assert_int_equal(records_expire(r, 99), 0);
	assert_int_equal(records_expire(r, 100), 1);
	assert_false(exists(t, "records.000001"));
	assert_true(exists(t, "records.000002"));
	assert_int_equal(records_bytes(r), 200 * RECORD_SIZE);
	assert_int_equal(records_view(r, &v), 0);
	memset(&d, 0, sizeof d);
	d.ordered = true;
	assert_int_equal(records_view_scan(&v, INT32_MIN, days_cb, &d), 0);
	assert_int_equal(d.n, 200);
	assert_int_equal(d.first, 100);
	records_view_free(&v);
	/* Everything old: all but the last go. */
	assert_int_equal(records_expire(r, 100000), 1);
	assert_int_equal(records_segments(r), 1);
	assert_true(exists(t, "records.000003"));
	records_close(r);

	/* The checkpoint from before the unlinks still opens. */
	r = reopen(t, &index, &cause);
	assert_non_null(r);
	assert_int_equal(records_segments(r), 1);
	assert_int_equal(records_bytes(r), 100 * RECORD_SIZE);
	records_close(r);
	buf_free(&index);
}

/*
 * The single file of a checkpoint from before segments becomes segment 0
 * under its own name, cut to the checkpoint's length, and expires like
 * any other once its latest day is past the retention.
 */
static void
test_legacy(void **state)
{
	struct tmp *t = *state;
	struct records *r;
	struct records_view v;
	struct buf index;
	struct days d;
	char legacy[160];
	unsigned char raw[RECORD_SIZE];
	struct record rec;
	uint64_t len;
	uint32_t i;
	char *cause = NULL;
	int fd;

	buf_init(&index);
	snprintf(legacy, sizeof legacy, "%s/records", t->dir);
	fd = open(legacy, O_WRONLY|O_CREAT, 0600);
	assert_true(fd != -1);
	for (i = 0; i < 55; i++) {	/* 5 past the checkpoint */
		nth(i, &rec);
		record_pack(&rec, raw);
		assert_int_equal(write(fd, raw, sizeof raw), RECORD_SIZE);
	}
	close(fd);
	r = records_open(t->dir, NULL, 50 * RECORD_SIZE, &cause);
	assert_non_null(r);
	assert_int_equal(records_segments(r), 1);
	assert_int_equal(records_length(r), 50 * RECORD_SIZE);
	append_n(r, 50, 60);
	assert_int_equal(records_rotate(r), 0);
	append_n(r, 60, 70);
	checkpoint(r, &index, &len);
	records_close(r);
	assert_true(exists(t, "records"));
	assert_true(exists(t, "records.000001"));

	r = reopen(t, &index, &cause);
	assert_non_null(r);
	assert_int_equal(records_view(r, &v), 0);
	assert_int_equal(v.n, 2);
	assert_int_equal(v.segs[0].last_day, 59);
	memset(&d, 0, sizeof d);
	d.ordered = true;
	assert_int_equal(records_view_scan(&v, INT32_MIN, days_cb, &d), 0);
	assert_int_equal(d.n, 70);
	assert_true(d.ordered);
	records_view_free(&v);
	assert_int_equal(records_expire(r, 60), 1);
	assert_false(exists(t, "records"));
	records_close(r);
	buf_free(&index);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pack),
		cmocka_unit_test(test_unpack_old),
		cmocka_unit_test(test_from_decision),
		cmocka_unit_test_setup_teardown(test_append_scan, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reopen_truncates, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_scan_short, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_write_error, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_segments, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_segments_reopen, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_expire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_legacy, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
