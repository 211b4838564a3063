"""The indicators of config/stabild.conf for the integration tests, as
conf_extra entries for harness.Daemon. Standard library only."""

import os
import re

CONF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "config",
                    "stabild.conf")


def _shipped():
    """The four shipped indicators, read from config/stabild.conf's
    commented [indicator] sections: the keys given a value there."""
    out, cur = {}, None
    with open(CONF) as f:
        for line in f:
            head = re.match(r';\s*\[(\w+)(?:\s+"([^"]*)")?\]\s*$', line)
            if head:
                cur = out.setdefault(head.group(2), {}) if head.group(1) == "indicator" else None
                continue
            kv = re.match(r';\s*(\w+)\s*=\s*(.*?)\s*$', line)
            if kv and cur is not None:
                if kv.group(2):
                    cur[kv.group(1)] = kv.group(2)
            elif not line.startswith(";"):
                cur = None
    return out


SHIPPED = _shipped()


def sections(*names, stream=None):
    """conf_extra entries for the named shipped indicators (all four when
    none is named), in the order given: {'indicator "NAME"': {key: value}}.
    stream: the key their events come on, for those not read from
    decisions (supplement always is)."""
    out = {}
    for name in names or tuple(SHIPPED):
        if name not in SHIPPED:
            raise ValueError("no shipped indicator %r (%s)" % (name, ", ".join(SHIPPED)))
        kv = dict(SHIPPED[name])
        if stream is not None and kv["event"] != "decision":
            kv["stream"] = stream
        out['indicator "%s"' % name] = kv
    return out


# What stabild-sim --truth-indicators counts per target, and how each
# target's outcome splits into yes and no (the target's own definition;
# an indicator with yes and no swapped gets n - yes).
TARGETS = {
    "rejection": ("decision", "outcome", {"rejected"}, {"granted", "partial"}),
    "supplement": ("decision", "supplement_requested", {"yes"}, {"no"}),
    "reconsideration": ("reconsideration", "outcome", {"changed"}, {"unchanged"}),
    "appeal": ("appeal", "outcome", {"changed"}, {"unchanged"}),
    "assessment": ("assessment", "outcome", {"late"}, {"on_time"}),
}


class IndicatorTruth:
    """stabild-sim --truth-indicators, read back. rows: (target, office,
    benefit, kind, week, detail) -> (n, yes, other); totals: the #total
    line (decision=, reconsideration=, appeal=, assessment=, malformed=,
    duplicates=, written=)."""

    def __init__(self):
        self.rows = {}
        self.totals = {}


def read_truth_indicators(path):
    t = IndicatorTruth()
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        want = ["target", "office", "benefit", "kind", "week", "detail", "n", "yes", "other"]
        if header != want:
            raise ValueError("%s: header %r, want %r" % (path, header, want))
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#total"):
                for kv in line.split("\t")[1:]:
                    k, v = kv.split("=")
                    t.totals[k] = int(v)
                continue
            target, office, benefit, kind, week, detail, n, yes, other = line.split("\t")
            t.rows[(target, office, benefit, kind, week, detail)] = (int(n), int(yes), int(other))
    return t


def _items(value):
    return {v.strip() for v in str(value).split(",") if v.strip()}


def indicator_truth(truth, section, national=True):
    """What a daemon with the indicator `section` (a dict of its keys, as
    in SHIPPED or sections()) counts: {(office, benefit, kind): {week: (n,
    yes, other)}}, where n is the events in its rate, yes its yeses and
    other its events left out of the rate (the bucket's `dismissed`). With
    national, the 'national' series too. The truth of an indicator is the
    sum of its target's rows over the details its filter admits; a
    definition that is not a target's own (or its yes and no swapped) is
    refused."""
    event = section["event"]
    field = section.get("field", "outcome")
    yes, no = _items(section["yes"]), _items(section["no"])
    for name, (tevent, tfield, tyes, tno) in TARGETS.items():
        if (tevent, tfield) != (event, field):
            continue
        if (yes, no) == (tyes, tno):
            target, swapped = name, False
            break
        if (yes, no) == (tno, tyes):
            target, swapped = name, True
            break
    else:
        raise ValueError("no simulated target counts %s %s yes=%s no=%s" %
                         (event, field, sorted(yes), sorted(no)))
    admit = None
    if event == "assessment" and section.get("checkpoint"):
        admit = _items(section["checkpoint"])
    if event == "reconsideration" and section.get("changed_to"):
        admit = _items(section["changed_to"])
    out = {}
    for (t, office, benefit, kind, week, detail), (n, y, other) in truth.rows.items():
        if t != target or (admit is not None and detail not in admit):
            continue
        if swapped:
            y = n - y
        keys = [(office, benefit, kind)]
        if national:
            keys.append(("national", benefit, kind))
        for key in keys:
            cur = out.setdefault(key, {}).get(week, (0, 0, 0))
            out[key][week] = (cur[0] + n, cur[1] + y, cur[2] + other)
    return out
