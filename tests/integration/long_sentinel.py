#!/usr/bin/env python3
"""make sim: test_sentinel with five rounds (ten failovers, half of them
by SIGKILL, the killed node rejoining each time) over a longer stream."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

if __name__ == "__main__":
    env = dict(os.environ, STABILD_SENTINEL_ROUNDS="5", STABILD_SENTINEL_WEEKS="12")
    sys.exit(subprocess.run([sys.executable, os.path.join(HERE, "test_sentinel.py")], env=env).returncode)
