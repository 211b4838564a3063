#!/usr/bin/env python3
"""make soak: ingest, Redis restarts, receiver outages, kill -9s and API
load together, for minutes.

Phase 1 (new data): the simulator's events (its --dry-run lines, at a
steady rate, with malformed entries, resent duplicates and two drifting
offices) are written to a persistent Redis under explicit stream ids by a
writer that survives Redis restarts (a batch whose replies were lost is
sent again; an id Redis refuses as not new was written before). Meanwhile
Redis is stopped and started again, the webhook receiver goes away for a
while, stabild is killed with SIGKILL and started again, and a client
requests the API in a loop.

Phase 2 (steady state, no new data): the writer resends recent valid
entries (duplicates) and new malformed ones at the same rate; Redis
restarts, receiver outages and the API load go on, without kills, so that
one daemon process lives through all of it. Its resident memory and open
descriptors are sampled every two seconds.

At the end: every series and week equals the simulator's truth, the
counters equal the totals written, the dead-letter stream holds every
malformed entry once with a reason naming its broken field, nothing stays
pending, every alert state reached the receiver once (by Idempotency-Key)
and the outbox is empty, no API answer was a 5xx, and over the second half
of phase 2 the descriptors did not rise above the first half's and the
resident memory grew by at most 4 MB or 3 %. The figures are printed.

STABILD_SOAK_SHORT=1 runs a two-minute version (to try the soak itself)."""

import collections
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import harness  # noqa: E402
from harness import check  # noqa: E402
import test_deadletter  # noqa: E402
from webhook_sink import Sink  # noqa: E402

SHORT = os.environ.get("STABILD_SOAK_SHORT") == "1"
STREAM = b"stabild:decisions"
DEADLETTER = "stabild:deadletter"
SECRET = "soak-webhook-secret-0123456789abcdef"
SEED = 20261205
RATE = 3000 if SHORT else 1600           # entries a second, both phases
WEEKS = 32
PER_WEEK = 3000 if SHORT else 14000
# Offices (and one national series) that drift from these weeks on, so
# that alerts are raised throughout the second half of phase 1.
DRIFTS = ["K012:sjukpenning:*:16:4", "K007:sjukersattning:*:18:0.25",
          "K003:rehabiliteringsersattning:*:21:4", "K015:sjukpenning:ongoing:24:0.3",
          "national:aktivitetsersattning:*:27:2"]
PHASE2_S = 60 if SHORT else 240
REDIS_EVERY = (15, 25) if SHORT else (35, 55)
REDIS_DOWN = (0.5, 3.0)
SINK_EVERY = (20, 30) if SHORT else (45, 70)
SINK_DOWN = (5, 15) if SHORT else (10, 30)
KILL_EVERY = (15, 25) if SHORT else (30, 50)
SAMPLE_S = 2.0
RSS_SLACK_KB = 4096
RSS_SLACK = 0.03


def log(msg):
    print("soak: %s" % msg, flush=True)


def resp_command(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Writer:
    """XADD under explicit ids ("BASE-N"), in pipelined batches, through
    Redis restarts. With appendfsync always and Redis stopped by SIGTERM,
    an XADD that was executed is still there after the restart, and Redis
    executes one connection's commands in order: so an "equal or smaller"
    refusal of a resent entry means that it, and all before it, are in.
    Nothing is sent before Redis has loaded its data: a pipeline that met
    the end of the loading would have its head refused (LOADING) and its
    tail written, and the head could never go in after it."""

    def __init__(self, redis):
        self.port = redis.port
        self.base = int(time.time() * 1000)
        self.n = 0
        self.sock = None
        self.f = None
        self.retries = 0
        self.rewritten = 0
        self.events = []     # (n, what) of each retry and refusal, to explain a gap

    def _close(self):
        if self.sock is not None:
            self.sock.close()
        self.sock = self.f = None

    def send(self, batch):
        i = 0
        while i < len(batch):
            try:
                if self.sock is None:
                    self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
                    self.f = self.sock.makefile("rb")
                    self._loaded()
                cmds = []
                for j in range(i, len(batch)):
                    eid = b"%d-%d" % (self.base, self.n + 1 + j - i)
                    args = [b"XADD", STREAM, eid]
                    for k, v in batch[j]:
                        args += [k, v]
                    cmds.append(resp_command(args))
                self.sock.sendall(b"".join(cmds))
                for j in range(i, len(batch)):
                    try:
                        harness._resp_read(self.f)
                    except harness.RespError as e:
                        if "equal or smaller" in str(e):
                            self.rewritten += 1
                            self.events.append((self.n + 1, "written before"))
                        else:
                            raise
                    self.n += 1
                    i += 1
            except OSError as e:
                self.events.append((self.n + 1, "%s after %d of %d" % (e, i, len(batch))))
                self._close()
                self.retries += 1
                time.sleep(0.1)

    def _loaded(self):
        while True:
            self.sock.sendall(resp_command([b"PING"]))
            try:
                harness._resp_read(self.f)
                return
            except harness.RespError as e:
                if not str(e).startswith("LOADING"):
                    raise
            time.sleep(0.1)

    def close(self):
        self._close()


def parse_line(line):
    """A --dry-run line back to the (name, value) byte pairs the simulator
    would have sent (bytes >= 0x80 are written as they are)."""
    pairs = json.loads(line.decode("latin-1"), object_pairs_hook=list)
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in pairs]


class Feed(threading.Thread):
    """Phase 1 then phase 2 (see the module's text) on its own thread."""

    def __init__(self, redis, workdir):
        super().__init__(daemon=True)
        self.writer = Writer(redis)
        self.truth_path = os.path.join(workdir, "truth.tsv")
        self.proc = None
        self.recent = collections.deque(maxlen=50000)   # valid entries to resend
        self.phase1_done = threading.Event()
        self.go2 = threading.Event()
        self.stop_phase2 = threading.Event()
        self.resent = 0
        self.bad = 0
        self.error = None

    def run(self):
        try:
            self.phase1()
            self.phase1_done.set()
            self.go2.wait()
            self.phase2()
        except Exception as e:  # reported by the main thread
            self.error = e
            self.phase1_done.set()
        finally:
            self.writer.close()

    def phase1(self):
        cmd = [harness.SIM, "--dry-run", "--seed", "31", "--offices", "20", "--weeks", str(WEEKS),
               "--per-week", str(PER_WEEK), "--start", "2019-01-07", "--malformed", "0.02",
               "--duplicates", "0.01", "--rate", str(RATE), "--truth", self.truth_path]
        for drift in DRIFTS:
            cmd += ["--drift", drift]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        now = int(time.time())
        batch = []
        step = max(1, RATE // 20)
        for line in self.proc.stdout:
            pairs = parse_line(line)
            batch.append(pairs)
            if test_deadletter.first_bad_field(pairs, now) is None:
                self.recent.append(pairs)
            if len(batch) >= step:
                self.writer.send(batch)
                batch = []
        self.writer.send(batch)
        if self.proc.wait() != 0:
            raise harness.TestFailure("simulator exited with %s" % self.proc.returncode)

    def phase2(self):
        rnd = random.Random(SEED)
        step = max(1, RATE // 20)
        recent = list(self.recent)
        t0, sent = time.monotonic(), 0
        while not self.stop_phase2.is_set():
            batch = []
            for _ in range(step):
                pairs = rnd.choice(recent)
                if rnd.random() < 0.03:
                    self.bad += 1
                    pairs = [(k, b"soak-bad-%d" % self.bad if k == b"id" else
                              b"approved" if k == b"outcome" else v) for k, v in pairs]
                else:
                    self.resent += 1
                batch.append(pairs)
            self.writer.send(batch)
            sent += len(batch)
            ahead = sent / RATE - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)

    def stop(self):
        self.stop_phase2.set()
        self.go2.set()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Load(threading.Thread):
    """Reads the API in a loop (and asks for a checkpoint now and then)."""

    PATHS = ["/v1/status", "/v1/series?limit=50", "/v1/series/K001/sjukpenning/first",
             "/v1/alerts", "/metrics", "/v1/deliveries", "/healthz",
             "/v1/series/K012/sjukpenning/first?period=week"]

    def __init__(self, d):
        super().__init__(daemon=True)
        self.d = d
        self.codes = collections.Counter()
        self.refused = 0
        self.cut = 0
        self.bad = []
        self.halt = threading.Event()
        self.up = threading.Event()     # cleared while stabild is restarted
        self.up.set()

    def pid(self):
        proc = self.d.proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def run(self):
        i = 0
        while not self.halt.is_set():
            i += 1
            pid = self.pid() if self.up.is_set() else None
            try:
                if i % 500 == 0:
                    s, _, raw = self.d.request("POST", "/v1/checkpoint", token=harness.WRITE_TOKEN)
                    path = "POST /v1/checkpoint"
                else:
                    path = self.PATHS[i % len(self.PATHS)]
                    s, _, raw = self.d.request("GET", path)
            except (OSError, http.client.HTTPException) as e:
                # Refused or cut off by a kill -9 and the restart; by the
                # same process that is still alive, a fault.
                if pid is not None and self.up.is_set() and pid == self.pid():
                    self.bad.append((path, repr(e), b""))
                elif isinstance(e, OSError):
                    self.refused += 1
                else:
                    self.cut += 1
                time.sleep(0.05)
                continue
            self.codes[s] += 1
            # A series the stream has not reached yet is a 404.
            early = s == 404 and path.startswith("/v1/series/")
            if s >= 500 or (s != 200 and not path.startswith("POST") and not early):
                self.bad.append((path, s, raw[:200]))
            time.sleep(0.005)


def sample(pid):
    """(VmRSS in kB, open descriptors) of a process, or None if gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
        return rss, len(os.listdir("/proc/%d/fd" % pid))
    except (OSError, StopIteration):
        return None


class Chaos:
    """The schedule of faults, each kind on its own random period."""

    def __init__(self, rnd, redis, sink, d, load):
        self.rnd, self.redis, self.sink, self.d, self.load = rnd, redis, sink, d, load
        now = time.monotonic()
        self.next = {"redis": now + rnd.uniform(*REDIS_EVERY), "sink": now + rnd.uniform(*SINK_EVERY),
                     "kill": now + rnd.uniform(*KILL_EVERY)}
        self.sink_back = None
        self.counts = collections.Counter()

    def step(self, kills):
        now = time.monotonic()
        if self.sink_back is not None and now >= self.sink_back:
            self.sink.start()
            self.sink_back = None
        if now >= self.next["redis"]:
            self.redis.stop()
            time.sleep(self.rnd.uniform(*REDIS_DOWN))
            harness.restart_redis(self.redis)
            self.counts["redis restarts"] += 1
            self.next["redis"] = time.monotonic() + self.rnd.uniform(*REDIS_EVERY)
        if now >= self.next["sink"] and self.sink_back is None:
            self.sink.stop()
            self.sink_back = now + self.rnd.uniform(*SINK_DOWN)
            self.counts["receiver outages"] += 1
            self.next["sink"] = self.sink_back + self.rnd.uniform(*SINK_EVERY)
        if kills and now >= self.next["kill"]:
            self.load.up.clear()
            rc = self.d.kill9()
            check(rc == -signal.SIGKILL, "stabild had exited (%s) before kill -9; log:\n%s" %
                  (rc, self.d.log()[-3000:]))
            self.d.start()
            self.load.up.set()
            self.counts["kill -9"] += 1
            self.next["kill"] = time.monotonic() + self.rnd.uniform(*KILL_EVERY)

    def end(self):
        if self.sink_back is not None:
            self.sink.start()
            self.sink_back = None



def flat(samples):
    """Growth of a run of (t, rss, fds) samples: after the first quarter
    (warm-up), the later half of the rest against the earlier half. The
    verdicts and the figures."""
    rest = samples[len(samples) // 4:]
    first = rest[:len(rest) // 2]
    last = rest[len(rest) // 2:]
    rss1, rss2 = max(s[1] for s in first), max(s[1] for s in last)
    fd1, fd2 = max(s[2] for s in first), max(s[2] for s in last)
    fdmin1, fdmin2 = min(s[2] for s in first), min(s[2] for s in last)
    ok_rss = rss2 <= rss1 + max(RSS_SLACK_KB, rss1 * RSS_SLACK)
    ok_fd = fd2 <= fd1 and fdmin2 <= fdmin1
    return ok_rss, ok_fd, (rss1, rss2, fdmin1, fd1, fdmin2, fd2)


def test(w):
    rnd = random.Random(SEED)
    t_start = time.monotonic()
    redis = harness.Redis(w.path, persistent=True).start()
    w.add(redis.stop)
    sink = Sink(secret=SECRET).start()
    w.add(sink.stop)
    secret_path = harness.secret_file(w.path, "ops.secret", SECRET + "\n")
    d = harness.Daemon(w.path, redis, conf_extra={
        "detector": {"min_reference_weeks": "13"},
        "alerts": {"historical_age": "50y", "retry_max": "5s"},
        "log": {"level": "notice"},
    })
    with open(d.conf_path, "a") as f:
        f.write('\n[receiver "ops"]\ntype = webhook\nurl = http://127.0.0.1:%d/hook\n'
                'secret_file = %s\n' % (sink.port, secret_path))
    feed = Feed(redis, w.path)
    w.add(feed.stop)
    feed.start()
    d.start()
    w.add(d.stop)
    load = Load(d)
    w.add(load.halt.set)
    load.start()
    chaos = Chaos(rnd, redis, sink, d, load)

    # Phase 1: new data, every fault.
    samples = collections.defaultdict(list)     # pid -> [(t, rss, fds)]
    next_sample = 0.0
    while not feed.phase1_done.wait(0.2):
        chaos.step(kills=True)
        if time.monotonic() >= next_sample and d.proc is not None:
            s = sample(d.proc.pid)
            if s is not None:
                samples[d.proc.pid].append((time.monotonic(),) + s)
            next_sample = time.monotonic() + SAMPLE_S
    if feed.error is not None:
        raise feed.error
    t_phase1 = time.monotonic() - t_start
    phase1_written = feed.writer.n
    xlen = redis.call("XLEN", STREAM)
    check(xlen == phase1_written, "the stream holds %d entries, the writer confirmed %d: %s" %
          (xlen, phase1_written, feed.writer.events[-40:]))
    feed.go2.set()
    truth = harness.read_truth(feed.truth_path)
    check(phase1_written == truth.totals["written"], "writer confirmed %d entries, the simulator "
          "wrote %d" % (phase1_written, truth.totals["written"]))
    log("phase 1: %d entries in %.0f s; %s" % (phase1_written, t_phase1,
        ", ".join("%s %d" % kv for kv in sorted(chaos.counts.items()))))

    # Phase 2: one process, steady load, no new data; then quiet.
    pid = d.proc.pid
    steady = []
    t2 = time.monotonic()
    while time.monotonic() - t2 < PHASE2_S:
        chaos.step(kills=False)
        check(d.proc.poll() is None, "stabild died in phase 2; log:\n%s" % d.log()[-3000:])
        s = sample(pid)
        if s is not None:
            steady.append((time.monotonic(),) + s)
        time.sleep(SAMPLE_S)
        if feed.error is not None:
            raise feed.error
    feed.stop_phase2.set()
    feed.join(60)
    chaos.end()
    check(load.is_alive(), "the API load stopped early")
    load.halt.set()
    load.join(30)

    written = feed.writer.n
    n_bad = truth.totals["malformed"] + feed.bad
    dups = truth.totals["duplicates"] + feed.resent
    check(written == truth.totals["written"] + feed.bad + feed.resent, "writer counts")
    harness.wait_processed(d, written, redis=redis, limit=600)
    harness.wait_for(lambda: redis.call("XLEN", DEADLETTER) >= n_bad, 30,
                     "%d dead-letter entries" % n_bad)
    harness.wait_acked(redis, timeout=30)
    check(d.proc.pid == pid and d.proc.poll() is None, "stabild restarted or died in phase 2")

    st = d.status()
    ev = st["events"]
    check(ev["counted"] == truth.totals["valid"] and ev["deadlettered"] == n_bad and
          ev["duplicates"] == dups,
          "counts %r; expected counted %d, dead-lettered %d, duplicates %d" %
          (ev, truth.totals["valid"], n_bad, dups))
    harness.compare_with_truth(d, truth)
    source = harness.xrange_all(redis, STREAM.decode())
    check(len(source) == written, "stream holds %d entries, %d written" % (len(source), written))
    now = int(time.time())
    bad = {eid for eid, pairs in source if test_deadletter.first_bad_field(pairs, now) is not None}
    check(len(bad) == n_bad, "validator finds %d bad entries, %d written" % (len(bad), n_bad))
    test_deadletter.check_deadletter_stream(redis, bad, source)

    # Every alert state once at the receiver, nothing left in the outbox.
    keys, alerts = harness.expected_keys(d)
    check(alerts, "no alerts were raised")
    harness.wait_for(lambda: set(sink.ok) >= keys, 120, "every alert state at the receiver")

    def outbox_empty():
        s, body = d.get("/v1/deliveries")
        return s == 200 and body["deliveries"] == []
    harness.wait_for(outbox_empty, 60, "an empty outbox")
    check(set(sink.ok) == keys, "unexpected notifications: %s" % sorted(set(sink.ok) - keys)[:5])
    check(not sink.bad, "bad signatures or headers: %s" % sink.bad[:3])
    check(not sink.dups, "%d alert states delivered twice, e.g. %s" % (len(sink.dups), sink.dups[:3]))

    check(not load.bad, "%d bad API answers, e.g. %s" % (len(load.bad), load.bad[:3]))
    m = harness.get_metrics(d)
    ok_rss, ok_fd, (rss1, rss2, fdmin1, fd1, fdmin2, fd2) = flat(steady)
    rc = d.stop()
    check(rc == 0, "exit status %s on SIGTERM" % rc)
    lines = d.log().splitlines()
    san = [l for l in lines if "Sanitizer" in l or "runtime error" in l]
    check(not san, "sanitizer reports:\n%s" % "\n".join(san[:10]))

    total = time.monotonic() - t_start
    log("%.0f s in all (phase 1 %.0f s, phase 2 %.0f s); %s" % (
        total, t_phase1, PHASE2_S, ", ".join("%s %d" % kv for kv in sorted(chaos.counts.items()))))
    log("entries written %d (phase 1 %d: valid %d, malformed %d, duplicates %d; phase 2: resent "
        "%d, malformed %d); writer resent %d batches after a lost link, %d entries found written"
        % (written, phase1_written, truth.totals["valid"], truth.totals["malformed"],
           truth.totals["duplicates"], feed.resent, feed.bad, feed.writer.retries,
           feed.writer.rewritten))
    log("counted %d, dead-lettered %d, duplicates %d: all exact; %d series equal the truth; "
        "dead-letter stream %d entries, each once" % (ev["counted"], ev["deadlettered"],
                                                       ev["duplicates"], len(truth.weeks), n_bad))
    log("alerts %d, alert states %d, delivered %d, repeats with the same key %d; stabild "
        "reconnects to Redis %d" % (len(alerts), len(keys), len(sink.ok), len(sink.dups),
                                    m["stabild_redis_reconnects_total"]))
    log("API: %d answers (%s); %d requests refused and %d answers cut off by a kill -9" % (
        sum(load.codes.values()), ", ".join("%d: %d" % kv for kv in sorted(load.codes.items())),
        load.refused, load.cut))
    for p, ss in samples.items():
        if ss:
            log("phase 1 process %d: %d samples, RSS %d -> %d kB, fds %d -> %d" %
                (p, len(ss), ss[0][1], ss[-1][1], ss[0][2], ss[-1][2]))
    log("phase 2 process %d: %d samples over %.0f s, RSS %d -> %d kB (after warm-up: max %d kB "
        "in the earlier half, %d kB in the later), fds %d -> %d (%d-%d, then %d-%d)" % (
            pid, len(steady), steady[-1][0] - steady[0][0], steady[0][1], steady[-1][1],
            rss1, rss2, steady[0][2], steady[-1][2], fdmin1, fd1, fdmin2, fd2))
    check(ok_fd, "open descriptors grew in phase 2: %d-%d, then %d-%d" % (fdmin1, fd1, fdmin2, fd2))
    check(ok_rss, "resident memory grew in phase 2: %d kB, then %d kB" % (rss1, rss2))


if __name__ == "__main__":
    harness.main(test, "soak")
