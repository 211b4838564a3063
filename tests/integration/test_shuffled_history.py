#!/usr/bin/env python3
"""History out of order: two years of decisions for sjukpenning and
sjukersattning only (the other two configured benefits send nothing),
written shuffled and then office by office, each into a fresh Redis and
daemon. Once the stream is drained the daemon must still run and answer
/healthz, every series and week must equal the simulator's truth, and
each case-mix model must have been fitted on at least half of the
decisions its reference window holds, not on the few that had arrived
when the watermark ran ahead (design notes, 8a)."""

import time

import harness
from harness import check

START = "2021-01-04"        # a Monday
WEEKS = 104                 # the 52-week reference window completes
PER_WEEK = 3000
BENEFITS = ("sjukpenning", "sjukersattning")


def window_decisions(truth, benefit, kind, first, last):
    """National decisions on the merits of (benefit, kind) in weeks
    first..last (labels, inclusive) by the truth."""
    weeks = truth.weeks.get(("national", benefit, kind), {})
    return sum(row[0] for w, row in weeks.items() if first <= w <= last)


def check_models(d, truth, order, timeout=60):
    """Every benefit's models fitted on their window, once the replay of
    the late history (when the stream has drained) has refitted them."""
    deadline = time.monotonic() + timeout
    while True:
        problems = model_problems(d, truth, order)
        if not problems or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    check(not problems, "%s: models: %s" % (order, "; ".join(problems)))


def model_problems(d, truth, order):
    s, body = d.get("/v1/model")
    check(s == 200, "%s: GET /v1/model: %s %s" % (order, s, body))
    models = {(m["benefit"], m["kind"]): m for m in body["models"]}
    problems = []
    for benefit in BENEFITS:
        for kind in ("first", "ongoing"):
            m = models.get((benefit, kind))
            if m is None or not m["fitted"]:
                problems.append("%s/%s not fitted" % (benefit, kind))
                continue
            first, last = m["reference_window"]["from"], m["reference_window"]["to"]
            want = window_decisions(truth, benefit, kind, first, last)
            got = m["fit"]["decisions"]
            nweeks = len([w for w in truth.weeks.get(("national", benefit, kind), {})
                          if first <= w <= last])
            if nweeks < 52 or got < want / 2:
                problems.append("%s/%s fitted on %d decisions, its window %s..%s "
                                "(%d weeks with data) holds %d" %
                                (benefit, kind, got, first, last, nweeks, want))
    # The benefits that sent nothing have nothing to fit.
    for (benefit, kind), m in models.items():
        if benefit not in BENEFITS and m["fitted"]:
            problems.append("%s/%s fitted without any decision" % (benefit, kind))
    return problems


def run_order(w, order):
    redis = harness.Redis(w.path + "/" + order).start()
    w.add(redis.stop)
    truth = harness.run_sim(redis, w.path, "--seed", 11, "--weeks", WEEKS,
                            "--per-week", PER_WEEK, "--start", START,
                            "--order", order, "--benefits", ",".join(BENEFITS))
    check(all(k[1] in BENEFITS for k in truth.weeks), "%s: truth has other benefits" % order)
    d = harness.Daemon(w.path, redis, name="stabild-" + order).start(wait=False)
    w.add(d.stop)
    # Not Daemon.start's wait: a death must be reported as such.
    harness.wait_processed(d, truth.totals["written"], stall=10, limit=120)
    # A crash right after the last entry is still a crash.
    time.sleep(1)
    check(d.proc.poll() is None, "%s: stabild exited with %s after the stream was drained; "
          "log tail:\n%s" % (order, d.proc.poll(), "\n".join(d.log().splitlines()[-15:])))
    check(d.get("/healthz", token=None)[0] == 200, "%s: /healthz not 200" % order)
    st = d.status()
    check(st["events"]["counted"] == truth.totals["valid"],
          "%s: counted %d, truth %d" % (order, st["events"]["counted"], truth.totals["valid"]))
    harness.compare_with_truth(d, truth)
    check_models(d, truth, order)
    check(d.proc.poll() is None and d.get("/healthz", token=None)[0] == 200,
          "%s: stabild died while answering the API" % order)
    # The models are refitted early in the replay; the rest of it goes on.
    # A stop waits for all of it (its checkpoint needs every decision
    # applied), which under the sanitizers can outlast the stop's timeout.
    harness.wait_for(lambda: not d.status()["detector_busy"], 180,
                     "%s: the replay's end" % order, interval=0.5)
    check(d.stop() == 0, "%s: exit status on SIGTERM" % order)
    redis.stop()


def test(w):
    failures = []
    for order in ("shuffled", "office"):
        try:
            run_order(w, order)
        except harness.TestFailure as e:
            failures.append(str(e))
    check(not failures, "\n".join(failures))


if __name__ == "__main__":
    harness.main(test, "shuffled_history")
