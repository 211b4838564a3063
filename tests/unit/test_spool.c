/*
 * spool: durable puts, idempotence, backoff with jitter and its cap,
 * expiry, restart (including an attempt cut short) and damaged files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "spool.h"

#define T0	1700000000000LL		/* Unix ms */
#define BODY	"{\"alert_id\":\"K017.sjukpenning\",\"note\":\"\xc3\xb6\"}"

static char dir[64];
static char outbox[96];

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/stabild-test-spool-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(outbox, sizeof outbox, "%s/outbox", dir);
	return 0;
}

static int
teardown(void **state)
{
	struct dirent *de;
	char path[512];
	DIR *d;

	(void)state;
	if ((d = opendir(outbox)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof path, "%s/%s", outbox, de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(outbox);
	rmdir(dir);
	return 0;
}

/* Files in the outbox whose names end in suffix. */
static int
count_files(const char *suffix)
{
	struct dirent *de;
	size_t n, m = strlen(suffix);
	int count = 0;
	DIR *d = opendir(outbox);

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (de->d_name[0] != '.' && n >= m &&
		    strcmp(de->d_name + n - m, suffix) == 0)
			count++;
	}
	closedir(d);
	return count;
}

static struct spool *
open_spool(void)
{
	char *cause = NULL;
	struct spool *sp = spool_open(dir, &cause);

	assert_null(cause);
	assert_non_null(sp);
	spool_set_seed(sp, 42);
	return sp;
}

static void
put(struct spool *sp, const char *id, int64_t now)
{
	char *cause = NULL;

	assert_int_equal(spool_put(sp, id, "ops-webhook", "application/json",
	    BODY, strlen(BODY), now, &cause), 0);
	assert_null(cause);
}

/* The one item with this id, or NULL. */
static const struct spool_item *
find(const struct spool *sp, const char *id)
{
	int i;

	for (i = 0; i < spool_count(sp); i++) {
		if (strcmp(spool_at(sp, i)->id, id) == 0)
			return spool_at(sp, i);
	}
	return NULL;
}

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
put_group(struct spool *sp, const char *id, const char *receiver,
    const char *group, int64_t now, int64_t due)
{
	char *cause = NULL;

	assert_int_equal(spool_put_at(sp, id, receiver, group,
	    "application/json", BODY, strlen(BODY), now, due, &cause), 0);
	assert_null(cause);
}

/*
 * Grouping: members share the window the first one opened, go out
 * together, only with their own receiver and group, and keep their group
 * across a restart.
 */
static void
test_groups(void **state)
{
	struct spool *sp;
	struct spool_item *lead, *rest[8];
	char *cause = NULL;
	int n;

	(void)state;
	sp = open_spool();
	assert_true(spool_group_due(sp, "r", "g", T0) == -1);
	put_group(sp, "a.1.r", "r", "g", T0, T0 + 30000);
	assert_true(spool_group_due(sp, "r", "g", T0 + 1000) == T0 + 30000);
	assert_true(spool_group_due(sp, "r", "other", T0 + 1000) == -1);
	assert_true(spool_group_due(sp, "q", "g", T0 + 1000) == -1);
	/* The window is closed once its time has come. */
	assert_true(spool_group_due(sp, "r", "g", T0 + 30000) == -1);
	put_group(sp, "b.1.r", "r", "g", T0 + 1000, T0 + 30000);
	put_group(sp, "c.1.q", "q", "g", T0 + 1000, T0 + 30000);
	put_group(sp, "d.1.r", "r", "h", T0 + 1000, T0 + 30000);
	put_group(sp, "e.1.r", "r", "", T0 + 1000, T0 + 1000);
	/* A due time before now is refused. */
	assert_int_equal(spool_put_at(sp, "f.1.r", "r", "g", "text/plain",
	    "x", 1, T0, T0 - 1, &cause), -1);
	free(cause);
	spool_close(sp);

	sp = open_spool();
	assert_string_equal(find(sp, "b.1.r")->group, "g");
	assert_string_equal(find(sp, "e.1.r")->group, "");
	/* Nothing of the group is due before the window ends. */
	lead = spool_next_due(sp, T0 + 29999);
	assert_non_null(lead);
	assert_string_equal(lead->id, "e.1.r");
	assert_int_equal(spool_take_group(sp, lead, rest, 8), 0);
	assert_int_equal(spool_delivered(sp, lead), 0);
	assert_null(spool_next_due(sp, T0 + 29999));

	lead = spool_next_due(sp, T0 + 30000);
	assert_non_null(lead);
	assert_string_equal(lead->id, "a.1.r");
	n = spool_take_group(sp, lead, rest, 8);
	assert_int_equal(n, 1);
	assert_string_equal(rest[0]->id, "b.1.r");
	assert_int_equal(rest[0]->state, SPOOL_INFLIGHT);
	/* A failed group retries as a group: the members wait again. */
	assert_int_equal(spool_failed(sp, lead, "HTTP 500", T0 + 30000), 0);
	assert_int_equal(spool_failed(sp, rest[0], "HTTP 500", T0 + 30000), 0);
	/* Another receiver's or group's items go on their own. */
	lead = spool_next_due(sp, T0 + 30000);
	assert_string_equal(lead->id, "c.1.q");
	assert_int_equal(spool_take_group(sp, lead, rest, 8), 0);
	assert_int_equal(spool_delivered(sp, lead), 0);
	lead = spool_next_due(sp, T0 + 30000);
	assert_string_equal(lead->id, "d.1.r");
	assert_int_equal(spool_take_group(sp, lead, rest, 8), 0);
	assert_int_equal(spool_delivered(sp, lead), 0);
	assert_null(spool_next_due(sp, T0 + 30000));
	lead = spool_next_due(sp, T0 + 30000 + SPOOL_CAP_MS);
	assert_non_null(lead);
	assert_int_equal(spool_take_group(sp, lead, rest, 8), 1);
	assert_string_not_equal(lead->id, rest[0]->id);
	assert_int_equal(spool_count(sp), 2);
	spool_close(sp);
}

static void
test_put_deliver(void **state)
{
	struct spool *sp;
	struct spool_item *it;
	struct spool_stats st;

	(void)state;
	sp = open_spool();
	assert_int_equal(spool_count(sp), 0);
	assert_null(spool_next_due(sp, T0));
	put(sp, "a-1.1.ops-webhook", T0);
	assert_int_equal(count_files(".json"), 1);

	assert_null(spool_next_due(sp, T0 - 1));
	it = spool_next_due(sp, T0);
	assert_non_null(it);
	assert_string_equal(it->id, "a-1.1.ops-webhook");
	assert_string_equal(it->receiver, "ops-webhook");
	assert_string_equal(it->content_type, "application/json");
	assert_int_equal(it->len, strlen(BODY));
	assert_memory_equal(it->payload, BODY, strlen(BODY));
	assert_int_equal(it->state, SPOOL_INFLIGHT);
	assert_null(spool_next_due(sp, T0 + 1000));	/* already out */
	assert_int_equal(spool_next_time(sp), -1);

	assert_int_equal(spool_delivered(sp, it), 0);
	assert_int_equal(spool_count(sp), 0);
	assert_true(spool_unsynced(sp));
	assert_int_equal(spool_sync(sp, 10), 0);
	assert_false(spool_unsynced(sp));
	assert_int_equal(count_files(".json"), 0);
	assert_int_equal(count_files(""), 2);	/* the journals, no temporary */
	spool_get_stats(sp, &st);
	assert_true(st.queued == 1 && st.delivered == 1);
	assert_true(st.retried == 0 && st.expired == 0);
	spool_close(sp);
}

/*
 * spool_defer (HA mode: a claim held elsewhere): waiting again at the
 * given time, no attempt counted, the file untouched; a failed item
 * deferred stays a retry.
 */
static void
test_defer(void **state)
{
	struct spool *sp;
	struct spool_item *it;
	struct spool_stats st;
	struct stat before, after;
	char path[256];

	(void)state;
	sp = open_spool();
	put(sp, "a-1.1.ops", T0);
	it = spool_next_due(sp, T0);
	assert_non_null(it);
	snprintf(path, sizeof path, "%s", it->path);
	assert_int_equal(stat(path, &before), 0);
	spool_defer(sp, it, T0 + 1500);
	assert_int_equal(it->state, SPOOL_QUEUED);
	assert_int_equal(it->attempts, 0);
	assert_int_equal(spool_next_time(sp), T0 + 1500);
	assert_null(spool_next_due(sp, T0 + 1499));
	assert_int_equal(stat(path, &after), 0);
	assert_true(before.st_mtim.tv_sec == after.st_mtim.tv_sec &&
	    before.st_mtim.tv_nsec == after.st_mtim.tv_nsec &&
	    before.st_ino == after.st_ino);
	assert_ptr_equal(spool_next_due(sp, T0 + 1500), it);
	assert_int_equal(spool_failed(sp, it, "500", T0 + 1500), 0);
	it = spool_next_due(sp, T0 + 3600 * 1000);
	assert_non_null(it);
	spool_defer(sp, it, T0 + 3600 * 1000 + 10);
	assert_int_equal(it->state, SPOOL_RETRY);
	assert_int_equal(it->attempts, 1);
	assert_int_equal(spool_pending(sp), 1);
	spool_get_stats(sp, &st);
	assert_true(st.retried == 1 && st.delivered == 0);
	/* A restart finds it waiting and due, as after an attempt cut short. */
	spool_close(sp);
	sp = open_spool();
	assert_int_equal(spool_pending(sp), 1);
	assert_non_null(spool_next_due(sp, T0 + 3600 * 1000));
	spool_close(sp);
}

static void
test_put_twice(void **state)
{
	struct spool *sp;
	struct spool_stats st;
	char *cause = NULL;

	(void)state;
	sp = open_spool();
	put(sp, "a-1.1.ops-webhook", T0);
	assert_int_equal(spool_put(sp, "a-1.1.ops-webhook", "other",
	    "text/plain", "x", 1, T0 + 5000, &cause), 0);
	assert_null(cause);
	assert_int_equal(spool_count(sp), 1);
	assert_int_equal(count_files(".json"), 1);
	assert_string_equal(spool_at(sp, 0)->receiver, "ops-webhook");
	assert_true(spool_at(sp, 0)->created_at == T0);
	spool_get_stats(sp, &st);
	assert_true(st.queued == 1);
	spool_close(sp);

	/* Also after a restart: the replay of a put is a no-op. */
	sp = open_spool();
	put(sp, "a-1.1.ops-webhook", T0 + 9000);
	assert_int_equal(spool_count(sp), 1);
	assert_true(spool_at(sp, 0)->created_at == T0);
	spool_close(sp);
}

static void
test_put_invalid(void **state)
{
	static const char *const ids[] = {
		"", "has space", "new\nline", "\xc3\xb6",
	};
	struct spool *sp;
	char *cause, id[SPOOL_ID_MAX + 1];
	size_t i;

	(void)state;
	sp = open_spool();
	for (i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		cause = NULL;
		assert_int_equal(spool_put(sp, ids[i], "r", "text/plain", "x",
		    1, T0, &cause), -1);
		assert_non_null(cause);
		free(cause);
	}
	memset(id, 'a', SPOOL_ID_MAX);
	id[SPOOL_ID_MAX] = '\0';
	cause = NULL;
	assert_int_equal(spool_put(sp, id, "r", "text/plain", "x", 1, T0,
	    &cause), -1);
	assert_non_null(cause);
	free(cause);
	id[SPOOL_ID_MAX - 1] = '\0';	/* the longest that fits */
	put(sp, id, T0);
	assert_int_equal(spool_delivered(sp, spool_next_due(sp, T0)), 0);
	cause = NULL;
	assert_int_equal(spool_put(sp, "a-2.1.r", "r", "text/plain",
	    "\xff\xfe", 2, T0, &cause), -1);	/* not UTF-8 */
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	assert_int_equal(spool_put(sp, "a-2.1.r", "", "text/plain", "x", 1,
	    T0, &cause), -1);
	assert_non_null(cause);
	free(cause);
	assert_int_equal(spool_count(sp), 0);
	assert_int_equal(spool_sync(sp, 10), 0);
	assert_int_equal(count_files(".json"), 0);

	/* Any printable id makes a plain file name in the outbox. */
	put(sp, "../a/b", T0);
	assert_int_equal(count_files(".json"), 1);
	spool_close(sp);
	sp = open_spool();
	assert_non_null(find(sp, "../a/b"));
	spool_close(sp);
}

static void
test_backoff(void **state)
{
	struct spool *sp;
	struct spool_item *it;
	struct spool_stats st;
	int64_t now = T0, base = SPOOL_BASE_MS, b;
	int i, round;

	(void)state;
	for (round = 0; round < 20; round++) {
		sp = open_spool();
		spool_set_seed(sp, (uint64_t)round * 7919);
		put(sp, "a-3.1.ops-webhook", T0);

		it = spool_next_due(sp, now);
		assert_int_equal(spool_failed(sp, it, "HTTP 500", now), 0);
		assert_int_equal(it->state, SPOOL_RETRY);
		assert_int_equal(it->attempts, 1);
		assert_string_equal(it->last_error, "HTTP 500");
		assert_true(it->next_at >= now + base / 2);
		assert_true(it->next_at <= now + base);
		assert_true(spool_next_time(sp) == it->next_at);
		assert_null(spool_next_due(sp, it->next_at - 1));

		now = it->next_at;
		assert_true(spool_next_due(sp, now) == it);
		assert_int_equal(spool_failed(sp, it, "timeout", now), 0);
		assert_int_equal(it->attempts, 2);
		assert_true(it->next_at >= now + base);
		assert_true(it->next_at <= now + 2 * base);

		/* Doubling stops at the cap. */
		for (i = 0; i < 20; i++) {
			now = it->next_at;
			assert_true(spool_next_due(sp, now) == it);
			assert_int_equal(spool_failed(sp, it, "down", now), 0);
		}
		b = it->next_at - now;
		assert_true(b >= SPOOL_CAP_MS / 2 && b <= SPOOL_CAP_MS);
		spool_get_stats(sp, &st);
		assert_true(st.retried == 22);
		assert_true(spool_next_due(sp, it->next_at) == it);
		assert_int_equal(spool_delivered(sp, it), 0);
		spool_close(sp);
		now = T0;
	}
}

static void
test_limits(void **state)
{
	struct spool *sp;
	struct spool_item *it;
	int64_t now = T0;
	int i;

	(void)state;
	sp = open_spool();
	assert_int_equal(spool_set_limits(sp, 0, 10, 10), -1);
	assert_int_equal(spool_set_limits(sp, 100, 50, 10), -1);
	assert_int_equal(spool_set_limits(sp, 100, 400, 0), -1);
	assert_int_equal(spool_set_limits(sp, 100, 400, 3600000), 0);
	put(sp, "a-4.1.ops-webhook", T0);
	for (i = 0; i < 10; i++) {
		it = spool_next_due(sp, now);
		assert_non_null(it);
		assert_int_equal(spool_failed(sp, it, "down", now), 0);
		if (i == 0)
			assert_true(it->next_at - now >= 50 &&
			    it->next_at - now <= 100);
		else if (i >= 2)
			assert_true(it->next_at - now >= 200 &&
			    it->next_at - now <= 400);
		now = it->next_at;
	}
	spool_close(sp);
}

static void
test_expiry(void **state)
{
	struct spool *sp;
	struct spool_item *it;
	struct spool_stats st;
	int64_t now;

	(void)state;
	sp = open_spool();
	assert_int_equal(spool_set_limits(sp, 1000, 60000, 10000), 0);
	put(sp, "a-5.1.ops-webhook", T0);
	put(sp, "a-5.1.ops-mail", T0 + 1);

	it = spool_next_due(sp, T0);
	assert_string_equal(it->id, "a-5.1.ops-webhook");
	assert_int_equal(spool_failed(sp, it, "refused", T0 + 10000), 0);
	assert_int_equal(it->state, SPOOL_RETRY);	/* at the limit */
	now = it->next_at;

	/* Both due: the earlier next_at first. */
	it = spool_next_due(sp, now);
	assert_string_equal(it->id, "a-5.1.ops-mail");
	assert_int_equal(spool_delivered(sp, it), 0);

	it = spool_next_due(sp, now);
	assert_string_equal(it->id, "a-5.1.ops-webhook");
	assert_int_equal(spool_failed(sp, it, "refused again", now), 0);
	assert_int_equal(it->state, SPOOL_EXPIRED);
	assert_int_equal(it->attempts, 2);
	assert_string_equal(it->last_error, "refused again");

	assert_null(spool_next_due(sp, now + 86400000));
	assert_int_equal(spool_next_time(sp), -1);
	assert_int_equal(spool_count(sp), 1);
	assert_int_equal(spool_pending(sp), 0);
	assert_int_equal(spool_sync(sp, 10), 0);
	assert_int_equal(count_files(".json"), 1);
	spool_get_stats(sp, &st);
	assert_true(st.expired == 1 && st.retried == 1 && st.delivered == 1);
	spool_close(sp);

	/* Kept across a restart, still not handed out. */
	sp = open_spool();
	assert_int_equal(spool_count(sp), 1);
	assert_int_equal(spool_at(sp, 0)->state, SPOOL_EXPIRED);
	assert_null(spool_next_due(sp, now + 86400000));
	spool_close(sp);
}

static void
test_reopen(void **state)
{
	struct spool *sp;
	struct spool_item *it;
	const struct spool_item *c;
	int64_t before, after;

	(void)state;
	sp = open_spool();
	assert_int_equal(spool_set_limits(sp, 1000, 60000, 5000), 0);
	put(sp, "b-2.1.retry", T0);
	put(sp, "b-3.1.expired", T0 + 1);
	put(sp, "b-4.1.inflight", T0 + 2);
	put(sp, "b-1.1.queued", T0 + 10);

	it = spool_next_due(sp, T0);
	assert_string_equal(it->id, "b-2.1.retry");
	assert_int_equal(spool_failed(sp, it, "500", T0 + 100), 0);
	it = spool_next_due(sp, T0 + 1);
	assert_string_equal(it->id, "b-3.1.expired");
	assert_int_equal(spool_failed(sp, it, "gone", T0 + 9000), 0);
	assert_int_equal(it->state, SPOOL_EXPIRED);
	it = spool_next_due(sp, T0 + 2);
	assert_string_equal(it->id, "b-4.1.inflight");
	spool_close(sp);	/* the daemon dies during that attempt */

	before = wall_ms();
	sp = open_spool();
	after = wall_ms();
	assert_int_equal(spool_count(sp), 4);
	assert_string_equal(spool_at(sp, 0)->id, "b-2.1.retry");
	assert_string_equal(spool_at(sp, 3)->id, "b-1.1.queued");

	c = find(sp, "b-1.1.queued");
	assert_int_equal(c->state, SPOOL_QUEUED);
	assert_int_equal(c->attempts, 0);
	assert_true(c->created_at == T0 + 10 && c->next_at == T0 + 10);

	c = find(sp, "b-2.1.retry");
	assert_int_equal(c->state, SPOOL_RETRY);
	assert_int_equal(c->attempts, 1);
	assert_string_equal(c->last_error, "500");
	assert_true(c->next_at >= T0 + 100 + 500 && c->next_at <= T0 + 1100);

	c = find(sp, "b-3.1.expired");
	assert_int_equal(c->state, SPOOL_EXPIRED);
	assert_int_equal(c->attempts, 1);
	assert_string_equal(c->last_error, "gone");

	/* An attempt is not written: the file still says due, as it was. */
	c = find(sp, "b-4.1.inflight");
	assert_int_equal(c->state, SPOOL_QUEUED);
	assert_int_equal(c->attempts, 0);
	assert_true(c->next_at == T0 + 2 && c->next_at < before);
	assert_int_equal(c->len, strlen(BODY));
	assert_memory_equal(c->payload, BODY, strlen(BODY));
	assert_string_equal(c->receiver, "ops-webhook");
	assert_string_equal(c->content_type, "application/json");

	assert_int_equal(spool_pending(sp), 3);
	assert_int_equal(spool_expired(sp), 1);
	assert_true(spool_next_time(sp) == T0 + 2);
	it = spool_next_due(sp, after);
	assert_string_equal(it->id, "b-4.1.inflight");
	it = spool_next_due(sp, after);
	assert_string_equal(it->id, "b-1.1.queued");
	spool_close(sp);
}

/* Expire the item of id (it must be due at now) by one failure. */
static void
expire(struct spool *sp, const char *id, int64_t now)
{
	struct spool_item *it = spool_next_due(sp, now);

	assert_non_null(it);
	assert_string_equal(it->id, id);
	assert_int_equal(spool_failed(sp, it, "gone", now), 0);
	assert_int_equal(it->state, SPOOL_EXPIRED);
	assert_true(it->next_at == now);
}

/*
 * Expired items beyond the count kept go, oldest expiry first, counted,
 * a few per call; they never count toward the pending limit.
 */
static void
test_prune_count(void **state)
{
	struct spool *sp;
	struct spool_stats st;
	int64_t late = T0 + 20000;

	(void)state;
	sp = open_spool();
	assert_int_equal(spool_set_limits(sp, 1000, 60000, 10000), 0);
	assert_int_equal(spool_set_keep(sp, -1, 1000), -1);
	assert_int_equal(spool_set_keep(sp, SPOOL_KEEP_MAX + 1, 1000), -1);
	assert_int_equal(spool_set_keep(sp, 2, -1), -1);
	assert_int_equal(spool_set_keep(sp, 2, 86400000), 0);
	put(sp, "p-1.1.ops", T0);
	put(sp, "p-2.1.ops", T0 + 1);
	put(sp, "p-3.1.ops", T0 + 2);
	put(sp, "p-4.1.ops", T0 + 3);
	put(sp, "p-5.1.ops", late + 100);	/* not due in this test */
	/* Expired in another order than created. */
	assert_int_equal(spool_failed(sp, spool_next_due(sp, T0), "500", T0),
	    0);
	expire(sp, "p-2.1.ops", late);
	expire(sp, "p-3.1.ops", late + 1);
	expire(sp, "p-4.1.ops", late + 2);
	expire(sp, "p-1.1.ops", late + 3);
	assert_int_equal(spool_pending(sp), 1);
	assert_int_equal(spool_expired(sp), 4);
	assert_true(spool_prune_time(sp) == late);
	spool_close(sp);

	/* A restart keeps the expiry order and the bound. */
	sp = open_spool();
	assert_int_equal(spool_set_keep(sp, 2, 86400000), 0);
	assert_int_equal(spool_expired(sp), 4);
	assert_int_equal(spool_prune(sp, late + 3, 1), 1);
	assert_null(find(sp, "p-2.1.ops"));
	assert_int_equal(spool_prune(sp, late + 3, 10), 1);
	assert_null(find(sp, "p-3.1.ops"));
	assert_int_equal(spool_prune(sp, late + 3, 10), 0);
	assert_non_null(find(sp, "p-4.1.ops"));
	assert_non_null(find(sp, "p-1.1.ops"));
	assert_int_equal(spool_expired(sp), 2);
	assert_int_equal(spool_pending(sp), 1);
	assert_int_equal(spool_count(sp), 3);
	assert_int_equal(spool_sync(sp, 10), 0);
	assert_int_equal(count_files(".json"), 3);
	spool_get_stats(sp, &st);
	assert_true(st.dropped == 2);
	/* Kept for a day after expiry: due then. */
	assert_true(spool_prune_time(sp) == late + 2 + 86400000);
	/* A new notification is taken whatever is expired. */
	put(sp, "p-6.1.ops", late + 4);
	assert_int_equal(spool_pending(sp), 2);
	spool_close(sp);
}

/* Expired items kept longer than the age go, even under the count. */
static void
test_prune_age(void **state)
{
	struct spool *sp;
	struct spool_stats st;
	int64_t late = T0 + 20000;

	(void)state;
	sp = open_spool();
	assert_int_equal(spool_set_limits(sp, 1000, 60000, 10000), 0);
	assert_int_equal(spool_set_keep(sp, 100, 5000), 0);
	put(sp, "q-1.1.ops", T0);
	put(sp, "q-2.1.ops", T0 + 1);
	put(sp, "q-3.1.ops", T0 + 2);
	expire(sp, "q-1.1.ops", late);
	expire(sp, "q-2.1.ops", late + 3000);
	assert_true(spool_prune_time(sp) == late + 5000);
	assert_int_equal(spool_prune(sp, late + 4999, 10), 0);
	assert_int_equal(spool_prune(sp, late + 5000, 10), 1);
	assert_null(find(sp, "q-1.1.ops"));
	assert_true(spool_prune_time(sp) == late + 8000);
	assert_int_equal(spool_prune(sp, late + 7999, 10), 0);
	assert_int_equal(spool_prune(sp, late + 9000, 10), 1);
	assert_int_equal(spool_prune_time(sp), -1);
	assert_int_equal(spool_expired(sp), 0);
	assert_int_equal(spool_count(sp), 1);
	spool_get_stats(sp, &st);
	assert_true(st.dropped == 2 && st.expired == 2);
	/* Keeping none drops at once. */
	assert_int_equal(spool_set_keep(sp, 0, 5000), 0);
	expire(sp, "q-3.1.ops", late + 9000);
	assert_true(spool_prune_time(sp) == late + 9000);
	assert_int_equal(spool_prune(sp, late + 9000, 10), 1);
	assert_int_equal(spool_count(sp), 0);
	assert_int_equal(spool_sync(sp, 10), 0);
	assert_int_equal(count_files(".json"), 0);
	spool_close(sp);
}

/*
 * Many items: handed out by due time then creation, whatever the order of
 * puts and retries; a failure is in the file at once, synced later.
 */
static void
test_order_many(void **state)
{
	struct spool *sp;
	struct spool_item *it, *rest[12];
	char id[64], *cause = NULL;
	int64_t last = -1, due;
	uint64_t lastseq = 0;
	int i, j, k, n = 0;

	(void)state;
	sp = open_spool();
	for (i = 0; i < 500; i++) {
		snprintf(id, sizeof id, "m-%d.1.ops", i);
		due = T0 + (int64_t)((i * 7919) % 101) * 10;
		assert_int_equal(spool_put_at(sp, id, "ops", i % 50 == 0 ?
		    "g" : "", "application/json", BODY, strlen(BODY), T0, due,
		    &cause), 0);
	}
	assert_int_equal(spool_pending(sp), 500);
	assert_true(spool_next_time(sp) == T0);
	/* The first group member takes the other nine with it. */
	while ((it = spool_next_due(sp, T0 + 10000)) != NULL) {
		assert_true(it->next_at >= last);
		if (it->next_at == last)
			assert_true(it->seq > lastseq);
		last = it->next_at;
		lastseq = it->seq;
		n++;
		if (it->group[0] != '\0') {
			for (j = k = 0; j < 3; j++) {
				assert_int_equal(spool_take_group(sp, it,
				    rest + k, 4), j < 2 ? 4 : 1);
				k += j < 2 ? 4 : 1;
			}
			while (k-- > 0)
				assert_int_equal(spool_failed(sp, rest[k],
				    "refused", T0 + 20000), 0);
			n += 9;
		}
		if (n % 3 == 0)
			assert_int_equal(spool_delivered(sp, it), 0);
		else {
			assert_int_equal(spool_failed(sp, it, "refused",
			    T0 + 20000), 0);
			assert_true(it->next_at >= T0 + 20000);
		}
	}
	assert_int_equal(n, 500);
	assert_true(spool_next_time(sp) >= T0 + 20000);
	assert_int_equal(spool_sync(sp, 5), 1);
	while (spool_sync(sp, 50) != 0)
		;
	spool_close(sp);

	/* What was written is what a restart finds. */
	sp = open_spool();
	for (i = 0; i < spool_count(sp); i++) {
		assert_int_equal(spool_at(sp, i)->attempts, 1);
		assert_string_equal(spool_at(sp, i)->last_error, "refused");
		assert_int_equal(spool_at(sp, i)->state, SPOOL_RETRY);
	}
	assert_true(spool_count(sp) > 0 && spool_count(sp) < 500);
	spool_close(sp);
}

/* Write text into the outbox's file name. */
static void write_file(const char *, const char *);

/*
 * A delivered notification's file goes off the loop (spool_sync); until
 * then a journal line stands for its removal, which a crash keeps: the
 * next start removes it. Its id is still known, so a replay is no new
 * notification; a line whose creation time differs removes nothing.
 */
static void
test_journal(void **state)
{
	struct spool *sp;
	struct spool_item *it;
	char *cause = NULL, line[256];
	const struct spool_item *c;

	(void)state;
	sp = open_spool();
	put(sp, "j-1.1.ops", T0);
	put(sp, "j-2.1.ops", T0 + 1);
	put(sp, "j-3.1.ops", T0 + 2);
	it = spool_next_due(sp, T0);
	assert_string_equal(it->id, "j-1.1.ops");
	assert_int_equal(spool_delivered(sp, it), 0);
	assert_int_equal(spool_count(sp), 2);
	assert_int_equal(count_files(".json"), 3);	/* not removed yet */
	/* A replay of the delivered one is no new notification. */
	assert_int_equal(spool_put(sp, "j-1.1.ops", "ops-webhook",
	    "application/json", BODY, strlen(BODY), T0 + 5, &cause), 0);
	assert_int_equal(spool_count(sp), 2);
	assert_int_equal(spool_pending(sp), 2);
	spool_close(sp);		/* a kill -9: nothing synced or removed */

	assert_int_equal(count_files(".json"), 3);
	sp = open_spool();
	assert_int_equal(count_files(".json"), 2);	/* removed at the start */
	assert_int_equal(spool_count(sp), 2);
	assert_null(find(sp, "j-1.1.ops"));
	assert_false(spool_unsynced(sp));
	/* Now the id is free again: a new notification. */
	put(sp, "j-1.1.ops", T0 + 10);
	assert_int_equal(spool_count(sp), 3);
	spool_close(sp);

	/*
	 * A line for an older notification of that name removes nothing,
	 * nor does a line cut short by a crash.
	 */
	sp = open_spool();
	c = find(sp, "j-1.1.ops");
	assert_non_null(c);
	assert_true(c->created_at == T0 + 10);
	snprintf(line, sizeof line, "%s %lld\ncut-short", strrchr(c->path,
	    '/') + 1, (long long)T0);
	spool_close(sp);
	write_file("removed.0", line);
	sp = open_spool();
	assert_non_null(find(sp, "j-1.1.ops"));
	assert_int_equal(spool_count(sp), 3);
	assert_int_equal(count_files(".json"), 3);
	spool_close(sp);
}

/* Write a file into the outbox. */
static void
write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", outbox, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_damaged(void **state)
{
	struct spool *sp;
	char path[256], bad[300];
	struct stat sb;

	(void)state;
	sp = open_spool();
	put(sp, "c-1.1.ops-webhook", T0);
	put(sp, "c-2.1.ops-webhook", T0 + 1);
	spool_close(sp);

	write_file("garbage-0000000000000000.json", "{\"version\": 1, \"id\"");
	write_file("wrong-0000000000000000.json", "{\"version\":1,"
	    "\"id\":\"c-1.1.ops-webhook\",\"receiver\":\"r\","
	    "\"content_type\":\"text/plain\",\"created_at\":1,\"next_at\":1,"
	    "\"attempts\":0,\"last_error\":\"\",\"state\":\"queued\","
	    "\"payload\":\"x\"}");	/* the id belongs in another file */
	write_file("state-0000000000000000.json", "{\"version\":1,"
	    "\"id\":\"c-3\",\"receiver\":\"r\","
	    "\"content_type\":\"text/plain\",\"created_at\":1,\"next_at\":1,"
	    "\"attempts\":0,\"last_error\":\"\",\"state\":\"lost\","
	    "\"payload\":\"x\"}");
	write_file("x.json.tmp.999999", "{\"ver");	/* a write cut short */
	write_file("README", "not a notification");

	sp = open_spool();
	assert_int_equal(spool_count(sp), 2);
	assert_non_null(find(sp, "c-1.1.ops-webhook"));
	assert_non_null(find(sp, "c-2.1.ops-webhook"));
	assert_int_equal(count_files(".json"), 2);
	assert_int_equal(count_files(".json.bad"), 3);
	assert_int_equal(count_files(".tmp.999999"), 0);
	assert_int_equal(count_files("README"), 1);
	snprintf(path, sizeof path, "%s/garbage-0000000000000000.json",
	    outbox);
	snprintf(bad, sizeof bad, "%s.bad", path);
	assert_int_equal(stat(path, &sb), -1);
	assert_int_equal(stat(bad, &sb), 0);
	spool_close(sp);

	/* Set-aside files stay set aside. */
	sp = open_spool();
	assert_int_equal(spool_count(sp), 2);
	assert_int_equal(count_files(".json.bad"), 3);
	spool_close(sp);
}

static void
test_next_time(void **state)
{
	struct spool *sp;
	struct spool_item *it;

	(void)state;
	sp = open_spool();
	assert_int_equal(spool_next_time(sp), -1);
	put(sp, "d-1.1.r", T0 + 500);
	put(sp, "d-2.1.r", T0 + 200);
	put(sp, "d-3.1.r", T0 + 900);
	assert_true(spool_next_time(sp) == T0 + 200);
	it = spool_next_due(sp, T0 + 1000);
	assert_string_equal(it->id, "d-2.1.r");
	assert_true(spool_next_time(sp) == T0 + 500);
	assert_int_equal(spool_failed(sp, it, "x", T0 + 1000), 0);
	assert_true(spool_next_time(sp) == T0 + 500);
	it = spool_next_due(sp, T0 + 1000);
	assert_string_equal(it->id, "d-1.1.r");
	assert_int_equal(spool_delivered(sp, it), 0);
	it = spool_next_due(sp, T0 + 1000);
	assert_string_equal(it->id, "d-3.1.r");
	assert_int_equal(spool_delivered(sp, it), 0);
	it = spool_next_due(sp, T0 + 1000);
	assert_null(it);	/* d-2 waits */
	assert_true(spool_next_time(sp) == find(sp, "d-2.1.r")->next_at);
	assert_true(spool_next_time(sp) > T0 + 1000);
	spool_close(sp);
}

static void
test_item_json(void **state)
{
	struct spool *sp;
	struct spool_item *it;
	json_t *o;

	(void)state;
	sp = open_spool();
	put(sp, "e-1.2.ops-webhook", T0 + 123);
	o = spool_item_json(spool_at(sp, 0));
	assert_string_equal(json_string_value(json_object_get(o, "id")),
	    "e-1.2.ops-webhook");
	assert_string_equal(json_string_value(json_object_get(o,
	    "receiver")), "ops-webhook");
	assert_string_equal(json_string_value(json_object_get(o,
	    "content_type")), "application/json");
	assert_string_equal(json_string_value(json_object_get(o, "state")),
	    "queued");
	assert_string_equal(json_string_value(json_object_get(o,
	    "created_at")), "2023-11-14T22:13:20.123Z");
	assert_string_equal(json_string_value(json_object_get(o, "next_at")),
	    "2023-11-14T22:13:20.123Z");
	assert_int_equal(json_integer_value(json_object_get(o, "attempts")), 0);
	assert_true(json_is_null(json_object_get(o, "last_error")));
	assert_int_equal(json_integer_value(json_object_get(o, "size")),
	    strlen(BODY));
	assert_null(json_object_get(o, "payload"));
	json_decref(o);

	it = spool_next_due(sp, T0 + 123);
	assert_int_equal(spool_failed(sp, it, "HTTP 503\n", T0 + 1000), 0);
	o = spool_item_json(it);
	assert_string_equal(json_string_value(json_object_get(o, "state")),
	    "retry");
	assert_string_equal(json_string_value(json_object_get(o,
	    "last_error")), "HTTP 503?");
	assert_int_equal(json_integer_value(json_object_get(o, "attempts")), 1);
	assert_true(json_is_string(json_object_get(o, "next_at")));
	json_decref(o);

	assert_string_equal(spool_state_name(SPOOL_INFLIGHT), "inflight");
	assert_string_equal(spool_state_name(SPOOL_EXPIRED), "expired");
	spool_close(sp);
}

static void
test_open_fails(void **state)
{
	char *cause = NULL;

	(void)state;
	assert_null(spool_open("/nonexistent/stabild-spool", &cause));
	assert_non_null(cause);
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_deliver, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_put_twice, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_put_invalid, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_backoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_time, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_item_json, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_groups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_count, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_prune_age, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_order_many, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_journal, setup,
		    teardown),
		cmocka_unit_test(test_open_fails),
	};

	log_init(LOG_CRIT);	/* the damaged files and expiry log */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
