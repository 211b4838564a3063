"""Helpers for the tests of two instances (issue 14): a pair of daemons
with HA on against one Redis, and comparisons of their answers. Every
wait polls and fails on a lack of progress, never on a fixed sleep."""

import harness
from harness import check

# Short timings, so that a test sees heartbeats, claims and ticks within
# seconds.
HA_TIMINGS = {
    "heartbeat": "200ms",
    "peer_timeout": "2s",
    "claim_ttl": "1s",
    "tick_interval": "1s",
    "unclaimed_after": "5s",
}


def ha_conf(name, extra=None):
    """conf_extra for instance name: [ha] on with the short timings, and
    a consumer of its own; extra ({section: {key: value}}) wins."""
    conf = {
        "ha": dict(HA_TIMINGS, enabled="on", instance=name),
        "redis": {"consumer": "stabild-" + name},
    }
    for sec, kv in (extra or {}).items():
        conf.setdefault(sec, {}).update(kv)
    return conf


def ha_pair(w, redis, extra=None, extra_a=None, extra_b=None):
    """Two harness.Daemons, "a" and "b", not started. extra applies to
    both, extra_a and extra_b to one each (after extra)."""
    daemons = []
    for name, own in (("a", extra_a), ("b", extra_b)):
        conf = ha_conf(name, extra)
        for sec, kv in (own or {}).items():
            conf.setdefault(sec, {}).update(kv)
        daemons.append(harness.Daemon(w.path, redis, conf_extra=conf, name=name))
    return daemons[0], daemons[1]


# Members that differ between instances by design: links name the
# instance's own URL, silences are checked as they are applied, and the
# series' "now" is read at request time.
LOCAL_ALERT_KEYS = ("status_url", "silenced_by", "series_now")


def _strip(obj, keys):
    if isinstance(obj, dict):
        return {k: _strip(v, keys) for k, v in obj.items() if k not in keys}
    if isinstance(obj, list):
        return [_strip(v, keys) for v in obj]
    return obj


def alerts(daemon, query=""):
    s, body = daemon.get("/v1/alerts" + query)
    check(s == 200, "%s: GET /v1/alerts%s: %s %s" % (daemon.conf_path, query, s, body))
    return _strip(body, LOCAL_ALERT_KEYS)


def same_alerts(a, b, query=""):
    """Both instances list the same alerts (apart from local members)."""
    la, lb = alerts(a, query), alerts(b, query)
    check(la == lb, "the instances' alerts differ:\na: %s\nb: %s" % (la, lb))
    return la


def series_states(daemon, indicator="rejection"):
    """{(office, benefit, kind): state} of every series of an indicator,
    read page by page from /v1/series."""
    out, offset = {}, 0
    while True:
        path = "/v1/series?indicator=%s&limit=1000&offset=%d" % (indicator, offset)
        s, body = daemon.get(path)
        check(s == 200, "GET %s: %s %s" % (path, s, body))
        for row in body["series"]:
            out[(row.get("office"), row.get("benefit"), row.get("kind"))] = row.get("state")
        offset += len(body["series"])
        if not body["series"] or offset >= body["total"]:
            return out


def same_series(a, b, indicator="rejection"):
    """Both instances hold every series of an indicator in the same state."""
    sa, sb = series_states(a, indicator), series_states(b, indicator)
    check(sa == sb, "the instances' series differ: %s" %
          sorted(set(sa.items()) ^ set(sb.items()))[:20])
    return sa
