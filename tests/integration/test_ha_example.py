#!/usr/bin/env python3
"""The example configuration of two instances (config/stabild-ha.conf)
runs as the README says: host A's file is the example with its two "this
host" lines changed, and only addresses, ports and directories are
substituted (the sentinels by a dead one and a live one on loopback).
A counts a stream alone and stops; B is seeded with a copy of A's state
directory; both start, find the master through the sentinel, see each
other as peers in /v1/status, and count the rest of the stream
identically: the simulator's truth on both, B without re-reading what
the copy held."""

import os
import re
import shutil

import harness
import ha
import sentinel_harness
from harness import check

EXAMPLE = os.path.join(harness.ROOT, "config", "stabild-ha.conf")


def header_name(line):
    """'redis' or 'receiver "ops"' of a section header, commented or not."""
    m = re.match(r"^[;#]?\s*\[(.+)\]\s*$", line)
    return m.group(1) if m else None


def set_keys(text, values):
    """text with values ({(section, key): value}) set: an active or
    commented-out line of the key in its section is replaced; a missing
    key is added at the end of its section, a missing section at the
    end. A value of None removes the key."""
    lines = text.splitlines()
    todo = dict(values)
    out, section = [], None

    def flush():
        for (sec, key), v in list(todo.items()):
            if sec == section:
                if v is not None:
                    while out and not out[-1].strip():
                        out.pop()
                    out.append("%s = %s" % (key, v))
                    out.append("")
                del todo[(sec, key)]

    for line in lines:
        name = header_name(line)
        if name is not None and not line.startswith((";", "#")):
            flush()
            section = name
            out.append(line)
            continue
        m = re.match(r"^;?\s*([a-z_]+)\s*=", line)
        if m and (section, m.group(1)) in todo:
            v = todo.pop((section, m.group(1)))
            if v is not None:
                out.append("%s = %s" % (m.group(1), v))
            continue
        out.append(line)
    flush()
    for (sec, key), v in todo.items():
        if v is not None:
            out += ["", "[%s]" % sec, "%s = %s" % (key, v)]
    return "\n".join(out) + "\n"


def example_text():
    with open(EXAMPLE) as f:
        return f.read()


def host_a(text):
    """Host A's file: the example with the lines marked "this host"."""
    return set_keys(text, {("redis", "consumer"): "stabild-a", ("ha", "instance"): "a"})


def local(text, d, sentinels, sink_url):
    """The example on loopback for harness.Daemon d: addresses, ports,
    directories and the tokens; nothing else changes."""
    return set_keys(text, {
        ("redis", "sentinels"): sentinels,
        ("redis", "master_name"): sentinel_harness.MASTER,
        ("http", "bind"): "127.0.0.1",
        ("http", "port"): str(d.http_port),
        ("http", "tokens_file"): d.tokens_path,
        ("state", "dir"): d.state_dir,
        ('receiver "ops"', "url"): sink_url,
    })


def peers_up(d):
    h = d.status().get("ha")
    if not h or h["link"] != "up":
        return False
    ps = {p["instance"]: p for p in h["peers"]}
    if set(ps) != {"a", "b"} or not all(p["up"] and p["config_same"] for p in ps.values()):
        return False
    return h


def test(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    sentinel = sentinel_harness.Sentinel(w.path, "sentinel", redis.port, quorum=1).start()
    w.add(sentinel.stop)
    sentinels = "127.0.0.1:%d, 127.0.0.1:%d" % (harness.free_port(), sentinel.port)
    sink_url = "http://127.0.0.1:%d/hook" % harness.free_port()

    text = example_text()
    a = harness.Daemon(w.path, redis, name="a")
    b = harness.Daemon(w.path, redis, name="b")
    w.add(a.stop)
    w.add(b.stop)
    a.write_conf(local(host_a(text), a, sentinels, sink_url))
    b.write_conf(local(text, b, sentinels, sink_url))
    # Only these lines differ between the hosts' files.
    diff = set(host_a(text).splitlines()) ^ set(text.splitlines())
    check(diff == {"consumer = stabild-a", "instance = a", "consumer = stabild-b", "instance = b"},
          "host A's file differs from the example in %r" % sorted(diff))
    for d in (a, b):
        r = harness.run_stabild("-t", "-c", d.conf_path)
        check(r.returncode == 0, "%s refused: %s" % (d.conf_path, r.stderr))

    first = harness.run_sim(redis, w.path, "--seed", 61, "--offices", 8, "--weeks", 3,
                            "--per-week", 2000, "--start", "2023-03-06")
    a.start()
    a.wait_counted(first.totals["written"])
    check(a.stop() == 0, "a: exit status on SIGTERM")
    check("sentinel: master at 127.0.0.1:%d\n" % redis.port in a.log(),
          "a did not find the master through the sentinel:\n%s" % a.log())

    # Seed B with a copy of A's state directory, taken while A is stopped.
    shutil.copytree(a.state_dir, b.state_dir)
    more = harness.run_sim(redis, w.path, "--seed", 62, "--offices", 8, "--weeks", 1,
                           "--per-week", 2000, "--start", "2023-03-27")
    a.start()
    b.start()
    written = first.totals["written"] + more.totals["written"]
    a.wait_counted(written)
    b.wait_counted(written)

    for d, me in ((a, "a"), (b, "b")):
        h = harness.wait_for(lambda: peers_up(d), 15, "%s sees a and b up" % me)
        check(h["instance"] == me, "%s: instance %r" % (me, h["instance"]))
    for key, weeks in more.weeks.items():
        for week, row in weeks.items():
            cur = first.weeks.setdefault(key, {}).get(week, (0, 0, 0, 0))
            first.weeks[key][week] = tuple(x + y for x, y in zip(cur, row))
    counted = {}
    for d, me in ((a, "a"), (b, "b")):
        ev = d.status()["events"]
        counted[me] = ev["counted"]
        check(ev["counted"] == first.totals["valid"] + more.totals["valid"],
              "%s counted %r" % (me, ev))
        harness.compare_with_truth(d, first)
    ha.same_series(a, b)
    ha.same_alerts(a, b)

    # Each instance reads in a group of its own and acknowledges all of it
    # after its next checkpoint (state.checkpoint_interval, 30 s): asked
    # for now, as an operator would.
    for d in (a, b):
        s, _, body = d.request("POST", "/v1/checkpoint", token=harness.WRITE_TOKEN)
        check(s in (200, 202), "POST /v1/checkpoint: %s %r" % (s, body))
    def groups():
        out = {}
        for g in redis.call("XINFO", "GROUPS", "stabild:decisions"):
            kv = dict(zip(g[::2], g[1::2]))
            out[kv[b"name"].decode()] = kv
        return out
    check(set(groups()) == {"stabild-a", "stabild-b"}, "groups %r" % sorted(groups()))
    harness.wait_for(lambda: all(kv[b"pending"] == 0 and kv[b"lag"] == 0
                                 for kv in groups().values()), 10, "both groups acknowledged")
    # B's group began where the copy ended: it re-read nothing.
    check("checkpoint %s/checkpoint loaded: %d counted\n" % (b.state_dir, first.totals["valid"])
          in b.log(), "b did not start from the copy:\n%s" % b.log())
    mb = harness.get_metrics(b)
    check(mb.get("stabild_stream_replayed_total") == 0,
          "b re-read entries A had counted: %r" % mb.get("stabild_stream_replayed_total"))
    # The same peers and digests, seen from either side.
    ha_a, ha_b = peers_up(a), peers_up(b)
    digests = {(p["instance"], p["alerts_digest"], p["config_digest"]) for p in ha_a["peers"]}
    check(digests == {(p["instance"], p["alerts_digest"], p["config_digest"])
                      for p in ha_b["peers"]}, "a and b see different peers")
    print("a and b counted %d decisions each; b seeded from a's copy at %d" %
          (counted["a"], first.totals["valid"]))


if __name__ == "__main__":
    harness.main(test, "ha_example")
