"""A process for test_forkserver to start: says what it was given, then exits or waits.

`python -m tests.unit.forkserver_child CODE` prints its arguments, one variable of its
environment and whether the chaos crash point is armed, then exits with CODE, or with "wait"
sleeps until a signal ends it."""

import json
import os
import sys
import time

from socialsvc_common import faults

print(
    json.dumps(
        {
            "argv": sys.argv[1:],
            "variable": os.environ.get("FORKSERVER_PROBE"),
            "armed": faults.kill_at().armed,
        }
    ),
    flush=True,
)
if sys.argv[1] == "wait":
    time.sleep(60)
sys.exit(int(sys.argv[1]) if sys.argv[1] != "wait" else 0)
