/*
 * Process counters (reset at every start) and the Prometheus text
 * exposition of them, of the checkpointed ingest counters (which survive a
 * restart) and of the stream consumer's gauges.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decision.h"
#include "indicator.h"
#include "ingest.h"
#include "metrics.h"
#include "monitor.h"
#include "stall.h"
#include "period.h"
#include "series.h"
#include "stream.h"
#include "xmalloc.h"

struct metrics metrics;

/* Labels of metrics.http_requests, by index. */
static const char *const metrics_http_classes[] = {
	"other", "1xx", "2xx", "3xx", "4xx", "5xx",
};
_Static_assert(sizeof metrics_http_classes / sizeof metrics_http_classes[0] ==
    sizeof metrics.http_requests / sizeof metrics.http_requests[0],
    "one label per status class");

/* Append printf-style text to out. */
static void __attribute__((format(printf, 2, 3)))
metrics_printf(struct buf *out, const char *fmt, ...)
{
	char small[256], *s;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof small) {
		buf_put(out, small, (size_t)n);
		return;
	}
	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	buf_put(out, s, strlen(s));
	free(s);
}

/* The HELP and TYPE lines of one metric. */
static void
metrics_head(struct buf *out, const char *name, const char *type,
    const char *help)
{
	metrics_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

static void
metrics_counter(struct buf *out, const char *name, const char *help,
    uint64_t v)
{
	metrics_head(out, name, "counter", help);
	metrics_printf(out, "%s %" PRIu64 "\n", name, v);
}

/* A gauge whose sample is left out while its value is unknown. */
static void
metrics_gauge(struct buf *out, const char *name, const char *help,
    bool known, int64_t v)
{
	metrics_head(out, name, "gauge", help);
	if (known)
		metrics_printf(out, "%s %" PRId64 "\n", name, v);
}

/* Counters that ingest keeps in the checkpoint. */
static void
metrics_render_events(struct buf *out, const struct ingest *in)
{
	const struct ingest_counters *ic = ingest_counters(in);
	int i;

	metrics_counter(out, "stabild_events_counted_total",
	    "Decisions counted, dismissed ones included.", ic->counted);
	metrics_counter(out, "stabild_events_deadlettered_total",
	    "Stream entries refused as invalid and dead-lettered.",
	    ic->invalid);
	metrics_counter(out, "stabild_events_duplicate_total",
	    "Entries whose decision id was counted before.", ic->duplicates);
	metrics_counter(out, "stabild_events_late_total",
	    "Decisions counted into an already closed week.", ic->late);

	metrics_head(out, "stabild_decisions_total", "counter",
	    "Decisions counted, by outcome.");
	for (i = OUTCOME_GRANTED; i <= OUTCOME_DISMISSED; i++) {
		metrics_printf(out,
		    "stabild_decisions_total{outcome=\"%s\"} %" PRIu64 "\n",
		    decision_outcome_name(i), ic->by_outcome[i]);
	}
	metrics_head(out, "stabild_events_total", "counter",
	    "Valid events counted, by kind (decision, reconsideration, "
	    "appeal, assessment).");
	for (i = 0; i < DECISION_NEVENTS; i++) {
		metrics_printf(out,
		    "stabild_events_total{event=\"%s\"} %" PRIu64 "\n",
		    decision_event_name(i), ic->by_event[i]);
	}
}

/* A label value as the exposition format wants it: \\, \" and \n. */
static void
metrics_label(struct buf *out, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			buf_put(out, "\\", 1);
		if (*v == '\n')
			buf_put(out, "\\n", 2);
		else
			buf_put(out, v, 1);
	}
}

/*
 * A family of one sample per reader when side streams are read (none with
 * only redis.stream, so that its exposition stays as it was): the
 * reader's own figure, fn summing from the reader it is asked on. A
 * family of its own, beside the unlabelled total, so that a sum over a
 * family counts each entry once.
 */
static void
metrics_stream_readers(struct buf *out, const char *name, const char *help,
    const struct stream *st, int64_t (*fn)(const struct stream *))
{
	const struct stream *r, *next;
	int64_t v, rest;

	if (st == NULL || stream_sibling(st) == NULL)
		return;
	metrics_head(out, name, "gauge", help);
	for (r = st; r != NULL; r = next) {
		next = stream_sibling(r);
		v = fn(r);
		rest = next != NULL ? fn(next) : 0;
		if (v < 0 || rest < 0)
			continue;
		metrics_printf(out, "%s{stream=\"", name);
		metrics_label(out, stream_key(r));
		metrics_printf(out, "\"} %" PRId64 "\n", v - rest);
	}
}

/* The consumer: process counters and the gauges the stream last saw. */
static void
metrics_render_stream(struct buf *out, const struct stream *st)
{
	enum stream_state state;
	int64_t lag = -1, pending = -1, length = -1;
	uint64_t unacked = 0;
	int64_t down = 0;
	bool connected = false;

	if (st != NULL) {
		if (stream_down_since(st) != 0)
			down = (int64_t)time(NULL) - stream_down_since(st);
		state = stream_state(st);
		connected = state == STREAM_PENDING || state == STREAM_READING;
		lag = stream_lag(st);
		pending = stream_pending(st);
		length = stream_length(st);
		unacked = stream_unacked(st);
	}

	metrics_counter(out, "stabild_stream_entries_read_total",
	    "Stream entries received.", metrics.entries_read);
	metrics_gauge(out, "stabild_stream_lag",
	    "Entries in the stream not yet delivered to the group.",
	    lag >= 0, lag);
	metrics_stream_readers(out, "stabild_stream_reader_lag",
	    "Entries in one stream read not yet delivered to the group.", st,
	    stream_lag);
	metrics_gauge(out, "stabild_stream_pending",
	    "Entries delivered to the group and not acknowledged.",
	    pending >= 0, pending);
	metrics_stream_readers(out, "stabild_stream_reader_pending",
	    "Entries of one stream read delivered to the group and not "
	    "acknowledged.", st, stream_pending);
	metrics_gauge(out, "stabild_stream_length",
	    "Entries in the stream.", length >= 0, length);
	metrics_stream_readers(out, "stabild_stream_reader_length",
	    "Entries in one stream read.", st, stream_length);
	metrics_gauge(out, "stabild_stream_unacked",
	    "Entries received and not yet acknowledged by this consumer.",
	    true, (int64_t)unacked);
	metrics_gauge(out, "stabild_stream_connected",
	    "1 while the consumer is reading the stream.", true,
	    connected ? 1 : 0);
	metrics_gauge(out, "stabild_stream_down_seconds",
	    "Seconds since the link to Redis was lost (0 while it is up).",
	    true, down);
	metrics_counter(out, "stabild_redis_reconnects_total",
	    "Successful Redis connects after the first.",
	    metrics.redis_reconnects);
	metrics_counter(out, "stabild_redis_errors_total",
	    "Redis error replies and lost connections.", metrics.redis_errors);
	metrics_counter(out, "stabild_deadletter_writes_total",
	    "Dead-letter stream writes confirmed.", metrics.deadletter_writes);
	metrics_counter(out, "stabild_acks_total",
	    "Stream entries acknowledged.", metrics.acks);
}

/* The alert outbox. */
static void
metrics_render_outbox(struct buf *out)
{
	metrics_counter(out, "stabild_notifications_queued_total",
	    "Alert notifications stored in the outbox.",
	    metrics.notifications_queued);
	metrics_counter(out, "stabild_notifications_delivered_total",
	    "Alert notifications a receiver accepted.",
	    metrics.notifications_delivered);
	metrics_counter(out, "stabild_notification_retries_total",
	    "Failed delivery attempts that will be retried.",
	    metrics.notification_retries);
	metrics_counter(out, "stabild_notifications_expired_total",
	    "Alert notifications given up after the delivery expiry.",
	    metrics.notifications_expired);
	metrics_gauge(out, "stabild_outbox_pending",
	    "Alert notifications waiting or in flight.", true,
	    (int64_t)metrics.outbox_pending);
	metrics_gauge(out, "stabild_outbox_expired",
	    "Expired alert notifications kept in the outbox for inspection.",
	    true, (int64_t)metrics.outbox_expired);
	metrics_counter(out, "stabild_notifications_dropped_total",
	    "Expired alert notifications dropped from the outbox (beyond "
	    "alerts.expired_keep or alerts.expired_max_age).",
	    metrics.notifications_dropped);
	metrics_gauge(out, "stabild_deliveries_inflight",
	    "Delivery attempts under way (at most alerts.max_inflight).", true,
	    (int64_t)metrics.deliveries_inflight);
}

/* Checkpoints, statistics and event time. */
static void
metrics_render_state(struct buf *out, const struct ingest *in)
{
	const struct series_set *set = ingest_series(in);
	int64_t watermark = ingest_watermark(in);
	int32_t closed = ingest_closed_week(in);

	metrics_counter(out, "stabild_checkpoints_total",
	    "Checkpoints written.", metrics.checkpoints);
	metrics_counter(out, "stabild_checkpoint_failures_total",
	    "Checkpoints that failed.", metrics.checkpoint_failures);
	metrics_head(out, "stabild_checkpoint_duration_seconds", "gauge",
	    "Duration of the last checkpoint.");
	metrics_printf(out, "stabild_checkpoint_duration_seconds %.3f\n",
	    (double)metrics.checkpoint_last_ms / 1000.0);
	metrics_head(out, "stabild_checkpoint_fork_seconds", "gauge",
	    "Time the event loop spent starting the last checkpoint child.");
	metrics_printf(out, "stabild_checkpoint_fork_seconds %.6f\n",
	    (double)metrics.checkpoint_fork_ns / 1e9);
	metrics_head(out, "stabild_checkpoint_fork_max_seconds", "gauge",
	    "Longest time spent starting a checkpoint child.");
	metrics_printf(out, "stabild_checkpoint_fork_max_seconds %.6f\n",
	    (double)metrics.checkpoint_fork_max_ns / 1e9);
	metrics_gauge(out, "stabild_backpressure",
	    "1 while reading waits for a write that failed (disk full).",
	    true, ingest_pressure(in, NULL, NULL) != INGEST_FLOWING);

	metrics_gauge(out, "stabild_series",
	    "Series counted (office and national).", true,
	    series_count(set));
	metrics_gauge(out, "stabild_offices", "Offices seen.", true,
	    series_office_count(set));
	metrics_gauge(out, "stabild_watermark_seconds",
	    "Event-time watermark (Unix time).", watermark != INT64_MIN,
	    watermark);
	metrics_gauge(out, "stabild_closed_week_start_seconds",
	    "Start of the last closed ISO week (Unix time).",
	    closed != INT32_MIN,
	    closed != INT32_MIN ? period_week_start(closed) : 0);
	metrics_gauge(out, "stabild_memory_bytes",
	    "Bytes held by the statistics and the duplicate window.", true,
	    (int64_t)ingest_memory(in));
	metrics_gauge(out, "stabild_records_bytes",
	    "Bytes of per-decision records on disk.", ingest_records(in) != NULL,
	    ingest_records(in) != NULL ?
	    (int64_t)records_bytes(ingest_records(in)) : 0);
	metrics_gauge(out, "stabild_records_segments",
	    "Segment files holding the per-decision records.",
	    ingest_records(in) != NULL, ingest_records(in) != NULL ?
	    records_segments(ingest_records(in)) : 0);
}

/* The HTTP API and the process itself. */
static void
metrics_render_process(struct buf *out)
{
	size_t i;

	metrics_head(out, "stabild_http_requests_total", "counter",
	    "HTTP responses, by status class.");
	for (i = 0; i < sizeof metrics_http_classes /
	    sizeof metrics_http_classes[0]; i++) {
		metrics_printf(out,
		    "stabild_http_requests_total{code=\"%s\"} %" PRIu64 "\n",
		    metrics_http_classes[i], metrics.http_requests[i]);
	}
	metrics_counter(out, "stabild_http_unauthorized_total",
	    "HTTP requests refused for a missing, unknown or too weak token.",
	    metrics.http_unauthorized);
	metrics_counter(out, "stabild_http_answer_cache_hits_total",
	    "Read-only GET answers served from the answer cache.",
	    metrics.http_answer_hits);
	metrics_counter(out, "stabild_http_answer_cache_misses_total",
	    "Cacheable GET answers that had to be built.",
	    metrics.http_answer_misses);
	metrics_head(out, "stabild_loop_stall_max_seconds", "gauge",
	    "Longest the event loop was late for its 10 ms heartbeat since "
	    "start.");
	metrics_printf(out, "stabild_loop_stall_max_seconds %.3f\n",
	    (double)stall_max_ns() / 1e9);
	metrics_head(out, "stabild_loop_step_max_seconds", "gauge",
	    "Longest single step of the daemon's own work on the event loop "
	    "(a batch, a worker result, a request, a timer) since start.");
	metrics_printf(out, "stabild_loop_step_max_seconds %.4f\n",
	    (double)stall_step_max_ns() / 1e9);
	metrics_gauge(out, "stabild_start_time_seconds",
	    "Start of the process (Unix time).", true, metrics.started_at);
	metrics_head(out, "stabild_build_info", "gauge",
	    "Always 1; the version is a label.");
	metrics_printf(out, "stabild_build_info{version=\"%s\"} 1\n",
	    STABILD_VERSION);
}

/* Per indicator: its series and its firing alerts. */
static void
metrics_render_indicators(struct buf *out, const struct ingest *in,
    const struct monitor *mon)
{
	const struct indicators *t = ingest_indicators(in);
	const struct series_set *set = ingest_series(in);
	int i, all, unexplained;

	metrics_head(out, "stabild_indicator_series", "gauge",
	    "Series counted (office and national), by indicator.");
	for (i = 0; i < t->n; i++)
		metrics_printf(out, "stabild_indicator_series{indicator=\"%s\"} "
		    "%d\n", t->ind[i].name, series_count_in(set, i));
	if (mon == NULL)
		return;
	metrics_head(out, "stabild_alerts_firing", "gauge",
	    "Alerts firing, by indicator and classification.");
	for (i = 0; i < t->n; i++) {
		all = monitor_firing_in(mon, i, false);
		unexplained = monitor_firing_in(mon, i, true);
		metrics_printf(out, "stabild_alerts_firing{indicator=\"%s\","
		    "classification=\"explained\"} %d\n", t->ind[i].name,
		    all - unexplained);
		metrics_printf(out, "stabild_alerts_firing{indicator=\"%s\","
		    "classification=\"unexplained\"} %d\n", t->ind[i].name,
		    unexplained);
	}
}

/* Issue 14: two instances, and Redis Sentinel. */
static void
metrics_render_ha(struct buf *out)
{
	static const char *const claims[] = { "won", "done", "held",
	    "error" };
	size_t i;

	if (metrics.sentinels_on || metrics.ha_on) {
		metrics_counter(out, "stabild_redis_failovers_total",
		    "Changes of the Redis master's address",
		    metrics.redis_failovers);
		metrics_counter(out, "stabild_stream_replayed_total",
		    "Entries new to the group that were applied before (a "
		    "failover's lost acknowledgements), skipped",
		    metrics.stream_replayed);
	}
	if (!metrics.ha_on)
		return;
	metrics_gauge(out, "stabild_ha_link_up", "1 when the HA link to "
	    "Redis is up", true, (int64_t)metrics.ha_link_up);
	metrics_counter(out, "stabild_ha_control_applied_total",
	    "Control log entries applied", metrics.ha_control_applied);
	metrics_counter(out, "stabild_ha_control_invalid_total",
	    "Control log entries skipped as unknown or invalid",
	    metrics.ha_control_invalid);
	metrics_counter(out, "stabild_ha_ticks_written_total",
	    "Clock ticks this instance wrote to the control log",
	    metrics.ha_ticks_written);
	metrics_counter(out, "stabild_ha_log_gaps_total",
	    "Times the control log was trimmed past this instance's position",
	    metrics.ha_log_gaps);
	metrics_counter(out, "stabild_ha_registry_writes_total",
	    "Registry changes written to Redis by this instance",
	    metrics.ha_registry_writes);
	metrics_counter(out, "stabild_ha_registry_conflicts_total",
	    "Registry changes Redis refused as conflicting",
	    metrics.ha_registry_conflicts);
	metrics_head(out, "stabild_ha_claims_total", "counter",
	    "Delivery claims by result");
	for (i = 0; i < sizeof claims / sizeof claims[0]; i++)
		metrics_printf(out, "stabild_ha_claims_total{result=\"%s\"} %"
		    PRIu64 "\n", claims[i], metrics.ha_claims[i]);
	metrics_counter(out, "stabild_ha_takeovers_total",
	    "Claims taken over from an instance whose claim expired",
	    metrics.ha_takeovers);
	metrics_counter(out, "stabild_ha_delivered_by_peer_total",
	    "Notifications found delivered by another instance",
	    metrics.ha_delivered_by_peer);
	metrics_counter(out, "stabild_ha_unclaimed_total",
	    "Notifications sent without a claim while Redis was unreachable",
	    metrics.ha_unclaimed);
	metrics_counter(out, "stabild_ha_repeats_total",
	    "Notifications sent again with the same key after another "
	    "instance's delivery", metrics.ha_repeats);
	if (metrics.ha_peers_render != NULL)
		metrics.ha_peers_render(out);
}

void
metrics_render(struct buf *out, const struct ingest *in,
    const struct stream *st, const struct monitor *mon)
{
	metrics_render_events(out, in);
	metrics_render_stream(out, st);
	metrics_render_outbox(out);
	metrics_render_state(out, in);
	metrics_render_process(out);
	/* Added with indicators: after every line of before. */
	metrics_render_indicators(out, in, mon);
	/* Added later, after those. */
	metrics_head(out, "stabild_detector_busy_seconds_total", "counter",
	    "Time the detector's work off the loop (model fits, thresholds, "
	    "an alert's strata) was outstanding; ingest waits meanwhile.");
	metrics_printf(out, "stabild_detector_busy_seconds_total %.3f\n",
	    mon != NULL ? (double)monitor_busy_ns(mon) / 1e9 : 0.0);
	/* Added with issue 14, and only when it is in use. */
	metrics_render_ha(out);
}
