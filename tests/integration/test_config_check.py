#!/usr/bin/env python3
"""Command line and configuration checking: `stabild -t -c FILE` accepts
the example config and refuses broken files with FILE:LINE: and the right
line; --version, --help, no arguments and --list-keys (every key of the
example config); [indicator "NAME"] sections, the shipped ones valid and
each error at its line. The example of two instances (stabild-ha.conf)
is valid for either host, names only known keys, and its sentinels refuse
a direct address. And a damaged checkpoint (garbage, one flipped byte,
truncated) stops the start with an error naming it, without consuming
anything or touching the file; the intact checkpoint starts fine."""

import os
import re

import harness
import test_ha_example
from harness import check

EXAMPLE = os.path.join(harness.ROOT, "config", "stabild.conf")
HA_EXAMPLE = test_ha_example.EXAMPLE
SECRET = "supersecret-token-0123456789"


def write(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def check_refused(path, line, pattern, where=None):
    """-t refuses the file: non-zero, and 'WHERE:LINE: message' on stderr."""
    r = harness.run_stabild("-t", "-c", path)
    check(r.returncode != 0, "%s accepted:\n%s" % (os.path.basename(path), r.stdout + r.stderr))
    where = where or path
    errs = [l for l in r.stderr.splitlines() if not re.match(r"<\d>", l)]
    check(len(errs) == 1, "%s: expected one error line, got %r" % (os.path.basename(path), r.stderr))
    want = "%s:%d: " % (where, line)
    check(errs[0].startswith(want), "%s: %r does not start with %r" % (os.path.basename(path), errs[0], want))
    check(re.search(pattern, errs[0][len(want):]), "%s: message %r does not match /%s/" %
          (os.path.basename(path), errs[0], pattern))
    check(SECRET not in r.stdout + r.stderr, "a token was printed")
    return errs[0]


def example_keys(path=EXAMPLE):
    """section.key of every key in the example, commented out or not."""
    keys, section = set(), None
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if line.startswith(";"):
                line = line[1:].strip()
            elif line.startswith("#") or not line:
                continue
            m = re.match(r"\[([a-z]+)[^\]]*\]$", line)
            if m:
                section = m.group(1)
                continue
            m = re.match(r"([a-z_]+)\s*=", line)
            if m and section:
                keys.add("%s.%s" % (section, m.group(1)))
    return keys


def command_line(w):
    r = harness.run_stabild("-t", "-c", EXAMPLE)
    check(r.returncode == 0, "example config refused: %s" % r.stderr)
    r = harness.run_stabild("--version")
    check(r.returncode == 0 and re.fullmatch(r"stabild \d+\.\d+\.\d+\n", r.stdout), "--version: %r" % r.stdout)
    with open(os.path.join(harness.ROOT, "Makefile")) as f:
        version = re.search(r"^VERSION\s*:?=\s*(\S+)", f.read(), re.M).group(1)
    check(r.stdout.split()[1] == version, "--version says %r, the Makefile %s" % (r.stdout, version))
    r = harness.run_stabild("--help")
    check(r.returncode == 0 and "usage:" in r.stdout and "-c" in r.stdout, "--help: %s %r" % (r.returncode, r.stdout))
    r = harness.run_stabild("stray")
    check(r.returncode != 0 and "usage:" in r.stderr, "a stray argument: %s %r" % (r.returncode, r.stderr))
    # Without -c: the default path, named in the usage and in the error.
    r = harness.run_stabild("-t")
    check(r.returncode == 1 and "/etc/stabild/stabild.conf" in r.stderr and "usage:" not in r.stderr,
          "-t without -c: %s %r" % (r.returncode, r.stderr))
    r = harness.run_stabild("-t", "extra")
    check(r.returncode == 2 and "usage:" in r.stderr, "-t extra: %s %r" % (r.returncode, r.stderr))
    r = harness.run_stabild("-t", "-c", os.path.join(w.path, "absent.conf"))
    check(r.returncode != 0 and "absent.conf" in r.stderr, "missing file: %s %r" % (r.returncode, r.stderr))
    r = harness.run_stabild("--list-keys")
    check(r.returncode == 0, "--list-keys: %s" % r.returncode)
    listed = {l.split("\t")[0] for l in r.stdout.splitlines() if l.strip()}
    keys = example_keys()
    check(len(keys) > 30, "parsed only %d keys from the example" % len(keys))
    check(keys <= listed, "--list-keys misses %s" % sorted(keys - listed))
    check(listed <= keys, "the example config misses %s" % sorted(listed - keys))


def bad_files(w):
    d = w.path
    good_tokens = write(os.path.join(d, "good.tokens"), "read %s\n" % SECRET)
    good = write(os.path.join(d, "good.conf"),
                 "# a comment\n[redis]\nport = 6380\n\n[http]\nport = 0\ntokens_file = %s\n" % good_tokens)
    r = harness.run_stabild("-t", "-c", good)
    check(r.returncode == 0, "valid file refused: %s" % r.stderr)

    check_refused(write(os.path.join(d, "key.conf"),
                        "# comment\n[redis]\nhost = 127.0.0.1\n\n; another\nbogus = 1\n"),
                  6, r"unknown key 'bogus'")
    check_refused(write(os.path.join(d, "section.conf"),
                        "[redis]\nhost = 127.0.0.1\n\n[nosuch]\nkey = value\n"),
                  4, r"unknown section \[nosuch\]")
    check_refused(write(os.path.join(d, "duration.conf"),
                        "[redis]\nport = 6379\n[state]\ncheckpoint_interval = 5 parsecs\n"),
                  4, r"checkpoint_interval: '5 parsecs' is not a duration")
    check_refused(write(os.path.join(d, "port.conf"),
                        "[http]\nbind = 127.0.0.1\n\n\nport = 70000\n"),
                  5, r"port: 70000 is above the maximum 65535")
    check_refused(write(os.path.join(d, "negport.conf"),
                        "[redis]\nport = -1\n"),
                  2, r"port: -1 is below the minimum 1")
    # The receiver is incomplete as a whole: its section header is the line.
    check_refused(write(os.path.join(d, "receiver.conf"),
                        "[http]\nport = 8080\n\n[receiver \"ops\"]\ntype = webhook\n"
                        "secret_file = %s\n\n[log]\nlevel = info\n" % good_tokens),
                  4, r"receiver \"ops\": missing url")
    tokens = write(os.path.join(d, "bad.tokens"),
                   "# tokens\nread %s\nadmin %s\n" % ("r" * 20, SECRET))
    check_refused(write(os.path.join(d, "tokens.conf"), "[http]\ntokens_file = %s\n" % tokens),
                  3, r"role read or write", where=tokens)
    # A tokens file that is not there: the config line that names it.
    missing = os.path.join(d, "no-such-tokens")
    check_refused(write(os.path.join(d, "notokens.conf"), "[redis]\nport = 6379\n\n[http]\n"
                        "port = 0\ntokens_file = %s\n" % missing),
                  6, r"^http\.tokens_file: .*no-such-tokens: No such file")
    check_refused(write(os.path.join(d, "password.conf"),
                        "[redis]\nhost = 127.0.0.1\n\npassword_file = %s\n" %
                        os.path.join(d, "no-such-password")),
                  4, r"password_file: .*no-such-password: No such file")


def damaged_checkpoint(w):
    redis = harness.Redis(w.path).start()
    w.add(redis.stop)
    truth = harness.run_sim(redis, w.path, "--seed", 51, "--weeks", 3, "--per-week", 2000,
                            "--start", "2023-03-06")
    d = harness.Daemon(w.path, redis).start()
    w.add(d.stop)
    d.wait_counted(truth.totals["written"])
    check(d.stop() == 0, "exit status on SIGTERM")
    cp = os.path.join(d.state_dir, "checkpoint")
    with open(cp, "rb") as f:
        good = f.read()
    check(len(good) > 1000, "checkpoint of %d bytes" % len(good))
    # New entries that a daemon starting from zero would consume at once.
    more = harness.run_sim(redis, w.path, "--seed", 52, "--weeks", 1, "--per-week", 500,
                           "--start", "2023-03-27")
    group = redis.call("XINFO", "GROUPS", "stabild:decisions")

    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0x40
    damages = [("garbage", b"this is not a checkpoint\n" * 20),
               ("flipped byte", bytes(flipped)),
               ("truncated", good[:len(good) // 3])]
    for what, data in damages:
        with open(cp, "wb") as f:
            f.write(data)
        log_start = len(d.log())
        d.start(wait=False)
        try:
            rc = d.proc.wait(15)
        except Exception:
            raise harness.TestFailure("stabild started with a %s checkpoint; log:\n%s" % (what, d.log()))
        d.stop()
        check(rc != 0, "stabild exited 0 with a %s checkpoint" % what)
        log = d.log()[log_start:]
        check(re.search(r"^<[0-3]>.*checkpoint", log, re.M) and cp in log,
              "no error naming %s for the %s checkpoint:\n%s" % (cp, what, log))
        check("starting empty" not in log and "started" not in log,
              "stabild went on with a %s checkpoint:\n%s" % (what, log))
        with open(cp, "rb") as f:
            check(f.read() == data, "the %s checkpoint was changed" % what)
        check(redis.call("XINFO", "GROUPS", "stabild:decisions") == group,
              "the group moved on with a %s checkpoint" % what)

    # The intact file starts, and counting goes on from it exactly.
    with open(cp, "wb") as f:
        f.write(good)
    d.start()
    written = truth.totals["written"] + more.totals["written"]
    d.wait_counted(written)
    ev = d.status()["events"]
    check(ev["counted"] == truth.totals["valid"] + more.totals["valid"], "counted %r after the restart" % ev)
    for key, weeks in more.weeks.items():
        for week, row in weeks.items():
            cur = truth.weeks.setdefault(key, {}).get(week, (0, 0, 0, 0))
            truth.weeks[key][week] = tuple(a + b for a, b in zip(cur, row))
    harness.compare_with_truth(d, truth)
    check(d.stop() == 0, "exit status on SIGTERM")


def indicator_files(w):
    """[indicator "NAME"]: the four shipped sections of the example, taken
    out of their comments, are valid; each error names FILE:LINE, the
    header's line for a missing key, else the key's own."""
    d = w.path
    with open(EXAMPLE) as f:
        text = f.read()
    shipped = text[text.index("# Indicators:"):]
    on = "\n".join(l[2:] if l.startswith("; ") else l for l in shipped.splitlines()) + "\n"
    path = write(os.path.join(d, "shipped.conf"), on)
    r = harness.run_stabild("-t", "-c", path)
    check(r.returncode == 0, "the shipped indicators, uncommented, refused: %s" % r.stderr)
    check(on.count("[indicator ") == 4, "shipped indicators: %d" % on.count("[indicator "))

    head = "[log]\nlevel = info\n\n"
    cases = [
        ("event.conf", head + '[indicator "recon"]\nevent = ruling\nyes = changed\nno = unchanged\n', 5,
         r"indicator \"recon\": event: 'ruling' is not decision or reconsideration or appeal or assessment"),
        ("yes.conf", head + '[indicator "recon"]\nevent = reconsideration\nyes = rejected\nno = unchanged\n', 6,
         r"yes: 'rejected' is not changed or unchanged, the outcomes of event reconsideration"),
        ("missing.conf", head + '[indicator "late"]\nevent = assessment\nyes = late\n\n[http]\nport = 0\n', 4,
         r"indicator \"late\": missing no"),
        ("both.conf", head + '[indicator "x"]\nevent = appeal\nyes = changed\nno = unchanged, changed\n', 7,
         r"'changed' is in both yes and no"),
        ("checkpoint.conf", head + '[indicator "x"]\nevent = appeal\nyes = changed\nno = unchanged\n'
         'checkpoint = 180\n', 8, r"checkpoint is for event assessment only"),
        ("field.conf", head + '[indicator "x"]\nevent = appeal\nfield = supplement_requested\nyes = yes\n'
         'no = no\n', 6, r"field supplement_requested is for event decision only"),
        ("dup.conf", head + '[indicator "x"]\nevent = appeal\nyes = changed\nno = unchanged\n'
         '[indicator "x"]\n', 8, r"indicator \"x\" is already defined at line 4"),
        ("reserved.conf", head + '[indicator "rejection"]\n', 4, r"the name is reserved"),
        ("stream.conf", head + '[indicator "x"]\nevent = appeal\nyes = changed\nno = unchanged\n'
         'stream = stabild:deadletter\n', 8, r"stream must not be redis.deadletter"),
        ("route.conf", head + '[route "r"]\nreceivers =\nindicators = appeal\n', 4,
         r"route \"r\": indicators: 'appeal' is not rejection or a configured indicator"),
        ("expl.conf", head + '[indicator "appeal"]\nevent = appeal\nyes = changed\nno = unchanged\n'
         '[explanation "e"]\nkind = context\neffective_from = 2024-01-01\nindicators = apeal\n', 11,
         r"explanation \"e\": indicators: 'apeal' is not rejection or a configured indicator"),
    ]
    for name, text, line, pattern in cases:
        check_refused(write(os.path.join(d, name), text), line, pattern)
    many = "".join('[indicator "i%d"]\nevent = appeal\nyes = changed\nno = unchanged\n' % i
                   for i in range(16))
    check_refused(write(os.path.join(d, "many.conf"), many), 61, r"more than 15 indicators")
    # A route and an explanation may name rejection and configured indicators.
    ok = write(os.path.join(d, "ok.conf"), head + '[indicator "appeal"]\nevent = appeal\nyes = changed\n'
               'no = unchanged\n[route "r"]\nreceivers =\nindicators = appeal, rejection\n'
               '[explanation "e"]\nkind = context\neffective_from = 2024-01-01\nindicators = rejection\n')
    r = harness.run_stabild("-t", "-c", ok)
    check(r.returncode == 0, "indicators in a route and an explanation refused: %s" % r.stderr)


def ha_example(w):
    """config/stabild-ha.conf (host B) and host A's variant pass -t; every
    key it names is a key; a direct address beside the sentinels, or no
    instance name, is refused at its line."""
    d = w.path
    text = test_ha_example.example_text()
    r = harness.run_stabild("-t", "-c", HA_EXAMPLE)
    check(r.returncode == 0, "the HA example refused: %s" % r.stderr)
    path = write(os.path.join(d, "ha-a.conf"), test_ha_example.host_a(text))
    r = harness.run_stabild("-t", "-c", path)
    check(r.returncode == 0, "host A's variant of the HA example refused: %s" % r.stderr)
    r = harness.run_stabild("--list-keys")
    listed = {l.split("\t")[0] for l in r.stdout.splitlines() if l.strip()}
    keys = example_keys(HA_EXAMPLE)
    for must in ("redis.sentinels", "redis.master_name", "redis.consumer", "ha.enabled",
                 "ha.instance", "http.bind", "http.public_url"):
        check(must in keys, "the HA example lacks %s" % must)
    check(keys <= listed, "the HA example names unknown keys %s" % sorted(keys - listed))

    lines = text.splitlines()
    at = next(i for i, l in enumerate(lines) if l.startswith("master_name ="))
    direct = lines[:at + 1] + ["port = 6379"] + lines[at + 1:]
    check_refused(write(os.path.join(d, "ha-direct.conf"), "\n".join(direct) + "\n"), at + 2,
                  r"port: the master is found through redis\.sentinels; remove it")
    nameless = [l for l in lines if not l.startswith("instance =")]
    enabled = next(i for i, l in enumerate(nameless) if l.startswith("enabled =")) + 1
    check_refused(write(os.path.join(d, "ha-nameless.conf"), "\n".join(nameless) + "\n"),
                  enabled, r"ha\.enabled needs ha\.instance")


def test(w):
    command_line(w)
    ha_example(w)
    bad_files(w)
    indicator_files(w)
    damaged_checkpoint(w)


if __name__ == "__main__":
    harness.main(test, "config_check")
