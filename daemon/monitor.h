/*
 * The drift monitor: the detector behind detector.h. It fits the case-mix
 * models, runs a two-sided CUSUM per national and office series against
 * its baseline, turns alarms into alerts, classifies them against the
 * explanation registry, and keeps all of it in the checkpoint.
 */
#ifndef STABILD_MONITOR_H
#define STABILD_MONITOR_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "detector.h"
#include "series.h"

struct conf;
struct event_base;
struct explain_registry;
struct monitor;
struct records_view;

/*
 * Flush the records and describe their segments, so the monitor can read
 * them back; 0 or -1.
 */
typedef int (*monitor_records_cb)(void *arg, struct records_view *view);

/*
 * c, reg and set are borrowed for the monitor's life (see _set_conf).
 * Model fits and alert strata read the records on a worker thread that
 * hands its results to the loop of base, and the detector is busy
 * meanwhile; with base NULL they run at the end of the hook that asked
 * for them, in the caller's thread, with the same results.
 */
struct monitor *monitor_create(const struct conf *c,
    struct explain_registry *reg, monitor_records_cb records_cb,
    void *records_arg, struct event_base *base);
/* Called on the loop when the detector is no longer busy. */
void monitor_set_resume(struct monitor *mon, void (*cb)(void *), void *arg);
/* Wait for outstanding reads and apply them now (a checkpoint at stop). */
void monitor_settle(struct monitor *mon);
/* Monotonic ns the detector has been busy since start, in all. */
uint64_t monitor_busy_ns(const struct monitor *mon);
/* Every indicator has its first models and thresholds. */
bool monitor_fitted_all(const struct monitor *mon);
void monitor_free(struct monitor *mon);
/* The detector interface for ingest; borrowed. */
const struct detector *monitor_detector(struct monitor *mon);
/* A reload: thresholds and windows follow the new values. */
void monitor_set_conf(struct monitor *mon, const struct conf *c);
/* The explanation registry changed: classify firing alerts again. */
void monitor_explanations_changed(struct monitor *mon);

/* Ask for a refit of a (benefit, kind) model at the next week close. */
int monitor_request_refit(struct monitor *mon, int benefit, int kind,
    char **cause);
/* The same for indicator ind's model (monitor_request_refit: 0). */
int monitor_request_refit_in(struct monitor *mon, int ind, int benefit,
    int kind, char **cause);
/* Accept a drifting series' new level (recorded on its alert). */
int monitor_rebaseline(struct monitor *mon, const struct series *s,
    const char *note, char **cause);

/* For the API: new references, the caller's to json_decref. */
json_t *monitor_series_json(const struct monitor *mon, const struct series *s);
json_t *monitor_alerts_json(const struct monitor *mon, const char *status,
    const char *classification, const char *scope, const char *direction,
    const char *office);
json_t *monitor_alert_json(const struct monitor *mon, const char *id);
bool monitor_alert_known(const struct monitor *mon, const char *id);
json_t *monitor_models_json(const struct monitor *mon);
/* Weeks of detector history the charts can ask for. */
#define MONITOR_WEEKS_MAX	156
/*
 * A series' control chart over its last `weeks` closed weeks (1 to
 * MONITOR_WEEKS_MAX): observed, case-mix expected and baseline rates with
 * a 95% band of ordinary variation, the CUSUMs recomputed from the stored
 * weekly increments, the threshold, and its alerts.
 */
json_t *monitor_control_json(const struct monitor *mon, const struct series *s,
    int weeks);
/*
 * The funnel of (benefit, kind) over the last `weeks` closed weeks: each
 * office's odds ratio against the nation, its expected count and its
 * limits, widened for the week-to-week wobble. Office names from set.
 */
json_t *monitor_funnel_json(const struct monitor *mon,
    const struct series_set *set, int benefit, int kind, int weeks);
/* The same for indicator ind; NULL when the monitor does not hold it. */
json_t *monitor_funnel_json_in(const struct monitor *mon,
    const struct series_set *set, int ind, int benefit, int kind, int weeks);
int monitor_firing(const struct monitor *mon);
/* Of those, the unexplained: the ones that need someone's attention. */
int monitor_firing_unexplained(const struct monitor *mon);
int monitor_alert_count(const struct monitor *mon);
/* Firing alerts of indicator ind, all or only the unexplained. */
int monitor_firing_in(const struct monitor *mon, int ind,
    bool unexplained_only);
/*
 * HA mode: the alert store in 64 hex characters, SHA-256 over the sorted
 * "alert_id.seq.status.classification" lines, so that instances at one
 * position can tell whether they hold the same alerts.
 */
#define MONITOR_DIGEST_LEN	64
void monitor_digest(const struct monitor *mon,
    char out[MONITOR_DIGEST_LEN + 1]);
/* Bytes the monitor holds now (series, groups, alerts), for /v1/status. */
uint64_t monitor_memory(const struct monitor *mon);

#endif
