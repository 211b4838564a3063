#!/usr/bin/env python3
"""Disk full: the state directory is a small tmpfs that a ballast file
fills. stabild stops reading (the group's lag grows), says why in
/v1/status and once in the log, stays alive and answering, and retries;
once the ballast is gone it reads on, and every count, the records and
the checkpoint equal the simulator's truth exactly.

The tmpfs is mounted in a private mount namespace (unshare), so that it
needs no cleanup outside this test and works without root where user
namespaces are allowed."""

import errno
import os
import subprocess
import sys
import time

import harness
from harness import check

NS_ENV = "STABILD_DISK_FULL_NS"
TMPFS_SIZE = 8 << 20
FREE_AT_START = 256 << 10       # less than one checkpoint needs
EXTRA = [("K003", "sjukpenning", "first", "rejected", 1667469600),    # 2022-11-03
         ("K007", "sjukpenning", "ongoing", "granted", 1667556000),
         ("K011", "sjukersattning", "first", "partial", 1667642400)]


def private_mounts():
    """Run this script again in its own mount namespace (as root, or as a
    user namespace's root); return only inside it."""
    if os.environ.get(NS_ENV) == "1":
        return
    cmd = ["unshare", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        cmd[1:1] = ["--user", "--map-root-user"]
    env = dict(os.environ, **{NS_ENV: "1"})
    sys.exit(subprocess.run(cmd + [sys.executable, os.path.abspath(__file__)],
                            env=env).returncode)


def fill(path, leave):
    """Write a ballast file until the filesystem is full, then give back
    `leave` bytes."""
    chunk = b"\0" * (64 << 10)
    with open(path, "wb") as f:
        try:
            while True:
                f.write(chunk)
                f.flush()
        except OSError as e:
            check(e.errno == errno.ENOSPC, "ballast: %s" % e)
    size = os.path.getsize(path)
    os.truncate(path, max(size - leave, 0))


def group_lag(redis):
    return harness.xinfo_group(redis)["lag"]


def counted(d):
    return d.status()["events"]["counted"]


def ctl_status(d):
    """stabilctl status against d: its table."""
    env = dict(os.environ, STABILD_TOKEN=harness.READ_TOKEN)
    env.pop("STABILCTL_URL", None)
    r = subprocess.run([os.path.join(harness.BUILD, "stabilctl"), "--url",
                        "http://127.0.0.1:%d" % d.http_port, "status"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30,
                       env=env)
    check(r.returncode == 0, "stabilctl status: %d %s" % (r.returncode, r.stderr))
    return r.stdout


def add_extra(redis, truth, tag, extra):
    """XADD hand-made decisions and count them into the truth."""
    for i, (office, benefit, kind, outcome, t) in enumerate(extra):
        harness.xadd(redis, {"id": "disk-full-%s-%d" % (tag, i), "office": office,
                             "benefit": benefit, "kind": kind, "outcome": outcome,
                             "decided_at": str(t)})
        harness.truth_add(truth, office, benefit, kind, harness.week_label(t), outcome)
    truth.totals["valid"] += len(extra)
    truth.totals["written"] += len(extra)
    return len(extra)


def blocked_phase(d, redis, truth, tag, kinds, since):
    """The disk is full: wait for backpressure of one of kinds and check
    that reading has stopped, that new entries wait in the stream, and
    that the daemon answers, retries and said so once (in the log after
    character offset since)."""
    def blocked():
        bp = d.status()["backpressure"]
        return bp is not None and bp
    bp = harness.wait_for(blocked, 30, "backpressure in /v1/status")
    check(bp["blocked"] in kinds, "backpressure %r, want %s" % (bp, kinds))
    check("No space left on device" in bp["reason"], "reason %r" % bp["reason"])
    check(bp["since"] is not None and bp["seconds"] >= 0, "since %r" % bp)
    check(harness.get_metrics(d)["stabild_backpressure"] == 1, "backpressure metric")
    out = ctl_status(d)
    check("backpressure" in out and "No space left on device" in out,
          "stabilctl status while blocked:\n%s" % out)
    failures0 = harness.get_metrics(d)["stabild_checkpoint_failures_total"]
    n0 = counted(d)

    # New entries wait in the stream (but for what a read already on the
    # wire when the disk filled takes, and holds): nothing more is read,
    # so the lag then grows by exactly the entries added.
    add_extra(redis, truth, tag + "1", EXTRA)
    time.sleep(2)
    lag1 = group_lag(redis)
    added = add_extra(redis, truth, tag + "2", EXTRA)
    time.sleep(1)
    check(d.alive_http(), "stabild answers while blocked")
    check(counted(d) == n0, "counting went on while blocked: %d, then %d" % (n0, counted(d)))
    check(group_lag(redis) == lag1 + added,
          "lag %d, want %d" % (group_lag(redis), lag1 + added))
    bp = d.status()["backpressure"]
    check(bp is not None and bp["seconds"] >= 3, "blocked still: %r" % bp)
    # Retried, but said once.
    log = d.log()[since:]
    check(log.count("ingest: backpressure: ") == 1, "backpressure logged %d times:\n%s" %
          (log.count("ingest: backpressure: "), log))
    check(log.count("checkpoint: writer ") <= 1, "a failed writer logged per attempt:\n%s" % log)
    if bp["blocked"] == "checkpoint":
        check(harness.get_metrics(d)["stabild_checkpoint_failures_total"] > failures0,
              "no checkpoint retried")
    return added


def resumed_phase(d, redis, truth, since):
    """Space is back: reading resumes and every count equals the truth."""
    harness.wait_for(lambda: d.status()["backpressure"] is None, 15, "backpressure lifted")
    harness.wait_processed(d, truth.totals["written"], redis=redis)
    harness.wait_acked(redis, timeout=15)
    ev = d.status()["events"]
    check(ev["counted"] == truth.totals["valid"],
          "counted %d, truth %d" % (ev["counted"], truth.totals["valid"]))
    check(ev["deadlettered"] == 0 and ev["duplicates"] == 0, "clean input: %r" % ev)
    harness.compare_with_truth(d, truth)
    log = d.log()[since:]
    check(log.count("ingest: backpressure over") == 1, "resume logged %d times" %
          log.count("ingest: backpressure over"))
    check(harness.get_metrics(d)["stabild_backpressure"] == 0, "backpressure metric")
    check("backpressure" not in ctl_status(d), "stabilctl status shows backpressure")
    return ev


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    truth = harness.run_sim(redis, w.path, "--seed", 11, "--offices", 20, "--weeks", 12,
                            "--per-week", 5000, "--start", "2022-10-03")
    # Checkpoints by the clock only, and seconds apart, so that the
    # records fill the disk first (1) and a checkpoint does later (2).
    d = harness.Daemon(w.path, redis, conf_extra={
        "state": {"checkpoint_interval": "3s", "checkpoint_events": "10000000"}})
    os.makedirs(d.state_dir)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d,mode=0750" % TMPFS_SIZE, "tmpfs",
                        d.state_dir], stderr=subprocess.PIPE)
    check(r.returncode == 0, "cannot mount a tmpfs (this needs root or user namespaces): %s" %
          r.stderr.decode(errors="replace").strip())
    w.add(lambda: subprocess.run(["umount", d.state_dir], check=False))
    ballast = os.path.join(d.state_dir, "ballast")

    # 1. Full from the start: the records fail while most of the stream
    # is still unread.
    fill(ballast, FREE_AT_START)
    d.start()
    w.add(d.stop)
    blocked_phase(d, redis, truth, "a", ("records",), 0)
    check(counted(d) < truth.totals["valid"], "all counted before the disk filled")
    since = len(d.log())
    os.unlink(ballast)
    resumed_phase(d, redis, truth, since)

    # 2. Room for the records of a few new entries but not for their
    # checkpoint: it fails, nothing is acknowledged, reading stops.
    since = len(d.log())
    fill(ballast, FREE_AT_START)
    add_extra(redis, truth, "b", EXTRA)
    blocked_phase(d, redis, truth, "c", ("checkpoint",), since)
    check(harness.xpending_count(redis) > 0, "acknowledged without a checkpoint")
    since = len(d.log())
    os.unlink(ballast)
    ev = resumed_phase(d, redis, truth, since)
    check(d.stop() == 0, "exit status on SIGTERM")

    # The checkpoint and the records agree with the truth after a restart.
    check(len(harness.records_data(d.state_dir)) == 16 * ev["counted"],
          "records %d bytes for %d counted" % (len(harness.records_data(d.state_dir)),
                                               ev["counted"]))
    d.start()
    check(d.status()["events"] == ev, "after a restart %r, before %r" % (d.status()["events"], ev))
    harness.compare_with_truth(d, truth)
    check(d.stop() == 0, "exit status on SIGTERM after the restart")


if __name__ == "__main__":
    private_mounts()
    harness.main(test, "disk_full")
