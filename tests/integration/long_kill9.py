#!/usr/bin/env python3
"""make sim: the kill -9 test of make check with 200 kills instead of 25,
over a stream eight times as long, with another schedule seed."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

if __name__ == "__main__":
    env = dict(os.environ, STABILD_KILL9_KILLS="200", STABILD_KILL9_SEED="7")
    sys.exit(subprocess.run([sys.executable, os.path.join(HERE, "test_kill9.py")], env=env).returncode)
