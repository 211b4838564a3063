/*
 * Ingest: one stream entry at a time, no I/O but the records file. Keeps
 * the stream position, the statistics, the duplicate window and the event
 * time watermark together, so that one checkpoint saves them as one.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "dedup.h"
#include "ingest.h"
#include "log.h"
#include "period.h"
#include "records.h"
#include "slice.h"
#include "stall.h"
#include "xmalloc.h"

#define INGEST_TAG_STATE	CP_TAG('I', 'N', 'G', 'S')
#define INGEST_TAG_SERIES	CP_TAG('S', 'E', 'R', 'I')
#define INGEST_TAG_DEDUP	CP_TAG('D', 'E', 'D', 'U')
#define INGEST_TAG_DETECTOR	CP_TAG('D', 'E', 'T', 'E')
#define INGEST_TAG_RECORDS	CP_TAG('R', 'S', 'E', 'G')
/*
 * The layout of the state section (INGS). 2: by_event, the indicators
 * with their signatures, and the side streams' positions after version
 * 1's fields.
 */
#define INGEST_STATE_VERSION	2

#define WEEK_S		(7 * 86400)
/* The clock moves an idle watermark only while it is this close to now. */
#define INGEST_LIVE_S	(7 * 86400)
/* A new records segment every this many closed weeks, or past the size. */
#define INGEST_SEGMENT_WEEKS	4
#define INGEST_SEGMENT_BYTES	(UINT64_C(1) << 30)

/* How a checkpoint child ends, for ingest_checkpoint_done. */
#define INGEST_EXIT_FAILED	1	/* not written, errno unknown */
#define INGEST_EXIT_ORPHAN	2	/* the parent was gone */
#define INGEST_EXIT_ERRNO	64	/* + errno: not written */

/* A section added with ingest_add_section. */
struct ingest_section {
	uint32_t		 tag;
	uint32_t		 version;
	ingest_save_cb		 save;
	ingest_load_cb		 load;
	void			*arg;
};

struct ingest {
	const struct conf	*conf;
	const struct detector	*det;
	struct series_set	*set;
	struct dedup		*dedup;
	struct records		*records;
	int			 weeks;		/* ring sizes */
	int			 months;

	/* Per stream k (0: redis.stream), as ind.streams. */
	struct stream_id	 applied[INDICATOR_MAX];	/* last applied */
	struct stream_id	 checkpointed[INDICATOR_MAX];	/* saved */
	int64_t			 max_seen;	/* latest decided_at */
	/*
	 * Per stream, this run: its latest decided_at, and whether its
	 * reader's last read found nothing (ingest_stream_idle). Not
	 * saved: a stream not heard from since the start holds the
	 * watermark until its reader counts an event or is drained.
	 */
	int64_t			 seen[INDICATOR_MAX];
	bool			 idle[INDICATOR_MAX];
	int64_t			 watermark;
	int32_t			 closed_week;
	int64_t			 next_close_at;	/* watermark closing the next week */
	struct ingest_counters	 counters;
	struct indicators	 ind;
	uint64_t		 dirty;
	bool			 warned_reset[INDICATOR_MAX];
	int64_t			 tick_day;	/* last day the detector looked */
	bool			 deferred;	/* closes or a look wait for it */

	pid_t			 cp_child;	/* checkpoint being written */
	struct stream_id	 cp_applied[INDICATOR_MAX]; /* what it saves */
	uint64_t		 cp_dirty;

	enum ingest_pressure	 pressure;	/* ingest_block, _unblock */
	char			*pressure_why;
	int64_t			 pressure_since;	/* Unix seconds */

	/* Sections other modules keep in the checkpoint (HA). */
	struct ingest_section	 extra[INGEST_MAX_SECTIONS];
	int			 nextra;
};

int
stream_id_parse(const char *s, size_t len, struct stream_id *id)
{
	uint64_t part[2] = { 0, 0 };
	size_t i;
	int k = 0, digits = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '-' && k == 0 && digits > 0) {
			k = 1;
			digits = 0;
			continue;
		}
		if (s[i] < '0' || s[i] > '9' || digits == 20)
			return -1;
		if (part[k] > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		part[k] = part[k] * 10 + (uint64_t)(s[i] - '0');
		digits++;
	}
	if (digits == 0)
		return -1;
	id->ms = part[0];
	id->seq = part[1];
	return 0;
}

int
stream_id_cmp(const struct stream_id *a, const struct stream_id *b)
{
	if (a->ms != b->ms)
		return a->ms < b->ms ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return 0;
}

void
stream_id_format(const struct stream_id *id, char *buf)
{
	snprintf(buf, STREAM_ID_MAX, "%" PRIu64 "-%" PRIu64, id->ms, id->seq);
}

/* Ring sizes covering the retention, plus the open period. */
static void
ingest_ring_sizes(const struct conf *c, int *weeks, int *months)
{
	int64_t days = c->retention_ms / 1000 / 86400;

	*weeks = (int)((days + 6) / 7) + 1;
	*months = (int)(days / 28) + 2;
}

struct ingest *
ingest_create(const struct conf *c, const struct detector *det)
{
	struct ingest *in = xcalloc(1, sizeof *in);
	char *cause = NULL;
	int k;

	in->conf = c;
	in->det = det != NULL ? det : detector_none();
	if (indicators_from_conf(&in->ind, c, &cause) == -1)
		fatalx("ingest: %s", cause);
	ingest_ring_sizes(c, &in->weeks, &in->months);
	in->set = series_set_create_n(in->ind.n, c->max_offices, c->nbenefits,
	    in->weeks, in->months);
	in->dedup = dedup_create((size_t)c->dedup_window);
	in->max_seen = INT64_MIN;
	for (k = 0; k < INDICATOR_MAX; k++)
		in->seen[k] = INT64_MIN;
	in->watermark = INT64_MIN;
	in->closed_week = INT32_MIN;
	in->next_close_at = INT64_MAX;
	return in;
}

void
ingest_free(struct ingest *in)
{
	if (in == NULL)
		return;
	records_close(in->records);
	series_set_free(in->set);
	dedup_free(in->dedup);
	free(in->pressure_why);
	free(in);
}

void
ingest_set_conf(struct ingest *in, const struct conf *c)
{
	struct indicators t;
	char *cause = NULL;

	in->conf = c;
	/*
	 * A reload changes only what indicators may change live (labels,
	 * alerts, weights); the configuration refuses the rest, so the
	 * table keeps its shape.
	 */
	if (indicators_from_conf(&t, c, &cause) == -1) {
		log_warnx("ingest: indicators kept: %s", cause);
		free(cause);
		return;
	}
	if (t.n != in->ind.n || t.nstreams != in->ind.nstreams) {
		log_warnx("ingest: indicators kept: %d of %d streams and "
		    "indicators need a restart", t.n, in->ind.n);
		return;
	}
	in->ind = t;
}

static char *
ingest_path(const struct ingest *in, const char *name)
{
	return xasprintf("%s/%s", in->conf->state_dir, name);
}

/*
 * The layout version a section of ours begins with, which must be one we
 * know (format 1 stored none: its layout is version 1). 0 or -1.
 */
static int
ingest_section_version(const struct checkpoint *cp, struct buf_reader *r,
    uint32_t known, const char *what, uint32_t *out, char **cause)
{
	uint32_t version = 1;

	if (cp->version >= 2 && buf_get_u32(r, &version) == -1) {
		*cause = xasprintf("checkpoint: %s section is truncated", what);
		return -1;
	}
	if (version < 1 || version > known) {
		*cause = xasprintf("checkpoint: %s section has unknown version "
		    "%u", what, version);
		return -1;
	}
	if (out != NULL)
		*out = version;
	return 0;
}

/*
 * A string of the state section: 0, -1 when it is cut short (*cause
 * says the section is truncated) or does not fit (*cause is what).
 */
static int
ingest_get_str(struct buf_reader *r, char *out, size_t size,
    const char *what, char **cause)
{
	const unsigned char *p;
	uint32_t len;

	if (buf_get_u32(r, &len) == -1 || len > r->left) {
		*cause = xstrdup("checkpoint: state section is truncated");
		return -1;
	}
	if ((size_t)len + 1 > size || (p = buf_get_bytes(r, len)) == NULL) {
		*cause = xasprintf("checkpoint: bad %s", what);
		return -1;
	}
	memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}

/*
 * The saved indicator list must be a prefix of the configured one, each
 * with the same signature: series and models of an indicator mean what
 * its definition counted, so one may only be appended.
 */
static int
ingest_load_indicators(struct ingest *in, struct buf_reader *r,
    char **cause)
{
	char name[INDICATOR_NAME_MAX + 1], sig[INDICATOR_SIGNATURE_MAX];
	char want[INDICATOR_SIGNATURE_MAX];
	uint32_t n, i;
	int at;

	if (buf_get_u32(r, &n) == -1) {
		*cause = xstrdup("checkpoint: state section is truncated");
		return -1;
	}
	if (n < 1 || n > INDICATOR_MAX) {
		*cause = xstrdup("checkpoint: bad indicator list");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (ingest_get_str(r, name, sizeof name, "indicator list",
		    cause) == -1 || ingest_get_str(r, sig, sizeof sig,
		    "indicator list", cause) == -1)
			return -1;
		if ((at = indicators_find(&in->ind, name)) == -1) {
			*cause = xasprintf("checkpoint: indicator '%s' is no "
			    "longer configured; indicators may only be "
			    "appended (keep its section; alerts = off stops "
			    "its alerts)", name);
			return -1;
		}
		if (at != (int)i) {
			*cause = xasprintf("checkpoint: indicator '%s' is "
			    "number %u there but %d in the configuration; "
			    "indicators may only be appended (keep the "
			    "sections in their order)", name, i, at);
			return -1;
		}
		indicator_signature(&in->ind.ind[i], want);
		if (strcmp(sig, want) != 0) {
			*cause = xasprintf("checkpoint: indicator '%s' is "
			    "defined differently now; keep the old definition "
			    "and add the new one under a new name (it counted "
			    "%s, now %s)", name, sig, want);
			return -1;
		}
	}
	return 0;
}

/*
 * The side streams' positions, matched by key: a stream read now but not
 * then starts at 0-0; one no longer read is forgotten.
 */
static int
ingest_load_streams(struct ingest *in, struct buf_reader *r, char **cause)
{
	char key[INDICATOR_STREAM_MAX + 1];
	struct stream_id id;
	uint32_t n, i;
	int k;

	if (buf_get_u32(r, &n) == -1)
		goto truncated;
	if (n >= INDICATOR_MAX) {
		*cause = xstrdup("checkpoint: bad stream list");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (ingest_get_str(r, key, sizeof key, "stream list",
		    cause) == -1)
			return -1;
		buf_get_u64(r, &id.ms);
		if (buf_get_u64(r, &id.seq) == -1)
			goto truncated;
		k = indicators_stream_find(&in->ind, key);
		if (k < 1) {
			log_notice("state: stream %s is no longer read; its "
			    "position is dropped", key);
			continue;
		}
		in->applied[k] = id;
		in->checkpointed[k] = id;
	}
	return 0;

truncated:
	*cause = xstrdup("checkpoint: state section is truncated");
	return -1;
}

/* The saved benefit list must be a prefix of the configured one. */
static int
ingest_load_state(struct ingest *in, struct buf_reader *r, uint32_t version,
    uint64_t *reclen, char **cause)
{
	char name[64];
	uint32_t nb, i;
	int64_t watermark, max_seen, next_close_at;
	uint32_t closed;
	int k;

	buf_get_u64(r, &in->applied[0].ms);
	buf_get_u64(r, &in->applied[0].seq);
	buf_get_i64(r, &max_seen);
	buf_get_i64(r, &watermark);
	buf_get_u32(r, &closed);
	buf_get_i64(r, &next_close_at);
	buf_get_u64(r, &in->counters.counted);
	buf_get_u64(r, &in->counters.invalid);
	buf_get_u64(r, &in->counters.duplicates);
	buf_get_u64(r, &in->counters.late);
	for (k = 0; k < 4; k++)
		buf_get_u64(r, &in->counters.by_outcome[k]);
	/* Every event of this layout was a decision. */
	in->counters.by_event[EVENT_DECISION] = in->counters.counted;
	buf_get_u64(r, reclen);
	if (buf_get_u32(r, &nb) == -1 || r->bad) {
		*cause = xstrdup("checkpoint: state section is truncated");
		return -1;
	}
	if ((int)nb > in->conf->nbenefits) {
		*cause = xasprintf("checkpoint: it holds %u benefits, the "
		    "configuration lists %d; benefits may only be appended",
		    nb, in->conf->nbenefits);
		return -1;
	}
	for (i = 0; i < nb; i++) {
		if (ingest_get_str(r, name, sizeof name, "benefit list",
		    cause) == -1)
			return -1;
		if (strcmp(name, in->conf->benefits[i]) != 0) {
			*cause = xasprintf("checkpoint: benefit %u is '%s' "
			    "there but '%s' in the configuration; benefits "
			    "may only be appended", i, name,
			    in->conf->benefits[i]);
			return -1;
		}
	}
	if (version >= 2) {
		for (k = 0; k < DECISION_NEVENTS; k++)
			buf_get_u64(r, &in->counters.by_event[k]);
		if (r->bad) {
			*cause = xstrdup("checkpoint: state section is "
			    "truncated");
			return -1;
		}
		if (ingest_load_indicators(in, r, cause) == -1 ||
		    ingest_load_streams(in, r, cause) == -1)
			return -1;
	}
	in->checkpointed[0] = in->applied[0];
	in->max_seen = max_seen;
	in->watermark = watermark;
	in->closed_week = (int32_t)closed;
	in->next_close_at = next_close_at;
	return 0;
}

/* Remove checkpoint.tmp.PID files that a killed writer left behind. */
static void
ingest_remove_stale(const struct ingest *in)
{
	DIR *dir = opendir(in->conf->state_dir);
	struct dirent *de;
	char *path;

	if (dir == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if (strncmp(de->d_name, "checkpoint.tmp.", 15) != 0)
			continue;
		path = ingest_path(in, de->d_name);
		if (unlink(path) == 0)
			log_info("state: removed unfinished %s", path);
		free(path);
	}
	closedir(dir);
}

int
ingest_add_section(struct ingest *in, uint32_t tag, uint32_t version,
    ingest_save_cb save, ingest_load_cb load, void *arg)
{
	static const uint32_t ours[] = { INGEST_TAG_STATE, INGEST_TAG_SERIES,
	    INGEST_TAG_DEDUP, INGEST_TAG_DETECTOR, INGEST_TAG_RECORDS };
	size_t j;
	int i;

	if (in->nextra == INGEST_MAX_SECTIONS || version == 0)
		return -1;
	for (j = 0; j < sizeof ours / sizeof ours[0]; j++) {
		if (tag == ours[j])
			return -1;
	}
	for (i = 0; i < in->nextra; i++) {
		if (in->extra[i].tag == tag)
			return -1;
	}
	in->extra[in->nextra].tag = tag;
	in->extra[in->nextra].version = version;
	in->extra[in->nextra].save = save;
	in->extra[in->nextra].load = load;
	in->extra[in->nextra].arg = arg;
	in->nextra++;
	return 0;
}

/* The added sections the checkpoint has; one it lacks keeps its default. */
static int
ingest_load_extra(struct ingest *in, const struct checkpoint *cp,
    char **cause)
{
	struct buf_reader r;
	uint32_t version;
	char what[8];
	int i;

	for (i = 0; i < in->nextra; i++) {
		if (checkpoint_get(cp, in->extra[i].tag, &r) == -1)
			continue;
		memcpy(what, &in->extra[i].tag, 4);
		what[4] = '\0';
		if (cp->version < 2) {
			*cause = xasprintf("checkpoint: %s section in a "
			    "format-1 file", what);
			return -1;
		}
		if (ingest_section_version(cp, &r, in->extra[i].version, what,
		    &version, cause) == -1)
			return -1;
		if (in->extra[i].load(in->extra[i].arg, version, &r,
		    cause) == -1)
			return -1;
	}
	return 0;
}

int
ingest_open(struct ingest *in, char **cause)
{
	struct checkpoint cp;
	struct buf_reader r, index;
	uint64_t reclen = 0;
	uint32_t version = 1;
	bool have_index = false;
	char *path;
	int rc, ret = -1;

	if (mkdir(in->conf->state_dir, 0750) == -1 && errno != EEXIST) {
		*cause = xasprintf("state: mkdir %s: %s", in->conf->state_dir,
		    strerror(errno));
		return -1;
	}
	ingest_remove_stale(in);
	path = ingest_path(in, "checkpoint");
	checkpoint_init(&cp);
	rc = checkpoint_read(&cp, path, cause);
	if (rc == -1)
		goto out;
	if (rc == 1) {
		if (checkpoint_get(&cp, INGEST_TAG_STATE, &r) == -1) {
			*cause = xasprintf("checkpoint: %s has no state", path);
			goto out;
		}
		if (ingest_section_version(&cp, &r, INGEST_STATE_VERSION,
		    "state", &version, cause) == -1 ||
		    ingest_load_state(in, &r, version, &reclen, cause) == -1)
			goto out;
		if (checkpoint_get(&cp, INGEST_TAG_SERIES, &r) == -1 ||
		    series_set_load(in->set, &r, cause) == -1) {
			if (*cause == NULL)
				*cause = xstrdup("checkpoint: no series");
			goto out;
		}
		if (checkpoint_get(&cp, INGEST_TAG_DEDUP, &r) == -1 ||
		    dedup_load(in->dedup, &r, cause) == -1) {
			if (*cause == NULL)
				*cause = xstrdup("checkpoint: no dedup");
			goto out;
		}
		if (in->det->load != NULL &&
		    checkpoint_get(&cp, INGEST_TAG_DETECTOR, &r) == 0 &&
		    in->det->load(in->det->arg, &r, cause) == -1)
			goto out;
		/* A checkpoint from before segments has no index. */
		have_index = checkpoint_get(&cp, INGEST_TAG_RECORDS,
		    &index) == 0;
		if (have_index && ingest_section_version(&cp, &index,
		    RECORDS_INDEX_VERSION, "records index", NULL,
		    cause) == -1)
			goto out;
		if (ingest_load_extra(in, &cp, cause) == -1)
			goto out;
		log_info("state: checkpoint %s loaded: %" PRIu64 " counted",
		    path, in->counters.counted);
	} else
		log_notice("state: no checkpoint in %s, starting empty",
		    in->conf->state_dir);
	if (in->conf->records) {
		in->records = records_open(in->conf->state_dir,
		    have_index ? &index : NULL, reclen, cause);
		if (in->records == NULL)
			goto out;
	}
	ret = 0;
out:
	checkpoint_free(&cp);
	free(path);
	return ret;
}

const char *
ingest_pressure_name(enum ingest_pressure p)
{
	switch (p) {
	case INGEST_FLOWING:
		return "flowing";
	case INGEST_RECORDS_BLOCKED:
		return "records";
	case INGEST_CHECKPOINT_BLOCKED:
		return "checkpoint";
	}
	return "unknown";
}

/* Why writing what stops: the reason the status shows. */
static char *
ingest_why(enum ingest_pressure p, int err)
{
	return xasprintf("the %s cannot be written: %s",
	    p == INGEST_RECORDS_BLOCKED ? "records" : "checkpoint",
	    err > 0 ? strerror(err) : "see the log");
}

/*
 * Take no more entries until what failed is written (why is taken).
 * Logged once when it starts, not at each retry.
 */
static void
ingest_block(struct ingest *in, enum ingest_pressure p, char *why)
{
	if (in->pressure == INGEST_FLOWING) {
		log_warnx("ingest: backpressure: %s; reading stops until it "
		    "can be", why);
		in->pressure_since = (int64_t)time(NULL);
	} else if (in->pressure != p)
		log_info("ingest: backpressure: %s", why);
	in->pressure = p;
	free(in->pressure_why);
	in->pressure_why = why;
}

static void
ingest_unblock(struct ingest *in)
{
	if (in->pressure == INGEST_FLOWING)
		return;
	log_notice("ingest: backpressure over after %" PRId64 " s: the %s "
	    "written again; reading resumes",
	    (int64_t)time(NULL) - in->pressure_since,
	    in->pressure == INGEST_RECORDS_BLOCKED ? "records are" :
	    "checkpoint is");
	in->pressure = INGEST_FLOWING;
	free(in->pressure_why);
	in->pressure_why = NULL;
	in->pressure_since = 0;
}

enum ingest_pressure
ingest_pressure(const struct ingest *in, const char **why, int64_t *since)
{
	if (why != NULL)
		*why = in->pressure_why;
	if (since != NULL)
		*since = in->pressure_since;
	return in->pressure;
}

int
ingest_retry(struct ingest *in)
{
	switch (in->pressure) {
	case INGEST_FLOWING:
		return 0;
	case INGEST_CHECKPOINT_BLOCKED:
		return -1;
	case INGEST_RECORDS_BLOCKED:
		break;
	}
	if (in->records != NULL && records_flush(in->records) == -1) {
		ingest_block(in, INGEST_RECORDS_BLOCKED,
		    ingest_why(INGEST_RECORDS_BLOCKED, errno));
		return -1;
	}
	ingest_unblock(in);
	return 0;
}

static bool
ingest_detector_busy(const struct ingest *in)
{
	return in->det->busy != NULL && in->det->busy(in->det->arg);
}

/*
 * At a week close, off the hot path: a new records segment now and then,
 * and the segments past the retention go.
 */
static void
ingest_week_records(struct ingest *in)
{
	struct period p;
	int64_t keep = in->conf->retention_ms / 1000;

	if (in->records == NULL)
		return;
	if ((in->closed_week % INGEST_SEGMENT_WEEKS == 0 ||
	    records_length(in->records) >= INGEST_SEGMENT_BYTES) &&
	    records_rotate(in->records) == -1)
		log_warn("records: new segment; appending to the old one");
	period_of(in->watermark - keep, &p);
	records_expire(in->records, p.day);
}

/*
 * Close every week the watermark has passed and take the daily look, as
 * far as the detector lets: while it is busy (a model fit or an alert's
 * strata being read off the loop) the rest waits for ingest_resume.
 */
static void
ingest_catch_up(struct ingest *in)
{
	in->deferred = false;
	while (in->watermark >= in->next_close_at) {
		if (ingest_detector_busy(in)) {
			in->deferred = true;
			return;
		}
		struct stall_mark m;

		stall_start(&m);
		in->closed_week++;
		in->next_close_at = period_week_start(in->closed_week + 2);
		log_debug("ingest: week %d closed", in->closed_week);
		ingest_week_records(in);
		if (in->det->week_closed != NULL)
			in->det->week_closed(in->det->arg, in->closed_week,
			    in->set);
		stall_step("closing a week", &m);
	}
	if (ingest_detector_busy(in)) {
		in->deferred = true;
		return;
	}
	/* A look at the open week once per day of event time, so that a
	 * replay looks exactly as often as live operation does. */
	if (in->det->tick != NULL && in->watermark / 86400 > in->tick_day) {
		struct stall_mark m;

		stall_start(&m);
		in->tick_day = in->watermark / 86400;
		in->det->tick(in->det->arg, in->watermark, in->set);
		stall_step("the daily look", &m);
	}
}

/* Move the watermark to t (never back) and close every week it passes. */
static void
ingest_advance(struct ingest *in, int64_t t)
{
	if (t <= in->watermark)
		return;
	in->watermark = t;
	ingest_catch_up(in);
}

/*
 * Move the watermark up to the latest event of the stream furthest behind
 * among those whose readers still have entries to read, less lateness. A
 * drained stream does not hold it back, so that a side stream read ahead
 * of a decision stream's backlog closes no week the backlog has events
 * for; when all are drained, the latest event of any. A stream not heard
 * from yet holds it where it is.
 */
static void
ingest_follow(struct ingest *in)
{
	int64_t low = INT64_MAX;
	int k;

	for (k = 0; k < in->ind.nstreams; k++) {
		if (!in->idle[k] && in->seen[k] < low)
			low = in->seen[k];
	}
	if (low == INT64_MAX)
		low = in->max_seen;
	if (low != INT64_MIN)
		ingest_advance(in, low - in->conf->lateness_ms / 1000);
}

void
ingest_stream_idle(struct ingest *in, int k, bool idle)
{
	if (k < 0 || k >= in->ind.nstreams)
		fatalx("ingest: no stream %d", k);
	in->idle[k] = idle;
	/* A drained stream may free the watermark; not while we wait. */
	if (idle && !ingest_waits(in))
		ingest_follow(in);
}

bool
ingest_busy(const struct ingest *in)
{
	return in->deferred || ingest_detector_busy(in);
}

bool
ingest_waits(const struct ingest *in)
{
	return in->pressure != INGEST_FLOWING || ingest_busy(in);
}

void
ingest_resume(struct ingest *in)
{
	if (in->deferred && !ingest_detector_busy(in))
		ingest_catch_up(in);
}

/* Set *cause for a rejected entry and count it. */
static enum ingest_result
ingest_invalid(struct ingest *in, bool counted, char **cause, char *why)
{
	*cause = why;
	if (!counted)
		in->counters.invalid++;
	return INGEST_INVALID;
}

enum ingest_result
ingest_entry(struct ingest *in, const struct stream_id *id,
    const struct decision_field *fields, size_t nfields, bool redelivered,
    int64_t now, char **cause)
{
	return ingest_entry_from(in, 0, id, fields, nfields, redelivered, now,
	    cause);
}

/*
 * The duplicate window's key: a decision's id as before, so that a saved
 * window stays valid; EVENT/ID for the others ('/' is not allowed in an
 * id), so that a reconsideration may reuse its decision's id.
 */
static size_t
ingest_dedup_key(const struct decision *d, char *key, size_t size)
{
	int len;

	if (d->event == EVENT_DECISION) {
		len = snprintf(key, size, "%s", d->id);
	} else
		len = snprintf(key, size, "%s/%s",
		    decision_event_name(d->event), d->id);
	if (len < 0 || (size_t)len >= size)
		fatalx("ingest: dedup key too long");
	return (size_t)len;
}

enum ingest_result
ingest_entry_from(struct ingest *in, int k, const struct stream_id *id,
    const struct decision_field *fields, size_t nfields, bool redelivered,
    int64_t now, char **cause)
{
	const struct conf *c = in->conf;
	struct decision d;
	struct period p;
	struct record rec;
	double prob[INDICATOR_MAX];
	int inds[INDICATOR_MAX], ys[INDICATOR_MAX];
	char key[DECISION_ID_MAX + 32];
	bool applied, late;
	int i, n, office;
	size_t keylen;
	char *why = NULL;

	if (k < 0 || k >= in->ind.nstreams)
		fatalx("ingest: no stream %d", k);
	in->idle[k] = false;

	applied = stream_id_cmp(id, &in->applied[k]) <= 0;
	if (applied && !redelivered && !in->warned_reset[k]) {
		/* New to the group yet not after our position: the stream was
		 * recreated. Count it, but say so once. */
		log_errorx("ingest: new entry of %s at or before the applied "
		    "position; was the stream recreated?", in->ind.streams[k]);
		in->warned_reset[k] = true;
		applied = false;
	} else if (applied && !redelivered)
		applied = false;
	if (!applied) {
		if (stream_id_cmp(id, &in->applied[k]) > 0)
			in->applied[k] = *id;
		in->dirty++;
	}

	if (decision_parse_as(&d, fields, nfields,
	    (const char *const *)c->benefits, c->nbenefits,
	    indicators_stream_event(&in->ind, k), now, c->future_ms / 1000,
	    &why) == -1)
		return ingest_invalid(in, applied, cause, why);
	if (applied)
		return INGEST_APPLIED;

	period_of(d.decided_at, &p);
	if (in->max_seen != INT64_MIN &&
	    d.decided_at < in->max_seen - (int64_t)(in->weeks - 1) * WEEK_S)
		return ingest_invalid(in, false, cause, xstrdup("decided_at: "
		    "older than the retention"));
	/* A new office takes a place only once its entry is counted. */
	office = series_office_index(in->set, d.office, false);
	if (!series_office_valid(in->set, office) &&
	    series_office_count(in->set) >= c->max_offices)
		return ingest_invalid(in, false, cause, xasprintf("office: "
		    "more than %d offices (max_offices)", c->max_offices));
	keylen = ingest_dedup_key(&d, key, sizeof key);
	if (dedup_check_add(in->dedup, key, keylen)) {
		in->counters.duplicates++;
		return INGEST_DUPLICATE;
	}
	if (!series_office_valid(in->set, office))
		office = series_office_index(in->set, d.office, true);

	/* Its indicators from the event's own list, no loop over all. */
	n = indicators_of(&in->ind, d.event, d.outcome, d.detail, inds, ys);
	for (i = 0; i < n; i++) {
		prob[i] = -1;
		if (in->det->predict != NULL && ys[i] != INDICATOR_EXCLUDED)
			prob[i] = in->det->predict(in->det->arg, inds[i], &d,
			    &p);
	}
	/* In all its indicators or none. */
	for (i = 0; i < n; i++) {
		if (series_refuses_in(in->set, inds[i], office, d.benefit,
		    d.kind, p.week, p.month))
			return ingest_invalid(in, false, cause, xstrdup(
			    "decided_at: older than the retention"));
	}
	for (i = 0; i < n; i++) {
		if (series_add_in(in->set, inds[i], office, d.benefit, d.kind,
		    p.week, p.month, indicator_series_outcome(inds[i], ys[i],
		    d.outcome), prob[i]) == -1)
			fatalx("ingest: series refused what it accepted");
	}
	if (in->watermark == INT64_MIN) {
		/*
		 * Nothing before the first watermark needs closing. Until it
		 * moves, no week is closed, and the earliest event so far
		 * sets where closing starts: another stream may hold it.
		 */
		struct period first;

		period_of(d.decided_at - c->lateness_ms / 1000, &first);
		if (in->closed_week == INT32_MIN ||
		    first.week - 1 < in->closed_week) {
			in->closed_week = first.week - 1;
			in->next_close_at = period_week_start(first.week + 1);
		}
	}
	late = p.week <= in->closed_week;
	in->counters.counted++;
	in->counters.by_event[d.event]++;
	if (d.event == EVENT_DECISION)
		in->counters.by_outcome[d.outcome & 3]++;
	if (late)
		in->counters.late++;
	if (in->records != NULL) {
		record_from_decision(&d, office, p.day, &rec);
		/* Kept in memory; the stream waits until it is written. */
		if (records_append(in->records, &rec) == -1)
			ingest_block(in, INGEST_RECORDS_BLOCKED,
			    ingest_why(INGEST_RECORDS_BLOCKED, errno));
	}
	for (i = 0; in->det->counted != NULL && i < n; i++)
		in->det->counted(in->det->arg, inds[i], ys[i], &d, office, &p,
		    prob[i], late);
	if (d.decided_at > in->max_seen)
		in->max_seen = d.decided_at;
	if (d.decided_at > in->seen[k]) {
		in->seen[k] = d.decided_at;
		ingest_follow(in);
	}
	return INGEST_COUNTED;
}

void
ingest_tick(struct ingest *in, int64_t now, bool idle)
{
	int64_t lateness = in->conf->lateness_ms / 1000;

	/* Under backpressure a week close would only fail to write too. */
	if (ingest_waits(in))
		return;
	/* Every reader is drained: the latest event of any stream. */
	if (idle && in->max_seen != INT64_MIN)
		ingest_advance(in, in->max_seen - lateness);
	if (idle && in->watermark != INT64_MIN &&
	    now - in->watermark <= lateness + INGEST_LIVE_S)
		ingest_advance(in, now - lateness);
	if (idle && in->det->idle != NULL &&
	    in->det->idle(in->det->arg, in->set))
		in->dirty++;
}

uint64_t
ingest_dirty(const struct ingest *in)
{
	return in->dirty;
}

void
ingest_touch(struct ingest *in)
{
	in->dirty++;
}

static void
ingest_save_state(const struct ingest *in, struct buf *b, uint64_t reclen)
{
	char sig[INDICATOR_SIGNATURE_MAX];
	int i;

	buf_put_u32(b, INGEST_STATE_VERSION);
	/* Version 1's fields first: the decision stream's position there. */
	buf_put_u64(b, in->applied[0].ms);
	buf_put_u64(b, in->applied[0].seq);
	buf_put_i64(b, in->max_seen);
	buf_put_i64(b, in->watermark);
	buf_put_u32(b, (uint32_t)in->closed_week);
	buf_put_i64(b, in->next_close_at);
	buf_put_u64(b, in->counters.counted);
	buf_put_u64(b, in->counters.invalid);
	buf_put_u64(b, in->counters.duplicates);
	buf_put_u64(b, in->counters.late);
	for (i = 0; i < 4; i++)
		buf_put_u64(b, in->counters.by_outcome[i]);
	buf_put_u64(b, reclen);
	buf_put_u32(b, (uint32_t)in->conf->nbenefits);
	for (i = 0; i < in->conf->nbenefits; i++)
		buf_put_str(b, in->conf->benefits[i]);
	for (i = 0; i < DECISION_NEVENTS; i++)
		buf_put_u64(b, in->counters.by_event[i]);
	buf_put_u32(b, (uint32_t)in->ind.n);
	for (i = 0; i < in->ind.n; i++) {
		indicator_signature(&in->ind.ind[i], sig);
		buf_put_str(b, in->ind.ind[i].name);
		buf_put_str(b, sig);
	}
	buf_put_u32(b, (uint32_t)(in->ind.nstreams - 1));
	for (i = 1; i < in->ind.nstreams; i++) {
		buf_put_str(b, in->ind.streams[i]);
		buf_put_u64(b, in->applied[i].ms);
		buf_put_u64(b, in->applied[i].seq);
	}
}

/* Sync the records and write the checkpoint file; no bookkeeping. */
static int
ingest_checkpoint_write(struct ingest *in, char **cause)
{
	struct checkpoint cp;
	uint64_t reclen = 0;
	char *path;
	int rc, saved, i;

	if (in->records != NULL && records_sync(in->records, &reclen) == -1) {
		saved = errno;
		*cause = xasprintf("records: sync: %s", strerror(saved));
		errno = saved;
		return -1;
	}
	checkpoint_init(&cp);
	ingest_save_state(in, checkpoint_add(&cp, INGEST_TAG_STATE), reclen);
	series_set_save(in->set, checkpoint_add(&cp, INGEST_TAG_SERIES));
	dedup_save(in->dedup, checkpoint_add(&cp, INGEST_TAG_DEDUP));
	if (in->records != NULL) {
		struct buf *b = checkpoint_add(&cp, INGEST_TAG_RECORDS);

		buf_put_u32(b, RECORDS_INDEX_VERSION);
		records_save(in->records, b);
	}
	if (in->det->save != NULL)
		in->det->save(in->det->arg,
		    checkpoint_add(&cp, INGEST_TAG_DETECTOR));
	for (i = 0; i < in->nextra; i++) {
		struct buf *b = checkpoint_add(&cp, in->extra[i].tag);

		buf_put_u32(b, in->extra[i].version);
		in->extra[i].save(in->extra[i].arg, b);
	}
	path = ingest_path(in, "checkpoint");
	rc = checkpoint_write(&cp, path, cause);
	saved = errno;
	free(path);
	checkpoint_free(&cp);
	errno = saved;
	return rc;
}

int
ingest_checkpoint(struct ingest *in, char **cause)
{
	if (in->cp_child != 0) {
		*cause = xstrdup("checkpoint: a checkpoint is being written");
		return -1;
	}
	if (in->records != NULL && records_flush(in->records) == -1) {
		ingest_block(in, INGEST_RECORDS_BLOCKED,
		    ingest_why(INGEST_RECORDS_BLOCKED, errno));
		*cause = xasprintf("checkpoint: %s", in->pressure_why);
		return -1;
	}
	if (ingest_checkpoint_write(in, cause) == -1) {
		ingest_block(in, INGEST_CHECKPOINT_BLOCKED,
		    ingest_why(INGEST_CHECKPOINT_BLOCKED, errno));
		return -1;
	}
	memcpy(in->checkpointed, in->applied, sizeof in->checkpointed);
	in->dirty = 0;
	ingest_unblock(in);
	return 0;
}

pid_t
ingest_checkpoint_start(struct ingest *in, char **cause)
{
	pid_t parent = getpid(), pid;
	char *why = NULL;
	int err;

	if (in->cp_child != 0) {
		*cause = xstrdup("checkpoint: a checkpoint is being written");
		return -1;
	}
	/* The child inherits the file, not our buffer: write it out. */
	if (in->records != NULL && records_flush(in->records) == -1) {
		ingest_block(in, INGEST_RECORDS_BLOCKED,
		    ingest_why(INGEST_RECORDS_BLOCKED, errno));
		*cause = xasprintf("checkpoint: %s", in->pressure_why);
		return -1;
	}
	pid = fork();
	if (pid == -1) {
		*cause = xasprintf("checkpoint: fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* An orphan must not write beside a restarted daemon. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(INGEST_EXIT_ORPHAN);
		/* The loop's short slice is the loop's alone. */
		if (slice_request(0) == -1)
			log_debug("checkpoint: scheduler slice: %s",
			    strerror(errno));
		if (ingest_checkpoint_write(in, &why) == -1) {
			err = errno;
			/* Said once: the parent is blocked already. */
			if (in->pressure == INGEST_CHECKPOINT_BLOCKED)
				log_debug("%s", why);
			else
				log_errorx("%s", why);
			_exit(err > 0 && err < 255 - INGEST_EXIT_ERRNO ?
			    INGEST_EXIT_ERRNO + err : INGEST_EXIT_FAILED);
		}
		_exit(0);
	}
	in->cp_child = pid;
	memcpy(in->cp_applied, in->applied, sizeof in->cp_applied);
	in->cp_dirty = in->dirty;
	in->dirty = 0;
	return pid;
}

bool
ingest_checkpoint_done(struct ingest *in, int status)
{
	int code;

	if (in->cp_child == 0)
		return false;
	in->cp_child = 0;
	if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		memcpy(in->checkpointed, in->cp_applied,
		    sizeof in->checkpointed);
		if (in->pressure == INGEST_CHECKPOINT_BLOCKED)
			ingest_unblock(in);
		return true;
	}
	in->dirty += in->cp_dirty;	/* still to be saved */
	/* Not written (a child killed by a signal is simply retried). */
	if (status != -1 && WIFEXITED(status) &&
	    in->pressure != INGEST_RECORDS_BLOCKED) {
		code = WEXITSTATUS(status);
		ingest_block(in, INGEST_CHECKPOINT_BLOCKED,
		    ingest_why(INGEST_CHECKPOINT_BLOCKED,
		    code > INGEST_EXIT_ERRNO ? code - INGEST_EXIT_ERRNO : 0));
	}
	return false;
}

pid_t
ingest_checkpoint_child(const struct ingest *in)
{
	return in->cp_child;
}

const struct stream_id *
ingest_checkpointed(const struct ingest *in)
{
	return &in->checkpointed[0];
}

const struct stream_id *
ingest_applied(const struct ingest *in)
{
	return &in->applied[0];
}

int
ingest_records_view(struct ingest *in, struct records_view *v)
{
	if (in->records == NULL)
		return -1;
	return records_view(in->records, v);
}

const struct records *
ingest_records(const struct ingest *in)
{
	return in->records;
}

const struct series_set *
ingest_series(const struct ingest *in)
{
	return in->set;
}

const struct ingest_counters *
ingest_counters(const struct ingest *in)
{
	return &in->counters;
}

const struct indicators *
ingest_indicators(const struct ingest *in)
{
	return &in->ind;
}

int
ingest_streams(const struct ingest *in)
{
	return in->ind.nstreams;
}

const char *
ingest_stream_key(const struct ingest *in, int k)
{
	return k >= 0 && k < in->ind.nstreams ? in->ind.streams[k] : NULL;
}

const struct stream_id *
ingest_checkpointed_of(const struct ingest *in, int k)
{
	return k >= 0 && k < in->ind.nstreams ? &in->checkpointed[k] : NULL;
}

const struct stream_id *
ingest_applied_of(const struct ingest *in, int k)
{
	return k >= 0 && k < in->ind.nstreams ? &in->applied[k] : NULL;
}

const struct detector *
ingest_detector(const struct ingest *in)
{
	return in->det;
}

int64_t
ingest_watermark(const struct ingest *in)
{
	return in->watermark;
}

int64_t
ingest_max_seen(const struct ingest *in)
{
	return in->max_seen;
}

int32_t
ingest_closed_week(const struct ingest *in)
{
	return in->closed_week;
}

uint64_t
ingest_memory(const struct ingest *in)
{
	return sizeof *in + series_set_memory(in->set) +
	    dedup_memory(in->dedup);
}
