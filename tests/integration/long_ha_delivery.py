#!/usr/bin/env python3
"""test_ha_delivery at length: 25 kills of the sending instance during
delivery (STABILD_HA_KILLS overrides), on more data, and Redis stopped
for 3 s once during delivery (ha.unclaimed_after = 1s: the survivor goes
on sending, counted as unclaimed)."""

import os

import harness
from test_ha_delivery import run


def test(w):
    run(w, int(os.environ.get("STABILD_HA_KILLS", "25")), weeks=64, per_week=8000,
        redis_stop=True)


if __name__ == "__main__":
    harness.main(test, "long_ha_delivery")
