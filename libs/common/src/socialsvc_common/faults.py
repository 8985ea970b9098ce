"""Opt-in crash points for the chaos suite (`make chaos`); inert unless the environment asks.

`SOCIALSVC_FAULT_KILL_AT=<point>:<n>` makes the process SIGKILL itself the n-th time it passes
`<point>`, so the suite can crash a service exactly where a crash hurts most instead of hoping a
timed kill lands there. The points in the code:

- `intake.after_commit`: an application and its event are committed, the relay not yet woken and
  the client not yet answered;
- `notifications.after_send`: the gateways took a batch's messages, the commit recording them not
  yet made (passed once for each message taken, so `<n>` counts messages, whatever the batches);
- `archive.after_commit`: the audit archive committed a batch, its offsets not yet committed.

Never set in production: nothing but the chaos suite sets it.
"""

import functools
import os
import signal

ENV = "SOCIALSVC_FAULT_KILL_AT"


class _KillAt:
    def __init__(self, spec: str) -> None:
        point, _, count = spec.partition(":")
        self.point = point
        self.remaining = int(count) if count.isdigit() else 1
        self.armed = bool(point)

    def passed(self, point: str, times: int) -> None:
        if not self.armed or point != self.point:
            return
        self.remaining -= times
        if self.remaining <= 0:
            os.kill(os.getpid(), signal.SIGKILL)


@functools.cache
def kill_at() -> _KillAt:
    """The crash point this process was given, read from its environment at the first pass
    (not on import: a process forked from one that imported this module reads its own)."""
    return _KillAt(os.environ.get(ENV, ""))


def fault_point(point: str, times: int = 1) -> None:
    """A named place where the chaos suite may crash this process (see the module docstring),
    passed `times` times at once (for a batch of things that each pass it)."""
    kill_at().passed(point, times)
