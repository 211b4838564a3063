/*
 * The durable outbox: notifications as JSON files written by file_replace,
 * loaded back at start, handed out in order of due time, retried with
 * exponential backoff and full jitter, and expired after a limit.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "file.h"
#include "log.h"
#include "spool.h"
#include "xmalloc.h"

#define SPOOL_VERSION		1
#define SPOOL_SUFFIX		".json"
#define SPOOL_TMP_MARK		".json.tmp."	/* file_replace leftovers */
#define SPOOL_NAME_PREFIX	64	/* readable part of a file name */
#define SPOOL_NAME_MAX		(SPOOL_NAME_PREFIX + 32)
#define SPOOL_FILE_MAX		(8 * SPOOL_PAYLOAD_MAX + 65536)
#define SPOOL_SEED		0x5eed5b001ULL	/* until spool_set_seed */

struct spool {
	char			 *dir;		/* DIR/outbox */
	struct spool_item	**items;	/* in order of creation */
	int			  n;
	int			  size;
	uint64_t		  rng;		/* splitmix64 state */
	int64_t			  base_ms;
	int64_t			  cap_ms;
	int64_t			  expiry_ms;
	struct spool_stats	  stats;
};

static const char *const spool_states[] = {
	[SPOOL_QUEUED] = "queued",
	[SPOOL_INFLIGHT] = "inflight",
	[SPOOL_RETRY] = "retry",
	[SPOOL_DELIVERED] = "delivered",
	[SPOOL_EXPIRED] = "expired",
};

const char *
spool_state_name(enum spool_state s)
{
	if ((unsigned int)s >= sizeof spool_states / sizeof spool_states[0])
		return "unknown";
	return spool_states[s];
}

/* The state by name, or -1. */
static int
spool_state_parse(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof spool_states / sizeof spool_states[0]; i++) {
		if (strcmp(name, spool_states[i]) == 0)
			return (int)i;
	}
	return -1;
}

/* The only writer of an item's state; logs the change with the id. */
static void
spool_set_state(struct spool_item *it, enum spool_state s)
{
	if (it->state == s)
		return;
	log_debug("spool: %s: %s -> %s", it->id, spool_state_name(it->state),
	    spool_state_name(s));
	it->state = s;
}

static bool
spool_is_waiting(const struct spool_item *it)
{
	return it->state == SPOOL_QUEUED || it->state == SPOOL_RETRY;
}

/* Wall clock in Unix ms. */
static int64_t
spool_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* splitmix64: any seed, including 0, gives a full-period sequence. */
static uint64_t
spool_rand(struct spool *sp)
{
	uint64_t z;

	sp->rng += 0x9e3779b97f4a7c15ULL;
	z = sp->rng;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * The delay before the next try after attempts failures: base doubled per
 * earlier failure, capped, then drawn uniformly from [half, all] of it.
 */
static int64_t
spool_backoff(struct spool *sp, uint32_t attempts)
{
	int64_t b = sp->base_ms, lo;
	uint32_t i;

	for (i = 1; i < attempts && b < sp->cap_ms; i++)
		b *= 2;
	if (b > sp->cap_ms)
		b = sp->cap_ms;
	lo = b / 2;
	return lo + (int64_t)(spool_rand(sp) % (uint64_t)(b - lo + 1));
}

/* Printable ASCII, 1 to size - 1 bytes; space only if allowed. */
static bool
spool_text_valid(const char *s, size_t size, bool space)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i + 1 >= size)
			return false;
		if (s[i] == ' ' ? !space : (s[i] < 0x21 || s[i] > 0x7e))
			return false;
	}
	return i > 0;
}

/* Copy s into buf, cut to fit, anything but printable ASCII as '?'. */
static void
spool_copy_text(char *buf, size_t size, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < size; i++)
		buf[i] = (s[i] >= 0x20 && s[i] <= 0x7e) ? s[i] : '?';
	buf[i] = '\0';
}

/*
 * The file name of an id: a readable prefix (safe characters kept, the
 * rest '_') and a 64-bit FNV-1a hash of the whole id, so that names stay
 * short and distinct ids almost surely differ; spool_put checks.
 */
static void
spool_file_name(const char *id, char *buf, size_t size)
{
	char prefix[SPOOL_NAME_PREFIX + 1];
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;
	char c;

	for (i = 0; id[i] != '\0'; i++) {
		h ^= (unsigned char)id[i];
		h *= 0x100000001b3ULL;
	}
	for (i = 0; i < SPOOL_NAME_PREFIX && id[i] != '\0'; i++) {
		c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    (c == '.' && i > 0)))
			c = '_';
		prefix[i] = c;
	}
	prefix[i] = '\0';
	snprintf(buf, size, "%s-%016" PRIx64 SPOOL_SUFFIX, prefix, h);
}

static struct spool_item *
spool_item_new(struct spool *sp, const char *id)
{
	struct spool_item *it = xcalloc(1, sizeof *it);
	char name[SPOOL_NAME_MAX];

	/* xcalloc leaves the state SPOOL_QUEUED: every item is born queued. */
	snprintf(it->id, sizeof it->id, "%s", id);
	spool_file_name(id, name, sizeof name);
	it->path = xasprintf("%s/%s", sp->dir, name);
	return it;
}

static void
spool_item_free(struct spool_item *it)
{
	if (it == NULL)
		return;
	free(it->payload);
	free(it->path);
	free(it);
}

/* The file contents of an item: compact JSON, the caller frees; or NULL. */
static char *
spool_encode(const struct spool_item *it)
{
	json_t *o, *payload;
	char *s;

	if ((payload = json_stringn(it->payload, it->len)) == NULL)
		return NULL;	/* not UTF-8 */
	o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s, "
	    "s:o}",
	    "version", SPOOL_VERSION,
	    "id", it->id,
	    "receiver", it->receiver,
	    "group", it->group,
	    "content_type", it->content_type,
	    "created_at", (json_int_t)it->created_at,
	    "next_at", (json_int_t)it->next_at,
	    "attempts", (json_int_t)it->attempts,
	    "last_error", it->last_error,
	    "state", spool_state_name(it->state),
	    "payload", payload);
	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

/* Write the item's file durably. -1 with *cause. */
static int
spool_write(const struct spool_item *it, char **cause)
{
	char *s;
	int rc;

	if ((s = spool_encode(it)) == NULL) {
		*cause = xasprintf("spool: %s: payload is not valid UTF-8",
		    it->id);
		return -1;
	}
	rc = file_replace("spool", it->path, s, strlen(s), cause);
	free(s);
	return rc;
}

/* Rewrite the item's file; a failure is logged here. */
static int
spool_rewrite(const struct spool_item *it)
{
	char *cause = NULL;

	if (spool_write(it, &cause) == 0)
		return 0;
	log_warnx("%s", cause);
	free(cause);
	return -1;
}

static void
spool_append(struct spool *sp, struct spool_item *it)
{
	if (sp->n == sp->size) {
		sp->size = sp->size == 0 ? 64 : sp->size * 2;
		sp->items = xreallocarray(sp->items, (size_t)sp->size,
		    sizeof *sp->items);
	}
	sp->items[sp->n++] = it;
}

/* An integer member within [lo, hi], or -1. */
static int
spool_json_int(const json_t *o, const char *key, int64_t lo, int64_t hi,
    int64_t *v)
{
	const json_t *j = json_object_get(o, key);

	if (!json_is_integer(j) || json_integer_value(j) < lo ||
	    json_integer_value(j) > hi)
		return -1;
	*v = json_integer_value(j);
	return 0;
}

/* A string member that spool_text_valid accepts, or NULL. */
static const char *
spool_json_text(const json_t *o, const char *key, size_t size, bool space)
{
	const json_t *j = json_object_get(o, key);

	if (!json_is_string(j) ||
	    strlen(json_string_value(j)) != json_string_length(j) ||
	    !spool_text_valid(json_string_value(j), size, space))
		return NULL;
	return json_string_value(j);
}

/* Load one file into an item; NULL with *cause if it is damaged. */
static struct spool_item *
spool_load_file(struct spool *sp, const char *name, char **cause)
{
	struct spool_item *it = NULL;
	char *path = xasprintf("%s/%s", sp->dir, name), expect[SPOOL_NAME_MAX];
	const char *id, *receiver, *group, *type, *state;
	const json_t *j;
	json_t *o = NULL;
	json_error_t err;
	struct stat sb;
	int64_t version, created, next, attempts;
	int s;

	if (stat(path, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > SPOOL_FILE_MAX) {
		*cause = xstrdup("not a regular file of sane size");
		goto out;
	}
	if ((o = json_load_file(path, JSON_REJECT_DUPLICATES, &err)) == NULL) {
		*cause = xasprintf("line %d: %s", err.line, err.text);
		goto out;
	}
	id = spool_json_text(o, "id", SPOOL_ID_MAX, false);
	receiver = spool_json_text(o, "receiver", SPOOL_RECEIVER_MAX, false);
	type = spool_json_text(o, "content_type", SPOOL_TYPE_MAX, true);
	/* Absent in files written before grouping existed: none. */
	j = json_object_get(o, "group");
	group = j == NULL || (json_is_string(j) && json_string_length(j) == 0) ?
	    "" : spool_json_text(o, "group", SPOOL_RECEIVER_MAX, false);
	j = json_object_get(o, "state");
	state = json_string_value(j);
	s = state == NULL ? -1 : spool_state_parse(state);
	if (spool_json_int(o, "version", SPOOL_VERSION, SPOOL_VERSION,
	    &version) == -1 || id == NULL || receiver == NULL || type == NULL ||
	    group == NULL ||
	    spool_json_int(o, "created_at", 0, INT64_MAX / 2, &created) == -1 ||
	    spool_json_int(o, "next_at", 0, INT64_MAX / 2, &next) == -1 ||
	    spool_json_int(o, "attempts", 0, UINT32_MAX, &attempts) == -1 ||
	    !json_is_string(json_object_get(o, "last_error")) ||
	    s == -1 || s == SPOOL_DELIVERED) {
		*cause = xstrdup("missing or invalid members");
		goto out;
	}
	j = json_object_get(o, "payload");
	if (!json_is_string(j) || json_string_length(j) > SPOOL_PAYLOAD_MAX) {
		*cause = xstrdup("missing or oversized payload");
		goto out;
	}
	spool_file_name(id, expect, sizeof expect);
	if (strcmp(name, expect) != 0) {
		*cause = xasprintf("holds %s, which belongs in %s", id, expect);
		goto out;
	}

	it = spool_item_new(sp, id);
	snprintf(it->receiver, sizeof it->receiver, "%s", receiver);
	snprintf(it->group, sizeof it->group, "%s", group);
	snprintf(it->content_type, sizeof it->content_type, "%s", type);
	it->len = json_string_length(j);
	it->payload = xmalloc(it->len + 1);
	memcpy(it->payload, json_string_value(j), it->len);
	it->payload[it->len] = '\0';
	it->created_at = created;
	it->next_at = next;
	it->attempts = (uint32_t)attempts;
	spool_copy_text(it->last_error, sizeof it->last_error,
	    json_string_value(json_object_get(o, "last_error")));
	spool_set_state(it, (enum spool_state)s);

out:
	json_decref(o);
	free(path);
	return it;
}

/* Move a damaged file aside to NAME.bad and say so. */
static void
spool_set_aside(struct spool *sp, const char *name, const char *why)
{
	char *path = xasprintf("%s/%s", sp->dir, name);
	char *bad = xasprintf("%s.bad", path);

	if (rename(path, bad) == -1)
		log_warn("spool: %s is damaged (%s); rename to %s", path, why,
		    bad);
	else
		log_warnx("spool: %s is damaged (%s); moved to %s", path, why,
		    bad);
	free(bad);
	free(path);
}

/* Creation order; ties by id, so that a load is deterministic. */
static int
spool_cmp(const void *a, const void *b)
{
	const struct spool_item *x = *(const struct spool_item *const *)a;
	const struct spool_item *y = *(const struct spool_item *const *)b;

	if (x->created_at != y->created_at)
		return x->created_at < y->created_at ? -1 : 1;
	return strcmp(x->id, y->id);
}

static bool
spool_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Load every notification file in the outbox. -1 with *cause. */
static int
spool_load(struct spool *sp, char **cause)
{
	struct spool_item *it;
	struct dirent *de;
	char *why, *path;
	int64_t now = spool_now_ms();
	DIR *d;

	if ((d = opendir(sp->dir)) == NULL) {
		*cause = xasprintf("spool: open %s: %s", sp->dir,
		    strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (strstr(de->d_name, SPOOL_TMP_MARK) != NULL) {
			/* A write that never reached its rename. */
			path = xasprintf("%s/%s", sp->dir, de->d_name);
			if (unlink(path) == 0)
				log_info("spool: removed unfinished %s", path);
			free(path);
			continue;
		}
		if (!spool_has_suffix(de->d_name, SPOOL_SUFFIX))
			continue;
		if (sp->n >= SPOOL_MAX_ITEMS) {
			log_warnx("spool: more than %d files in %s; the rest "
			    "are left for later", SPOOL_MAX_ITEMS, sp->dir);
			break;
		}
		why = NULL;
		if ((it = spool_load_file(sp, de->d_name, &why)) == NULL) {
			spool_set_aside(sp, de->d_name, why);
			free(why);
			continue;
		}
		if (it->state == SPOOL_INFLIGHT) {
			/* The daemon stopped during an attempt. */
			it->next_at = now;
			spool_set_state(it, SPOOL_RETRY);
		}
		spool_append(sp, it);
	}
	closedir(d);
	if (sp->n > 1)
		qsort(sp->items, (size_t)sp->n, sizeof *sp->items, spool_cmp);
	return 0;
}

struct spool *
spool_open(const char *dir, char **cause)
{
	struct spool *sp = xcalloc(1, sizeof *sp);

	sp->dir = xasprintf("%s/outbox", dir);
	sp->rng = SPOOL_SEED;
	sp->base_ms = SPOOL_BASE_MS;
	sp->cap_ms = SPOOL_CAP_MS;
	sp->expiry_ms = SPOOL_EXPIRY_MS;
	if (mkdir(sp->dir, 0750) == 0) {
		if (file_sync_dir(sp->dir) == -1)
			log_warn("spool: sync the directory of %s", sp->dir);
	} else if (errno != EEXIST) {
		*cause = xasprintf("spool: create %s: %s", sp->dir,
		    strerror(errno));
		goto fail;
	}
	if (spool_load(sp, cause) == -1)
		goto fail;
	log_info("spool: %d notifications in %s (%d pending)", sp->n, sp->dir,
	    spool_pending(sp));
	return sp;

fail:
	spool_close(sp);
	return NULL;
}

void
spool_close(struct spool *sp)
{
	int i;

	if (sp == NULL)
		return;
	for (i = 0; i < sp->n; i++)
		spool_item_free(sp->items[i]);
	free(sp->items);
	free(sp->dir);
	free(sp);
}

void
spool_set_seed(struct spool *sp, uint64_t seed)
{
	sp->rng = seed;
}

int
spool_set_limits(struct spool *sp, int64_t base_ms, int64_t cap_ms,
    int64_t expiry_ms)
{
	if (base_ms <= 0 || cap_ms < base_ms || cap_ms > INT64_MAX / 4 ||
	    expiry_ms <= 0)
		return -1;
	sp->base_ms = base_ms;
	sp->cap_ms = cap_ms;
	sp->expiry_ms = expiry_ms;
	return 0;
}

int
spool_put(struct spool *sp, const char *id, const char *receiver,
    const char *content_type, const void *payload, size_t len,
    int64_t now_ms, char **cause)
{
	return spool_put_at(sp, id, receiver, "", content_type, payload, len,
	    now_ms, now_ms, cause);
}

int
spool_put_at(struct spool *sp, const char *id, const char *receiver,
    const char *group, const char *content_type, const void *payload,
    size_t len, int64_t now_ms, int64_t due_ms, char **cause)
{
	struct spool_item *it;
	int i;

	if (!spool_text_valid(id, SPOOL_ID_MAX, false)) {
		*cause = xstrdup("spool: invalid notification id");
		return -1;
	}
	if (!spool_text_valid(receiver, SPOOL_RECEIVER_MAX, false) ||
	    (group[0] != '\0' &&
	    !spool_text_valid(group, SPOOL_RECEIVER_MAX, false)) ||
	    !spool_text_valid(content_type, SPOOL_TYPE_MAX, true)) {
		*cause = xasprintf("spool: %s: invalid receiver or content "
		    "type", id);
		return -1;
	}
	if (len > SPOOL_PAYLOAD_MAX || (len > 0 && payload == NULL)) {
		*cause = xasprintf("spool: %s: payload of %zu bytes", id, len);
		return -1;
	}
	if (now_ms < 0 || now_ms > INT64_MAX / 2 || due_ms < now_ms ||
	    due_ms > INT64_MAX / 2) {
		*cause = xasprintf("spool: %s: bad time", id);
		return -1;
	}

	it = spool_item_new(sp, id);
	for (i = 0; i < sp->n; i++) {
		if (strcmp(sp->items[i]->id, id) == 0) {
			log_debug("spool: %s: already stored", id);
			spool_item_free(it);
			return 0;
		}
		if (strcmp(sp->items[i]->path, it->path) == 0) {
			*cause = xasprintf("spool: %s: file name taken by %s",
			    id, sp->items[i]->id);
			spool_item_free(it);
			return -1;
		}
	}
	if (sp->n >= SPOOL_MAX_ITEMS) {
		*cause = xasprintf("spool: %s: full (%d notifications)", id,
		    sp->n);
		spool_item_free(it);
		return -1;
	}

	snprintf(it->receiver, sizeof it->receiver, "%s", receiver);
	snprintf(it->group, sizeof it->group, "%s", group);
	snprintf(it->content_type, sizeof it->content_type, "%s",
	    content_type);
	it->payload = xmalloc(len + 1);
	if (len > 0)
		memcpy(it->payload, payload, len);
	it->payload[len] = '\0';
	it->len = len;
	it->created_at = now_ms;
	it->next_at = due_ms;
	if (spool_write(it, cause) == -1) {
		spool_item_free(it);
		return -1;
	}
	spool_append(sp, it);
	sp->stats.queued++;
	log_debug("spool: %s: queued for %s (%zu bytes)", id, receiver, len);
	return 0;
}

struct spool_item *
spool_next_due(struct spool *sp, int64_t now_ms)
{
	struct spool_item *it, *best = NULL;
	int i;

	for (i = 0; i < sp->n; i++) {
		it = sp->items[i];
		if (spool_is_waiting(it) && it->next_at <= now_ms &&
		    (best == NULL || it->next_at < best->next_at))
			best = it;
	}
	if (best == NULL)
		return NULL;
	spool_set_state(best, SPOOL_INFLIGHT);
	/*
	 * Best effort: if this write is lost, the file still says waiting
	 * and a restart retries it, which is what INFLIGHT leads to too.
	 */
	spool_rewrite(best);
	return best;
}

int64_t
spool_group_due(const struct spool *sp, const char *receiver,
    const char *group, int64_t now_ms)
{
	const struct spool_item *it;
	int64_t t = -1;
	int i;

	for (i = 0; i < sp->n; i++) {
		it = sp->items[i];
		if (it->state == SPOOL_QUEUED && it->attempts == 0 &&
		    it->next_at > now_ms && (t == -1 || it->next_at < t) &&
		    strcmp(it->receiver, receiver) == 0 &&
		    strcmp(it->group, group) == 0)
			t = it->next_at;
	}
	return t;
}

int
spool_take_group(struct spool *sp, const struct spool_item *lead,
    struct spool_item **out, int max)
{
	struct spool_item *it;
	int i, n = 0;

	if (lead->group[0] == '\0')
		return 0;
	for (i = 0; i < sp->n && n < max; i++) {
		it = sp->items[i];
		if (it == lead || !spool_is_waiting(it) ||
		    strcmp(it->receiver, lead->receiver) != 0 ||
		    strcmp(it->group, lead->group) != 0)
			continue;
		spool_set_state(it, SPOOL_INFLIGHT);
		spool_rewrite(it);
		out[n++] = it;
	}
	return n;
}

/* Where it sits in the list; a missing item is a broken invariant. */
static int
spool_index(const struct spool *sp, const struct spool_item *it,
    const char *who)
{
	int i;

	for (i = 0; i < sp->n; i++) {
		if (sp->items[i] == it) {
			if (it->state != SPOOL_INFLIGHT)
				fatalx("spool: %s: %s while %s", who, it->id,
				    spool_state_name(it->state));
			return i;
		}
	}
	fatalx("spool: %s: item not in the spool", who);
}

int
spool_delivered(struct spool *sp, struct spool_item *it)
{
	int i = spool_index(sp, it, "delivered"), rc = 0;

	if (unlink(it->path) == -1 && errno != ENOENT) {
		log_warn("spool: %s: remove %s", it->id, it->path);
		rc = -1;
	} else if (file_sync_dir(it->path) == -1) {
		log_warn("spool: %s: sync the directory of %s", it->id,
		    it->path);
		rc = -1;
	}
	spool_set_state(it, SPOOL_DELIVERED);
	sp->stats.delivered++;
	memmove(&sp->items[i], &sp->items[i + 1],
	    (size_t)(sp->n - i - 1) * sizeof *sp->items);
	sp->n--;
	spool_item_free(it);
	return rc;
}

int
spool_failed(struct spool *sp, struct spool_item *it, const char *why,
    int64_t now_ms)
{
	int64_t delay;

	spool_index(sp, it, "failed");
	if (it->attempts < UINT32_MAX)
		it->attempts++;
	spool_copy_text(it->last_error, sizeof it->last_error,
	    why != NULL ? why : "");
	if (now_ms - it->created_at > sp->expiry_ms) {
		spool_set_state(it, SPOOL_EXPIRED);
		sp->stats.expired++;
		log_errorx("spool: %s for %s expired after %" PRIu32
		    " attempts: %s", it->id, it->receiver, it->attempts,
		    it->last_error);
	} else {
		delay = spool_backoff(sp, it->attempts);
		it->next_at = now_ms + delay;
		spool_set_state(it, SPOOL_RETRY);
		sp->stats.retried++;
		log_debug("spool: %s: attempt %" PRIu32 " failed, next in "
		    "%" PRId64 " ms", it->id, it->attempts, delay);
	}
	return spool_rewrite(it);
}

int64_t
spool_next_time(const struct spool *sp)
{
	int64_t t = -1;
	int i;

	for (i = 0; i < sp->n; i++) {
		if (spool_is_waiting(sp->items[i]) &&
		    (t == -1 || sp->items[i]->next_at < t))
			t = sp->items[i]->next_at;
	}
	return t;
}

int
spool_count(const struct spool *sp)
{
	return sp->n;
}

const struct spool_item *
spool_at(const struct spool *sp, int i)
{
	if (i < 0 || i >= sp->n)
		return NULL;
	return sp->items[i];
}

int
spool_pending(const struct spool *sp)
{
	int i, n = 0;

	for (i = 0; i < sp->n; i++) {
		if (sp->items[i]->state != SPOOL_EXPIRED)
			n++;
	}
	return n;
}

void
spool_get_stats(const struct spool *sp, struct spool_stats *st)
{
	*st = sp->stats;
}

/* RFC 3339 UTC with milliseconds, or JSON null if out of range. */
static json_t *
spool_json_time(int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	char s[48];
	struct tm tm;
	size_t n;

	if (ms < 0 || gmtime_r(&t, &tm) == NULL ||
	    (n = strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%S", &tm)) == 0)
		return json_null();
	snprintf(s + n, sizeof s - n, ".%03dZ", (int)(ms % 1000));
	return json_string(s);
}

json_t *
spool_item_json(const struct spool_item *it)
{
	json_t *o;

	o = json_pack("{s:s, s:s, s:o, s:s, s:s, s:o, s:o, s:I, s:o, s:I}",
	    "id", it->id,
	    "receiver", it->receiver,
	    "group", it->group[0] != '\0' ? json_string(it->group) :
	    json_null(),
	    "content_type", it->content_type,
	    "state", spool_state_name(it->state),
	    "created_at", spool_json_time(it->created_at),
	    "next_at", spool_is_waiting(it) ? spool_json_time(it->next_at) :
	    json_null(),
	    "attempts", (json_int_t)it->attempts,
	    "last_error", it->last_error[0] != '\0' ?
	    json_string(it->last_error) : json_null(),
	    "size", (json_int_t)it->len);
	if (o == NULL)
		fatalx("spool: cannot build JSON for %s", it->id);
	return o;
}
