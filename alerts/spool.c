/*
 * The durable outbox: notifications as JSON files written by file_replace,
 * loaded back at start, handed out in order of due time, retried with
 * exponential backoff and full jitter, and expired after a limit.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
#define SPOOL_GROUP_WAIT_MAX	(3600LL * 1000)	/* route.group_wait's */
/*
 * The removals journal: "NAME CREATED_AT" a line for each notification
 * delivered or dropped whose file is not yet removed. Two, so that one
 * takes new lines while a batch removes the other's files off the loop
 * and then empties it. A restart removes what they list.
 */
#define SPOOL_JOURNAL		"removed.%d"
#define SPOOL_JOURNAL_MAX	(64 * 1024 * 1024)

struct spool {
	char			 *dir;		/* DIR/outbox */
	struct spool_list	  all;		/* in order of creation */
	int			  n;
	int			  npending;	/* not expired */
	struct spool_list	  expired;	/* in order of expiry */
	int			  nexpired;
	struct spool_list	  unsynced;	/* written, fsync to come */
	bool			  dir_unsynced;	/* renames or unlinks to sync */
	struct spool_list	  gone;		/* delivered or dropped: to unlink */
	int			  journal[2];	/* of them, appended; -1: none */
	int			  jcur;		/* the one appended to */
	bool			  batch_out;	/* a spool_sync batch is taken */
	struct spool_item	**heap;		/* waiting, by (next_at, seq) */
	int			  nheap;
	int			  heapsize;
	struct spool_item	**hash;		/* by file name, chained */
	size_t			  hashsize;	/* a power of two */
	uint64_t		  seq;		/* the next item's */
	const struct spool_item	 *cursor;	/* spool_at's last answer */
	int			  cursor_i;
	uint64_t		  rng;		/* splitmix64 state */
	int64_t			  base_ms;
	int64_t			  cap_ms;
	int64_t			  expiry_ms;
	int			  keep;		/* expired items kept at most */
	int64_t			  keep_ms;	/* for at most this long */
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

/* 64-bit FNV-1a of an id: its file name's and its hash chain's. */
static uint64_t
spool_hash(const char *id)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; id[i] != '\0'; i++) {
		h ^= (unsigned char)id[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/*
 * The file name of an id: a readable prefix (safe characters kept, the
 * rest '_') and the id's hash, so that names stay short and distinct ids
 * almost surely differ; spool_put checks.
 */
void
spool_file_name(const char *id, char *buf, size_t size)
{
	char prefix[SPOOL_NAME_PREFIX + 1];
	size_t i;
	char c;

	for (i = 0; i < SPOOL_NAME_PREFIX && id[i] != '\0'; i++) {
		c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    (c == '.' && i > 0)))
			c = '_';
		prefix[i] = c;
	}
	prefix[i] = '\0';
	snprintf(buf, size, "%s-%016" PRIx64 SPOOL_SUFFIX, prefix,
	    spool_hash(id));
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
	it->hash = spool_hash(id);
	it->heap_i = -1;
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

/* The due heap, ordered by next_at, then creation. */
static bool
spool_heap_less(const struct spool_item *a, const struct spool_item *b)
{
	if (a->next_at != b->next_at)
		return a->next_at < b->next_at;
	return a->seq < b->seq;
}

static void
spool_heap_set(struct spool *sp, int i, struct spool_item *it)
{
	sp->heap[i] = it;
	it->heap_i = i;
}

static void
spool_heap_up(struct spool *sp, int i)
{
	struct spool_item *it = sp->heap[i];
	int parent;

	while (i > 0) {
		parent = (i - 1) / 2;
		if (!spool_heap_less(it, sp->heap[parent]))
			break;
		spool_heap_set(sp, i, sp->heap[parent]);
		i = parent;
	}
	spool_heap_set(sp, i, it);
}

static void
spool_heap_down(struct spool *sp, int i)
{
	struct spool_item *it = sp->heap[i];
	int child;

	for (;;) {
		child = 2 * i + 1;
		if (child >= sp->nheap)
			break;
		if (child + 1 < sp->nheap &&
		    spool_heap_less(sp->heap[child + 1], sp->heap[child]))
			child++;
		if (!spool_heap_less(sp->heap[child], it))
			break;
		spool_heap_set(sp, i, sp->heap[child]);
		i = child;
	}
	spool_heap_set(sp, i, it);
}

/* A waiting item joins the heap. */
static void
spool_heap_push(struct spool *sp, struct spool_item *it)
{
	if (sp->nheap == sp->heapsize) {
		sp->heapsize = sp->heapsize == 0 ? 64 : sp->heapsize * 2;
		sp->heap = xreallocarray(sp->heap, (size_t)sp->heapsize,
		    sizeof *sp->heap);
	}
	sp->nheap++;
	spool_heap_set(sp, sp->nheap - 1, it);
	spool_heap_up(sp, sp->nheap - 1);
}

/* An item leaves the heap, wherever it is in it. */
static void
spool_heap_remove(struct spool *sp, struct spool_item *it)
{
	int i = it->heap_i;
	struct spool_item *last;

	if (i < 0)
		return;
	it->heap_i = -1;
	last = sp->heap[--sp->nheap];
	if (i == sp->nheap)
		return;
	spool_heap_set(sp, i, last);
	spool_heap_up(sp, i);
	spool_heap_down(sp, last->heap_i);
}

/* The hash table of ids; grown so that chains stay short. */
static void
spool_hash_insert(struct spool *sp, struct spool_item *it)
{
	struct spool_item **old = sp->hash, *x, *next;
	size_t oldsize = sp->hashsize, i, b;

	if ((size_t)sp->n >= sp->hashsize) {
		sp->hashsize = sp->hashsize == 0 ? 256 : sp->hashsize * 2;
		sp->hash = xcalloc(sp->hashsize, sizeof *sp->hash);
		for (i = 0; i < oldsize; i++) {
			for (x = old[i]; x != NULL; x = next) {
				next = x->hnext;
				b = (size_t)x->hash & (sp->hashsize - 1);
				x->hnext = sp->hash[b];
				sp->hash[b] = x;
			}
		}
		free(old);
	}
	b = (size_t)it->hash & (sp->hashsize - 1);
	it->hnext = sp->hash[b];
	sp->hash[b] = it;
}

static void
spool_hash_remove(struct spool *sp, struct spool_item *it)
{
	struct spool_item **p;

	p = &sp->hash[(size_t)it->hash & (sp->hashsize - 1)];
	while (*p != NULL && *p != it)
		p = &(*p)->hnext;
	if (*p == NULL)
		fatalx("spool: %s is not in the hash", it->id);
	*p = it->hnext;
}

/* The item whose file name is path's: the same id, or a collision. */
static struct spool_item *
spool_hash_find(const struct spool *sp, const struct spool_item *like)
{
	struct spool_item *x;

	if (sp->hashsize == 0)
		return NULL;
	x = sp->hash[(size_t)like->hash & (sp->hashsize - 1)];
	for (; x != NULL; x = x->hnext) {
		if (x->hash == like->hash && (strcmp(x->id, like->id) == 0 ||
		    strcmp(x->path, like->path) == 0))
			return x;
	}
	return NULL;
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

/*
 * Rewrite the item's file by a rename, without fsync: a kill -9 after
 * this keeps the new file, and spool_sync makes it durable soon after.
 * A failure is logged here.
 */
static int
spool_rewrite(struct spool *sp, struct spool_item *it)
{
	char *s, *tmp;
	int fd, rc = -1;

	if ((s = spool_encode(it)) == NULL) {
		log_warnx("spool: %s: payload is not valid UTF-8", it->id);
		return -1;
	}
	tmp = xasprintf("%s.tmp.%ld", it->path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd == -1)
		log_warn("spool: %s: create %s", it->id, tmp);
	else if (file_write_all(fd, s, strlen(s)) == -1) {
		log_warn("spool: %s: write %s", it->id, tmp);
		close(fd);
		unlink(tmp);
	} else if (close(fd) == -1 || rename(tmp, it->path) == -1) {
		log_warn("spool: %s: replace %s", it->id, it->path);
		unlink(tmp);
	} else
		rc = 0;
	if (rc == 0 && !it->unsynced) {
		it->unsynced = true;
		TAILQ_INSERT_TAIL(&sp->unsynced, it, sentry);
	}
	free(tmp);
	free(s);
	return rc;
}

static void
spool_unsynced_remove(struct spool *sp, struct spool_item *it)
{
	if (it->unsynced) {
		TAILQ_REMOVE(&sp->unsynced, it, sentry);
		it->unsynced = false;
	}
}

/* A new or loaded item joins the lists, the hash and, if waiting, the heap. */
static void
spool_append(struct spool *sp, struct spool_item *it)
{
	it->seq = sp->seq++;
	TAILQ_INSERT_TAIL(&sp->all, it, entry);
	sp->n++;
	sp->cursor = NULL;
	spool_hash_insert(sp, it);
	if (it->state == SPOOL_EXPIRED) {
		TAILQ_INSERT_TAIL(&sp->expired, it, xentry);
		sp->nexpired++;
	} else
		sp->npending++;
	if (spool_is_waiting(it))
		spool_heap_push(sp, it);
}

/* An item leaves the spool (its file is the caller's business). */
static void
spool_remove(struct spool *sp, struct spool_item *it)
{
	TAILQ_REMOVE(&sp->all, it, entry);
	sp->n--;
	sp->cursor = NULL;
	spool_hash_remove(sp, it);
	spool_heap_remove(sp, it);
	spool_unsynced_remove(sp, it);
	if (it->state == SPOOL_EXPIRED) {
		TAILQ_REMOVE(&sp->expired, it, xentry);
		sp->nexpired--;
	} else
		sp->npending--;
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

/* Expiry order; ties by creation. */
static int
spool_expiry_cmp(const void *a, const void *b)
{
	const struct spool_item *x = *(const struct spool_item *const *)a;
	const struct spool_item *y = *(const struct spool_item *const *)b;

	if (x->next_at != y->next_at)
		return x->next_at < y->next_at ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A line of a removals journal. */
struct spool_removed {
	char	*name;
	int64_t	 created_at;
};

static int
spool_removed_cmp(const void *a, const void *b)
{
	return strcmp(((const struct spool_removed *)a)->name,
	    ((const struct spool_removed *)b)->name);
}

/*
 * Open both removals journals and read what they list into *out (sorted
 * by name, the caller frees); their count, or -1 with *cause.
 */
static int
spool_journal_open(struct spool *sp, struct spool_removed **out,
    size_t *nout, char **cause)
{
	struct spool_removed *v = NULL;
	size_t n = 0, size = 0;
	char *path, *buf, *line, *next, *sp_at;
	struct stat sb;
	ssize_t got;
	int i, fd;

	for (i = 0; i < 2; i++) {
		path = xasprintf("%s/" SPOOL_JOURNAL, sp->dir, i);
		fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (fd == -1 || fstat(fd, &sb) == -1) {
			*cause = xasprintf("spool: open %s: %s", path,
			    strerror(errno));
			free(path);
			if (fd != -1)
				close(fd);
			goto fail;
		}
		sp->journal[i] = fd;
		if (sb.st_size > SPOOL_JOURNAL_MAX) {
			log_warnx("spool: %s is too large; ignored", path);
			free(path);
			continue;
		}
		buf = xmalloc((size_t)sb.st_size + 1);
		got = pread(fd, buf, (size_t)sb.st_size, 0);
		buf[got > 0 ? got : 0] = '\0';
		for (line = buf; line != NULL && *line != '\0'; line = next) {
			if ((next = strchr(line, '\n')) != NULL)
				*next++ = '\0';
			/* A line cut by a crash has no number: ignored. */
			if ((sp_at = strchr(line, ' ')) == NULL)
				continue;
			*sp_at++ = '\0';
			if (n == size) {
				size = size == 0 ? 64 : size * 2;
				v = xreallocarray(v, size, sizeof *v);
			}
			v[n].name = xstrdup(line);
			v[n++].created_at = strtoll(sp_at, NULL, 10);
		}
		free(buf);
		free(path);
	}
	if (n > 1)
		qsort(v, n, sizeof *v, spool_removed_cmp);
	*out = v;
	*nout = n;
	return 0;

fail:
	while (n > 0)
		free(v[--n].name);
	free(v);
	return -1;
}

/* Whether the journals list this file with this creation time. */
static bool
spool_journal_lists(const struct spool_removed *v, size_t n,
    const char *name, int64_t created_at)
{
	struct spool_removed key, *r;

	key.name = (char *)(uintptr_t)name;
	key.created_at = created_at;
	if (n == 0 || (r = bsearch(&key, v, n, sizeof *v,
	    spool_removed_cmp)) == NULL)
		return false;
	/* Names repeat when an id came back: any of them may match. */
	while (r > v && strcmp((r - 1)->name, name) == 0)
		r--;
	for (; r < v + n && strcmp(r->name, name) == 0; r++) {
		if (r->created_at == created_at)
			return true;
	}
	return false;
}

/* Load every notification file in the outbox. -1 with *cause. */
static int
spool_load(struct spool *sp, char **cause)
{
	struct spool_removed *removed = NULL;
	size_t nremoved = 0, ngone = 0;
	struct spool_item *it, **v = NULL;
	struct dirent *de;
	char *why, *path;
	int64_t now = spool_now_ms();
	size_t n = 0, size = 0, nx = 0, i;
	DIR *d;

	if (spool_journal_open(sp, &removed, &nremoved, cause) == -1)
		return -1;
	if ((d = opendir(sp->dir)) == NULL) {
		*cause = xasprintf("spool: open %s: %s", sp->dir,
		    strerror(errno));
		free(removed);
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
		if (n >= SPOOL_MAX_ITEMS + SPOOL_KEEP_MAX) {
			log_warnx("spool: more than %d files in %s; the rest "
			    "are left for later", SPOOL_MAX_ITEMS +
			    SPOOL_KEEP_MAX, sp->dir);
			break;
		}
		why = NULL;
		if ((it = spool_load_file(sp, de->d_name, &why)) == NULL) {
			spool_set_aside(sp, de->d_name, why);
			free(why);
			continue;
		}
		if (spool_journal_lists(removed, nremoved, de->d_name,
		    it->created_at)) {
			/* Delivered or dropped, not yet removed. */
			if (unlink(it->path) == -1 && errno != ENOENT)
				log_warn("spool: remove %s", it->path);
			spool_item_free(it);
			ngone++;
			continue;
		}
		if (it->state == SPOOL_INFLIGHT) {
			/* Written by an older version, stopped mid-attempt. */
			it->next_at = now;
			spool_set_state(it, SPOOL_RETRY);
		}
		if (n == size) {
			size = size == 0 ? 64 : size * 2;
			v = xreallocarray(v, size, sizeof *v);
		}
		v[n++] = it;
	}
	closedir(d);
	for (i = 0; i < nremoved; i++)
		free(removed[i].name);
	free(removed);
	/* The removals are durable before their lines go. */
	if (nremoved > 0) {
		if (ngone > 0)
			log_info("spool: removed %zu notifications delivered or "
			    "dropped before the restart", ngone);
		path = xasprintf("%s/" SPOOL_JOURNAL, sp->dir, 0);
		if (file_sync_dir(path) == -1)
			log_warn("spool: sync %s", sp->dir);
		free(path);
		if (ftruncate(sp->journal[0], 0) == -1 ||
		    ftruncate(sp->journal[1], 0) == -1)
			log_warn("spool: empty the removals journals");
	}
	if (n > 1)
		qsort(v, n, sizeof *v, spool_cmp);
	for (i = 0; i < n; i++) {
		spool_append(sp, v[i]);
		if (v[i]->state == SPOOL_EXPIRED)
			v[nx++] = v[i];
	}
	/* The expired list goes by expiry, which creation need not follow. */
	if (nx > 1) {
		qsort(v, nx, sizeof *v, spool_expiry_cmp);
		TAILQ_INIT(&sp->expired);
		for (i = 0; i < nx; i++)
			TAILQ_INSERT_TAIL(&sp->expired, v[i], xentry);
	}
	free(v);
	return 0;
}

struct spool *
spool_open(const char *dir, char **cause)
{
	struct spool *sp = xcalloc(1, sizeof *sp);

	sp->dir = xasprintf("%s/outbox", dir);
	TAILQ_INIT(&sp->all);
	TAILQ_INIT(&sp->expired);
	TAILQ_INIT(&sp->unsynced);
	TAILQ_INIT(&sp->gone);
	sp->journal[0] = sp->journal[1] = -1;
	sp->rng = SPOOL_SEED;
	sp->base_ms = SPOOL_BASE_MS;
	sp->cap_ms = SPOOL_CAP_MS;
	sp->expiry_ms = SPOOL_EXPIRY_MS;
	sp->keep = SPOOL_KEEP;
	sp->keep_ms = SPOOL_KEEP_MS;
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
	log_info("spool: %d notifications in %s (%d pending, %d expired)",
	    sp->n, sp->dir, sp->npending, sp->nexpired);
	return sp;

fail:
	spool_close(sp);
	return NULL;
}

void
spool_close(struct spool *sp)
{
	struct spool_item *it;

	if (sp == NULL)
		return;
	while ((it = TAILQ_FIRST(&sp->all)) != NULL) {
		TAILQ_REMOVE(&sp->all, it, entry);
		spool_item_free(it);
	}
	/* Their files go at the next start, as the journal says. */
	while ((it = TAILQ_FIRST(&sp->gone)) != NULL) {
		TAILQ_REMOVE(&sp->gone, it, sentry);
		spool_item_free(it);
	}
	if (sp->journal[0] != -1)
		close(sp->journal[0]);
	if (sp->journal[1] != -1)
		close(sp->journal[1]);
	free(sp->heap);
	free(sp->hash);
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
spool_set_keep(struct spool *sp, int keep, int64_t keep_ms)
{
	if (keep < 0 || keep > SPOOL_KEEP_MAX || keep_ms < 0 ||
	    keep_ms > INT64_MAX / 4)
		return -1;
	sp->keep = keep;
	sp->keep_ms = keep_ms;
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
	struct spool_item *it, *old;

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
	if ((old = spool_hash_find(sp, it)) != NULL) {
		if (strcmp(old->id, id) == 0) {
			log_debug("spool: %s: already stored", id);
			spool_item_free(it);
			return 0;
		}
		*cause = xasprintf("spool: %s: file name taken by %s", id,
		    old->id);
		spool_item_free(it);
		return -1;
	}
	if (sp->npending >= SPOOL_MAX_ITEMS) {
		*cause = xasprintf("spool: %s: full (%d notifications pending)",
		    id, sp->npending);
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
	struct spool_item *it;

	if (sp->nheap == 0 || sp->heap[0]->next_at > now_ms)
		return NULL;
	it = sp->heap[0];
	spool_heap_remove(sp, it);
	/*
	 * Not written: a restart finds the file waiting and due, which is
	 * what an attempt cut short must lead to.
	 */
	spool_set_state(it, SPOOL_INFLIGHT);
	return it;
}

int64_t
spool_group_due(const struct spool *sp, const char *receiver,
    const char *group, int64_t now_ms)
{
	const struct spool_item *it;
	int64_t t = -1;

	/*
	 * Newest first: a window's members were all created within its
	 * wait, so nothing older than the longest wait can hold one open.
	 */
	for (it = TAILQ_LAST(&sp->all, spool_list); it != NULL;
	    it = TAILQ_PREV(it, spool_list, entry)) {
		if (it->created_at < now_ms - SPOOL_GROUP_WAIT_MAX)
			break;
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
	int n = 0;

	if (lead->group[0] == '\0')
		return 0;
	TAILQ_FOREACH(it, &sp->all, entry) {
		if (n >= max)
			break;
		if (it == lead || !spool_is_waiting(it) ||
		    strcmp(it->receiver, lead->receiver) != 0 ||
		    strcmp(it->group, lead->group) != 0)
			continue;
		spool_heap_remove(sp, it);
		spool_set_state(it, SPOOL_INFLIGHT);
		out[n++] = it;
	}
	return n;
}

/* Only an item handed out may be finished: anything else is a bug. */
static void
spool_check_inflight(const struct spool_item *it, const char *who)
{
	if (it->state != SPOOL_INFLIGHT)
		fatalx("spool: %s: %s while %s", who, it->id,
		    spool_state_name(it->state));
}

/*
 * An item leaves the spool; its file is removed off the loop (spool_sync).
 * A line in the journal makes that removal survive a kill -9 at once,
 * and the item stays in the hash meanwhile, as DELIVERED, so that the
 * same id put again is taken as the replay it is.
 */
static int
spool_forget(struct spool *sp, struct spool_item *it)
{
	char *line;
	int rc = 0;

	spool_remove(sp, it);
	spool_set_state(it, SPOOL_DELIVERED);
	spool_hash_insert(sp, it);
	TAILQ_INSERT_TAIL(&sp->gone, it, sentry);
	if (sp->journal[sp->jcur] != -1) {
		line = xasprintf("%s %" PRId64 "\n", strrchr(it->path, '/') + 1,
		    it->created_at);
		if (file_write_all(sp->journal[sp->jcur], line,
		    strlen(line)) == -1) {
			log_warn("spool: %s: journal its removal", it->id);
			rc = -1;
		}
		free(line);
	}
	return rc;
}

int
spool_delivered(struct spool *sp, struct spool_item *it)
{
	spool_check_inflight(it, "delivered");
	sp->stats.delivered++;
	return spool_forget(sp, it);
}

int
spool_failed(struct spool *sp, struct spool_item *it, const char *why,
    int64_t now_ms)
{
	int64_t delay;

	spool_check_inflight(it, "failed");
	if (it->attempts < UINT32_MAX)
		it->attempts++;
	spool_copy_text(it->last_error, sizeof it->last_error,
	    why != NULL ? why : "");
	if (now_ms - it->created_at > sp->expiry_ms) {
		spool_set_state(it, SPOOL_EXPIRED);
		it->next_at = now_ms;
		sp->npending--;
		sp->nexpired++;
		TAILQ_INSERT_TAIL(&sp->expired, it, xentry);
		sp->stats.expired++;
		log_errorx("spool: %s for %s expired after %" PRIu32
		    " attempts: %s", it->id, it->receiver, it->attempts,
		    it->last_error);
	} else {
		delay = spool_backoff(sp, it->attempts);
		it->next_at = now_ms + delay;
		spool_set_state(it, SPOOL_RETRY);
		spool_heap_push(sp, it);
		sp->stats.retried++;
		log_debug("spool: %s: attempt %" PRIu32 " failed, next in "
		    "%" PRId64 " ms", it->id, it->attempts, delay);
	}
	return spool_rewrite(sp, it);
}

void
spool_defer(struct spool *sp, struct spool_item *it, int64_t at_ms)
{
	spool_check_inflight(it, "deferred");
	it->next_at = at_ms;
	spool_set_state(it, it->attempts > 0 ? SPOOL_RETRY : SPOOL_QUEUED);
	spool_heap_push(sp, it);
}

int64_t
spool_next_time(const struct spool *sp)
{
	return sp->nheap > 0 ? sp->heap[0]->next_at : -1;
}

/* A batch of removals and fsyncs, independent of the spool once taken. */
struct spool_sync {
	char		 *dir;		/* NULL: the directory is not to sync */
	char		**paths;	/* to fsync */
	int		  n;
	char		**gone;		/* to remove */
	int		  ngone;
	int		  journal;	/* to empty once they are; -1 none */
	struct spool_list ghosts;	/* their items, freed on the loop */
};

struct spool_sync *
spool_sync_take(struct spool *sp, int max)
{
	struct spool_sync *batch;
	struct spool_item *it;
	int ngone = 0;

	if (sp->batch_out || !spool_unsynced(sp))
		return NULL;
	sp->batch_out = true;
	batch = xcalloc(1, sizeof *batch);
	TAILQ_INIT(&batch->ghosts);
	batch->journal = -1;
	batch->paths = xreallocarray(NULL, (size_t)(max > 0 ? max : 1),
	    sizeof *batch->paths);
	while (batch->n < max && (it = TAILQ_FIRST(&sp->unsynced)) != NULL) {
		spool_unsynced_remove(sp, it);
		batch->paths[batch->n++] = xstrdup(it->path);
		/* Its rename is in the directory. */
		sp->dir_unsynced = true;
	}
	/* All of them: the journal they are in is emptied after. */
	TAILQ_FOREACH(it, &sp->gone, sentry)
		ngone++;
	if (ngone > 0) {
		batch->gone = xreallocarray(NULL, (size_t)ngone,
		    sizeof *batch->gone);
		while ((it = TAILQ_FIRST(&sp->gone)) != NULL) {
			TAILQ_REMOVE(&sp->gone, it, sentry);
			TAILQ_INSERT_TAIL(&batch->ghosts, it, sentry);
			batch->gone[batch->ngone++] = xstrdup(it->path);
		}
		batch->journal = sp->journal[sp->jcur];
		sp->jcur = !sp->jcur;
		sp->dir_unsynced = true;
	}
	if (sp->dir_unsynced) {
		batch->dir = xstrdup(sp->dir);
		sp->dir_unsynced = false;
	}
	return batch;
}

void
spool_sync_run(struct spool_sync *batch)
{
	int fd, i;

	for (i = 0; i < batch->ngone; i++) {
		if (unlink(batch->gone[i]) == -1 && errno != ENOENT)
			log_warn("spool: remove %s", batch->gone[i]);
	}
	for (i = 0; i < batch->n; i++) {
		/* Gone since (delivered, dropped): nothing to sync. */
		if ((fd = open(batch->paths[i], O_RDONLY | O_CLOEXEC)) == -1) {
			if (errno != ENOENT)
				log_warn("spool: sync %s", batch->paths[i]);
			continue;
		}
		if (fsync(fd) == -1)
			log_warn("spool: sync %s", batch->paths[i]);
		close(fd);
	}
	if (batch->dir != NULL) {
		if ((fd = open(batch->dir, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1 || fsync(fd) == -1)
			log_warn("spool: sync the directory %s", batch->dir);
		if (fd != -1)
			close(fd);
	}
	/* The removals are durable: their lines may go. */
	if (batch->journal != -1 && ftruncate(batch->journal, 0) == -1)
		log_warn("spool: empty the removals journal");
}

void
spool_sync_done(struct spool *sp, struct spool_sync *batch)
{
	struct spool_item *it;
	int i;

	if (batch == NULL)
		return;
	while ((it = TAILQ_FIRST(&batch->ghosts)) != NULL) {
		TAILQ_REMOVE(&batch->ghosts, it, sentry);
		spool_hash_remove(sp, it);
		spool_item_free(it);
	}
	for (i = 0; i < batch->n; i++)
		free(batch->paths[i]);
	for (i = 0; i < batch->ngone; i++)
		free(batch->gone[i]);
	free(batch->paths);
	free(batch->gone);
	free(batch->dir);
	free(batch);
	sp->batch_out = false;
}

int
spool_sync(struct spool *sp, int max)
{
	struct spool_sync *batch = spool_sync_take(sp, max);

	if (batch != NULL) {
		spool_sync_run(batch);
		spool_sync_done(sp, batch);
	}
	return TAILQ_EMPTY(&sp->unsynced) ? 0 : 1;
}

bool
spool_unsynced(const struct spool *sp)
{
	return sp->dir_unsynced || !TAILQ_EMPTY(&sp->unsynced) ||
	    !TAILQ_EMPTY(&sp->gone);
}

/* Whether the oldest expired item is beyond what is kept. */
static bool
spool_prunable(const struct spool *sp, int64_t now_ms)
{
	const struct spool_item *it = TAILQ_FIRST(&sp->expired);

	return it != NULL && (sp->nexpired > sp->keep ||
	    now_ms - it->next_at >= sp->keep_ms);
}

int
spool_prune(struct spool *sp, int64_t now_ms, int max)
{
	struct spool_item *it;
	const char *why;
	int n = 0;

	while (n < max && spool_prunable(sp, now_ms)) {
		it = TAILQ_FIRST(&sp->expired);
		why = sp->nexpired > sp->keep ? "beyond the number kept" :
		    "kept long enough";
		log_info("spool: dropped expired %s for %s (%s): %s", it->id,
		    it->receiver, why, it->last_error);
		sp->stats.dropped++;
		spool_forget(sp, it);
		n++;
	}
	return n;
}

int64_t
spool_prune_time(const struct spool *sp)
{
	const struct spool_item *it = TAILQ_FIRST(&sp->expired);

	if (it == NULL)
		return -1;
	if (sp->nexpired > sp->keep)
		return it->next_at;
	return it->next_at + sp->keep_ms;
}

int
spool_count(const struct spool *sp)
{
	return sp->n;
}

const struct spool_item *
spool_at(const struct spool *sp, int i)
{
	struct spool *w = (struct spool *)sp;	/* the cursor only */
	const struct spool_item *it;
	int j;

	if (i < 0 || i >= sp->n)
		return NULL;
	if (sp->cursor != NULL && i >= sp->cursor_i) {
		it = sp->cursor;
		j = sp->cursor_i;
	} else {
		it = TAILQ_FIRST(&sp->all);
		j = 0;
	}
	for (; j < i; j++)
		it = TAILQ_NEXT(it, entry);
	w->cursor = it;
	w->cursor_i = i;
	return it;
}

int
spool_pending(const struct spool *sp)
{
	return sp->npending;
}

int
spool_expired(const struct spool *sp)
{
	return sp->nexpired;
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

	o = json_pack("{s:s, s:s, s:o, s:s, s:s, s:o, s:o, s:o, s:I, s:o, "
	    "s:I}",
	    "id", it->id,
	    "receiver", it->receiver,
	    "group", it->group[0] != '\0' ? json_string(it->group) :
	    json_null(),
	    "content_type", it->content_type,
	    "state", spool_state_name(it->state),
	    "created_at", spool_json_time(it->created_at),
	    "next_at", spool_is_waiting(it) ? spool_json_time(it->next_at) :
	    json_null(),
	    "expired_at", it->state == SPOOL_EXPIRED ?
	    spool_json_time(it->next_at) : json_null(),
	    "attempts", (json_int_t)it->attempts,
	    "last_error", it->last_error[0] != '\0' ?
	    json_string(it->last_error) : json_null(),
	    "size", (json_int_t)it->len);
	if (o == NULL)
		fatalx("spool: cannot build JSON for %s", it->id);
	return o;
}
