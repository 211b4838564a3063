"""The indicators of config/stabild.conf for the integration tests, as
conf_extra entries for harness.Daemon. Standard library only."""

# The four shipped indicators, as config/stabild.conf describes them.
SHIPPED = {
    "reconsideration": {"event": "reconsideration", "yes": "changed", "no": "unchanged",
                        "label": "change rate at reconsideration"},
    "appeal": {"event": "appeal", "yes": "changed", "no": "unchanged",
               "label": "change rate in court", "design_or_office": "2.0"},
    "timeliness": {"event": "assessment", "yes": "late", "no": "on_time",
                   "label": "late assessment rate"},
    "supplement": {"event": "decision", "field": "supplement_requested", "yes": "yes",
                   "no": "no", "label": "supplement request rate"},
}


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
