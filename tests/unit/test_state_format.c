/*
 * The checkpoint's format across versions: a state written in the
 * previous format (tests/data/checkpoint-v1: file format 1, the monitor's
 * section 2 with its alerts as raw bytes) loads with every count and every
 * alert field; the current format writes field by field and reads back the
 * same; damaged and truncated files and sections are refused with a
 * reason, never a crash. The monitor's section 5 holds several
 * indicators; the state of rejection alone (tests/data/checkpoint-v2,
 * section 4) loads as rejection and is saved as the current version.
 * Section 6 keeps the weekly history slot by slot after the series; a
 * section 5 of two indicators (tests/data/monitor-v5) loads with the same
 * history, and the history survives 4 -> 6 and 6 -> 6 field for field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "buf.h"
#include "checkpoint.h"
#include "conf.h"
#include "explain.h"
#include "indicator.h"
#include "ingest.h"
#include "model.h"
#include "monitor.h"
#include "monitor_int.h"
#include "period.h"
#include "xmalloc.h"

#define FIXTURE		"tests/data/checkpoint-v1"
#define FIXTURE_V2	"tests/data/checkpoint-v2"
#define FIXTURE_MON_V5	"tests/data/monitor-v5"
#define MON_VERSION	6	/* the monitor section's current version */
#define T0		1680476400	/* Monday 2023-04-03, 01:00 local */
#define TAG_STATE	CP_TAG('I', 'N', 'G', 'S')
#define TAG_RECORDS	CP_TAG('R', 'S', 'E', 'G')
#define TAG_DETECTOR	CP_TAG('D', 'E', 'T', 'E')

/* A daemon's state objects over one state directory. */
struct state {
	char			 dir[64];
	struct conf		 conf;
	struct explain_registry	*reg;
	struct monitor		*mon;
	struct ingest		*in;
};

static int
state_records_cb(void *arg, struct records_view *v)
{
	struct state *st = arg;

	return ingest_records_view(st->in, v);
}

/* The configuration the fixture was written with. */
static void
state_init(struct state *st)
{
	char *cause = NULL;

	memset(st, 0, sizeof *st);
	period_init();
	strcpy(st->dir, "/tmp/stabild-test-format-XXXXXX");
	assert_non_null(mkdtemp(st->dir));
	conf_default(&st->conf);
	free(st->conf.state_dir);
	st->conf.state_dir = xstrdup(st->dir);
	st->conf.dedup_window = 100;
	st->conf.max_offices = 4;
	st->reg = explain_create();
	assert_int_equal(explain_setup(st->reg, &st->conf, st->dir, &cause), 0);
}

/* Monitor and ingest over the directory; ingest_open's result. */
static int
state_open(struct state *st, char **cause)
{
	st->mon = monitor_create(&st->conf, st->reg, state_records_cb, st,
	    NULL);
	st->in = ingest_create(&st->conf, monitor_detector(st->mon));
	return ingest_open(st->in, cause);
}

static void
state_close(struct state *st)
{
	ingest_free(st->in);
	monitor_free(st->mon);
	st->in = NULL;
	st->mon = NULL;
}

static void
state_free(struct state *st)
{
	struct dirent *de;
	char path[512];
	DIR *d;

	state_close(st);
	explain_free(st->reg);
	conf_free(&st->conf);
	if ((d = opendir(st->dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s", st->dir,
			    de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(st->dir);
}

/* The whole of a file into b. */
static void
read_file(const char *path, struct buf *b)
{
	unsigned char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (f == NULL)
		fail_msg("%s: cannot open", path);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_put(b, chunk, n);
	fclose(f);
}

static void
copy_file(const char *from, const char *to)
{
	char buf[8192];
	size_t n;
	FILE *in, *out;

	assert_non_null(in = fopen(from, "rb"));
	assert_non_null(out = fopen(to, "wb"));
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

static void
state_copy_fixture(struct state *st)
{
	char path[512];

	snprintf(path, sizeof path, "%s/checkpoint", st->dir);
	copy_file(FIXTURE "/checkpoint", path);
	snprintf(path, sizeof path, "%s/records.000001", st->dir);
	copy_file(FIXTURE "/records.000001", path);
}

static unsigned char *
read_all(const char *path, size_t *len)
{
	unsigned char *data;
	FILE *f;
	long n;

	assert_non_null(f = fopen(path, "rb"));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	data = xmalloc((size_t)n + 1);
	assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return data;
}

static void
write_all(const char *path, const void *data, size_t len)
{
	FILE *f;

	assert_non_null(f = fopen(path, "wb"));
	if (len > 0)
		assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/*
 * A checkpoint file by hand, in any format number: magic, version,
 * sections (tag, length, data), SHA-256 of all that.
 */
static void
container_write(const char *path, uint32_t version,
    const struct checkpoint *cp)
{
	unsigned char hash[EVP_MAX_MD_SIZE];
	unsigned int hashlen = 0;
	struct buf b;
	int i;

	buf_init(&b);
	buf_put(&b, "STABILCP", 8);
	buf_put_u32(&b, version);
	buf_put_u32(&b, (uint32_t)cp->nsections);
	for (i = 0; i < cp->nsections; i++) {
		buf_put_u32(&b, cp->sections[i].tag);
		buf_put_u64(&b, cp->sections[i].data.len);
		buf_put(&b, cp->sections[i].data.data,
		    cp->sections[i].data.len);
	}
	assert_int_equal(EVP_Digest(b.data, b.len, hash, &hashlen,
	    EVP_sha256(), NULL), 1);
	buf_put(&b, hash, hashlen);
	write_all(path, b.data, b.len);
	buf_free(&b);
}

/* A copy of cp with section tag's data replaced by data[0..len). */
static void
replace_section(const struct checkpoint *cp, struct checkpoint *out,
    uint32_t tag, const void *data, size_t len)
{
	int i;

	checkpoint_init(out);
	for (i = 0; i < cp->nsections; i++) {
		if (cp->sections[i].tag == tag)
			buf_put(checkpoint_add(out, tag), data, len);
		else
			buf_put(checkpoint_add(out, cp->sections[i].tag),
			    cp->sections[i].data.data,
			    cp->sections[i].data.len);
	}
}

/* The two alerts the fixture's writer stored, as it set them. */
static void
fixture_alert(int i, struct mon_alert *ma)
{
	struct alert *a = &ma->a;

	memset(ma, 0, sizeof *ma);
	if (i == 0) {
		strcpy(a->id, "K001-sjukpenning-first-2023-W14");
		a->status = ALERT_RESOLVED;
		a->classification = ALERT_EXPLAINED;
		a->scope = ALERT_OFFICE;
		a->direction = ALERT_DOWN;
		strcpy(a->office, "K001");
		strcpy(a->benefit, "sjukpenning");
		strcpy(a->kind, "first");
		a->detected_at = T0 + 7200;
		a->raised_at = 1700000123;
		strcpy(a->onset, "2023-W14");
		a->baseline_rate = 0.125;
		a->current_rate = 0.25;
		a->expected_rate = 0.1875;
		a->odds_ratio = 2.5;
		strcpy(a->method, "cusum");
		strcpy(a->explanations[0], "reform-2023");
		strcpy(a->explanations[1], "staffing");
		a->nexplanations = 2;
		a->historical = true;
		a->seq = 3;
		a->updated_at = T0 + 9000;
		a->resolved_at = T0 + 86400;
		a->odds_ratio_lo = 1.5;
		a->odds_ratio_hi = 4.0;
		a->case_mix_part = 0.0625;
		a->practice_part = 0.0625;
		a->decisions = 4321;
		strcpy(a->context[0], "holiday");
		a->ncontext = 1;
		strcpy(a->strata[0].name, "diagnosis=F");
		a->strata[0].share = 0.75;
		a->strata[0].odds_ratio = 3.0;
		a->strata[0].excess = 12.5;
		strcpy(a->strata[1].name, "age=30-39");
		a->strata[1].share = 0.25;
		a->strata[1].odds_ratio = 1.75;
		a->strata[1].excess = 4.25;
		a->nstrata = 2;
		strcpy(a->note, "rebaselined by hand");
		ma->series = 1;
		ma->onset_week = 202314;
		ma->onset_day = 19450;
		ma->alarm_week = 202315;
		return;
	}
	strcpy(a->id, "national-sjukpenning-first-2023-W14-up");
	a->status = ALERT_FIRING;
	a->classification = ALERT_UNEXPLAINED;
	a->scope = ALERT_NATIONAL;
	a->direction = ALERT_UP;
	strcpy(a->benefit, "sjukpenning");
	strcpy(a->kind, "first");
	a->detected_at = T0 + 3600;
	a->raised_at = 1700000999;
	strcpy(a->onset, "2023-W14");
	a->baseline_rate = 0.1;
	a->current_rate = 0.3;
	a->expected_rate = 0.1;
	a->odds_ratio = 3.857;
	strcpy(a->method, "shewhart");
	a->seq = 1;
	a->updated_at = T0 + 3600;
	a->odds_ratio_lo = 2.0;
	a->odds_ratio_hi = 7.0;
	a->decisions = 12;
	ma->series = 0;
	ma->onset_week = 202314;
	ma->onset_day = 19450;
	ma->alarm_week = 202314;
}

static void
assert_alert_equal(const struct mon_alert *want, const struct mon_alert *got)
{
	const struct alert *w = &want->a, *g = &got->a;
	int i;

	assert_string_equal(g->id, w->id);
	assert_int_equal(g->status, w->status);
	assert_int_equal(g->classification, w->classification);
	assert_int_equal(g->scope, w->scope);
	assert_int_equal(g->direction, w->direction);
	assert_string_equal(g->office, w->office);
	assert_string_equal(g->benefit, w->benefit);
	assert_string_equal(g->kind, w->kind);
	assert_int_equal(g->detected_at, w->detected_at);
	assert_int_equal(g->raised_at, w->raised_at);
	assert_string_equal(g->onset, w->onset);
	assert_true(g->baseline_rate == w->baseline_rate);
	assert_true(g->current_rate == w->current_rate);
	assert_true(g->expected_rate == w->expected_rate);
	assert_true(g->odds_ratio == w->odds_ratio);
	assert_string_equal(g->method, w->method);
	assert_int_equal(g->nexplanations, w->nexplanations);
	for (i = 0; i < w->nexplanations; i++)
		assert_string_equal(g->explanations[i], w->explanations[i]);
	assert_int_equal(g->historical, w->historical);
	assert_int_equal(g->seq, w->seq);
	assert_int_equal(g->updated_at, w->updated_at);
	assert_int_equal(g->resolved_at, w->resolved_at);
	assert_true(g->odds_ratio_lo == w->odds_ratio_lo);
	assert_true(g->odds_ratio_hi == w->odds_ratio_hi);
	assert_true(g->case_mix_part == w->case_mix_part);
	assert_true(g->practice_part == w->practice_part);
	assert_int_equal(g->decisions, w->decisions);
	assert_int_equal(g->ncontext, w->ncontext);
	for (i = 0; i < w->ncontext; i++)
		assert_string_equal(g->context[i], w->context[i]);
	assert_int_equal(g->nstrata, w->nstrata);
	for (i = 0; i < w->nstrata; i++) {
		assert_string_equal(g->strata[i].name, w->strata[i].name);
		assert_true(g->strata[i].share == w->strata[i].share);
		assert_true(g->strata[i].odds_ratio == w->strata[i].odds_ratio);
		assert_true(g->strata[i].excess == w->strata[i].excess);
	}
	assert_string_equal(g->note, w->note);
	assert_int_equal(got->series, want->series);
	assert_int_equal(got->onset_week, want->onset_week);
	assert_int_equal(got->onset_day, want->onset_day);
	assert_int_equal(got->alarm_week, want->alarm_week);
}

/* One office's week of the fixture: n on the merits and rejected. */
static void
assert_week(struct state *st, const char *office, uint32_t n,
    uint32_t rejected)
{
	struct series_set *set = (struct series_set *)ingest_series(st->in);
	const struct series *s;
	const struct bucket *b;
	struct period p;
	int o;

	o = strcmp(office, "national") == 0 ? SERIES_NATIONAL :
	    series_office_index(set, office, false);
	assert_true(series_office_valid(set, o) || o == SERIES_NATIONAL);
	assert_non_null(s = series_get(set, o, 0, DECISION_FIRST));
	period_of(T0 + 3600, &p);
	assert_non_null(b = series_week(s, p.week));
	assert_int_equal(b->n, n);
	assert_int_equal(b->rejected, rejected);
}

/* Everything the fixture's writer counted and stored. */
static void
assert_fixture_state(struct state *st)
{
	const struct ingest_counters *ic = ingest_counters(st->in);
	struct mon_alert want;
	int i;

	assert_int_equal(ic->counted, 12);
	assert_int_equal(ic->by_outcome[OUTCOME_GRANTED], 9);
	assert_int_equal(ic->by_outcome[OUTCOME_REJECTED], 3);
	assert_int_equal(ingest_checkpointed(st->in)->ms, 1000);
	assert_int_equal(ingest_checkpointed(st->in)->seq, 12);
	assert_int_equal(records_bytes(ingest_records(st->in)),
	    12 * RECORD_SIZE);
	assert_week(st, "K001", 8, 2);
	assert_week(st, "K002", 4, 1);
	assert_week(st, "national", 12, 3);
	assert_int_equal(st->mon->nalerts, 2);
	for (i = 0; i < 2; i++) {
		fixture_alert(i, &want);
		assert_alert_equal(&want, &st->mon->alerts[i]);
	}
}

static uint32_t
file_format(const char *path)
{
	unsigned char *data;
	size_t len;
	uint32_t v;

	data = read_all(path, &len);
	assert_true(len > 12);
	v = (uint32_t)data[8] | (uint32_t)data[9] << 8 |
	    (uint32_t)data[10] << 16 | (uint32_t)data[11] << 24;
	free(data);
	return v;
}

/* The previous format loads; written again, the current one too. */
static void
test_previous_format_loads(void **state)
{
	struct state st;
	char *cause = NULL, path[512];

	(void)state;
	state_init(&st);
	state_copy_fixture(&st);
	snprintf(path, sizeof path, "%s/checkpoint", st.dir);
	assert_int_equal(file_format(path), 1);
	if (state_open(&st, &cause) == -1)
		fail_msg("%s", cause);
	assert_fixture_state(&st);

	/* Saved in the current format, field by field, and read back. */
	ingest_touch(st.in);
	assert_int_equal(ingest_checkpoint(st.in, &cause), 0);
	assert_int_equal(file_format(path), CHECKPOINT_VERSION);
	state_close(&st);
	if (state_open(&st, &cause) == -1)
		fail_msg("%s", cause);
	assert_fixture_state(&st);
	state_free(&st);
}

/* The hand-made container is the real one: it rebuilds the fixture. */
static void
test_container_by_hand(void **state)
{
	struct checkpoint cp;
	unsigned char *a, *b;
	size_t alen, blen;
	char *cause = NULL, path[512];
	struct state st;

	(void)state;
	state_init(&st);
	checkpoint_init(&cp);
	assert_int_equal(checkpoint_read(&cp, FIXTURE "/checkpoint", &cause),
	    1);
	assert_int_equal(cp.version, 1);
	snprintf(path, sizeof path, "%s/again", st.dir);
	container_write(path, 1, &cp);
	a = read_all(FIXTURE "/checkpoint", &alen);
	b = read_all(path, &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	free(a);
	free(b);

	/* A format from the future is refused, with the reason. */
	container_write(path, CHECKPOINT_VERSION + 1, &cp);
	checkpoint_free(&cp);
	assert_int_equal(checkpoint_read(&cp, path, &cause), -1);
	assert_non_null(strstr(cause, "unsupported version"));
	free(cause);
	checkpoint_free(&cp);
	state_free(&st);
}

/* The whole file cut short or with a byte changed: refused. */
static void
test_damaged_file(void **state)
{
	struct state st;
	unsigned char *data;
	size_t len, cuts[8], i;
	char *cause = NULL, path[512];

	(void)state;
	data = read_all(FIXTURE "/checkpoint", &len);
	cuts[0] = 0;
	cuts[1] = 7;
	cuts[2] = 12;
	cuts[3] = 16;
	cuts[4] = 47;
	cuts[5] = len / 2;
	cuts[6] = len - 32;
	cuts[7] = len - 1;
	for (i = 0; i < 9; i++) {
		state_init(&st);
		state_copy_fixture(&st);
		snprintf(path, sizeof path, "%s/checkpoint", st.dir);
		if (i < 8)
			write_all(path, data, cuts[i]);
		else {
			data[len / 3] ^= 0x10;
			write_all(path, data, len);
		}
		assert_int_equal(state_open(&st, &cause), -1);
		assert_non_null(cause);
		assert_non_null(strstr(cause, "checkpoint"));
		free(cause);
		cause = NULL;
		state_free(&st);
	}
	free(data);
}

/*
 * A monitor section cut at every length is refused by its loader: the
 * previous version's raw alerts and the current field-by-field ones.
 */
static void
test_truncated_monitor_section(void **state)
{
	struct checkpoint cp;
	struct buf_reader r, full;
	struct state st, cur;
	struct monitor *mon;
	const struct detector *det;
	char *cause = NULL, path[512];
	size_t len, k;
	int pass;

	(void)state;
	state_init(&st);
	state_init(&cur);
	/* The current version: the fixture loaded and saved again. */
	state_copy_fixture(&cur);
	if (state_open(&cur, &cause) == -1)
		fail_msg("%s", cause);
	ingest_touch(cur.in);
	assert_int_equal(ingest_checkpoint(cur.in, &cause), 0);
	state_close(&cur);
	for (pass = 0; pass < 2; pass++) {
		if (pass == 0)
			snprintf(path, sizeof path, FIXTURE "/checkpoint");
		else
			snprintf(path, sizeof path, "%s/checkpoint", cur.dir);
		checkpoint_init(&cp);
		assert_int_equal(checkpoint_read(&cp, path, &cause), 1);
		assert_int_equal(checkpoint_get(&cp, TAG_DETECTOR, &full), 0);
		len = full.left;
		/* The whole section loads. */
		mon = monitor_create(&st.conf, st.reg, NULL, NULL, NULL);
		det = monitor_detector(mon);
		assert_int_equal(det->load(det->arg, &full, &cause), 0);
		assert_int_equal(mon->nalerts, 2);
		monitor_free(mon);
		for (k = 0; k < len; k++) {
			mon = monitor_create(&st.conf, st.reg, NULL, NULL,
			    NULL);
			det = monitor_detector(mon);
			assert_int_equal(checkpoint_get(&cp, TAG_DETECTOR, &r),
			    0);
			r.left = k;
			if (det->load(det->arg, &r, &cause) != -1)
				fail_msg("version %d: a section of %zu of %zu "
				    "bytes loaded", pass + 2, k, len);
			assert_non_null(cause);
			free(cause);
			cause = NULL;
			monitor_free(mon);
		}
		checkpoint_free(&cp);
	}
	state_free(&cur);
	state_free(&st);
}

/* A blank monitor of four offices, and a decision's week to count in. */
static struct monitor *
blank_monitor(struct conf *conf, struct decision *d, struct period *p)
{
	period_init();
	conf_default(conf);
	conf->max_offices = 4;
	memset(d, 0, sizeof *d);
	d->benefit = 1;
	d->kind = 1;
	period_of(1700000000, p);
	return monitor_create(conf, NULL, NULL, NULL, NULL);
}

/* mon saved and loaded into a new monitor, which is returned. */
static struct monitor *
round_trip(struct monitor *mon, const struct conf *conf)
{
	struct monitor *back = monitor_create(conf, NULL, NULL, NULL, NULL);
	const struct detector *det = monitor_detector(mon);
	struct buf_reader r;
	struct buf b;
	char *cause = NULL;

	buf_init(&b);
	det->save(det->arg, &b);
	buf_reader_init(&r, b.data, b.len);
	det = monitor_detector(back);
	if (det->load(det->arg, &r, &cause) == -1)
		fail_msg("%s", cause);
	buf_free(&b);
	return back;
}

/*
 * A series counted for the first time after the last week's close is
 * the monitor's at once: a checkpoint before the next close keeps its
 * week's expected sums (it saves the used series alone), so that a
 * restart from it goes on with the same E and V.
 */
static void
test_new_series_saved(void **state)
{
	struct conf conf;
	struct monitor *mon, *back;
	const struct detector *det;
	const struct mon_series *ms;
	struct decision d;
	struct period p;
	int k, office = 2;

	(void)state;
	mon = blank_monitor(&conf, &d, &p);
	det = monitor_detector(mon);
	det->counted(det->arg, 0, INDICATOR_YES, &d, office, &p, 0.25, false);
	det->counted(det->arg, 0, INDICATOR_NO, &d, office, &p, 0.5, false);
	back = round_trip(mon, &conf);
	for (k = 0; k < 2; k++) {
		ms = mon_series_of(back, 0, k == 0 ? SERIES_NATIONAL : office,
		    d.benefit, d.kind);
		assert_true(ms->used);
		assert_non_null(mon_hist_get(ms, p.week));
		assert_float_equal(mon_hist_get(ms, p.week)->e, 0.75, 1e-12);
		assert_float_equal(mon_hist_get(ms, p.week)->v,
		    0.25 * 0.75 + 0.5 * 0.5, 1e-12);
	}
	monitor_free(back);
	monitor_free(mon);
	conf_free(&conf);
}

/*
 * A detectable odds ratio saved before the cap (detect.h DETECT_OR_MAX),
 * such as 1e150, loads as none; one under the cap as it was.
 */
static void
test_detectable_cap_loads(void **state)
{
	struct conf conf;
	struct monitor *mon, *back;
	const struct detector *det;
	struct mon_series *far, *near;
	struct decision d;
	struct period p;

	(void)state;
	mon = blank_monitor(&conf, &d, &p);
	det = monitor_detector(mon);
	/* Two offices' series, taken in by their first decisions. */
	det->counted(det->arg, 0, INDICATOR_YES, &d, 1, &p, 0.25, false);
	det->counted(det->arg, 0, INDICATOR_YES, &d, 2, &p, 0.25, false);
	far = mon_series_of(mon, 0, 1, d.benefit, d.kind);
	near = mon_series_of(mon, 0, 2, d.benefit, d.kind);
	assert_true(far->used && near->used);
	far->detectable_or = 1e150;
	near->detectable_or = 50;
	back = round_trip(mon, &conf);
	assert_true(isinf(mon_series_of(back, 0, 1, d.benefit,
	    d.kind)->detectable_or));
	assert_true(mon_series_of(back, 0, 2, d.benefit,
	    d.kind)->detectable_or == 50);
	monitor_free(back);
	monitor_free(mon);
	conf_free(&conf);
}

/*
 * Sections damaged behind a valid checksum: a cut ingest state, an
 * unknown section version, an alert out of range; each refused by
 * ingest_open with a reason.
 */
static void
test_damaged_sections(void **state)
{
	struct checkpoint cp, bad;
	struct buf_reader r;
	struct state st;
	struct buf b;
	char *cause = NULL, path[512];
	const unsigned char *p;
	unsigned char *copy;
	size_t len;
	int i;
	struct {
		uint32_t	 tag;
		int		 how;	/* 0 cut in half, 1 version 99 */
		const char	*why;
	} cases[] = {
		{ TAG_STATE, 0, "state section is truncated" },
		{ TAG_STATE, 1, "state section has unknown version 99" },
		{ TAG_RECORDS, 1, "records index section has unknown" },
		{ TAG_DETECTOR, 1, "unknown version" },
		{ TAG_DETECTOR, 0, "monitor: checkpoint" },
	};

	(void)state;
	/* A current-format checkpoint to damage. */
	state_init(&st);
	state_copy_fixture(&st);
	if (state_open(&st, &cause) == -1)
		fail_msg("%s", cause);
	ingest_touch(st.in);
	assert_int_equal(ingest_checkpoint(st.in, &cause), 0);
	state_close(&st);
	snprintf(path, sizeof path, "%s/checkpoint", st.dir);
	checkpoint_init(&cp);
	assert_int_equal(checkpoint_read(&cp, path, &cause), 1);
	assert_int_equal(cp.version, CHECKPOINT_VERSION);

	for (i = 0; i < (int)(sizeof cases / sizeof cases[0]); i++) {
		assert_int_equal(checkpoint_get(&cp, cases[i].tag, &r), 0);
		len = r.left;
		p = buf_get_bytes(&r, len);
		copy = xmalloc(len);
		memcpy(copy, p, len);
		if (cases[i].how == 1) {
			buf_init(&b);
			buf_put_u32(&b, 99);
			memcpy(copy, b.data, 4);
			buf_free(&b);
		} else
			len /= 2;
		replace_section(&cp, &bad, cases[i].tag, copy, len);
		free(copy);
		assert_int_equal(checkpoint_write(&bad, path, &cause), 0);
		checkpoint_free(&bad);
		if (state_open(&st, &cause) != -1)
			fail_msg("case %d loaded", i);
		if (strstr(cause, cases[i].why) == NULL)
			fail_msg("case %d: %s", i, cause);
		free(cause);
		cause = NULL;
		state_close(&st);
	}

	/* An alert whose status is out of range (the section's last alert
	 * ends with its note and four words; its status follows its id). */
	assert_int_equal(checkpoint_get(&cp, TAG_DETECTOR, &r), 0);
	len = r.left;
	copy = xmalloc(len);
	memcpy(copy, buf_get_bytes(&r, len), len);
	{
		static const char id[] = "national-sjukpenning-first-2023-W14-up";
		unsigned char *at = memmem(copy, len, id, sizeof id - 1);

		assert_non_null(at);
		at[sizeof id - 1] = 7;		/* status */
	}
	replace_section(&cp, &bad, TAG_DETECTOR, copy, len);
	free(copy);
	assert_int_equal(checkpoint_write(&bad, path, &cause), 0);
	checkpoint_free(&bad);
	assert_int_equal(state_open(&st, &cause), -1);
	assert_non_null(strstr(cause, "alerts are damaged"));
	free(cause);
	checkpoint_free(&cp);
	state_free(&st);
}


/* ---------------------------------------------------------------------
 * Section 5: indicators.
 */

/* A second indicator in the configuration, as conf_load would fill it. */
static void
state_add_reconsideration(struct state *st)
{
	struct conf_indicator *ci = &st->conf.indicators[0];

	memset(ci, 0, sizeof *ci);
	ci->name = xstrdup("reconsideration");
	ci->event = xstrdup("reconsideration");
	ci->yes = xstrdup("changed");
	ci->no = xstrdup("unchanged");
	ci->label = xstrdup("change rate at reconsideration");
	ci->design_or_office = 2.0;
	st->conf.nindicators = 1;
}

/* Free what state_add_reconsideration added, before conf_free. */
static void
state_drop_indicators(struct state *st)
{
	struct conf_indicator *ci = &st->conf.indicators[0];

	if (st->conf.nindicators == 0)
		return;
	free(ci->name);
	free(ci->event);
	free(ci->yes);
	free(ci->no);
	free(ci->label);
	memset(ci, 0, sizeof *ci);
	st->conf.nindicators = 0;
}

/*
 * Indicator 1's series of office 0 and its nation, filled by hand, with
 * a fitted-regime state and a firing alert with a prefixed id.
 */
static void
fill_second_indicator(struct monitor *mon)
{
	struct mon_series *ms;
	struct mon_alert *ma;
	struct alert *a;
	int k, j, offices[2] = { SERIES_NATIONAL, 0 };

	assert_int_equal(mon->nind, 2);
	mon->first[1].fitted = true;
	mon->first[1].first_week = 2700;
	mon->groups[mon_group_index(mon, 1, 0, 1)].tau2_office = 0.0125;
	mon->groups[mon_group_index(mon, 1, 0, 1)].ref_from = 2700;
	mon->groups[mon_group_index(mon, 1, 0, 1)].ref_to = 2752;
	for (k = 0; k < 2; k++) {
		ms = mon_series_of(mon, 1, offices[k], 0, 1);
		ms->used = true;
		ms->ind = 1;
		ms->office = offices[k];
		ms->benefit = 0;
		ms->kind = 1;
		ms->state = k == 0 ? MON_STABLE : MON_DRIFTING;
		ms->alert = ms->outlier_alert = -1;
		ms->alpha = 0.25 * k;
		ms->h = 4.5 + k;
		ms->h_down = 4.25 + k;
		ms->w = 12.5;
		ms->regime_week = 2752;
		detect_cusum_reset(&ms->cusum);
		detect_cusum_reset(&ms->back);
		ms->cusum.up = 1.5 + k;
		ms->cusum.up_start = 2758;
		for (j = 0; j < MON_HIST; j++)
			MON_HIST_AT(ms, j).week = INT32_MIN;
		mon_hist(ms, 2760)->n = 40 + (uint32_t)k;
		mon_hist(ms, 2760)->o = 7;
		mon_hist(ms, 2760)->e = 5.5;
		mon_hist(ms, 2760)->v = 4.25;
		mon_hist(ms, 2760)->phase = MON_PHASE_WATCHED;
	}
	ma = mon_alert_new(mon);
	a = &ma->a;
	strcpy(a->id, "reconsideration:K001.sjukpenning.ongoing.2023-W14.up");
	a->status = ALERT_FIRING;
	a->classification = ALERT_UNEXPLAINED;
	a->scope = ALERT_OFFICE;
	a->direction = ALERT_UP;
	strcpy(a->office, "K001");
	strcpy(a->benefit, "sjukpenning");
	strcpy(a->kind, "ongoing");
	strcpy(a->onset, "2023-W14");
	strcpy(a->method, "score-cusum/v1");
	a->odds_ratio = 2.25;
	a->decisions = 41;
	a->seq = 1;
	strcpy(a->indicator, "reconsideration");
	strcpy(a->indicator_label, "change rate at reconsideration");
	strcpy(a->event, "reconsideration");
	ma->series = mon_index(mon, 1, 0, 0, 1);
	ma->onset_week = 2758;
	ma->alarm_week = 2760;
	ma->explained_at = 0;
	ms = mon_series_of(mon, 1, 0, 0, 1);
	ms->alert = mon->nalerts - 1;
}

static void
assert_second_indicator(const struct monitor *mon)
{
	const struct mon_series *ms;
	const struct mon_alert *ma;
	int k, offices[2] = { SERIES_NATIONAL, 0 };

	assert_int_equal(mon->nind, 2);
	assert_true(mon->first[1].fitted);
	assert_int_equal(mon->first[1].first_week, 2700);
	assert_true(mon->groups[mon_group_index(mon, 1, 0, 1)].tau2_office ==
	    0.0125);
	assert_int_equal(mon->groups[mon_group_index(mon, 1, 0, 1)].ref_to,
	    2752);
	for (k = 0; k < 2; k++) {
		ms = &mon->series[mon_index(mon, 1, offices[k], 0, 1)];
		assert_true(ms->used);
		assert_int_equal(ms->ind, 1);
		assert_int_equal(ms->office, offices[k]);
		assert_int_equal(ms->kind, 1);
		assert_int_equal(ms->state, k == 0 ? MON_STABLE :
		    MON_DRIFTING);
		assert_true(ms->h == 4.5 + k);
		assert_true(ms->alpha == 0.25 * k);
		assert_true(ms->cusum.up == 1.5 + k);
		assert_non_null(mon_hist_get(ms, 2760));
		assert_int_equal(mon_hist_get(ms, 2760)->n, 40 + k);
		assert_true(mon_hist_get(ms, 2760)->v == 4.25);
	}
	/* Rejection's series of the same office is another one, unused. */
	assert_false(mon->series[mon_index(mon, 0, 0, 0, 1)].used);
	ma = &mon->alerts[mon->nalerts - 1];
	assert_string_equal(ma->a.id,
	    "reconsideration:K001.sjukpenning.ongoing.2023-W14.up");
	assert_string_equal(ma->a.indicator, "reconsideration");
	assert_string_equal(ma->a.indicator_label,
	    "change rate at reconsideration");
	assert_string_equal(ma->a.event, "reconsideration");
	assert_string_equal(alert_indicator(&ma->a), "reconsideration");
	assert_int_equal(ma->series, mon_index(mon, 1, 0, 0, 1));
	assert_int_equal(mon->series[ma->series].alert, mon->nalerts - 1);
	assert_int_equal(ma->alarm_week, 2760);
}

static uint32_t
section_version(const struct buf *b)
{
	assert_true(b->len >= 4);
	return (uint32_t)b->data[0] | (uint32_t)b->data[1] << 8 |
	    (uint32_t)b->data[2] << 16 | (uint32_t)b->data[3] << 24;
}

/*
 * A fresh monitor of st's configuration with a monitor section of len
 * bytes loaded, or NULL and *cause says why (the caller frees it).
 */
static struct monitor *
section_try(struct state *st, const void *data, size_t len, char **cause)
{
	struct monitor *mon = monitor_create(&st->conf, st->reg, NULL, NULL,
	    NULL);
	const struct detector *det = monitor_detector(mon);
	struct buf_reader r;

	buf_reader_init(&r, data, len);
	if (det->load(det->arg, &r, cause) == 0)
		return mon;
	monitor_free(mon);
	return NULL;
}

/* Loaded, or the test fails with why. */
static struct monitor *
section_load(struct state *st, const void *data, size_t len)
{
	char *cause = NULL;
	struct monitor *mon = section_try(st, data, len, &cause);

	if (mon == NULL)
		fail_msg("%s", cause);
	return mon;
}

/* Whether the section loads, the monitor freed at once. */
static bool
section_loads(struct state *st, const void *data, size_t len, char **cause)
{
	struct monitor *mon = section_try(st, data, len, cause);

	monitor_free(mon);
	return mon != NULL;
}

/* Refused, with why among the reasons. */
static void
section_refused(struct state *st, const void *data, size_t len,
    const char *why)
{
	char *cause = NULL;

	if (section_loads(st, data, len, &cause))
		fail_msg("a damaged section loaded");
	if (strstr(cause, why) == NULL)
		fail_msg("refused as \"%s\", not for \"%s\"", cause, why);
	free(cause);
}

/* Cut at every length (every step-th beyond 256): refused, no crash. */
static void
section_cuts_refused(struct state *st, const struct buf *b, size_t step)
{
	char *cause = NULL;
	size_t k;

	for (k = 0; k < b->len; k += k < 256 ? 1 : step) {
		if (section_loads(st, b->data, k, &cause))
			fail_msg("a section of %zu of %zu bytes loaded", k,
			    b->len);
		free(cause);
		cause = NULL;
	}
}

/* Every used series' history, slot by slot, in series order. */
static struct mon_week *
history_copy(const struct monitor *mon)
{
	struct mon_week *h = xcalloc((size_t)mon->nseries * MON_HIST,
	    sizeof *h);
	size_t k = 0;
	int i, j;

	for (i = 0; i < mon->nseries; i++) {
		for (j = 0; mon->series[i].used && j < MON_HIST; j++)
			h[k++] = MON_HIST_AT(&mon->series[i], j);
	}
	return h;
}

/* The weeks of mon's history that hold a week. */
static int
history_weeks(const struct monitor *mon)
{
	int i, j, n = 0;

	for (i = 0; i < mon->nseries; i++) {
		for (j = 0; mon->series[i].used && j < MON_HIST; j++)
			n += MON_HIST_AT(&mon->series[i], j).week != INT32_MIN;
	}
	return n;
}

/* mon's history is want's (history_copy), field for field. */
static void
history_check(const struct monitor *mon, const struct mon_week *want)
{
	size_t k = 0;
	int i, j;

	for (i = 0; i < mon->nseries; i++) {
		for (j = 0; mon->series[i].used && j < MON_HIST; j++, k++) {
			const struct mon_week *a = &MON_HIST_AT(
			    &mon->series[i], j), *b = &want[k];

			if (a->week != b->week || a->n != b->n ||
			    a->o != b->o || a->late != b->late ||
			    memcmp(&a->e, &b->e, sizeof a->e) != 0 ||
			    memcmp(&a->v, &b->v, sizeof a->v) != 0 ||
			    memcmp(&a->oe, &b->oe, sizeof a->oe) != 0 ||
			    memcmp(&a->va, &b->va, sizeof a->va) != 0 ||
			    a->phase != b->phase)
				fail_msg("series %d slot %d: week %d n %u "
				    "against week %d n %u", i, j, a->week,
				    a->n, b->week, b->n);
		}
	}
}

/*
 * A monitor section of version 5 (two indicators, as
 * test_v5_two_indicators fills them, written by that version) loads, and
 * is saved as the current version, which holds the same history in a
 * fraction of the bytes and reads back the same.
 */
static void
test_v5_section_loads(void **state)
{
	struct state st;
	struct monitor *mon, *again;
	const struct detector *det;
	struct mon_week *hist;
	struct buf old, b;

	(void)state;
	state_init(&st);
	state_add_reconsideration(&st);
	buf_init(&old);
	read_file(FIXTURE_MON_V5, &old);
	assert_int_equal(section_version(&old), 5);
	mon = section_load(&st, old.data, old.len);
	assert_second_indicator(mon);
	/* One week of each of the two series; the other slots empty. */
	assert_int_equal(history_weeks(mon), 2);
	/* Weeks an empty byte must not stand for: -0.0, NaN, and a week
	 * number that is the empty one's with counts or late ones. */
	{
		struct mon_series *ms = &mon->series[mon_index(mon, 1,
		    SERIES_NATIONAL, 0, 1)];

		assert_int_equal(MON_HIST_AT(ms, 3).week, INT32_MIN);
		MON_HIST_AT(ms, 3).n = 3;
		MON_HIST_AT(ms, 4).e = -0.0;
		MON_HIST_AT(ms, 5).va = NAN;
		MON_HIST_AT(ms, 6).late = 2;
	}
	hist = history_copy(mon);

	buf_init(&b);
	det = monitor_detector(mon);
	det->save(det->arg, &b);
	assert_int_equal(section_version(&b), MON_VERSION);
	/* 2 x 160 weeks of 49 bytes before; now a byte each, and 49 more
	 * for each week held. */
	if (!(b.len * 4 < old.len))
		fail_msg("saved in %zu bytes, %zu before", b.len, old.len);
	again = section_load(&st, b.data, b.len);
	assert_second_indicator(again);
	history_check(again, hist);
	monitor_free(again);

	/*
	 * A series twice (its record copied over the next one's, so that
	 * both say the same): refused, since the weeks follow the series
	 * in the order they were written.
	 */
	{
		uint32_t idx[2] = {
			(uint32_t)mon_index(mon, 1, SERIES_NATIONAL, 0, 1),
			(uint32_t)mon_index(mon, 1, 0, 0, 1) };
		unsigned char pat[2][16], *at[2], *copy;
		size_t len;
		int s;

		for (s = 0; s < 2; s++) {
			uint32_t f[4] = { idx[s], (uint32_t)(s == 0 ?
			    SERIES_NATIONAL : 0), 0, 1 };
			int q;

			for (q = 0; q < 16; q++)
				pat[s][q] = (unsigned char)(f[q / 4] >>
				    (8 * (q % 4)));
			at[s] = memmem(b.data, b.len, pat[s], 16);
			assert_non_null(at[s]);
		}
		len = (size_t)(at[1] - at[0]);
		copy = xmalloc(b.len);
		memcpy(copy, b.data, b.len);
		memcpy(copy + (at[1] - b.data), at[0], len);
		section_refused(&st, copy, b.len, "series are damaged");
		free(copy);
	}
	/* A held week's marker made unknown: refused, with why. */
	{
		static const unsigned char held[5] = { 1, 0xc8, 0x0a, 0, 0 };
		unsigned char *at = memmem(b.data, b.len, held, sizeof held);

		assert_non_null(at);	/* week 2760 */
		*at = 2;
		section_refused(&st, b.data, b.len, "history is damaged");
		*at = 1;
	}
	/* Cut at every length: refused, never a crash. */
	section_cuts_refused(&st, &b, 13);
	free(hist);
	buf_free(&b);
	buf_free(&old);
	monitor_free(mon);
	state_drop_indicators(&st);
	state_free(&st);
}

/* The DETE section of the checkpoint at path, copied into b. */
static void
read_detector_section(const char *path, struct buf *b)
{
	struct checkpoint cp;
	struct buf_reader r;
	char *cause = NULL;
	size_t len;

	checkpoint_init(&cp);
	assert_int_equal(checkpoint_read(&cp, path, &cause), 1);
	assert_int_equal(checkpoint_get(&cp, TAG_DETECTOR, &r), 0);
	len = r.left;
	buf_init(b);
	buf_put(b, buf_get_bytes(&r, len), len);
	checkpoint_free(&cp);
}

/*
 * The state of rejection alone (section 4, with models and an alert)
 * loads as indicator 0, with a second indicator configured too, and is
 * saved as the current version with the same models, alert, thresholds
 * and history.
 */
static void
test_v2_fixture_loads(void **state)
{
	struct state st;
	struct buf sec;
	char *cause = NULL, path[512];
	const char *files[] = { "checkpoint", "records.000001",
	    "records.000002", "records.000003", "records.000004",
	    "records.000005" };
	struct mon_week *hist;
	double h[2];
	int pass, i, models;

	(void)state;
	for (pass = 0; pass < 2; pass++) {
		state_init(&st);
		st.conf.min_reference_weeks = 13;
		if (pass == 1)
			state_add_reconsideration(&st);
		for (i = 0; i < (int)(sizeof files / sizeof files[0]); i++) {
			char from[256];

			snprintf(from, sizeof from, "%s/%s", FIXTURE_V2,
			    files[i]);
			snprintf(path, sizeof path, "%s/%s", st.dir, files[i]);
			copy_file(from, path);
		}
		snprintf(path, sizeof path, "%s/checkpoint", st.dir);
		read_detector_section(path, &sec);
		assert_int_equal(section_version(&sec), 4);
		buf_free(&sec);
		if (state_open(&st, &cause) == -1)
			fail_msg("%s", cause);
		assert_int_equal(ingest_counters(st.in)->counted, 18865);
		assert_int_equal(st.mon->nind, pass + 1);
		assert_true(st.mon->first[0].fitted);
		for (i = models = 0; i < st.mon->ngroups; i++)
			models += st.mon->groups[i].model != NULL;
		assert_int_equal(models, 8);
		assert_int_equal(st.mon->nalerts, 1);
		assert_string_equal(st.mon->alerts[0].a.id,
		    "K001.sjukpenning.ongoing.2023-W15.up");
		assert_string_equal(st.mon->alerts[0].a.indicator, "");
		assert_int_equal(st.mon->series[st.mon->alerts[0].series].ind,
		    0);
		h[0] = st.mon->series[st.mon->alerts[0].series].h;
		if (pass == 1) {
			assert_false(st.mon->first[1].fitted);
			assert_int_equal(st.mon->first[1].first_week,
			    INT32_MIN);
		}

		/* Saved as the current version and read back the same. */
		hist = history_copy(st.mon);
		ingest_touch(st.in);
		assert_int_equal(ingest_checkpoint(st.in, &cause), 0);
		read_detector_section(path, &sec);
		assert_int_equal(section_version(&sec), MON_VERSION);
		buf_free(&sec);
		state_close(&st);
		if (state_open(&st, &cause) == -1)
			fail_msg("%s", cause);
		assert_int_equal(st.mon->nind, pass + 1);
		assert_true(st.mon->first[0].fitted);
		for (i = models = 0; i < st.mon->ngroups; i++)
			models += st.mon->groups[i].model != NULL;
		assert_int_equal(models, 8);
		assert_int_equal(st.mon->nalerts, 1);
		assert_string_equal(st.mon->alerts[0].a.id,
		    "K001.sjukpenning.ongoing.2023-W15.up");
		h[1] = st.mon->series[st.mon->alerts[0].series].h;
		assert_true(h[0] == h[1] && h[0] > 0);
		assert_true(history_weeks(st.mon) > 100);
		history_check(st.mon, hist);
		free(hist);
		state_drop_indicators(&st);
		state_free(&st);
	}
}

/* Two indicators saved and read back: the second one's state too. */
static void
test_v5_two_indicators(void **state)
{
	struct state st, one;
	struct monitor *mon, *again;
	const struct detector *det;
	struct buf b;

	(void)state;
	state_init(&st);
	state_add_reconsideration(&st);
	mon = monitor_create(&st.conf, st.reg, NULL, NULL, NULL);
	assert_int_equal(mon->nind, 2);
	assert_string_equal(mon->ind.ind[1].name, "reconsideration");
	/* Indicator outermost: rejection's numbers are those of before. */
	assert_int_equal(mon_index(mon, 0, 0, 0, 1),
	    (1 * mon->nbenefits + 0) * DECISION_NKINDS + 1);
	assert_int_equal(mon_index(mon, 1, SERIES_NATIONAL, 0, 0),
	    mon->nseries / 2);
	fill_second_indicator(mon);
	det = monitor_detector(mon);
	buf_init(&b);
	det->save(det->arg, &b);
	assert_int_equal(section_version(&b), MON_VERSION);

	again = section_load(&st, b.data, b.len);
	assert_second_indicator(again);
	monitor_free(again);

	/* A configuration without the indicator is refused, with why. */
	state_init(&one);
	section_refused(&one, b.data, b.len, "holds 2 indicators");
	state_free(&one);

	/* Cut at every length: refused, never a crash. */
	section_cuts_refused(&st, &b, 97);
	buf_free(&b);
	monitor_free(mon);
	state_drop_indicators(&st);
	state_free(&st);
}

/*
 * Damaged section 5: an alert whose indicator is not its series', an
 * indicator count out of range; each refused with the reason.
 */
static void
test_v5_damaged(void **state)
{
	struct state st;
	struct monitor *mon, *again;
	const struct detector *det;
	struct buf b, pat;
	unsigned char *at;
	static const char label[] = "change rate at reconsideration";

	(void)state;
	state_init(&st);
	state_add_reconsideration(&st);
	mon = monitor_create(&st.conf, st.reg, NULL, NULL, NULL);
	fill_second_indicator(mon);
	det = monitor_detector(mon);
	buf_init(&b);
	det->save(det->arg, &b);

	/* The alert's indicator renamed (same length): not its series'. */
	buf_init(&pat);
	buf_put_str(&pat, "reconsideration");
	buf_put_str(&pat, label);
	at = memmem(b.data, b.len, pat.data, pat.len);
	buf_free(&pat);
	assert_non_null(at);
	assert_memory_equal(at + 4, "reconsideration", 15);
	memcpy(at + 4, "reconsiderXtion", 15);
	section_refused(&st, b.data, b.len, "alerts are damaged");
	memcpy(at + 4, "reconsideration", 15);

	/* 0 and 17 indicators. */
	{
		size_t off = 4 * 5 + 8 * 2 + 1 + 4 * 2 + 1 + 4;
		uint32_t bad[2] = { 0, INDICATOR_MAX + 1 };
		unsigned char keep[4];
		int i;

		assert_int_equal(b.data[off], 2);
		memcpy(keep, b.data + off, 4);
		for (i = 0; i < 2; i++) {
			b.data[off] = (unsigned char)bad[i];
			section_refused(&st, b.data, b.len,
			    "indicators are damaged");
		}
		memcpy(b.data + off, keep, 4);
	}

	/* Repaired, it loads. */
	again = section_load(&st, b.data, b.len);
	assert_second_indicator(again);
	monitor_free(again);
	buf_free(&b);
	monitor_free(mon);
	state_drop_indicators(&st);
	state_free(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_previous_format_loads),
		cmocka_unit_test(test_container_by_hand),
		cmocka_unit_test(test_damaged_file),
		cmocka_unit_test(test_truncated_monitor_section),
		cmocka_unit_test(test_damaged_sections),
		cmocka_unit_test(test_v2_fixture_loads),
		cmocka_unit_test(test_v5_two_indicators),
		cmocka_unit_test(test_v5_section_loads),
		cmocka_unit_test(test_v5_damaged),
		cmocka_unit_test(test_detectable_cap_loads),
		cmocka_unit_test(test_new_series_saved),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
