#!/usr/bin/env python3
"""make bench: ingest throughput of stabild against a bare hiredis consumer
(XREADGROUP + XACK, no work) over the same stream in the same run, rounds
alternating A B A B so that machine drift hits both; the same for a mixed
stream (every event kind, read by a daemon with the four shipped
indicators) against the rejection-only one, at the sparse and the
national volume and over a ten-year back-fill, with the CPU an entry
costs each (the event loop, the whole daemon, Redis), and the catch-up
of a daemon restarted from its checkpoint (models fitted) after an
outage, at both volumes; alert delivery (event-to-webhook latency, and
ingest while a receiver hangs against none);
then peak memory for a ten-year national-size history of one and of five
indicators. Each consumer times itself from its first to its last entry,
so process start-up is left out."""

import datetime
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import zoneinfo

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402
import delivery  # noqa: E402
import indicators  # noqa: E402

MIXED = "stabild:mixed"
DENSE = "stabild:dense"
BACKFILL = "stabild:backfill"

BARE = os.path.join(harness.BUILD, "bench-bare-consumer")
HISTORY = os.path.join(harness.BUILD, "bench-history")


def run_bare(redis, n, group):
    r = subprocess.run([BARE, "--port", str(redis.port), "--stream", "stabild:decisions",
                        "--group", group, "--consumer", "bench", "--count", "500",
                        "--expect", str(n)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=600)
    m = re.search(r"consumed=(\d+) seconds=([\d.]+) rate=([\d.]+)", r.stdout.decode() + r.stderr.decode())
    if r.returncode != 0 or not m:
        raise SystemExit("bench: bare consumer failed: %s" % r.stderr.decode())
    return int(m.group(1)), float(m.group(3))


def proc_cpu(pid):
    """User and system CPU seconds of a running process (its threads)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_stabild(redis, work, n, group, hook_port=None, stream=None, extra=None,
                indicators_on=True):
    conf = {
        "redis": {"group": group, "consumer": "bench", "batch": "500", "block": "100ms"},
        "state": {"checkpoint_interval": "2s", "dir": os.path.join(work, group)},
        "log": {"level": "notice"},
        "alerts": {"historical_age": "50y"},
    }
    if stream is not None:
        conf["redis"]["stream"] = stream
        # True: the four shipped indicators; a tuple: those named.
        if indicators_on:
            conf.update(indicators.sections(*(() if indicators_on is True else indicators_on)))
    for sec, kv in (extra or {}).items():
        conf.setdefault(sec, {}).update(kv)
    d = harness.Daemon(work, redis, name=group, conf_extra=conf)
    if hook_port is not None:
        with open(d.conf_path, "a") as f:
            f.write('\n[receiver "hook"]\ntype = webhook\nurl = http://127.0.0.1:%d/\n'
                    'timeout = 10s\n' % hook_port)
    logf = open(d.log_path, "ab")
    redis_cpu = proc_cpu(redis.proc.pid)
    p = subprocess.Popen([harness.STABILD, "-c", d.conf_path, "--exit-on-idle"],
                         stdout=logf, stderr=logf)
    _, status, ru = os.wait4(p.pid, 0)
    logf.close()
    # Redis's CPU over the run, for the CPU an entry costs.
    run_stabild.redis_cpu = proc_cpu(redis.proc.pid) - redis_cpu
    log = d.log()
    m = re.search(r"drained (\d+) entries in ([\d.]+) s \((\d+)/s\).*detector busy ([\d.]+) s",
                  log)
    if os.waitstatus_to_exitcode(status) != 0 or not m:
        raise SystemExit("bench: stabild failed:\n%s" % log)
    if int(m.group(1)) != n:
        raise SystemExit("bench: stabild read %s of %d entries" % (m.group(1), n))
    run_stabild.alert_states = len(re.findall(r"^<5>alert: ", log, re.M))
    # The rate less the time ingest waited for the detector (fits and
    # thresholds), for the mixed part's second ratio.
    busy = float(m.group(4))
    run_stabild.rate_less_waits = int(m.group(1)) / max(float(m.group(2)) - busy, 1e-9)
    # The rate once every indicator has its first models: what ingest
    # sustains after the one-time first fit.
    af = re.search(r"after the first models (\d+) entries in ([\d.]+) s \((\d+)/s\)", log)
    run_stabild.fitted_rate = int(af.group(3)) if af else float("nan")
    # Ours from the first entry to the last: the loop thread's, and the
    # process's (every thread, the checkpoint children ended by then).
    lc = re.search(r"loop CPU ([\d.]+) s, process CPU ([\d.]+) s", log)
    run_stabild.loop_cpu = float(lc.group(1)) if lc else float("nan")
    run_stabild.cpu = float(lc.group(2)) if lc else float("nan")
    # Checkpoints written during the drain: a short drain takes one or
    # two, and where checkpoint_events falls shows in its rate.
    ck = re.search(r"process CPU [\d.]+ s, (\d+) checkpoints", log)
    run_stabild.checkpoints = int(ck.group(1)) if ck else -1
    return int(m.group(1)), int(m.group(3)), ru.ru_maxrss


def main():
    n = int(os.environ.get("BENCH_EVENTS", "400000"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    work = tempfile.mkdtemp(prefix="stabild-bench-")
    redis = harness.Redis(work).start()
    try:
        weeks = max(1, n // 4000)
        # Drifting offices give alerts for the delivery part.
        harness.run_sim(redis, work, "--seed", "11", "--weeks", weeks, "--per-week", 4000,
                        "--start", "2020-01-06", "--drift", "K003:*:*:70:2.5",
                        "--drift", "K011:*:*:70:0.4", truth=False)
        total = redis.call("XLEN", "stabild:decisions")
        print("bench: %d entries in the stream, %d rounds" % (total, rounds))
        bare, ours, ratios, rss = [], [], [], []
        for i in range(rounds):
            _, rb = run_bare(redis, total, "bare-%d" % i)
            _, rs, maxrss = run_stabild(redis, work, total, "stabild-%d" % i)
            bare.append(rb)
            ours.append(rs)
            ratios.append(rs / rb)
            rss.append(maxrss)
            print("bench: round %d: bare %.0f/s, stabild %.0f/s, ratio %.2f" % (i + 1, rb, rs, rs / rb))
        print("bench: ingest median: bare consumer %.0f events/s, stabild %.0f events/s" % (
            statistics.median(bare), statistics.median(ours)))
        print("bench: ingest ratio stabild/bare: median %.2f (min %.2f, max %.2f; target >= 0.90)" % (
            statistics.median(ratios), min(ratios), max(ratios)))
        print("bench: stabild peak RSS while ingesting %d entries: %.1f MiB" % (
            total, statistics.median(rss) / 1024.0))
        alert_states = run_stabild.alert_states
        mixed(redis, work, weeks, total, rounds)
        mixed(redis, work, weeks, total, rounds, dense=True)
        mixed(redis, work, weeks, total, rounds, backfill=True)
        catchup(redis, work, rounds, 15, 20, 60000, 13)
        catchup(redis, work, rounds, 56, 300, 4000, 52)
        breakdown(redis, work, rounds, 56, 200, 4000, 52)
        others(work)

        def with_hook(work_, n_, group, port):
            return run_stabild(redis, work_, n_, group, port)
        ok = delivery.report(work, total, rounds, with_hook, alert_states)
        if not ok:
            raise SystemExit("bench: notifications were lost while the receiver hung")
    finally:
        redis.stop()
    subprocess.run(["rm", "-rf", work])
    return 0


def mixed(redis, work, weeks, total, rounds, dense=False, backfill=False):
    """A mixed stream (every event kind) read by a daemon with the four
    shipped indicators, against the rejection-only stream, alternating.
    dense: both at the national volume (the simulator's 60 000 decisions
    a week, 20 weeks, the first models after 13), on streams of their own,
    where the bench's sparse stream puts a week's fixed work (closing,
    thresholds, checkpoints of five times the series) on a fifteenth of
    the entries. backfill: both at the sparse volume over ten years (the
    retention), a new deployment's back-fill, where the one-time first fit
    of every indicator is a small part of the drain, as it is in use."""
    rej_stream, extra, what = None, None, "sparse (%d a week)" % max(1, total // weeks)
    seed, start = "12" if dense else "11", "2020-01-06"
    if dense:
        rej_stream, weeks, extra = DENSE, 20, {"detector": {"min_reference_weeks": "13"}}
        harness.run_sim(redis, work, "--seed", "12", "--weeks", weeks, "--per-week", 60000,
                        "--start", start, truth=False, stream=DENSE)
        total = redis.call("XLEN", DENSE)
        what = "national volume (60000 a week)"
    if backfill:
        rej_stream, weeks, seed, start = BACKFILL, 520, "31", "2015-01-05"
        harness.run_sim(redis, work, "--seed", seed, "--weeks", weeks, "--per-week", 4000,
                        "--start", start, "--drift", "K003:*:*:300:2.5",
                        "--drift", "K011:*:*:300:0.4", truth=False, stream=BACKFILL)
        total = redis.call("XLEN", BACKFILL)
        what = "ten-year back-fill (%d a week)" % (total // weeks)
    per_week = max(1, total // weeks)
    mixed_stream = MIXED + (":dense" if dense else ":backfill" if backfill else "")
    harness.run_sim(redis, work, "--seed", seed, "--weeks", weeks,
                    "--per-week", 60000 if dense else per_week, "--start", start,
                    "--events", "all", truth=False, stream=mixed_stream)
    n_mixed = redis.call("XLEN", mixed_stream)
    print("bench: %s: mixed stream of %d entries (rejection-only %d)" % (what, n_mixed, total))
    loop_ratios, fit_ratios, rss_r, rss_m = [], [], [], []
    rates_r, rates_m = [], []
    cpu_r, cpu_m = [], []
    tag = "-dense" if dense else "-backfill" if backfill else ""
    for i in range(rounds):
        _, rr, mr = run_stabild(redis, work, total, "rejection%s-%d" % (tag, i), stream=rej_stream,
                                extra=extra, indicators_on=False)
        lr = run_stabild.rate_less_waits
        fr = run_stabild.fitted_rate
        ck_r = run_stabild.checkpoints
        cpu_r.append(cpu_per_entry(total))
        _, rm, mm = run_stabild(redis, work, n_mixed, "mixed%s-%d" % (tag, i), stream=mixed_stream,
                                extra=extra)
        lm = run_stabild.rate_less_waits
        fm = run_stabild.fitted_rate
        ck_m = run_stabild.checkpoints
        cpu_m.append(cpu_per_entry(n_mixed))
        rates_r.append(rr)
        rates_m.append(rm)
        loop_ratios.append(lm / lr)
        fit_ratios.append(fm / fr)
        rss_r.append(mr)
        rss_m.append(mm)
        print("bench: round %d: rejection-only %.0f/s, mixed with 4 indicators %.0f/s, "
              "ratio %.2f; less the waits for the detector %.0f/s and %.0f/s, ratio %.2f; "
              "after the first models %.0f/s and %.0f/s, ratio %.2f; checkpoints %d and %d" % (
                  i + 1, rr, rm, rm / rr, lr, lm, lm / lr, fr, fm, fm / fr, ck_r, ck_m))
    print_ratio(what, rates_r, rates_m)
    print("bench: %s: the same less the waits for the detector (the first fit and its "
          "thresholds): median %.2f (min %.2f, max %.2f)" % (
              what, statistics.median(loop_ratios), min(loop_ratios), max(loop_ratios)))
    print("bench: %s: sustained ingest ratio mixed/rejection-only, after the first models "
          "(the one-time first fit of every indicator done): median %.2f (min %.2f, max %.2f; "
          "target >= 0.90)" % (what, statistics.median(fit_ratios), min(fit_ratios),
                               max(fit_ratios)))
    print_cpu(what, cpu_r, cpu_m)
    print("bench: peak RSS: rejection-only %.1f MiB, mixed with 4 indicators %.1f MiB" % (
        statistics.median(rss_r) / 1024.0, statistics.median(rss_m) / 1024.0))
    sys.stdout.flush()
    if backfill:
        # Over a gigabyte of Redis between them: not kept for the parts after.
        redis.call("DEL", BACKFILL, mixed_stream)


# Moves the entries of KEYS[1] from ARGV[1] on (COUNT ARGV[3]) to KEYS[2]
# (decided_at before ARGV[2], Unix seconds) or KEYS[3], under their ids.
SPLIT = """
local n, cur = 0, ARGV[1]
local r = redis.call('XRANGE', KEYS[1], cur, '+', 'COUNT', tonumber(ARGV[3]))
for _, e in ipairs(r) do
  local f, t = e[2], 0
  for i = 1, #f, 2 do if f[i] == 'decided_at' then t = tonumber(f[i + 1]) or 0 end end
  redis.call('XADD', t < tonumber(ARGV[2]) and KEYS[2] or KEYS[3], e[1], unpack(f))
  cur = '(' .. e[1]
  n = n + 1
end
return {n, cur}
"""


def split(redis, src, before, after, boundary):
    """Every entry of src into before (decided_at < boundary) or after,
    under its own id; src goes."""
    cur = "-"
    while True:
        n, cur = redis.call("EVAL", SPLIT, 3, src, before, after, cur, boundary, 20000)
        if n < 20000:
            break
    redis.call("DEL", src)


# The catch-up's sides: what is printed, whether the stream is the mixed
# one, and its indicators besides rejection (True: the four shipped).
CATCHUP = (("rejection-only", False, False), ("mixed with 4 indicators", True, True))
# The mixed stream's extra cost, taken apart: read with rejection alone,
# then with supplement requests (counted on every decision), with the
# three indicators of the other event kinds, and with all four.
OTHER_KINDS = tuple(n for n in indicators.SHIPPED if n != "supplement")
BREAKDOWN = (("rejection-only stream", False, False),
             ("mixed stream, rejection alone", True, False),
             ("+ supplement", True, ("supplement",)),
             ("+ " + ", ".join(OTHER_KINDS), True, OTHER_KINDS),
             ("+ all four", True, True))


def catchup(redis, work, rounds, hist_weeks, back_weeks, per_week, min_ref):
    """The catch-up of a running deployment after an outage (catchup_runs),
    rejection-only against mixed with the four shipped indicators. The
    one-time first fit is not part of it, as it is not part of a
    catch-up: this is the rate ingest sustains in use."""
    def round_line(i, rates, cks, cpus):
        print("bench: round %d: %s %.0f/s, %s %.0f/s, ratio %.2f; checkpoints %d and %d" % (
            i + 1, CATCHUP[0][0], rates[0][i], CATCHUP[1][0], rates[1][i],
            rates[1][i] / rates[0][i], cks[0], cks[1]))
    what, rates, cpus = catchup_runs(redis, work, rounds, hist_weeks, back_weeks, per_week,
                                     min_ref, CATCHUP, "catch-up", round_line)
    print_ratio(what, rates[0], rates[1])
    print_cpu(what, cpus[0], cpus[1])
    sys.stdout.flush()


def breakdown(redis, work, rounds, hist_weeks, back_weeks, per_week, min_ref):
    """The same catch-up for each of BREAKDOWN's sides in turn: what the
    loop spends an entry on each, and its rate."""
    def round_line(i, rates, cks, cpus):
        print("bench: round %d: the loop's CPU per entry (us): %s" % (i + 1, "; ".join(
            "%s %.2f" % (label, cpus[j][i][0]) for j, (label, _, _) in enumerate(BREAKDOWN))))
    what, rates, cpus = catchup_runs(redis, work, rounds, hist_weeks, back_weeks, per_week,
                                     min_ref, BREAKDOWN, "breakdown", round_line)
    loop = [statistics.median(c[0] for c in cpus[j]) for j in range(len(BREAKDOWN))]
    rate = [statistics.median(r) for r in rates]
    print("bench: %s, by indicator: the loop's CPU per entry (us, median), and the "
          "rejection-only stream's over it: %s" % (what, "; ".join(
              "%s %.2f (%.2f)" % (label, loop[j], loop[0] / loop[j])
              for j, (label, _, _) in enumerate(BREAKDOWN))))
    print("bench: %s, by indicator: rate (median), and over the rejection-only "
          "stream's: %s" % (what, "; ".join(
              "%s %.0f/s (%.2f)" % (label, rate[j], rate[j] / rate[0])
              for j, (label, _, _) in enumerate(BREAKDOWN))))
    sys.stdout.flush()


def catchup_runs(redis, work, rounds, hist_weeks, back_weeks, per_week, min_ref, sides, name,
                 round_line):
    """A daemon for each of sides that has read hist_weeks (its first
    models fitted, thresholds computed, checkpointed) is restarted from
    that checkpoint with back_weeks of entries waiting, the sides in turn
    each round, each from a copy of its checkpoint and a group created
    where the history ends; round_line(i, rates, checkpoints, cpus)
    prints round i. decided_at is sent as Unix seconds, for the split.
    Returns what is measured, and each side's rates and CPU per entry."""
    start = datetime.date(2020, 1, 6)
    # The simulator's weeks begin at midnight in Stockholm.
    boundary = int(datetime.datetime.combine(start + datetime.timedelta(weeks=hist_weeks),
                                             datetime.time(),
                                             zoneinfo.ZoneInfo("Europe/Stockholm")).timestamp())
    extra = {"detector": {"min_reference_weeks": str(min_ref)}}
    what = "catch-up after an outage, %d a week (models fitted over %d weeks, a backlog " \
        "of %d)" % (per_week, hist_weeks, back_weeks)
    hist, back, last = {}, {}, {}
    # Keys, groups and state of their own for each volume.
    rk, mk = "catchup%d:r" % per_week, "catchup%d:m" % per_week
    for key in (rk, mk):
        events = ["--events", "all"] if key == mk else []
        harness.run_sim(redis, work, "--seed", "12", "--weeks", hist_weeks + back_weeks,
                        "--per-week", per_week, "--start", str(start), "--timestamps", "unix",
                        *events, truth=False, stream=key + ":all")
        split(redis, key + ":all", key, key + ":back", boundary)
        hist[key] = redis.call("XLEN", key)
        last[key] = redis.call("XREVRANGE", key, "+", "-", "COUNT", 1)[0][0]
    keys = [mk if mixed else rk for _, mixed, _ in sides]
    # Names of their own for each call: a daemon's log is kept by name.
    dirs = ["%s-%s-%d" % (catchup_dir(key), name, j) for j, key in enumerate(keys)]
    for j, (_, _, inds) in enumerate(sides):
        # The history read once, its checkpoint kept (--exit-on-idle),
        # with every indicator's first models.
        run_stabild(redis, work, hist[keys[j]], dirs[j], stream=keys[j], extra=extra,
                    indicators_on=inds)
        if math.isnan(run_stabild.fitted_rate):
            raise SystemExit("bench: the catch-up's history of %s fitted no first models" %
                             dirs[j])
    for key in (rk, mk):
        split(redis, key + ":back", key, key + ":none", 2 ** 62)
        back[key] = redis.call("XLEN", key) - hist[key]
    print("bench: %s: mixed backlog of %d entries (rejection-only %d)" % (
        what, back[mk], back[rk]))
    rates = [[] for _ in sides]
    cpus = [[] for _ in sides]
    for i in range(rounds):
        cks = []
        for j, (_, _, inds) in enumerate(sides):
            key = keys[j]
            group = "%s-%d" % (dirs[j], i)
            shutil.copytree(os.path.join(work, dirs[j]), os.path.join(work, group))
            redis.call("XGROUP", "CREATE", key, group, last[key])
            _, rate, _ = run_stabild(redis, work, back[key], group, stream=key, extra=extra,
                                     indicators_on=inds)
            rates[j].append(rate)
            cks.append(run_stabild.checkpoints)
            cpus[j].append(cpu_per_entry(back[key]))
            subprocess.run(["rm", "-rf", os.path.join(work, group)])
        round_line(i, rates, cks, cpus)
        sys.stdout.flush()
    for key in (rk, mk):
        redis.call("DEL", key, key + ":none")
    for d in dirs:
        subprocess.run(["rm", "-rf", os.path.join(work, d)])
    return what, rates, cpus


def catchup_dir(key):
    """The history's daemon: its group and state directory."""
    return key.replace(":", "-") + "-hist"


def print_ratio(what, rates_r, rates_m):
    """Mixed against rejection-only, round by round (the median of the
    pairs' ratios), and the fastest round of each against each other: on
    a shared machine another tenant only ever slows a run down (rounds of
    one stream here have differed by half), so each side's fastest run is
    the nearest to what it costs, where a pair's ratio takes the noise of
    both runs."""
    ratios = [m / r for r, m in zip(rates_r, rates_m)]
    print("bench: %s: ingest ratio mixed/rejection-only: median %.2f (min %.2f, max %.2f; "
          "target >= 0.90); fastest of each %.0f/s and %.0f/s, ratio %.2f" % (
              what, statistics.median(ratios), min(ratios), max(ratios), max(rates_r),
              max(rates_m), max(rates_m) / max(rates_r)))


def print_cpu(what, cpu_r, cpu_m):
    """Where the mixed stream's time goes: the CPU an entry costs the
    event loop, the whole daemon (fits and thresholds on the worker, the
    checkpoint children), ours from the first entry to the last, and
    Redis's over the run; medians of the rounds (cpu_per_entry)."""
    med = [[statistics.median(c[k] for c in cs) for k in range(3)] for cs in (cpu_r, cpu_m)]
    # With Redis on the same cores and both kept busy, the rates are in
    # the inverse ratio of the CPU an entry costs the two together.
    print("bench: %s: CPU per entry (us, median), rejection-only / mixed: event loop "
          "%.2f / %.2f, stabild in all (every thread, checkpoint children) %.2f / %.2f, "
          "redis-server %.2f / %.2f; stabild and Redis together, rejection-only over "
          "mixed: %.2f" % (what, med[0][0], med[1][0], med[0][1], med[1][1], med[0][2],
                           med[1][2], (med[0][1] + med[0][2]) / (med[1][1] + med[1][2])))


def cpu_per_entry(n):
    """The last run's loop, daemon and Redis CPU per entry, us."""
    return (run_stabild.loop_cpu / n * 1e6, run_stabild.cpu / n * 1e6,
            run_stabild.redis_cpu / n * 1e6)


def others(work):
    """Memory of a long history, the detector, the model fit: run before
    the delivery part, whose events would swell this process and with it
    the peak RSS a child inherits."""
    for nind in (1, 5):
        r = subprocess.run([HISTORY, os.path.join(work, "history.checkpoint"), str(nind)],
                           stdout=subprocess.PIPE)
        sys.stdout.write(r.stdout.decode())
        if r.returncode != 0:
            raise SystemExit("bench: history failed")
    # The detector: throughput in process (no Redis), and the model fit.
    d = subprocess.run([os.path.join(harness.BUILD, "stabild-simcheck"), "-b"],
                       stdout=subprocess.PIPE)
    sys.stdout.write("".join(l + "\n" for l in d.stdout.decode().splitlines()
                             if l.startswith("detect:")))
    m = subprocess.run([os.path.join(harness.BUILD, "tests", "test_model")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    sys.stdout.write("".join(l.strip() + "\n" for l in m.stdout.decode().splitlines()
                             if "model: fit of" in l))
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
