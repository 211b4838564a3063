"""Integration test harness: a private redis-server on a free loopback port,
a private stabild with its own config and state directory, the simulator,
and small clients for RESP and HTTP. Standard library only.

Every process started here is stopped by pid when the test ends.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("BUILDDIR", "build"))
STABILD = os.path.join(BUILD, "stabild")
SIM = os.path.join(BUILD, "stabild-sim")

READ_TOKEN = "read-token-0123456789abcdef"
WRITE_TOKEN = "write-token-0123456789abcdef"


class TestFailure(Exception):
    pass


def sanitized():
    """Whether the daemon under test was built with AddressSanitizer
    (make asan): its CPU-bound steps take several times as long."""
    with open(STABILD, "rb") as f:
        return b"__asan_init" in f.read()


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = pred()
            if last:
                return last
        except (OSError, TestFailure, ValueError):
            pass
        time.sleep(interval)
    raise TestFailure("timed out after %ss waiting for %s (last: %r)" % (timeout, what, last))


class RespError(Exception):
    pass


class Resp:
    """A minimal RESP2 client, enough for test inspection."""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def _line(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise OSError("connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            data = self.sock.recv(65536)
            if not data:
                raise OSError("connection closed")
            self.buf += data
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return RespError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise OSError("bad RESP type %r" % t)

    def call(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if isinstance(a, str):
                a = a.encode()
            elif isinstance(a, int):
                a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))
        r = self._reply()
        if isinstance(r, RespError):
            raise r
        return r


class Redis:
    def __init__(self, workdir, persistent=False):
        self.dir = os.path.join(workdir, "redis")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.persistent = persistent
        self.proc = None

    def start(self):
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", self.dir, "--daemonize", "no", "--protected-mode", "yes",
                "--save", "", "--logfile", os.path.join(self.dir, "redis.log")]
        if self.persistent:
            args += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            args += ["--appendonly", "no"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self.ping(), 10, "redis-server on port %d" % self.port)
        return self

    def ping(self):
        c = Resp(self.port, timeout=1)
        try:
            return c.call("PING") == "PONG"
        finally:
            c.close()

    def client(self):
        return Resp(self.port)

    def call(self, *args):
        c = self.client()
        try:
            return c.call(*args)
        finally:
            c.close()

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class Daemon:
    """A private stabild. conf_extra: {section: {key: value}} overrides."""

    def __init__(self, workdir, redis, conf_extra=None, tokens=True, name="stabild"):
        self.workdir = workdir
        self.redis = redis
        self.http_port = free_port()
        self.state_dir = os.path.join(workdir, name + "-state")
        self.conf_path = os.path.join(workdir, name + ".conf")
        self.tokens_path = os.path.join(workdir, name + ".tokens")
        self.log_path = os.path.join(workdir, name + ".log")
        self.proc = None
        self.logf = None
        self.tokens = tokens
        self.sections = {
            "redis": {"host": "127.0.0.1", "port": str(redis.port), "block": "200ms",
                      "reconnect_max": "1s", "connect_timeout": "2s"},
            "http": {"bind": "127.0.0.1", "port": str(self.http_port)},
            "state": {"dir": self.state_dir, "checkpoint_interval": "200ms"},
            "log": {"level": "info"},
        }
        if tokens:
            self.sections["http"]["tokens_file"] = self.tokens_path
        for sec, kv in (conf_extra or {}).items():
            self.sections.setdefault(sec, {}).update(kv)
        self.write_tokens("read %s\nwrite %s\n" % (READ_TOKEN, WRITE_TOKEN))
        self.write_conf()

    def write_tokens(self, text):
        with open(self.tokens_path, "w") as f:
            f.write(text)
        os.chmod(self.tokens_path, 0o600)

    def write_conf(self, text=None):
        if text is None:
            lines = []
            for sec, kv in self.sections.items():
                lines.append("[%s]" % sec)
                for k, v in kv.items():
                    lines.append("%s = %s" % (k, v))
                lines.append("")
            text = "\n".join(lines)
        with open(self.conf_path, "w") as f:
            f.write(text)

    def start(self, args=(), wait=True):
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen([STABILD, "-c", self.conf_path] + list(args),
                                     stdout=self.logf, stderr=self.logf)
        if wait:
            wait_for(lambda: self.alive_http(), 15, "stabild /healthz")
        return self

    def alive_http(self):
        if self.proc.poll() is not None:
            raise TestFailure("stabild exited with %s; log:\n%s" % (self.proc.returncode, self.log()))
        return self.get("/healthz", token=None)[0] == 200

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def request(self, method, path, token=READ_TOKEN, body=None, headers=None):
        url = "http://127.0.0.1:%d%s" % (self.http_port, path)
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        req = urllib.request.Request(url, data=data, method=method)
        if token is not None:
            req.add_header("Authorization", "Bearer " + token)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                raw = r.read()
                return r.status, dict(r.headers), raw
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def get(self, path, token=READ_TOKEN):
        status, headers, raw = self.request("GET", path, token=token)
        ctype = headers.get("Content-Type", "")
        if ctype.startswith("application/json"):
            return status, json.loads(raw)
        return status, raw.decode()

    def status(self):
        s, body = self.get("/v1/status")
        check(s == 200, "GET /v1/status: %s %s" % (s, body))
        return body

    def wait_counted(self, total, timeout=60):
        """Wait until counted + dead-lettered + duplicates reach total.
        timeout is what it should take; a slow machine (the sanitizers,
        other work on the cores) may take longer while the count still
        moves, so this fails when it has not moved for 30 s, or at four
        times timeout."""
        return wait_processed(self, total, stall=max(30, timeout / 4), limit=4 * timeout)

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise TestFailure("stabild did not stop on %s" % sig)
        rc = self.proc.returncode
        self.proc = None
        if self.logf:
            self.logf.close()
            self.logf = None
        return rc

    def kill9(self):
        return self.stop(signal.SIGKILL)


def secret_file(workdir, name, text):
    """Write text to workdir/name, readable by its owner only; the path."""
    path = os.path.join(workdir, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def run_two_drifts(redis, workdir):
    """64 weeks from 2019-01-07 in which, from week 56, K024 rejects more
    sjukpenning (OR 2.5) and K031 fewer (OR 0.4); the truth."""
    return run_sim(redis, workdir, "--seed", 5, "--weeks", 64, "--per-week", SCENARIO_PER_WEEK,
                   "--start", "2019-01-07", "--drift", "K024:sjukpenning:*:56:2.5",
                   "--drift", "K031:sjukpenning:*:56:0.4")


def run_sim(redis, workdir, *args, truth=True, stream="stabild:decisions"):
    """Run the simulator into redis; return the parsed truth (or None)."""
    truth_path = os.path.join(workdir, "truth-%d.tsv" % int(time.monotonic() * 1e6))
    cmd = [SIM, "--port", str(redis.port), "--stream", stream] + [str(a) for a in args]
    if truth:
        cmd += ["--truth", truth_path]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    if r.returncode != 0:
        raise TestFailure("simulator failed: %s" % r.stderr.decode())
    return read_truth(truth_path) if truth else None


class Truth:
    def __init__(self):
        self.weeks = {}    # (office, benefit, kind) -> {week: (n, rej, partial, dismissed)}
        self.totals = {}

    def series(self):
        return sorted(self.weeks)


def read_truth(path):
    t = Truth()
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        check(header[:4] == ["office", "benefit", "kind", "week"], "truth header %r" % header)
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#total"):
                for kv in line.split("\t")[1:]:
                    k, v = kv.split("=")
                    t.totals[k] = int(v)
                continue
            office, benefit, kind, week, n, rej, part, dis = line.split("\t")
            key = (office, benefit, kind)
            row = (int(n), int(rej), int(part), int(dis))
            t.weeks.setdefault(key, {})[week] = row
            nkey = ("national", benefit, kind)
            cur = t.weeks.setdefault(nkey, {}).get(week, (0, 0, 0, 0))
            t.weeks[nkey][week] = tuple(a + b for a, b in zip(cur, row))
    return t


def compare_with_truth(daemon, truth):
    """Every series and week the truth has, exactly; and no extra series."""
    s, body = daemon.get("/v1/series?limit=10000")
    check(s == 200, "GET /v1/series: %s" % s)
    listed = {(x["office"], x["benefit"], x["kind"]) for x in body["series"]}
    expected = set(truth.weeks)
    check(listed == expected, "series differ: missing %s, extra %s" %
          (sorted(expected - listed)[:5], sorted(listed - expected)[:5]))
    for key in sorted(expected):
        s, one = daemon.get("/v1/series/%s/%s/%s?period=week" % key)
        check(s == 200, "GET series %s: %s" % (key, s))
        got = {h["period"]: (h["decisions"], h["rejected"], h["partial"], h["dismissed"])
               for h in one["history"]}
        want = truth.weeks[key]
        if got != want:
            diff = [(w, want.get(w), got.get(w)) for w in sorted(set(got) | set(want))
                    if want.get(w) != got.get(w)]
            raise TestFailure("series %s differs in %d weeks, e.g. %s" % (key, len(diff), diff[:3]))


class Workdir:
    """A temporary directory removed on success, kept on failure."""

    def __init__(self, name):
        self.path = tempfile.mkdtemp(prefix="stabild-it-%s-" % name)
        self.cleanups = []

    def add(self, fn):
        self.cleanups.append(fn)
        return fn

    def close(self, ok):
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:  # a cleanup must not hide the result
                print("cleanup: %s" % e, file=sys.stderr)
        if ok:
            (os.environ.get("STABILD_KEEP") or shutil.rmtree(self.path, ignore_errors=True))
        else:
            print("kept %s for inspection" % self.path, file=sys.stderr)


def main(test_fn, name):
    """Run one test function(workdir) with cleanup; exit 0 or 1."""
    w = Workdir(name)
    ok = False
    try:
        test_fn(w)
        ok = True
    except TestFailure as e:
        print("FAIL %s: %s" % (name, e), file=sys.stderr)
    finally:
        w.close(ok)
    sys.exit(0 if ok else 1)


# Helpers for the dead-letter, duplicate, late-event, Redis restart and
# configuration tests.

def parse_metrics(text):
    """Prometheus text to {"name" or "name{labels}": float}; every sample
    must have a # HELP line for its metric."""
    out, helped = {}, set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helped.add(line.split()[2])
            continue
        if not line or line.startswith("#"):
            continue
        key, value = line.rsplit(" ", 1)
        base = key.split("{", 1)[0]
        check(base in helped, "metric %s has no # HELP line" % base)
        out[key] = float(value)
    return out


def get_metrics(daemon):
    s, body = daemon.get("/metrics")
    check(s == 200, "GET /metrics: %s" % s)
    return parse_metrics(body)


def xadd(redis, fields, entry_id="*", stream="stabild:decisions"):
    """XADD fields (a dict or a list of (name, value) pairs, str or bytes);
    returns the entry id as str."""
    pairs = list(fields.items()) if isinstance(fields, dict) else list(fields)
    args = ["XADD", stream, entry_id]
    for k, v in pairs:
        args += [k, v]
    r = redis.call(*args)
    return r.decode() if isinstance(r, bytes) else r


def _resp_read(f):
    """One RESP2 reply from a buffered reader (fast for large replies)."""
    line = f.readline()
    if not line.endswith(b"\r\n"):
        raise OSError("connection closed")
    t, rest = line[:1], line[1:-2]
    if t == b"*":
        n = int(rest)
        return None if n < 0 else [_resp_read(f) for _ in range(n)]
    if t == b"$":
        n = int(rest)
        return None if n < 0 else f.read(n + 2)[:-2]
    if t == b":":
        return int(rest)
    if t == b"+":
        return rest.decode()
    if t == b"-":
        raise RespError(rest.decode())
    raise OSError("bad RESP type %r" % t)


def xrange_all(redis, stream, count=10000):
    """Every entry of a stream as (id, [(name, value), ...]), bytes values."""
    out, start = [], "-"
    with socket.create_connection(("127.0.0.1", redis.port), timeout=30) as sock:
        f = sock.makefile("rb")
        while True:
            args = [b"XRANGE", stream.encode(), start.encode(), b"+", b"COUNT", b"%d" % count]
            sock.sendall(b"*%d\r\n" % len(args) +
                         b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
            batch = _resp_read(f)
            for eid, flat in batch:
                out.append((eid.decode(), list(zip(flat[0::2], flat[1::2]))))
            if len(batch) < count:
                return out
            start = "(" + batch[-1][0].decode()


def xpending_count(redis, stream="stabild:decisions", group="stabild"):
    return redis.call("XPENDING", stream, group)[0]


def log_lines(daemon, prefix=None):
    """The daemon's log lines, or only those starting with prefix ("<4>")."""
    lines = daemon.log().splitlines()
    return [l for l in lines if prefix is None or l.startswith(prefix)]


def week_label(t):
    """ISO week label ("2023-W07") of Unix time t in Europe/Stockholm."""
    import datetime
    import zoneinfo
    d = datetime.datetime.fromtimestamp(t, zoneinfo.ZoneInfo("Europe/Stockholm"))
    y, w, _ = d.isocalendar()
    return "%04d-W%02d" % (y, w)


def truth_add(truth, office, benefit, kind, week, outcome):
    """Count one more decision into the truth (office and national)."""
    add = {"granted": (1, 0, 0, 0), "rejected": (1, 1, 0, 0),
           "partial": (1, 0, 1, 0), "dismissed": (0, 0, 0, 1)}[outcome]
    for key in ((office, benefit, kind), ("national", benefit, kind)):
        cur = truth.weeks.setdefault(key, {}).get(week, (0, 0, 0, 0))
        truth.weeks[key][week] = tuple(a + b for a, b in zip(cur, add))


def series_week(daemon, office, benefit, kind, week):
    """(decisions, rejected, partial, dismissed, closed) of one week, or None."""
    s, one = daemon.get("/v1/series/%s/%s/%s?period=week&from=%s&to=%s" %
                        (office, benefit, kind, week, week))
    if s == 404:
        return None
    check(s == 200, "GET series %s/%s/%s: %s %s" % (office, benefit, kind, s, one))
    for h in one["history"]:
        if h["period"] == week:
            return (h["decisions"], h["rejected"], h["partial"], h["dismissed"], h["closed"])
    return None


def run_stabild(*args, timeout=15):
    """Run the stabild binary to completion; CompletedProcess with text output."""
    return subprocess.run([STABILD] + [str(a) for a in args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout, text=True,
                          errors="replace")


# Helpers for the crash, signal and API tests.

class SimRun:
    """A simulator running in the background (see start_sim)."""

    def __init__(self, proc, truth_path):
        self.proc = proc
        self.truth_path = truth_path

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait(self, timeout=300):
        """Wait for the simulator to finish; return the parsed truth."""
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise TestFailure("simulator still running after %ss" % timeout)
        rc = self.proc.returncode
        self.proc = None
        if rc != 0:
            raise TestFailure("simulator failed (%s): %s" % (rc, err.decode(errors="replace")))
        return read_truth(self.truth_path)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


def start_sim(redis, workdir, *args, stream="stabild:decisions"):
    """Start the simulator writing into redis in the background (e.g. with
    --rate); SimRun.wait() returns its truth. Register SimRun.stop."""
    truth_path = os.path.join(workdir, "truth-%d.tsv" % int(time.monotonic() * 1e6))
    cmd = [SIM, "--port", str(redis.port), "--stream", stream, "--truth", truth_path] + \
        [str(a) for a in args]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return SimRun(proc, truth_path)


def xinfo_group(redis, stream="stabild:decisions", group="stabild"):
    """XINFO GROUPS of stream as a dict for group (str keys; ids as str), or None."""
    for g in redis.call("XINFO", "GROUPS", stream):
        d = {}
        for i in range(0, len(g), 2):
            v = g[i + 1]
            d[g[i].decode()] = v.decode() if isinstance(v, bytes) else v
        if d.get("name") == group:
            return d
    return None


def wait_log(daemon, pattern, timeout=10, since=0):
    """Wait until a log line after character offset since matches the regular
    expression pattern; return the match."""
    import re
    rx = re.compile(pattern, re.M)
    return wait_for(lambda: rx.search(daemon.log(), since), timeout, "log line /%s/" % pattern)


def restart_redis(redis, timeout=30):
    """Start a (stopped) Redis again on the same port and directory, and
    wait until it has loaded its data and answers."""
    redis.stop()
    try:
        redis.start()
    except RespError as e:
        if not str(e).startswith("LOADING"):
            raise

    def ready():
        try:
            return redis.ping()
        except RespError as e:
            if str(e).startswith("LOADING"):
                return False
            raise
    wait_for(ready, timeout, "redis-server on port %d to load its data" % redis.port)
    return redis


def wait_processed(daemon, total, redis=None, stream="stabild:decisions", group="stabild",
                   token=READ_TOKEN, stall=8, limit=150):
    """Wait until counted + dead-lettered + duplicates reach total. Fails as
    soon as the sum stops moving for stall seconds (naming the group's
    pending entries when redis is given), rather than at limit."""
    deadline = time.monotonic() + limit
    last, since = -1, time.monotonic()
    ev = {"counted": 0, "deadlettered": 0, "duplicates": 0}
    while True:
        # A daemon that died says so at once, with how and its last words.
        proc = getattr(daemon, "proc", None)
        rc = proc.poll() if proc is not None else None
        if rc is not None:
            tail = "\n".join(daemon.log().splitlines()[-15:])
            raise TestFailure("stabild died (exit status %s%s) after %d of %d entries; "
                              "last log lines:\n%s" % (rc, ", signal %d" % -rc if rc < 0 else "",
                                                        max(last, 0), total, tail))
        try:
            s, body = daemon.get("/v1/status", token=token)
        except OSError:
            # Alive but not listening yet (started without waiting).
            s, body = None, None
        if s is None:
            n = last
        else:
            check(s == 200, "GET /v1/status: %s %s" % (s, body))
            ev = body["events"]
            n = ev["counted"] + ev["deadlettered"] + ev["duplicates"]
        if n >= total:
            return n
        now = time.monotonic()
        # Ingest waits, by design, while the detector works off the loop
        # (a model fit, thresholds): that is progress too.
        if n != last or (body is not None and body.get("detector_busy")):
            last, since = n, now
        if now - since > stall or now > deadline:
            msg = ("ingest stopped at %d of %d entries (counted %d, dead-lettered %d, "
                   "duplicates %d)" % (n, total, ev["counted"], ev["deadlettered"],
                                       ev["duplicates"]))
            if redis is not None:
                summary = redis.call("XPENDING", stream, group)
                first = redis.call("XPENDING", stream, group, "-", "+", 5)
                msg += "; XPENDING %d, e.g. %s" % (summary[0], [p[0].decode() for p in first])
            raise TestFailure(msg)
        time.sleep(0.1)


def wait_acked(redis, timeout=10, stream="stabild:decisions", group="stabild"):
    """Wait until the group has no pending entries; on a timeout say how many
    are left and name a few."""
    try:
        wait_for(lambda: redis.call("XPENDING", stream, group)[0] == 0, timeout, "no pending entries")
    except TestFailure:
        n = redis.call("XPENDING", stream, group)[0]
        first = redis.call("XPENDING", stream, group, "-", "+", 5)
        raise TestFailure("%d entries still pending in group %s after %ss, e.g. %s" %
                          (n, group, timeout, [p[0].decode() for p in first]))


# The scenario of the dashboard tests: a year of decisions (58 offices,
# every benefit and kind) with an upward drift in one office and a lawful
# national change that the configuration explains.

SCENARIO_START = "2019-01-07"       # a Monday
SCENARIO_WEEKS = 64
SCENARIO_PER_WEEK = 10000           # enough for both drifts within weeks
SCENARIO_SHIFT_WEEK = 56            # 0-based week of the simulation
SCENARIO_OFFICE = "K024"
SCENARIO_SERIES = (SCENARIO_OFFICE, "sjukpenning", "first")
SCENARIO_NATIONAL = ("national", "sjukersattning", "ongoing")
SCENARIO_EXPLANATION = "lag-2019-08"


def scenario_monday(week):
    """The date of the Monday of 0-based simulation week `week`."""
    import datetime
    return datetime.date.fromisoformat(SCENARIO_START) + datetime.timedelta(weeks=week)


def start_scenario(w, conf_extra=None, **daemon_args):
    """Redis and a daemon fed with the scenario; returns (redis, daemon,
    truth) once every entry is counted. Both are stopped at cleanup."""
    redis = Redis(w.path).start()
    w.add(redis.stop)
    truth = run_sim(redis, w.path, "--seed", 7, "--weeks", SCENARIO_WEEKS, "--per-week", SCENARIO_PER_WEEK,
                    "--start", SCENARIO_START,
                    "--drift", "%s:%s:%s:%d:2.5" % (SCENARIO_SERIES + (SCENARIO_SHIFT_WEEK,)),
                    "--drift", "national:%s:%s:%d:1.5" % (SCENARIO_NATIONAL[1:] + (SCENARIO_SHIFT_WEEK,)))
    extra = {"detector": {"min_reference_weeks": "52"},
             "alerts": {"historical_age": "50y"},
             'explanation "%s"' % SCENARIO_EXPLANATION: {
                 "kind": "legislation",
                 "effective_from": scenario_monday(SCENARIO_SHIFT_WEEK).isoformat(),
                 "benefits": SCENARIO_NATIONAL[1], "kinds": SCENARIO_NATIONAL[2],
                 "reference": "SFS 2019:100",
                 "description": "New rules for the assessment of work capacity"}}
    for sec, kv in (conf_extra or {}).items():
        extra.setdefault(sec, {}).update(kv)
    d = Daemon(w.path, redis, conf_extra=extra, **daemon_args)
    d.start()
    w.add(d.stop)
    d.wait_counted(truth.totals["written"], timeout=120)
    return redis, d, truth


def records_data(state_dir):
    """The per-decision records in order: the segments records,
    records.000001, ... concatenated."""
    names = sorted(n for n in os.listdir(state_dir)
                   if n == "records" or (n.startswith("records.") and n[8:].isdigit()))
    names.sort(key=lambda n: -1 if n == "records" else int(n[8:]))
    data = b""
    for n in names:
        with open(os.path.join(state_dir, n), "rb") as f:
            data += f.read()
    return data


def expected_keys(d, receiver="ops"):
    """Idempotency keys of every alert state, ALERT_ID.SEQ.RECEIVER, and
    the alerts they come from."""
    s, body = d.get("/v1/alerts")
    check(s == 200, "GET /v1/alerts: %s" % s)
    keys = set()
    for a in body["alerts"]:
        for seq in range(1, a["seq"] + 1):
            keys.add("%s.%d.%s" % (a["alert_id"], seq, receiver))
    return keys, body["alerts"]
