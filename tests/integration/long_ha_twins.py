#!/usr/bin/env python3
"""make sim: test_ha_twins with 10 kills of either instance instead of 2
of B, with another schedule seed, over a stream three times as long, so
that every kill (on its timer) finds the victim with entries left."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

if __name__ == "__main__":
    env = dict(os.environ, STABILD_HA_TWINS_KILLS="10", STABILD_HA_TWINS_SEED="7",
               STABILD_HA_TWINS_PER_WEEK="7500",
               STABILD_HA_TWINS_BOTH="1")
    sys.exit(subprocess.run([sys.executable, os.path.join(HERE, "test_ha_twins.py")],
                            env=env).returncode)
