#!/usr/bin/env python3
"""Issue 14's configuration with HA off changes nothing: no "ha" in
GET /v1/status, no HA or Sentinel metrics, counting as before. `stabild -t`
checks the [ha] keys and redis.sentinels with FILE:LINE errors."""

import re

import harness
import ha
from harness import check


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    truth = harness.run_sim(redis, w.path, "--seed", 7, "--weeks", 3, "--per-week", 400)
    d = harness.Daemon(w.path, redis)
    w.add(d.stop)
    d.start()
    d.wait_counted(truth.totals["written"])
    harness.compare_with_truth(d, truth)
    st = d.status()
    check("ha" not in st, "HA off, yet /v1/status has ha: %r" % st.get("ha"))
    m = harness.get_metrics(d)
    extra = [k for k in m if k.startswith("stabild_ha_") or
             k.startswith("stabild_redis_failovers") or k.startswith("stabild_stream_replayed")]
    check(not extra, "HA off, yet metrics %s" % extra)

    # The keys are checked, HA on or not.
    a, b = ha.ha_pair(w, redis)
    for x in (a, b):
        r = harness.run_stabild("-t", "-c", x.conf_path)
        check(r.returncode == 0, "%s refused: %s" % (x.conf_path, r.stderr))
    bad = harness.Daemon(w.path, redis, conf_extra={"ha": {"instance": "a"}}, name="bad")
    r = harness.run_stabild("-t", "-c", bad.conf_path)
    check(r.returncode != 0 and re.search(r"%s:\d+: instance is set but ha.enabled is off" %
                                          re.escape(bad.conf_path), r.stderr), r.stderr)
    sent = {"redis": {"sentinels": "127.0.0.1:1, [::1]:2", "master_name": "m"}}
    s = harness.Daemon(w.path, redis, conf_extra=sent, name="sent")
    s.sections["redis"].pop("host")
    s.sections["redis"].pop("port")
    s.write_conf()
    r = harness.run_stabild("-t", "-c", s.conf_path)
    check(r.returncode == 0, "sentinels refused: %s" % r.stderr)


if __name__ == "__main__":
    harness.main(test, "ha_off")
