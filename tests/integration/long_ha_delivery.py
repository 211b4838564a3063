#!/usr/bin/env python3
"""test_ha_delivery at length: 25 kills of the sending instance during
delivery (STABILD_HA_KILLS overrides), and Redis stopped for 3 s once
during delivery (ha.unclaimed_after = 1s: the survivor goes on sending,
counted as unclaimed). Twelve receivers, one transfer at a time per
instance, each held 0.4 s by its receiver: over two hundred
notifications, about a minute of delivery."""

import os

import harness
from test_ha_delivery import run

RECEIVERS = tuple("rx%02d" % i for i in range(1, 13))


def test(w):
    run(w, int(os.environ.get("STABILD_HA_KILLS", "25")), per_week=3000,
        receivers=RECEIVERS, delay_s=0.4, max_inflight=1, redis_stop=True)


if __name__ == "__main__":
    harness.main(test, "long_ha_delivery")
