/*
 * The shared registries' local half (ha_registry.c): applying logged
 * changes (idempotent puts and deletes), shadowing by the configuration's
 * explanations, and the HREG checkpoint section's round trip. The control
 * log, the Redis link and the detector are replaced by the small fakes
 * below; the registries are the real ones.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "clock.h"
#include "conf.h"
#include "explain.h"
#include "ha.h"
#include "ha_log.h"
#include "ha_registry.h"
#include "indicator.h"
#include "ingest.h"
#include "metrics.h"
#include "monitor.h"
#include "rlink.h"
#include "series.h"
#include "silence.h"
#include "xmalloc.h"

#define EXPL_A	"{\"id\":\"law-1\",\"kind\":\"legislation\"," \
	"\"effective_from\":\"2023-01-01\",\"benefits\":[],\"kinds\":[]," \
	"\"offices\":[],\"source\":\"api\",\"created_at\":\"2023-02-01T10:00:00Z\"}"
#define EXPL_A2	"{\"id\":\"law-1\",\"kind\":\"context\"," \
	"\"effective_from\":\"2023-03-01\",\"benefits\":[],\"kinds\":[]," \
	"\"offices\":[],\"source\":\"api\",\"created_at\":\"2023-02-01T10:00:00Z\"}"
#define SIL_A	"{\"id\":\"s-00000000000000aa\",\"matchers\":{\"office\":" \
	"\"Malmo\"},\"ends_at\":\"2099-01-01T00:00:00Z\",\"comment\":\"c\"," \
	"\"created_at\":\"2023-02-01T10:00:00Z\"}"

/* Fakes of what ha_registry.c calls outside the registries. */
struct metrics metrics;
static struct conf fake_conf;
static int changed_calls;
static ingest_save_cb saved_save;
static ingest_load_cb saved_load;
static void *saved_arg;

const struct conf *ha_conf(const struct ha *ha) { (void)ha; return &fake_conf; }
struct event_base *ha_base(const struct ha *ha) { (void)ha; return NULL; }
struct rlink *ha_link(struct ha *ha) { (void)ha; return NULL; }
const char *ha_instance(const struct ha *ha) { (void)ha; return "a"; }
char *ha_key(const struct ha *ha, const char *s) { (void)ha; return xasprintf("p:%s", s); }
void ha_log_handle(struct ha_log *hl, const char *kind, ha_log_apply_cb cb,
    void *arg) { (void)hl; (void)kind; (void)cb; (void)arg; }
void ha_log_wait(struct ha_log *hl, const struct stream_id *id, int64_t t,
    ha_log_wait_cb cb, void *arg) { (void)hl; (void)id; (void)t; cb(arg, false, 0); }
int ha_log_append(struct ha_log *hl, const char *kind, const char *id,
    const char *body, ha_log_append_cb cb, void *arg)
{ (void)hl; (void)kind; (void)id; (void)body; (void)cb; (void)arg; return -1; }
static const struct stream_id zero_id;
const struct stream_id *ha_log_applied(const struct ha_log *hl) { (void)hl; return &zero_id; }
bool rlink_up(const struct rlink *rl) { (void)rl; return false; }
int rlink_command(struct rlink *rl, rlink_reply_cb cb, void *arg, int argc,
    const char **argv, const size_t *argvlen)
{ (void)rl; (void)cb; (void)arg; (void)argc; (void)argv; (void)argvlen; return -1; }
int rlink_eval(struct rlink *rl, struct rlink_script *s, rlink_reply_cb cb,
    void *arg, int nkeys, int argc, const char **argv, const size_t *argvlen)
{ (void)rl; (void)s; (void)cb; (void)arg; (void)nkeys; (void)argc; (void)argv;
  (void)argvlen; return -1; }
int ingest_add_section(struct ingest *in, uint32_t tag, uint32_t version,
    ingest_save_cb save, ingest_load_cb load, void *arg)
{ (void)in; (void)tag; (void)version; saved_save = save; saved_load = load;
  saved_arg = arg; return 0; }
void ingest_touch(struct ingest *in) { (void)in; }
const struct indicators *ingest_indicators(const struct ingest *in) { (void)in; return NULL; }
const struct series_set *ingest_series(const struct ingest *in) { (void)in; return NULL; }
int indicators_find(const struct indicators *t, const char *n) { (void)t; (void)n; return -1; }
int series_office_lookup(const struct series_set *set, const char *n) { (void)set; (void)n; return -1; }
const struct series *series_get_in(const struct series_set *set, int ind,
    int office, int benefit, int kind)
{ (void)set; (void)ind; (void)office; (void)benefit; (void)kind; return NULL; }
void monitor_explanations_changed(struct monitor *mon) { (void)mon; changed_calls++; }
int monitor_rebaseline(struct monitor *mon, const struct series *s,
    const char *note, char **cause)
{ (void)mon; (void)s; (void)note; *cause = xstrdup("fake"); return -1; }
int monitor_request_refit_in(struct monitor *mon, int ind, int benefit,
    int kind, char **cause)
{ (void)mon; (void)ind; (void)benefit; (void)kind; *cause = xstrdup("fake"); return -1; }
json_t *monitor_series_json(const struct monitor *mon, const struct series *s)
{ (void)mon; (void)s; return NULL; }
int64_t clock_now(void) { return 1700000000; }
int stream_id_parse(const char *s, size_t len, struct stream_id *id)
{ (void)len; return sscanf(s, "%lu-%lu", &id->ms, &id->seq) == 2 ? 0 : -1; }
int stream_id_cmp(const struct stream_id *a, const struct stream_id *b)
{ return a->ms != b->ms ? (a->ms < b->ms ? -1 : 1) :
  a->seq != b->seq ? (a->seq < b->seq ? -1 : 1) : 0; }
void stream_id_format(const struct stream_id *id, char *buf)
{ snprintf(buf, STREAM_ID_MAX, "%lu-%lu", id->ms, id->seq); }

struct fixture {
	char			 dir[64];
	struct explain_registry	*reg;
	struct silence_registry	*sil;
	struct ha_registry	*hr;
};

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);

	snprintf(f->dir, sizeof f->dir, "/tmp/test_ha_registry.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	memset(&fake_conf, 0, sizeof fake_conf);
	fake_conf.benefits[0] = (char *)"sjukpenning";
	fake_conf.nbenefits = 1;
	fake_conf.state_dir = f->dir;
	f->reg = explain_create();
	f->sil = silence_create();
	f->hr = ha_registry_create(NULL, NULL, f->reg, f->sil,
	    (struct monitor *)f, (struct ingest *)f);
	changed_calls = 0;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char path[128];

	ha_registry_free(f->hr);
	explain_free(f->reg);
	silence_free(f->sil);
	snprintf(path, sizeof path, "%s/silences.json", f->dir);
	unlink(path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static int
apply_e(struct fixture *f, const char *op, const char *id, const char *body)
{
	char *cause = NULL;
	int rc;

	rc = ha_registry_apply_explanation(f->hr, op, id, body,
	    body != NULL ? strlen(body) : 0, &cause);
	free(cause);
	return rc;
}

static int
apply_s(struct fixture *f, const char *op, const char *id, const char *body)
{
	char *cause = NULL;
	int rc;

	rc = ha_registry_apply_silence(f->hr, op, id, body,
	    body != NULL ? strlen(body) : 0, &cause);
	free(cause);
	return rc;
}

/* Puts and deletes applied twice (a replay) end as applied once. */
static void
test_idempotent(void **state)
{
	struct fixture *f = *state;
	const struct explanation *e;

	assert_int_equal(apply_e(f, "put", "law-1", EXPL_A), 0);
	assert_int_equal(apply_e(f, "put", "law-1", EXPL_A), 0);
	assert_int_equal(explain_count(f->reg), 1);
	e = explain_find(f->reg, "law-1");
	assert_non_null(e);
	assert_false(e->from_config);
	/* created_at is the writer's, carried in the entry. */
	assert_int_equal(e->created_at, 1675245600);
	assert_int_equal(changed_calls, 2);
	/* A later put of the same id replaces it. */
	assert_int_equal(apply_e(f, "put", "law-1", EXPL_A2), 0);
	assert_int_equal(explain_find(f->reg, "law-1")->kind, EXPLAIN_CONTEXT);
	assert_int_equal(apply_e(f, "delete", "law-1", NULL), 0);
	assert_int_equal(apply_e(f, "delete", "law-1", NULL), 0);
	assert_int_equal(explain_count(f->reg), 0);
	assert_int_equal(changed_calls, 4);	/* not for the second delete */

	assert_int_equal(apply_s(f, "put", "s-00000000000000aa", SIL_A), 0);
	assert_int_equal(apply_s(f, "put", "s-00000000000000aa", SIL_A), 0);
	assert_int_equal(silence_count(f->sil), 1);
	assert_int_equal(apply_s(f, "delete", "s-00000000000000aa", NULL), 0);
	assert_int_equal(apply_s(f, "delete", "s-00000000000000aa", NULL), 0);
	assert_int_equal(silence_count(f->sil), 0);
}

/* Bad changes are refused with a cause, and change nothing. */
static void
test_bad(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(apply_e(f, "put", "law-1", "{\"id\":"), -1);
	assert_int_equal(apply_e(f, "put", "law-1", "{\"id\":\"law-1\"}"), -1);
	/* The body's id must be the entry's. */
	assert_int_equal(apply_e(f, "put", "law-2", EXPL_A), -1);
	assert_null(explain_find(f->reg, "law-2"));
	assert_null(explain_find(f->reg, "law-1"));
	assert_int_equal(apply_e(f, "rename", "law-1", NULL), -1);
	assert_int_equal(apply_s(f, "put", "s-00000000000000bb", SIL_A), -1);
	assert_int_equal(apply_s(f, "put", "s-1", SIL_A), -1);
	assert_int_equal(silence_count(f->sil), 0);
}

/* The configuration's entry of an id shadows the shared one. */
static void
test_shadowing(void **state)
{
	struct fixture *f = *state;
	struct explanation *cfg;
	char *cause = NULL;
	json_t *o;

	o = json_loads("{\"id\":\"law-1\",\"kind\":\"court_ruling\","
	    "\"effective_from\":\"2023-01-01\"}", 0, NULL);
	assert_int_equal(explain_from_json(o, (const char *const *)
	    fake_conf.benefits, 1, &cfg, &cause), 0);
	json_decref(o);
	cfg->from_config = true;
	assert_int_equal(explain_add(f->reg, cfg, &cause), 0);

	assert_int_equal(apply_e(f, "put", "law-1", EXPL_A), 0);
	assert_true(explain_find(f->reg, "law-1")->from_config);
	assert_int_equal(explain_find(f->reg, "law-1")->kind,
	    EXPLAIN_COURT_RULING);
	/* A reload that frees the id brings the shared one back. */
	explain_remove_config(f->reg);
	ha_registry_reload(f->hr);
	assert_non_null(explain_find(f->reg, "law-1"));
	assert_false(explain_find(f->reg, "law-1")->from_config);
	assert_int_equal(explain_find(f->reg, "law-1")->kind,
	    EXPLAIN_LEGISLATION);
}

/* HREG: the layer (shadowed entries too) and the silences come back. */
static void
test_hreg_round_trip(void **state)
{
	struct fixture *f = *state;
	struct explain_registry *reg2 = explain_create();
	struct silence_registry *sil2 = silence_create();
	struct ha_registry *hr2;
	struct buf_reader r;
	const struct silence *s;
	char *cause = NULL;
	struct buf b;

	assert_int_equal(apply_e(f, "put", "law-1", EXPL_A), 0);
	assert_int_equal(apply_s(f, "put", "s-00000000000000aa", SIL_A), 0);
	buf_init(&b);
	assert_non_null(saved_save);
	saved_save(saved_arg, &b);

	hr2 = ha_registry_create(NULL, NULL, reg2, sil2, NULL,
	    (struct ingest *)f);
	buf_reader_init(&r, b.data, b.len);
	assert_int_equal(saved_load(saved_arg, 1, &r, &cause), 0);
	assert_int_equal(explain_count(reg2), 1);
	assert_int_equal(explain_find(reg2, "law-1")->created_at, 1675245600);
	assert_int_equal(silence_count(sil2), 1);
	s = silence_find(sil2, "s-00000000000000aa");
	assert_non_null(s);
	assert_string_equal(s->match[SILENCE_OFFICE], "Malmo");
	assert_string_equal(s->comment, "c");

	/* A damaged section is refused with a cause. */
	buf_reader_init(&r, "\0\0\0\3abc", 7);
	assert_int_equal(saved_load(saved_arg, 1, &r, &cause), -1);
	assert_non_null(cause);
	free(cause);

	buf_free(&b);
	ha_registry_free(hr2);
	explain_free(reg2);
	silence_free(sil2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_idempotent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shadowing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hreg_round_trip, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
