"""Redis with Sentinel on loopback for the tests of redis.sentinels: data
nodes (a master and its replicas), three sentinels, a feeder that copies
a source stream into whichever node the sentinels name the master, and
failovers made on demand. Every process is stopped by pid.

Each wait polls and fails when nothing moves, never a sleep as an
assertion."""

import os
import shutil
import signal
import subprocess
import threading
import time

import harness
from harness import check, wait_for

MASTER = "m"


def sentinel_binary():
    """redis-sentinel (package redis-sentinel); bookworm's redis-server is
    the same multi-call binary, run with --sentinel, when it is missing."""
    path = shutil.which("redis-sentinel")
    return [path] if path else ["redis-server"]


class Node(harness.Redis):
    """A data node: redis-server, optionally a replica of another."""

    def __init__(self, workdir, name, replicaof=None):
        super().__init__(os.path.join(workdir, name))
        self.name = name
        self.replicaof = replicaof

    def start(self):
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", self.dir, "--daemonize", "no", "--protected-mode", "yes",
                "--save", "", "--appendonly", "no",
                "--logfile", os.path.join(self.dir, "redis.log")]
        if self.replicaof is not None:
            args += ["--replicaof", "127.0.0.1", str(self.replicaof)]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self.ping(), 10, "redis-server %s on port %d" % (self.name, self.port))
        return self

    def ping(self):
        """Answering; a node loading its last copy of the data (a
        replica started again) is not yet."""
        try:
            return super().ping()
        except harness.RespError as e:
            if str(e).startswith("LOADING"):
                return False
            raise

    def info(self, section="replication"):
        raw = self.call("INFO", section).decode()
        out = {}
        for line in raw.splitlines():
            if ":" in line and not line.startswith("#"):
                k, v = line.split(":", 1)
                out[k] = v
        return out

    def role(self):
        return self.call("ROLE")[0].decode()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


class Sentinel:
    def __init__(self, workdir, name, master_port, quorum=2):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.name = name
        self.port = harness.free_port()
        self.conf = os.path.join(self.dir, "sentinel.conf")
        # Writable: Sentinel rewrites its configuration.
        with open(self.conf, "w") as f:
            f.write("port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\n"
                    "sentinel monitor %s 127.0.0.1 %d %d\n"
                    "sentinel down-after-milliseconds %s 3000\n"
                    "sentinel failover-timeout %s 5000\n" %
                    (self.port, self.dir, os.path.join(self.dir, "sentinel.log"),
                     MASTER, master_port, quorum, MASTER, MASTER))
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(sentinel_binary() + [self.conf, "--sentinel"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self.call("PING") == "PONG", 10, "sentinel %s on port %d" %
                 (self.name, self.port))
        return self

    def call(self, *args):
        c = harness.Resp(self.port, timeout=2)
        try:
            return c.call(*args)
        finally:
            c.close()

    def master_port(self):
        r = self.call("SENTINEL", "get-master-addr-by-name", MASTER)
        return None if r is None else int(r[1])

    def count(self, what):
        """How many healthy replicas or other sentinels it knows."""
        n = 0
        for row in self.call("SENTINEL", what, MASTER):
            d = {row[i].decode(): row[i + 1].decode() for i in range(0, len(row), 2)}
            flags = d.get("flags", "")
            if "down" not in flags and "disconnected" not in flags:
                n += 1
        return n

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class Cluster:
    """A master, `replicas` replicas and three sentinels (quorum 2), each
    step of the start polled: replicas linked, sentinels seeing them and
    each other."""

    def __init__(self, w, replicas=2):
        self.w = w
        self.nodes = [Node(w.path, "node0")]
        for i in range(replicas):
            self.nodes.append(Node(w.path, "node%d" % (i + 1), replicaof=self.nodes[0].port))
        self.sentinels = [Sentinel(w.path, "sentinel%d" % i, self.nodes[0].port) for i in range(3)]
        self.failovers = 0

    def start(self):
        for n in self.nodes:
            n.start()
            self.w.add(n.stop)
        for n in self.nodes[1:]:
            wait_for(lambda: n.info().get("master_link_status") == "up", 20,
                     "replica %s linked" % n.name)
        for s in self.sentinels:
            s.start()
            self.w.add(s.stop)
        for s in self.sentinels:
            wait_for(lambda: s.count("replicas") == len(self.nodes) - 1, 30,
                     "sentinel %s to see the replicas" % s.name)
            wait_for(lambda: s.count("sentinels") == len(self.sentinels) - 1, 30,
                     "sentinel %s to see the other sentinels" % s.name)
        return self

    def addresses(self, dead_first=True):
        """redis.sentinels: a port nobody listens on first."""
        addrs = ["127.0.0.1:%d" % s.port for s in self.sentinels]
        if dead_first:
            addrs.insert(0, "127.0.0.1:%d" % harness.free_port())
        return ", ".join(addrs)

    def node(self, port):
        for n in self.nodes:
            if n.port == port:
                return n
        raise harness.TestFailure("no node on port %s" % port)

    def master(self):
        """The node every live sentinel names the master."""
        ports = {s.master_port() for s in self.sentinels if s.proc is not None}
        check(len(ports) == 1, "the sentinels disagree on the master: %s" % ports)
        return self.node(ports.pop())

    def in_sync(self, master):
        """Every online replica has all of the master's writes, and there
        is one. A replica still syncing (an old master rejoining) does
        not count: Sentinel prefers the replica with the larger offset."""
        info = master.info()
        off = int(info["master_repl_offset"])
        online = 0
        for i in range(int(info["connected_slaves"])):
            kv = dict(x.split("=") for x in info["slave%d" % i].split(","))
            if kv.get("state") != "online":
                continue
            if int(kv["offset"]) != off:
                return False
            online += 1
        return online > 0

    def _wait_new_master(self, old, timeout):
        def moved():
            ports = {s.master_port() for s in self.sentinels if s.proc is not None}
            if len(ports) != 1 or old.port in ports:
                return False
            n = self.node(ports.pop())
            return n.alive() and n.role() == "master"
        wait_for(moved, timeout, "the sentinels to name a new master (old: %s)" % old.name)
        self.failovers += 1
        return self.master()

    def failover(self, timeout=30):
        """SENTINEL FAILOVER, retried while no replica is ready; the new
        master once every sentinel names it."""
        old = self.master()

        def asked():
            try:
                return self.sentinels[self.failovers % 3].call("SENTINEL", "FAILOVER", MASTER) == "OK"
            except harness.RespError as e:
                if "NOGOODSLAVE" in str(e) or "INPROG" in str(e):
                    return False
                raise
        wait_for(asked, 15, "SENTINEL FAILOVER to be accepted", interval=0.2)
        return self._wait_new_master(old, timeout)

    def switches(self):
        """How many times the master changed, by the sentinels' logs (a
        failover's leader says so last, once the replicas are moved)."""
        n = 0
        for s in self.sentinels:
            with open(os.path.join(s.dir, "sentinel.log")) as f:
                n = max(n, sum(1 for line in f if "+switch-master" in line))
        return n

    def kill_master(self, timeout=30):
        """SIGKILL the master; the new master the sentinels elect."""
        old = self.master()
        old.stop(signal.SIGKILL)
        return self._wait_new_master(old, timeout)


class Feeder(threading.Thread):
    """Copies a source stream into the sentinels' master, in batches, each
    entry under its source id (so that a resend is refused as "equal or
    smaller" rather than written twice), with a short WAIT after each
    batch (the tests pause it around a failover until the replicas hold
    every write, so that Redis loses no decision). A
    failed batch is resent after asking the sentinels again. pause() waits
    until it is between batches."""

    def __init__(self, cluster, source, stream="stabild:decisions", batch=500, pace=0.05):
        super().__init__(daemon=True)
        self.cluster = cluster
        self.source = source
        self.stream = stream
        self.batch = batch
        self.pace = pace
        self.total = source.call("XLEN", stream)
        self.written = 0
        self.resends = 0
        self.error = None
        self.run_ev = threading.Event()
        self.run_ev.set()
        self.idle = threading.Event()
        self.stop_ev = threading.Event()

    def _send(self, node, entries):
        c = harness.Resp(node.port, timeout=5)
        try:
            # Pipelined: one write, then the replies in order.
            out = []
            for eid, fields in entries:
                args = [b"XADD", self.stream.encode(), eid.encode()] + list(fields)
                out.append(b"*%d\r\n" % len(args))
                for a in args:
                    out.append(b"$%d\r\n%s\r\n" % (len(a), a))
            c.sock.sendall(b"".join(out))
            for _ in entries:
                r = c._reply()
                if isinstance(r, harness.RespError) and "equal or smaller" not in str(r):
                    raise r
            c.call("WAIT", 1, 100)
        finally:
            c.close()

    def run(self):
        start = "-"
        try:
            while not self.stop_ev.is_set() and self.written < self.total:
                if not self.run_ev.is_set():
                    self.idle.set()
                    self.run_ev.wait(0.1)
                    continue
                self.idle.clear()
                rows = self.source.call("XRANGE", self.stream, start, "+", "COUNT", self.batch)
                entries = [(r[0].decode(), r[1]) for r in rows]
                deadline = time.monotonic() + 60
                while True:
                    try:
                        self._send(self.cluster.master(), entries)
                        break
                    except (OSError, harness.RespError, harness.TestFailure):
                        if time.monotonic() > deadline:
                            raise
                        self.resends += 1
                        time.sleep(0.2)
                self.written += len(entries)
                start = "(" + entries[-1][0]
                time.sleep(self.pace)
        except Exception as e:      # reported by finish()
            self.error = e
        self.idle.set()

    def pause(self):
        self.run_ev.clear()
        wait_for(lambda: self.idle.is_set() or not self.is_alive(), 30, "the feeder to pause")

    def resume(self):
        self.idle.clear()
        self.run_ev.set()

    def finish(self, timeout=120):
        self.join(timeout)
        check(not self.is_alive(), "the feeder is still running after %ss" % timeout)
        check(self.error is None, "the feeder failed: %r" % self.error)
        check(self.written == self.total, "the feeder wrote %d of %d" % (self.written, self.total))

    def stop(self):
        self.stop_ev.set()
        self.run_ev.set()
