#!/usr/bin/env python3
"""The API stays responsive while a checkpoint is written. A checkpoint
child is held (SIGSTOP, as a disk that hangs would) during ingest; then
POST /v1/checkpoint waits for a checkpoint that covers what was counted
before it, and meanwhile GET /healthz, /v1/status and /metrics answer at
once and counting goes on; once the child goes on, the request gets 200
with a position at least as far as what had been counted. Then a SIGTERM
while a child is held: the daemon waits for it without blocking the loop
(the API still answers), and exits 0 once it ends. `stabilctl
checkpoint` prints what it covers."""

import http.client
import json
import os
import signal
import subprocess
import threading
import time

import harness
from harness import WRITE_TOKEN, check


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def proc_state(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def hold_child(d, timeout=60):
    """SIGSTOP the next checkpoint child of d; its pid."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for c in children(d.proc.pid):
            try:
                os.kill(c, signal.SIGSTOP)
            except ProcessLookupError:
                continue
            # A zombie ignores it: only a stopped child counts.
            for _ in range(100):
                st = proc_state(c)
                if st in ("T", "t"):
                    return c
                if st in (None, "Z", "X"):
                    break
                time.sleep(0.001)
        if d.proc.poll() is not None:
            raise harness.TestFailure("stabild exited:\n%s" % d.log()[-2000:])
        time.sleep(0.0005)
    raise harness.TestFailure("no checkpoint child caught in %d s" % timeout)


def slice_ns(pid, tid):
    """The scheduler slice of a thread (Linux 6.6 and later), or None."""
    try:
        with open("/proc/%d/task/%d/sched" % (pid, tid)) as f:
            for line in f:
                if line.startswith("se.slice"):
                    return int(line.split(":")[1])
    except OSError:
        pass
    return None


def thread_name(pid, tid):
    try:
        with open("/proc/%d/task/%d/comm" % (pid, tid)) as f:
            return f.read().strip()
    except OSError:
        return None


def kernel_takes_slices():
    """Linux 6.12 took a thread's requested slice as a latency hint."""
    rel = os.uname().release.split(".")
    try:
        return (int(rel[0]), int(rel[1].split("-")[0])) >= (6, 12)
    except ValueError:
        return False


def check_slices(d, tries=20):
    """The loop thread asks for a 0.1 ms slice; the worker's threads and the
    checkpoint child have the kernel's default back. A child caught in its
    first microseconds, before it asked, is let go and the next look
    tried."""
    pid = d.proc.pid
    loop = slice_ns(pid, pid)
    if not kernel_takes_slices() or loop is None:
        print("checkpoint_wait: this kernel keeps no slice per thread; not checked")
        return
    check(loop == 100000, "the loop's slice is %d ns, not 100000" % loop)
    others = [int(t) for t in os.listdir("/proc/%d/task" % pid) if thread_name(pid, int(t))
              == "stabild-worker"]
    check(others, "no thread named stabild-worker")
    for t in others:
        s = slice_ns(pid, t)
        check(s is not None and s > 100000, "worker thread %d has slice %r" % (t, s))
    seen = []
    for _ in range(tries):
        child = hold_child(d)
        seen.append(slice_ns(child, child))
        os.kill(child, signal.SIGCONT)
        if seen[-1] is not None and seen[-1] > 100000:
            break
        time.sleep(0.005)
    check(seen[-1] is not None and seen[-1] > 100000,
          "checkpoint children had slices %r" % seen)
    print("checkpoint_wait: slices: loop %d ns, %d worker threads and the child %d ns"
          % (loop, len(others), seen[-1]))


def timed_get(d, path):
    t = time.monotonic()
    s, _ = d.get(path)
    return s, time.monotonic() - t


class Post(threading.Thread):
    """POST /v1/checkpoint on its own connection, answered later."""

    def __init__(self, d):
        super().__init__(daemon=True)
        self.d = d
        self.result = None

    def run(self):
        c = http.client.HTTPConnection("127.0.0.1", self.d.http_port, timeout=60)
        c.request("POST", "/v1/checkpoint", body=b"{}",
                  headers={"Authorization": "Bearer " + WRITE_TOKEN,
                           "Content-Type": "application/json"})
        r = c.getresponse()
        self.result = (r.status, json.loads(r.read()))
        c.close()


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    truth = harness.run_sim(redis, w.path, "--seed", 3, "--weeks", 30, "--per-week", 20000,
                            "--start", "2019-01-07")
    d = harness.Daemon(w.path, redis, conf_extra={
        "state": {"checkpoint_interval": "100ms", "checkpoint_events": "20000"}})
    d.start()
    w.add(d.stop)
    held = []

    def release():
        for c in held:
            try:
                os.kill(c, signal.SIGCONT)
            except ProcessLookupError:
                pass
    w.add(release)

    check_slices(d)
    child = hold_child(d)
    held.append(child)
    before = d.status()["events"]["counted"]
    post = Post(d)
    post.start()
    time.sleep(0.5)
    check(post.result is None, "POST /v1/checkpoint answered while the writer is held: %r"
          % (post.result,))
    slowest = 0.0
    for path in ("/healthz", "/v1/status", "/metrics") * 5:
        s, took = timed_get(d, path)
        check(s == 200, "GET %s: %s while a checkpoint is written" % (path, s))
        slowest = max(slowest, took)
    check(slowest < 1.0, "the API took %.3f s to answer during the checkpoint" % slowest)
    during = d.status()["events"]["counted"]
    check(during > before, "counting stopped while the writer was held (%d, %d)"
          % (before, during))
    check(post.result is None, "POST answered early: %r" % (post.result,))
    os.kill(child, signal.SIGCONT)
    post.join(30)
    check(post.result is not None, "POST /v1/checkpoint never answered")
    s, body = post.result
    check(s == 200 and body["counted"] >= during,
          "POST /v1/checkpoint: %s %r, counted %d before" % (s, body, during))
    print("checkpoint_wait: API answered within %.1f ms while the writer was held; "
          "POST answered %s at %d counted" % (slowest * 1000, body["checkpointed"],
                                               body["counted"]))

    # stabilctl checkpoint waits the same way and says what it covers.
    r = subprocess.run([os.path.join(harness.BUILD, "stabilctl"), "--url",
                        "http://127.0.0.1:%d" % d.http_port, "checkpoint"],
                       env=dict(os.environ, STABILD_TOKEN=WRITE_TOKEN),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    check(r.returncode == 0 and r.stdout.decode().startswith("checkpointed "),
          "stabilctl checkpoint: %d %r %r" % (r.returncode, r.stdout, r.stderr))

    # SIGTERM while a writer is held: the loop goes on until it ends.
    left = truth.totals["written"] - d.wait_counted(0)
    check(left > 0, "ingest ended before the stop part; make the stream longer")
    child = hold_child(d, timeout=30)
    held.append(child)
    d.send_signal(signal.SIGTERM)
    harness.wait_log(d, r"waiting for the checkpoint being written", timeout=10)
    for _ in range(5):
        s, took = timed_get(d, "/healthz")
        check(s == 200 and took < 1.0, "GET /healthz while stopping: %s in %.3f s" % (s, took))
    check(d.proc.poll() is None, "stabild exited with the writer held")
    os.kill(child, signal.SIGCONT)
    d.proc.wait(20)
    check(d.proc.returncode == 0, "exit status %s" % d.proc.returncode)
    print("checkpoint_wait: stopped with %d entries left in the stream" % left)


if __name__ == "__main__":
    harness.main(test, "checkpoint_wait")
