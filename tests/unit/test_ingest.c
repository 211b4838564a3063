/*
 * ingest: counting, duplicates, invalid entries, replays of applied
 * entries, the detector hooks, week closing by watermark, late events,
 * retention, and the checkpoint round trip with the records file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"
#include "detector.h"
#include "ingest.h"
#include "period.h"
#include "records.h"
#include "xmalloc.h"

#define T0	1680476400	/* 2023-04-03T00:00:00+01:00... Monday 2023-W14 */
#define DAY	86400
#define NOW	(T0 + 400 * DAY)

struct fixture {
	char		 dir[64];
	struct conf	 conf;
	struct ingest	*in;
	uint64_t	 seq;
};

/* A detector that records what ingest tells it. */
static struct {
	int	 predicted;
	int	 counted;
	int	 late;
	int32_t	 closed[256];
	int	 nclosed;
	int	 ticks;
	bool	 busy_on_close;	/* a close leaves work outstanding */
	bool	 busy;
	int	 predicted_in[INDICATOR_MAX];
	int	 counted_in[INDICATOR_MAX][4];	/* by enum indicator_class */
} hook;

static double
hook_predict(void *arg, int ind, const struct decision *d,
    const struct period *p)
{
	(void)arg;
	(void)d;
	(void)p;
	hook.predicted++;
	hook.predicted_in[ind]++;
	return 0.2;
}

static void
hook_counted(void *arg, int ind, int y, const struct decision *d,
    int office, const struct period *p, double prob, bool late)
{
	(void)arg;
	(void)d;
	(void)office;
	(void)p;
	assert_true(prob == 0.2 || prob < 0);
	/* Excluded events get no prediction. */
	assert_true((y == INDICATOR_EXCLUDED) == (prob < 0));
	hook.counted++;
	hook.counted_in[ind][y]++;
	if (late)
		hook.late++;
}

static void
hook_week_closed(void *arg, int32_t week, const struct series_set *set)
{
	(void)arg;
	(void)set;
	if (hook.nclosed < 256)
		hook.closed[hook.nclosed++] = week;
	if (hook.busy_on_close)
		hook.busy = true;
}

static bool
hook_busy(void *arg)
{
	(void)arg;
	return hook.busy;
}

static void
hook_tick(void *arg, int64_t watermark, const struct series_set *set)
{
	(void)arg;
	(void)watermark;
	(void)set;
	hook.ticks++;
}

static const struct detector hook_detector = {
	.name = "test",
	.predict = hook_predict,
	.counted = hook_counted,
	.week_closed = hook_week_closed,
	.tick = hook_tick,
	.busy = hook_busy,
};

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	char *cause = NULL;

	period_init();
	strcpy(f->dir, "/tmp/stabild-test-ingest-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	conf_default(&f->conf);
	free(f->conf.state_dir);
	f->conf.state_dir = xstrdup(f->dir);
	f->conf.dedup_window = 1000;
	f->conf.max_offices = 4;
	memset(&hook, 0, sizeof hook);
	f->in = ingest_create(&f->conf, &hook_detector);
	if (ingest_open(f->in, &cause) == -1) {
		fprintf(stderr, "%s\n", cause);
		return -1;
	}
	*state = f;
	return 0;
}

static void
cleanup_dir(const char *dir)
{
	struct dirent *de;
	char path[512];
	DIR *d;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

/* Bytes in the record segments of dir. */
static off_t
records_size(const char *dir)
{
	struct dirent *de;
	struct stat sb;
	char path[512];
	off_t n = 0;
	DIR *d;

	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "records", 7) != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		assert_int_equal(stat(path, &sb), 0);
		n += sb.st_size;
	}
	closedir(d);
	return n;
}

/* Free what add_indicator set, whoever else frees conf's strings. */
static void
free_indicators(struct conf *c)
{
	struct conf_indicator *ci;
	int i;

	for (i = 0; i < c->nindicators; i++) {
		ci = &c->indicators[i];
		free(ci->name);
		free(ci->event);
		free(ci->yes);
		free(ci->no);
		free(ci->stream);
		free(ci->field);
		free(ci->checkpoint);
		memset(ci, 0, sizeof *ci);
	}
	c->nindicators = 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	ingest_free(f->in);
	free_indicators(&f->conf);
	cleanup_dir(f->dir);
	conf_free(&f->conf);
	free(f);
	return 0;
}

/*
 * Feed an entry given as "name=value" strings (NULL-terminated); the
 * stream id is the next sequence number unless id_seq is non-zero.
 */
static enum ingest_result
vfeed(struct fixture *f, int k, uint64_t id_seq, bool redelivered,
    char **cause, va_list ap)
{
	struct decision_field fields[32];
	struct stream_id id;
	const char *kv;
	size_t n = 0;

	while ((kv = va_arg(ap, const char *)) != NULL) {
		const char *eq = strchr(kv, '=');

		fields[n].name = kv;
		fields[n].namelen = (size_t)(eq - kv);
		fields[n].value = eq + 1;
		fields[n].valuelen = strlen(eq + 1);
		n++;
	}
	id.ms = 1000;
	id.seq = id_seq != 0 ? id_seq : ++f->seq;
	if (k == 0)
		return ingest_entry(f->in, &id, fields, n, redelivered, NOW,
		    cause);
	return ingest_entry_from(f->in, k, &id, fields, n, redelivered, NOW,
	    cause);
}

static enum ingest_result
feed(struct fixture *f, uint64_t id_seq, bool redelivered, char **cause,
    ...)
{
	enum ingest_result r;
	va_list ap;

	va_start(ap, cause);
	r = vfeed(f, 0, id_seq, redelivered, cause, ap);
	va_end(ap);
	return r;
}

/* An entry of stream k, with the next stream id; NULL-terminated. */
static enum ingest_result
feed_k(struct fixture *f, int k, char **cause, ...)
{
	enum ingest_result r;
	va_list ap;

	va_start(ap, cause);
	r = vfeed(f, k, 0, false, cause, ap);
	va_end(ap);
	return r;
}

/* A valid decision with a given id, office, outcome and time. */
static enum ingest_result
feed_decision(struct fixture *f, const char *id, const char *office,
    const char *outcome, int64_t t)
{
	char idf[80], of[64], outf[64], tf[64];
	char *cause = NULL;
	enum ingest_result r;

	snprintf(idf, sizeof idf, "id=%s", id);
	snprintf(of, sizeof of, "office=%s", office);
	snprintf(outf, sizeof outf, "outcome=%s", outcome);
	snprintf(tf, sizeof tf, "decided_at=%lld", (long long)t);
	r = feed(f, 0, false, &cause, idf, of, "benefit=sjukpenning",
	    "kind=first", outf, tf, "diagnosis=F32", (const char *)NULL);
	if (r == INGEST_INVALID) {
		fprintf(stderr, "unexpected invalid: %s\n", cause);
		free(cause);
	}
	return r;
}

/*
 * Append [indicator "name"] to the configuration as the parser would
 * fill it; stream NULL is redis.stream.
 */
static void
add_indicator(struct conf *c, const char *name, const char *event,
    const char *yes, const char *no, const char *stream)
{
	struct conf_indicator *ci = &c->indicators[c->nindicators++];

	memset(ci, 0, sizeof *ci);
	ci->name = xstrdup(name);
	ci->event = xstrdup(event);
	ci->yes = xstrdup(yes);
	ci->no = xstrdup(no);
	ci->stream = stream != NULL ? xstrdup(stream) : NULL;
	ci->line = c->nindicators;
}

/* A new ingest on f's configuration and state directory. */
static int
reopen(struct fixture *f, char **cause)
{
	ingest_free(f->in);
	f->in = ingest_create(&f->conf, &hook_detector);
	if (ingest_open(f->in, cause) == -1) {
		ingest_free(f->in);
		f->in = NULL;
		return -1;
	}
	return 0;
}

/* Feed a decision of office K001 on stream k with stream id sid. */
static enum ingest_result
feed_at(struct fixture *f, int k, struct stream_id sid, bool redelivered,
    const char *id, const char *outcome, int64_t t)
{
	struct decision_field fields[8];
	char idv[64], tv[32];
	const char *kv[] = { "id", idv, "office", "K001", "benefit",
	    "sjukpenning", "kind", "first", "outcome", outcome,
	    "decided_at", tv };
	char *cause = NULL;
	enum ingest_result r;
	size_t i;

	snprintf(idv, sizeof idv, "%s", id);
	snprintf(tv, sizeof tv, "%lld", (long long)t);
	for (i = 0; i < 6; i++) {
		fields[i].name = kv[2 * i];
		fields[i].namelen = strlen(kv[2 * i]);
		fields[i].value = kv[2 * i + 1];
		fields[i].valuelen = strlen(kv[2 * i + 1]);
	}
	r = ingest_entry_from(f->in, k, &sid, fields, 6, redelivered, NOW,
	    &cause);
	if (r == INGEST_INVALID) {
		fprintf(stderr, "unexpected invalid: %s\n", cause);
		free(cause);
	}
	return r;
}

/* The same with stream id 1000-seq. */
static enum ingest_result
feed_on(struct fixture *f, int k, uint64_t seq, bool redelivered,
    const char *id, const char *outcome, int64_t t)
{
	struct stream_id sid = { 1000, seq };

	return feed_at(f, k, sid, redelivered, id, outcome, t);
}

static const struct bucket *
week_of(struct fixture *f, int office, int64_t t)
{
	const struct series *s;
	struct period p;

	s = series_get(ingest_series(f->in), office, 0, DECISION_FIRST);
	if (s == NULL)
		return NULL;
	period_of(t, &p);
	return series_week(s, p.week);
}

static void
test_counting(void **state)
{
	struct fixture *f = *state;
	const struct bucket *b;
	const struct ingest_counters *c;
	int k017;

	assert_int_equal(feed_decision(f, "a1", "K017", "rejected", T0), INGEST_COUNTED);
	assert_int_equal(feed_decision(f, "a2", "K017", "granted", T0 + 60), INGEST_COUNTED);
	assert_int_equal(feed_decision(f, "a3", "K017", "partial", T0 + 120), INGEST_COUNTED);
	assert_int_equal(feed_decision(f, "a4", "K017", "dismissed", T0 + 180), INGEST_COUNTED);
	assert_int_equal(feed_decision(f, "a5", "K001", "rejected", T0 + 240), INGEST_COUNTED);
	k017 = series_office_index((struct series_set *)ingest_series(f->in),
	    "K017", false);
	b = week_of(f, k017, T0);
	assert_non_null(b);
	assert_int_equal(b->n, 3);
	assert_int_equal(b->rejected, 1);
	assert_int_equal(b->partial, 1);
	assert_int_equal(b->dismissed, 1);
	/* The detector's p fills E and V for decisions on the merits only. */
	assert_true(b->expected > 0.6 - 1e-9 && b->expected < 0.6 + 1e-9);
	assert_true(b->variance > 0.48 - 1e-9 && b->variance < 0.48 + 1e-9);
	b = week_of(f, SERIES_NATIONAL, T0);
	assert_int_equal(b->n, 4);
	assert_int_equal(b->rejected, 2);
	c = ingest_counters(f->in);
	assert_int_equal(c->counted, 5);
	assert_int_equal(c->by_outcome[OUTCOME_REJECTED], 2);
	assert_int_equal(c->by_outcome[OUTCOME_DISMISSED], 1);
	assert_int_equal(hook.predicted, 4);
	assert_int_equal(hook.counted, 5);
	assert_int_equal(ingest_dirty(f->in), 5);
}

static void
test_duplicates_and_invalid(void **state)
{
	struct fixture *f = *state;
	char *cause = NULL;
	enum ingest_result r;

	assert_int_equal(feed_decision(f, "d1", "K001", "granted", T0), INGEST_COUNTED);
	assert_int_equal(feed_decision(f, "d1", "K001", "rejected", T0), INGEST_DUPLICATE);
	assert_int_equal(ingest_counters(f->in)->duplicates, 1);
	assert_int_equal(ingest_counters(f->in)->counted, 1);

	r = feed(f, 0, false, &cause, "id=x1", "office=K001",
	    "benefit=sjukpenning", "kind=first", "outcome=approved",
	    "decided_at=1680476400", (const char *)NULL);
	assert_int_equal(r, INGEST_INVALID);
	assert_non_null(strstr(cause, "outcome"));
	free(cause);
	assert_int_equal(ingest_counters(f->in)->invalid, 1);
	/* An invalid entry does not take its id: a fixed resend counts. */
	assert_int_equal(feed_decision(f, "x1", "K001", "granted", T0), INGEST_COUNTED);

	/* Office table full (max_offices = 4). */
	assert_int_equal(feed_decision(f, "o2", "K002", "granted", T0), INGEST_COUNTED);
	assert_int_equal(feed_decision(f, "o3", "K003", "granted", T0), INGEST_COUNTED);
	assert_int_equal(feed_decision(f, "o4", "K004", "granted", T0), INGEST_COUNTED);
	cause = NULL;
	r = feed(f, 0, false, &cause, "id=o5", "office=K005",
	    "benefit=sjukpenning", "kind=first", "outcome=granted",
	    "decided_at=1680476400", (const char *)NULL);
	assert_int_equal(r, INGEST_INVALID);
	assert_non_null(strstr(cause, "max_offices"));
	free(cause);
}

static void
test_redelivered(void **state)
{
	struct fixture *f = *state;
	char *cause = NULL;
	enum ingest_result r;

	assert_int_equal(feed_decision(f, "r1", "K001", "granted", T0), INGEST_COUNTED);
	r = feed(f, 0, false, &cause, "id=bad", "office=K001",
	    (const char *)NULL);
	assert_int_equal(r, INGEST_INVALID);
	free(cause);
	/* Both again from the pending list: not counted twice, but the
	 * invalid one is reported again so its dead-lettering is not lost. */
	r = feed(f, 1, true, &cause, "id=r1", "office=K001",
	    "benefit=sjukpenning", "kind=first", "outcome=granted",
	    "decided_at=1680476400", (const char *)NULL);
	assert_int_equal(r, INGEST_APPLIED);
	cause = NULL;
	r = feed(f, 2, true, &cause, "id=bad", "office=K001",
	    (const char *)NULL);
	assert_int_equal(r, INGEST_INVALID);
	assert_non_null(cause);
	free(cause);
	assert_int_equal(ingest_counters(f->in)->counted, 1);
	assert_int_equal(ingest_counters(f->in)->invalid, 1);
	assert_int_equal(ingest_counters(f->in)->duplicates, 0);
	/* A pending entry past the applied position is new: it counts. */
	r = feed(f, 3, true, &cause, "id=r3", "office=K001",
	    "benefit=sjukpenning", "kind=first", "outcome=granted",
	    "decided_at=1680476400", (const char *)NULL);
	assert_int_equal(r, INGEST_COUNTED);
}

static void
test_weeks_close_in_order(void **state)
{
	struct fixture *f = *state;
	struct period p0, p;
	char id[32];
	int i;

	period_of(T0, &p0);
	/* Ten weeks, one decision a day. */
	for (i = 0; i < 70; i++) {
		snprintf(id, sizeof id, "w%d", i);
		assert_int_equal(feed_decision(f, id, "K001", "granted",
		    T0 + (int64_t)i * DAY + 3600), INGEST_COUNTED);
	}
	/* Watermark = last - 3 days: weeks 0..8 closed, in order. */
	assert_true(hook.nclosed >= 8);
	assert_int_equal(hook.closed[0], p0.week - 1);
	for (i = 1; i < hook.nclosed; i++)
		assert_int_equal(hook.closed[i], hook.closed[i - 1] + 1);
	period_of(T0 + 69 * DAY + 3600 - 3 * DAY, &p);
	assert_int_equal(ingest_closed_week(f->in), p.week - 1);
	assert_int_equal(hook.closed[hook.nclosed - 1], p.week - 1);
	assert_int_equal(hook.late, 0);

	/* A late decision lands in its own (closed) week. */
	assert_int_equal(feed_decision(f, "late", "K001", "rejected",
	    T0 + DAY), INGEST_COUNTED);
	assert_int_equal(ingest_counters(f->in)->late, 1);
	assert_int_equal(hook.late, 1);
	assert_int_equal(week_of(f, 0, T0 + DAY)->rejected, 1);
}

/*
 * A detector busy after a week close (a fit being read) gets nothing
 * more until it is done: the weeks the watermark passed close one at a
 * time through ingest_resume, in order, the look comes last, and the
 * clock does not move the watermark meanwhile.
 */
static void
test_busy_detector(void **state)
{
	struct fixture *f = *state;
	int32_t first;
	int closes = 0, ticks;

	assert_int_equal(feed_decision(f, "b1", "K001", "granted", T0),
	    INGEST_COUNTED);
	ticks = hook.ticks;
	first = ingest_closed_week(f->in);
	hook.busy_on_close = true;
	/* Ten weeks later: the watermark passes about nine week ends. */
	assert_int_equal(feed_decision(f, "b2", "K001", "granted",
	    T0 + 70 * DAY), INGEST_COUNTED);
	assert_true(ingest_busy(f->in));
	assert_int_equal(ingest_closed_week(f->in), first + 1);
	assert_int_equal(hook.ticks, ticks);
	/* Still busy: resuming does nothing, nor does the clock. */
	ingest_resume(f->in);
	ingest_tick(f->in, T0 + 71 * DAY, true);
	assert_int_equal(ingest_closed_week(f->in), first + 1);
	while (ingest_busy(f->in)) {
		assert_true(closes++ < 20);
		hook.busy = false;		/* the result was applied */
		ingest_resume(f->in);
	}
	assert_int_equal(hook.closed[hook.nclosed - 1],
	    ingest_closed_week(f->in));
	assert_true(ingest_closed_week(f->in) >= first + 8);
	for (closes = 1; closes < hook.nclosed; closes++)
		assert_int_equal(hook.closed[closes],
		    hook.closed[closes - 1] + 1);
	/* The look waited for the last close. */
	assert_int_equal(hook.ticks, ticks + 1);
	hook.busy_on_close = false;
	hook.busy = false;
}

static void
test_idle_clock_closes_weeks(void **state)
{
	struct fixture *f = *state;
	int32_t before;
	int64_t last = T0 + 2 * DAY;

	assert_int_equal(feed_decision(f, "i1", "K001", "granted", last), INGEST_COUNTED);
	before = ingest_closed_week(f->in);
	/* Not idle: the clock does not move the watermark. */
	ingest_tick(f->in, last + 20 * DAY, false);
	assert_int_equal(ingest_closed_week(f->in), before);
	/* Idle but far from the clock (a finished replay): no move. */
	ingest_tick(f->in, last + 400 * DAY, true);
	assert_int_equal(ingest_closed_week(f->in), before);
	/* Idle and live: the clock moves the watermark and closes the
	 * weeks it passes. */
	ingest_tick(f->in, last + 7 * DAY, true);
	assert_true(ingest_watermark(f->in) == last + 4 * DAY);
	ingest_tick(f->in, last + 13 * DAY, true);
	assert_true(ingest_watermark(f->in) == last + 10 * DAY);
	assert_true(ingest_closed_week(f->in) > before);
	/* One look each time the watermark entered a new day. */
	assert_int_equal(hook.ticks, 3);
}

static void
test_retention(void **state)
{
	struct fixture *f = *state;
	char *cause = NULL;
	enum ingest_result r;

	assert_int_equal(feed_decision(f, "new", "K001", "granted", T0), INGEST_COUNTED);
	r = feed(f, 0, false, &cause, "id=old", "office=K001",
	    "benefit=sjukpenning", "kind=first", "outcome=granted",
	    "decided_at=1262304000", (const char *)NULL);	/* 2010 */
	assert_int_equal(r, INGEST_INVALID);
	assert_non_null(strstr(cause, "retention"));
	free(cause);
}

static void
test_checkpoint_round_trip(void **state)
{
	struct fixture *f = *state;
	struct ingest *again;
	char *cause = NULL, id[32];
	enum ingest_result r;
	int i;

	for (i = 0; i < 50; i++) {
		snprintf(id, sizeof id, "c%d", i);
		assert_int_equal(feed_decision(f, id, i % 2 ? "K001" : "K002",
		    i % 3 ? "granted" : "rejected", T0 + i * 3600),
		    INGEST_COUNTED);
	}
	assert_int_equal(ingest_checkpoint(f->in, &cause), 0);
	assert_int_equal(ingest_dirty(f->in), 0);
	assert_int_equal(ingest_checkpointed(f->in)->seq, 50);
	assert_int_equal(records_size(f->dir), 50 * RECORD_SIZE);

	/* Ten more that never reach a checkpoint: a crash loses them. */
	for (i = 50; i < 60; i++) {
		snprintf(id, sizeof id, "c%d", i);
		feed_decision(f, id, "K001", "granted", T0 + i * 3600);
	}
	ingest_free(f->in);
	f->in = NULL;

	again = ingest_create(&f->conf, &hook_detector);
	assert_int_equal(ingest_open(again, &cause), 0);
	f->in = again;
	assert_int_equal(ingest_counters(again)->counted, 50);
	assert_int_equal(ingest_applied(again)->seq, 50);
	assert_int_equal(records_size(f->dir), 50 * RECORD_SIZE);
	assert_int_equal(week_of(f, SERIES_NATIONAL, T0)->n, 50);
	/* Pending entries come first after a restart: 50 is in the
	 * checkpoint, 51 was lost with the crash and counts now. */
	r = feed(f, 50, true, &cause, "id=c49", "office=K001",
	    "benefit=sjukpenning", "kind=first", "outcome=granted",
	    "decided_at=1680476400", (const char *)NULL);
	assert_int_equal(r, INGEST_APPLIED);
	r = feed(f, 51, true, &cause, "id=c50", "office=K001",
	    "benefit=sjukpenning", "kind=first", "outcome=granted",
	    "decided_at=1680476400", (const char *)NULL);
	assert_int_equal(r, INGEST_COUNTED);
	/* The duplicate window survived. */
	r = feed(f, 100, false, &cause, "id=c7", "office=K001",
	    "benefit=sjukpenning", "kind=first", "outcome=granted",
	    "decided_at=1680476400", (const char *)NULL);
	assert_int_equal(r, INGEST_DUPLICATE);
}

/* Wait for the checkpoint child; its wait status. */
static int
reap(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void
test_forked_checkpoint(void **state)
{
	struct fixture *f = *state;
	struct ingest *again;
	char *cause = NULL, path[128];
	const char *why;
	int64_t since;
	pid_t pid;
	int i;
	char id[32];

	for (i = 0; i < 20; i++) {
		snprintf(id, sizeof id, "f%d", i);
		feed_decision(f, id, "K001", "granted", T0 + i * 60);
	}
	pid = ingest_checkpoint_start(f->in, &cause);
	assert_true(pid > 0);
	assert_int_equal(ingest_checkpoint_child(f->in), pid);
	/* Counting goes on while the child writes; the position does not
	 * move until the child is done. */
	feed_decision(f, "f-after", "K001", "granted", T0 + 3600);
	assert_int_equal(ingest_checkpointed(f->in)->seq, 0);
	assert_int_equal(ingest_checkpoint_start(f->in, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(ingest_checkpoint(f->in, &cause), -1);
	free(cause);
	cause = NULL;
	assert_true(ingest_checkpoint_done(f->in, reap(pid)));
	assert_int_equal(ingest_checkpoint_child(f->in), 0);
	assert_int_equal(ingest_checkpointed(f->in)->seq, 20);
	assert_int_equal(ingest_dirty(f->in), 1);

	/* The file holds the child's view: 20 counted, not 21. */
	again = ingest_create(&f->conf, NULL);
	assert_int_equal(ingest_open(again, &cause), 0);
	assert_int_equal(ingest_counters(again)->counted, 20);
	ingest_free(again);

	/* A failed child leaves the position and keeps the work to do. */
	snprintf(path, sizeof path, "%s/checkpoint", f->dir);
	unlink(path);
	assert_int_equal(mkdir(path, 0700), 0);	/* rename onto it fails */
	pid = ingest_checkpoint_start(f->in, &cause);
	assert_true(pid > 0);
	assert_false(ingest_checkpoint_done(f->in, reap(pid)));
	assert_int_equal(ingest_checkpointed(f->in)->seq, 20);
	assert_int_equal(ingest_dirty(f->in), 1);

	/* ... and holds the stream back, saying why, until one succeeds. */
	assert_int_equal(ingest_pressure(f->in, &why, &since),
	    INGEST_CHECKPOINT_BLOCKED);
	assert_non_null(strstr(why, strerror(EISDIR)));
	assert_true(since > 0);
	assert_true(ingest_waits(f->in));
	assert_false(ingest_busy(f->in));
	assert_int_equal(ingest_retry(f->in), -1);
	pid = ingest_checkpoint_start(f->in, &cause);
	assert_true(pid > 0);
	assert_false(ingest_checkpoint_done(f->in, reap(pid)));
	assert_true(ingest_waits(f->in));
	rmdir(path);
	pid = ingest_checkpoint_start(f->in, &cause);
	assert_true(pid > 0);
	assert_true(ingest_checkpoint_done(f->in, reap(pid)));
	assert_int_equal(ingest_pressure(f->in, &why, &since), INGEST_FLOWING);
	assert_null(why);
	assert_false(ingest_waits(f->in));
	assert_int_equal(ingest_checkpointed(f->in)->seq, 21);
}

/*
 * Records that cannot be written (a file size limit stands in for a full
 * disk) stop ingest taking entries; nothing counted is lost, and once
 * they can be written, the checkpoint holds every record exactly once.
 */
static void
test_records_backpressure(void **state)
{
	struct fixture *f = *state;
	struct ingest *again;
	struct rlimit old, lim;
	char *cause = NULL, id[32];
	const char *why;
	int64_t since;
	int i, n = 0;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = 64 * 1024;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	/* The first 64 KiB buffer fits, the second does not. */
	for (i = 0; i < 3 * 4096 && !ingest_waits(f->in); i++) {
		snprintf(id, sizeof id, "bp%d", i);
		assert_int_equal(feed_decision(f, id, "K001", "granted",
		    T0 + i), INGEST_COUNTED);
		n++;
	}
	assert_int_equal(n, 2 * 4096 + 1);
	assert_int_equal(ingest_pressure(f->in, &why, &since),
	    INGEST_RECORDS_BLOCKED);
	assert_non_null(strstr(why, strerror(EFBIG)));
	assert_true(ingest_waits(f->in));
	/* Still blocked: the retry fails, a checkpoint is refused. */
	assert_int_equal(ingest_retry(f->in), -1);
	assert_int_equal(ingest_checkpoint_start(f->in, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(ingest_counters(f->in)->counted, (uint64_t)n);

	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(ingest_retry(f->in), 0);
	assert_false(ingest_waits(f->in));
	assert_int_equal(ingest_checkpoint(f->in, &cause), 0);
	assert_int_equal(records_size(f->dir), (off_t)n * RECORD_SIZE);

	again = ingest_create(&f->conf, NULL);
	assert_int_equal(ingest_open(again, &cause), 0);
	assert_int_equal(ingest_counters(again)->counted, (uint64_t)n);
	ingest_free(again);
}

static void
test_benefit_list_change(void **state)
{
	struct fixture *f = *state;
	struct ingest *again;
	char *cause = NULL, *tmp;

	assert_int_equal(feed_decision(f, "b1", "K001", "granted", T0), INGEST_COUNTED);
	assert_int_equal(ingest_checkpoint(f->in, &cause), 0);
	ingest_free(f->in);
	f->in = NULL;

	/* Swapping two benefits would mix up their series: refused. */
	tmp = f->conf.benefits[0];
	f->conf.benefits[0] = f->conf.benefits[1];
	f->conf.benefits[1] = tmp;
	again = ingest_create(&f->conf, NULL);
	assert_int_equal(ingest_open(again, &cause), -1);
	assert_non_null(strstr(cause, "appended"));
	free(cause);
	ingest_free(again);

	/* Appending one is fine. */
	tmp = f->conf.benefits[0];
	f->conf.benefits[0] = f->conf.benefits[1];
	f->conf.benefits[1] = tmp;
	f->conf.benefits[f->conf.nbenefits++] = xstrdup("extra");
	again = ingest_create(&f->conf, NULL);
	cause = NULL;
	assert_int_equal(ingest_open(again, &cause), 0);
	f->in = again;
	assert_int_equal(ingest_counters(again)->counted, 1);
}

/*
 * Each decision counts in every indicator of its kind: the series of
 * each hold its own yes/no, the hooks hear each (indicator, class) once,
 * and rejection's series are what they would be alone.
 */
static void
test_indicators_counting(void **state)
{
	static const char *outcomes[] = { "rejected", "granted", "partial",
	    "dismissed", "granted" };
	struct fixture *f = *state;
	const struct series_set *set;
	const struct indicators *t;
	const struct bucket *b;
	struct period p;
	char *cause = NULL, id[16];
	int i;

	add_indicator(&f->conf, "grant", "decision", "granted",
	    "rejected,partial", NULL);
	add_indicator(&f->conf, "dismissal", "decision", "dismissed",
	    "granted,rejected,partial", NULL);
	assert_int_equal(reopen(f, &cause), 0);
	t = ingest_indicators(f->in);
	assert_int_equal(t->n, 3);
	set = ingest_series(f->in);
	assert_int_equal(series_set_indicators(set), 3);
	for (i = 0; i < 5; i++) {
		snprintf(id, sizeof id, "m%d", i);
		assert_int_equal(feed_decision(f, id, "K001", outcomes[i],
		    T0 + i * 60), INGEST_COUNTED);
	}
	period_of(T0, &p);
	/* rejection: 4 on the merits, 1 rejected, 1 partial, 1 dismissed */
	b = series_week(series_get_in(set, 0, 0, 0, DECISION_FIRST), p.week);
	assert_non_null(b);
	assert_int_equal(b->n, 4);
	assert_int_equal(b->rejected, 1);
	assert_int_equal(b->partial, 1);
	assert_int_equal(b->dismissed, 1);
	/* grant: yes 2 (granted), no 2, dismissed excluded */
	b = series_week(series_get_in(set, 1, SERIES_NATIONAL, 0,
	    DECISION_FIRST), p.week);
	assert_non_null(b);
	assert_int_equal(b->n, 4);
	assert_int_equal(b->rejected, 2);
	assert_int_equal(b->partial, 0);
	assert_int_equal(b->dismissed, 1);
	/* dismissal: all five in the rate, one yes */
	b = series_week(series_get_in(set, 2, 0, 0, DECISION_FIRST), p.week);
	assert_non_null(b);
	assert_int_equal(b->n, 5);
	assert_int_equal(b->rejected, 1);
	assert_int_equal(b->dismissed, 0);
	assert_int_equal(series_count_in(set, 0), 2);
	assert_int_equal(series_count_in(set, 1), 2);
	assert_int_equal(series_count_in(set, 2), 2);

	/* Hooks once per (indicator, class); no p for excluded ones. */
	assert_int_equal(hook.counted, 15);
	assert_int_equal(hook.counted_in[0][INDICATOR_YES], 1);
	assert_int_equal(hook.counted_in[0][INDICATOR_NO], 3);
	assert_int_equal(hook.counted_in[0][INDICATOR_EXCLUDED], 1);
	assert_int_equal(hook.counted_in[1][INDICATOR_YES], 2);
	assert_int_equal(hook.counted_in[1][INDICATOR_NO], 2);
	assert_int_equal(hook.counted_in[1][INDICATOR_EXCLUDED], 1);
	assert_int_equal(hook.counted_in[2][INDICATOR_YES], 1);
	assert_int_equal(hook.counted_in[2][INDICATOR_NO], 4);
	assert_int_equal(hook.predicted_in[0], 4);
	assert_int_equal(hook.predicted_in[1], 4);
	assert_int_equal(hook.predicted_in[2], 5);

	/* One event each: counted once, one record each. */
	assert_int_equal(ingest_counters(f->in)->counted, 5);
	assert_int_equal(ingest_counters(f->in)->by_event[EVENT_DECISION], 5);
	assert_int_equal(ingest_counters(f->in)->by_outcome[OUTCOME_GRANTED],
	    2);
	assert_int_equal(ingest_checkpoint(f->in, &cause), 0);
	assert_int_equal(records_size(f->dir), 5 * RECORD_SIZE);

	/* A duplicate counts nowhere. */
	assert_int_equal(feed_decision(f, "m0", "K001", "granted", T0),
	    INGEST_DUPLICATE);
	assert_int_equal(hook.counted, 15);

	/* All of it survives a restart. */
	assert_int_equal(reopen(f, &cause), 0);
	set = ingest_series(f->in);
	b = series_week(series_get_in(set, 1, 0, 0, DECISION_FIRST), p.week);
	assert_non_null(b);
	assert_int_equal(b->rejected, 2);
	assert_int_equal(ingest_counters(f->in)->by_event[EVENT_DECISION], 5);
}

/*
 * The checkpoint keeps the indicator list: appending one is fine;
 * removing, reordering or redefining one is refused with what to do.
 */
static void
test_indicator_list_change(void **state)
{
	struct fixture *f = *state;
	struct conf_indicator ci;
	char *cause = NULL;

	add_indicator(&f->conf, "grant", "decision", "granted",
	    "rejected,partial", NULL);
	add_indicator(&f->conf, "partly", "decision", "partial",
	    "granted,rejected", NULL);
	assert_int_equal(reopen(f, &cause), 0);
	assert_int_equal(feed_decision(f, "l1", "K001", "granted", T0),
	    INGEST_COUNTED);
	assert_int_equal(ingest_checkpoint(f->in, &cause), 0);

	/* Removed. */
	ci = f->conf.indicators[1];
	f->conf.nindicators = 1;
	assert_int_equal(reopen(f, &cause), -1);
	assert_non_null(strstr(cause, "indicator 'partly' is no longer "
	    "configured; indicators may only be appended (keep its section; "
	    "alerts = off stops its alerts)"));
	free(cause);
	cause = NULL;

	/* Reordered. */
	f->conf.indicators[1] = f->conf.indicators[0];
	f->conf.indicators[0] = ci;
	f->conf.nindicators = 2;
	assert_int_equal(reopen(f, &cause), -1);
	assert_non_null(strstr(cause, "indicators may only be appended"));
	free(cause);
	cause = NULL;
	ci = f->conf.indicators[0];
	f->conf.indicators[0] = f->conf.indicators[1];
	f->conf.indicators[1] = ci;

	/* Redefined: another outcome counts as yes. */
	free(f->conf.indicators[0].yes);
	free(f->conf.indicators[0].no);
	f->conf.indicators[0].yes = xstrdup("granted,partial");
	f->conf.indicators[0].no = xstrdup("rejected");
	assert_int_equal(reopen(f, &cause), -1);
	assert_non_null(strstr(cause, "indicator 'grant' is defined "
	    "differently now"));
	assert_non_null(strstr(cause, "add the new one under a new name"));
	free(cause);
	cause = NULL;
	free(f->conf.indicators[0].yes);
	free(f->conf.indicators[0].no);
	f->conf.indicators[0].yes = xstrdup("granted");
	f->conf.indicators[0].no = xstrdup("rejected,partial");

	/* Appended: loads, the new one starts empty. */
	add_indicator(&f->conf, "dismissal", "decision", "dismissed",
	    "granted,rejected,partial", NULL);
	assert_int_equal(reopen(f, &cause), 0);
	assert_int_equal(ingest_indicators(f->in)->n, 4);
	assert_int_equal(series_count_in(ingest_series(f->in), 1), 2);
	assert_int_equal(series_count_in(ingest_series(f->in), 3), 0);
	assert_int_equal(feed_decision(f, "l2", "K001", "dismissed", T0),
	    INGEST_COUNTED);
	assert_int_equal(series_count_in(ingest_series(f->in), 3), 2);
	assert_int_equal(ingest_counters(f->in)->counted, 2);
}

/*
 * Positions are per stream: entries of the side stream are counted by
 * content, acknowledged up to the side stream's own checkpointed
 * position, and that position survives a restart.
 */
static void
test_stream_positions(void **state)
{
	struct fixture *f = *state;
	char *cause = NULL;

	add_indicator(&f->conf, "grant", "decision", "granted",
	    "rejected,partial", "stabild:side");
	assert_int_equal(reopen(f, &cause), 0);
	assert_int_equal(ingest_streams(f->in), 2);
	assert_string_equal(ingest_stream_key(f->in, 0), f->conf.stream);
	assert_string_equal(ingest_stream_key(f->in, 1), "stabild:side");
	assert_null(ingest_stream_key(f->in, 2));
	assert_null(ingest_applied_of(f->in, 2));

	assert_int_equal(feed_on(f, 0, 5, false, "s1", "granted", T0),
	    INGEST_COUNTED);
	assert_int_equal(feed_on(f, 1, 3, false, "s2", "rejected", T0),
	    INGEST_COUNTED);
	assert_int_equal(feed_on(f, 1, 4, false, "s1", "rejected", T0),
	    INGEST_DUPLICATE);
	assert_int_equal(ingest_applied_of(f->in, 0)->seq, 5);
	assert_int_equal(ingest_applied_of(f->in, 1)->seq, 4);
	assert_ptr_equal(ingest_applied_of(f->in, 0), ingest_applied(f->in));
	assert_int_equal(ingest_checkpointed_of(f->in, 1)->seq, 0);
	assert_int_equal(ingest_checkpoint(f->in, &cause), 0);
	assert_int_equal(ingest_checkpointed_of(f->in, 0)->seq, 5);
	assert_int_equal(ingest_checkpointed_of(f->in, 1)->seq, 4);
	/* Applied, not yet checkpointed: lost with a crash. */
	assert_int_equal(feed_on(f, 1, 6, false, "s3", "granted", T0),
	    INGEST_COUNTED);
	assert_int_equal(ingest_checkpointed_of(f->in, 1)->seq, 4);

	assert_int_equal(reopen(f, &cause), 0);
	assert_int_equal(ingest_checkpointed_of(f->in, 0)->seq, 5);
	assert_int_equal(ingest_checkpointed_of(f->in, 1)->seq, 4);
	assert_int_equal(ingest_applied_of(f->in, 1)->seq, 4);
	assert_int_equal(ingest_counters(f->in)->counted, 2);
	/* Redelivered at or before the side position: applied already,
	 * though stream 0 is past 4 only by accident of numbering. */
	assert_int_equal(feed_on(f, 1, 3, true, "s2", "rejected", T0),
	    INGEST_APPLIED);
	assert_int_equal(feed_on(f, 1, 6, true, "s3", "granted", T0),
	    INGEST_COUNTED);
	/* Stream 0's id 6 is new there, though side stream's 6 is done. */
	assert_int_equal(feed_on(f, 0, 6, true, "s4", "granted", T0),
	    INGEST_COUNTED);
	assert_int_equal(ingest_counters(f->in)->counted, 4);
	assert_int_equal(ingest_checkpoint(f->in, &cause), 0);

	/* The side stream renamed: the old position is dropped, the new
	 * stream starts at 0-0; stream 0 keeps its place. */
	free(f->conf.indicators[0].stream);
	f->conf.indicators[0].stream = xstrdup("stabild:other");
	assert_int_equal(reopen(f, &cause), 0);
	assert_string_equal(ingest_stream_key(f->in, 1), "stabild:other");
	assert_int_equal(ingest_checkpointed_of(f->in, 1)->seq, 0);
	assert_int_equal(ingest_checkpointed_of(f->in, 0)->seq, 6);
	assert_int_equal(feed_on(f, 1, 1, false, "s5", "granted", T0),
	    INGEST_COUNTED);
}

/*
 * The state directory the rejection-only daemon wrote before indicators
 * (checkpoint format 2, INGS v1, SERI v1) loads as indicator 0, with an
 * indicator configured beside it, and goes on counting.
 */
static void
test_old_checkpoint(void **state)
{
	static const char *files[] = { "checkpoint", "records.000001",
	    "records.000002", "records.000003", "records.000004",
	    "records.000005" };
	struct fixture *f = *state;
	const struct ingest_counters *c;
	const struct series *s;
	struct bucket tot;
	struct stream_id sid;
	char from[256], to[512], buf[65536];
	char *cause = NULL;
	uint64_t national = 0;
	FILE *in, *out;
	size_t i, n;

	ingest_free(f->in);
	f->in = NULL;
	cleanup_dir(f->dir);
	assert_int_equal(mkdir(f->dir, 0700), 0);
	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(from, sizeof from, "tests/data/checkpoint-v2/%s",
		    files[i]);
		snprintf(to, sizeof to, "%s/%s", f->dir, files[i]);
		assert_non_null(in = fopen(from, "rb"));
		assert_non_null(out = fopen(to, "wb"));
		while ((n = fread(buf, 1, sizeof buf, in)) > 0)
			assert_int_equal(fwrite(buf, 1, n, out), n);
		fclose(in);
		assert_int_equal(fclose(out), 0);
	}
	/* As the fixture's daemon was configured. */
	f->conf.max_offices = 4;
	f->conf.dedup_window = 100;
	f->conf.historical_age_ms = (int64_t)50 * 366 * 86400 * 1000;
	add_indicator(&f->conf, "grant", "decision", "granted",
	    "rejected,partial", NULL);
	assert_int_equal(reopen(f, &cause), 0);
	c = ingest_counters(f->in);
	assert_int_equal(c->counted, 18865);
	assert_int_equal(c->by_event[EVENT_DECISION], 18865);
	assert_int_equal(c->by_event[EVENT_RECONSIDERATION], 0);
	assert_int_equal(series_count_in(ingest_series(f->in), 1), 0);
	for (s = series_first(ingest_series(f->in)); s != NULL;
	    s = series_next(ingest_series(f->in), s)) {
		assert_int_equal(series_indicator(s), 0);
		if (series_office(s) != SERIES_NATIONAL)
			continue;
		series_total(s, &tot);
		national += tot.n + tot.dismissed;
	}
	assert_int_equal(national, 18865);
	/* It goes on, into both indicators, and saves as INGS v2. */
	sid = *ingest_applied(f->in);
	assert_true(sid.ms > 1000);
	sid.seq++;
	assert_int_equal(feed_at(f, 0, sid, false, "after-upgrade", "granted",
	    ingest_max_seen(f->in)), INGEST_COUNTED);
	assert_int_equal(series_count_in(ingest_series(f->in), 1), 2);
	assert_int_equal(ingest_checkpoint(f->in, &cause), 0);
	assert_int_equal(reopen(f, &cause), 0);
	assert_int_equal(ingest_counters(f->in)->counted, 18866);
	assert_int_equal(ingest_counters(f->in)->by_event[EVENT_DECISION],
	    18866);
	assert_int_equal(series_count_in(ingest_series(f->in), 1), 2);
}

#define EV(...)	__VA_ARGS__, "office=K001", "benefit=sjukpenning", \
	"kind=first", "decided_at=1680476400", (const char *)NULL

/*
 * A mixed stream: each event counts in its own indicators only, by its
 * outcome or detail and the indicator's filter; a reconsideration may
 * reuse its decision's id (the duplicate key is EVENT/ID), and events no
 * indicator watches are counted and recorded all the same.
 */
static void
test_mixed_events(void **state)
{
	struct fixture *f = *state;
	const struct series_set *set;
	const struct ingest_counters *c;
	const struct bucket *b;
	struct period p;
	char *cause = NULL;
	int sup, rec, tim;

	add_indicator(&f->conf, "supplement", "decision", "yes", "no", NULL);
	f->conf.indicators[0].field = xstrdup("supplement_requested");
	add_indicator(&f->conf, "reconsideration", "reconsideration",
	    "changed", "unchanged", NULL);
	add_indicator(&f->conf, "timeliness", "assessment", "late", "on_time",
	    NULL);
	f->conf.indicators[2].checkpoint = xstrdup("180");
	assert_int_equal(reopen(f, &cause), 0);
	sup = indicators_find(ingest_indicators(f->in), "supplement");
	rec = indicators_find(ingest_indicators(f->in), "reconsideration");
	tim = indicators_find(ingest_indicators(f->in), "timeliness");
	assert_int_equal(sup, 1);
	assert_int_equal(rec, 2);
	assert_int_equal(tim, 3);

	assert_int_equal(feed(f, 0, false, &cause, EV("id=a1",
	    "outcome=rejected", "supplement_requested=yes")), INGEST_COUNTED);
	assert_int_equal(feed(f, 0, false, &cause, EV("id=a2",
	    "outcome=granted")), INGEST_COUNTED);
	/* The decision's id, another kind: not a duplicate. */
	assert_int_equal(feed(f, 0, false, &cause, EV("id=a1",
	    "event=reconsideration", "outcome=changed")), INGEST_COUNTED);
	assert_int_equal(feed(f, 0, false, &cause, EV("id=a1",
	    "event=reconsideration", "outcome=unchanged")), INGEST_DUPLICATE);
	assert_int_equal(feed(f, 0, false, &cause, EV("id=a1",
	    "outcome=granted")), INGEST_DUPLICATE);
	assert_int_equal(feed(f, 0, false, &cause, EV("id=s1",
	    "event=assessment", "outcome=late", "checkpoint=180")),
	    INGEST_COUNTED);
	/* Filtered out of timeliness (checkpoint 90). */
	assert_int_equal(feed(f, 0, false, &cause, EV("id=s2",
	    "event=assessment", "outcome=on_time", "checkpoint=90")),
	    INGEST_COUNTED);
	/* No indicator watches appeals. */
	assert_int_equal(feed(f, 0, false, &cause, EV("id=p1",
	    "event=appeal", "outcome=changed")), INGEST_COUNTED);
	/* A bad outcome for its kind is refused. */
	assert_int_equal(feed(f, 0, false, &cause, EV("id=p2",
	    "event=appeal", "outcome=granted")), INGEST_INVALID);
	assert_non_null(strstr(cause, "outcome"));
	free(cause);
	cause = NULL;

	c = ingest_counters(f->in);
	assert_int_equal(c->counted, 6);
	assert_int_equal(c->duplicates, 2);
	assert_int_equal(c->invalid, 1);
	assert_int_equal(c->by_event[EVENT_DECISION], 2);
	assert_int_equal(c->by_event[EVENT_RECONSIDERATION], 1);
	assert_int_equal(c->by_event[EVENT_ASSESSMENT], 2);
	assert_int_equal(c->by_event[EVENT_APPEAL], 1);
	/* by_outcome stays the decisions' own. */
	assert_int_equal(c->by_outcome[OUTCOME_REJECTED], 1);
	assert_int_equal(c->by_outcome[OUTCOME_GRANTED], 1);
	assert_int_equal(c->by_outcome[OUTCOME_PARTIAL], 0);

	set = ingest_series(f->in);
	period_of(T0, &p);
	b = series_week(series_get_in(set, 0, 0, 0, DECISION_FIRST), p.week);
	assert_int_equal(b->n, 2);
	assert_int_equal(b->rejected, 1);
	b = series_week(series_get_in(set, sup, 0, 0, DECISION_FIRST),
	    p.week);
	assert_int_equal(b->n, 1);
	assert_int_equal(b->rejected, 1);
	assert_int_equal(b->dismissed, 1);	/* a2 did not say */
	b = series_week(series_get_in(set, rec, SERIES_NATIONAL, 0,
	    DECISION_FIRST), p.week);
	assert_int_equal(b->n, 1);
	assert_int_equal(b->rejected, 1);
	b = series_week(series_get_in(set, tim, 0, 0, DECISION_FIRST),
	    p.week);
	assert_int_equal(b->n, 1);
	assert_int_equal(b->rejected, 1);
	assert_int_equal(b->dismissed, 0);
	assert_int_equal(hook.counted_in[rec][INDICATOR_YES], 1);
	assert_int_equal(hook.counted_in[rec][INDICATOR_NO], 0);
	assert_int_equal(hook.counted_in[tim][INDICATOR_YES], 1);
	assert_int_equal(hook.counted_in[sup][INDICATOR_EXCLUDED], 1);
	assert_int_equal(hook.counted, 2 + 2 + 1 + 1);

	/* Every counted event has its record; all of it is kept. */
	assert_int_equal(ingest_checkpoint(f->in, &cause), 0);
	assert_int_equal(records_size(f->dir), 6 * RECORD_SIZE);
	assert_int_equal(reopen(f, &cause), 0);
	c = ingest_counters(f->in);
	assert_int_equal(c->by_event[EVENT_APPEAL], 1);
	assert_int_equal(c->by_event[EVENT_ASSESSMENT], 2);
	/* The duplicate window keeps the kinds apart across a restart. */
	assert_int_equal(feed(f, 0, false, &cause, EV("id=s1",
	    "event=assessment", "outcome=late", "checkpoint=180")),
	    INGEST_DUPLICATE);
	assert_int_equal(feed(f, 0, false, &cause, EV("id=s1",
	    "outcome=granted")), INGEST_COUNTED);
}

/*
 * On a side stream, entries without `event` are of its indicators' kind;
 * an entry that names its kind is taken on any stream.
 */
static void
test_side_stream_events(void **state)
{
	struct fixture *f = *state;
	const struct bucket *b;
	struct period p;
	char *cause = NULL;

	add_indicator(&f->conf, "reconsideration", "reconsideration",
	    "changed", "unchanged", "stabild:reconsiderations");
	assert_int_equal(reopen(f, &cause), 0);
	assert_int_equal(ingest_streams(f->in), 2);
	assert_int_equal(feed_k(f, 1, &cause, EV("id=r1", "outcome=changed")),
	    INGEST_COUNTED);
	assert_int_equal(feed_k(f, 1, &cause, EV("id=r2",
	    "outcome=unchanged")), INGEST_COUNTED);
	assert_int_equal(feed_k(f, 1, &cause, EV("id=r3", "event=decision",
	    "outcome=rejected")), INGEST_COUNTED);
	/* On the decision stream, no event means a decision. */
	assert_int_equal(feed_k(f, 0, &cause, EV("id=r4", "outcome=changed")),
	    INGEST_INVALID);
	free(cause);
	cause = NULL;
	assert_int_equal(feed_k(f, 1, &cause, EV("id=r5",
	    "outcome=rejected")), INGEST_INVALID);
	assert_non_null(strstr(cause, "reconsideration"));
	free(cause);
	cause = NULL;
	assert_int_equal(ingest_counters(f->in)->by_event[
	    EVENT_RECONSIDERATION], 2);
	assert_int_equal(ingest_counters(f->in)->by_event[EVENT_DECISION], 1);
	period_of(T0, &p);
	b = series_week(series_get_in(ingest_series(f->in), 1, 0, 0,
	    DECISION_FIRST), p.week);
	assert_non_null(b);
	assert_int_equal(b->n, 2);
	assert_int_equal(b->rejected, 1);
	assert_int_equal(ingest_applied_of(f->in, 1)->seq, f->seq);
}

/*
 * Two streams, one ahead: the watermark follows the stream still being
 * read that is furthest behind, so a side stream drained ahead of the
 * decision stream's backlog makes none of the backlog late. A stream
 * not heard from holds it; once every stream is drained, the latest
 * event of any moves it.
 */
static void
test_watermark_per_stream(void **state)
{
	struct fixture *f = *state;
	int64_t lateness, t;
	char *cause = NULL, id[32];
	int i;

	add_indicator(&f->conf, "reconsideration", "reconsideration",
	    "changed", "unchanged", "stabild:reconsiderations");
	assert_int_equal(reopen(f, &cause), 0);
	lateness = f->conf.lateness_ms / 1000;

	/* The side stream's recent events come first: the decision stream,
	 * not heard from yet, holds the watermark. */
	assert_int_equal(feed_on(f, 1, 1, false, "r1", "changed",
	    T0 + 28 * DAY), INGEST_COUNTED);
	assert_true(ingest_watermark(f->in) == INT64_MIN);
	ingest_stream_idle(f->in, 1, true);
	assert_true(ingest_watermark(f->in) == INT64_MIN);

	/* Four weeks of decisions: the watermark follows them alone. */
	for (i = 0; i < 28; i++) {
		snprintf(id, sizeof id, "d%d", i);
		t = T0 + i * DAY;
		assert_int_equal(feed_on(f, 0, (uint64_t)i + 1, false, id,
		    i % 4 == 0 ? "rejected" : "granted", t), INGEST_COUNTED);
		assert_true(ingest_watermark(f->in) == t - lateness);
	}
	/* The side stream has entries again: it holds the watermark too. */
	assert_int_equal(feed_on(f, 1, 2, false, "r2", "unchanged",
	    T0 + 27 * DAY + 60), INGEST_COUNTED);
	assert_int_equal(feed_on(f, 0, 29, false, "d28", "granted",
	    T0 + 28 * DAY + 60), INGEST_COUNTED);
	assert_true(ingest_watermark(f->in) == T0 + 28 * DAY - lateness);
	assert_int_equal(ingest_counters(f->in)->late, 0);
	assert_int_equal(ingest_counters(f->in)->counted, 31);

	/* Both drained: the latest event of any stream. */
	ingest_stream_idle(f->in, 0, true);
	assert_true(ingest_watermark(f->in) == T0 + 28 * DAY - lateness);
	ingest_stream_idle(f->in, 1, true);
	assert_true(ingest_watermark(f->in) == T0 + 28 * DAY + 60 - lateness);
	/* A late event is still one. */
	assert_int_equal(feed_on(f, 1, 3, false, "r3", "changed", T0),
	    INGEST_COUNTED);
	assert_int_equal(ingest_counters(f->in)->late, 1);
}

static void
test_stream_ids(void **state)
{
	struct stream_id a, b;
	char buf[STREAM_ID_MAX];

	(void)state;
	assert_int_equal(stream_id_parse("1526919030474-55", 16, &a), 0);
	assert_true(a.ms == 1526919030474ULL && a.seq == 55);
	assert_int_equal(stream_id_parse("7", 1, &b), 0);
	assert_true(b.ms == 7 && b.seq == 0);
	assert_true(stream_id_cmp(&a, &b) > 0);
	stream_id_format(&a, buf);
	assert_string_equal(buf, "1526919030474-55");
	assert_int_equal(stream_id_parse("", 0, &a), -1);
	assert_int_equal(stream_id_parse("-1", 2, &a), -1);
	assert_int_equal(stream_id_parse("1-2-3", 5, &a), -1);
	assert_int_equal(stream_id_parse("99999999999999999999999", 23, &a), -1);
	assert_int_equal(stream_id_parse("12a-1", 5, &a), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_counting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicates_and_invalid,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_redelivered, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_weeks_close_in_order,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_detector, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_idle_clock_closes_weeks,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_round_trip,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_forked_checkpoint, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_records_backpressure,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_benefit_list_change,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_indicators_counting,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_indicator_list_change,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_positions,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_checkpoint,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_mixed_events, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_side_stream_events,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_watermark_per_stream,
		    setup, teardown),
		cmocka_unit_test(test_stream_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
