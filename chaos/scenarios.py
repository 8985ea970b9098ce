"""The scenarios: what fails, on which broker deployment, with which crash points armed."""

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from chaos import faults
from chaos.faults import Context


def _no_hooks(_: int) -> dict[str, tuple[str, int]]:
    return {}


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    fault: Callable[[Context], Coroutine[Any, Any, None]]
    cluster: bool = False
    # Its victim service's database on a PostgreSQL of its own, so pausing it pauses nothing else.
    own_database: bool = False
    # Crash points armed per service, from the number of applications: (point:n, launches).
    hooks: Callable[[int], dict[str, tuple[str, int]]] = field(default=_no_hooks)


def _crash_point(service: str, point: str, every: int, where: str) -> Scenario:
    """SIGKILLed three times by its own crash point `point`, armed to fire at the pass of one
    application in `every` (at least the second), so the kills fall within the load."""
    return Scenario(
        f"kill-{service}",
        f"{service} SIGKILLed three times {where} (crash point)",
        partial(faults.killed_by_hook, service=service),
        hooks=lambda n: {service: (f"{service}.{point}:{max(2, n // every)}", 3)},
    )


SCENARIOS = {
    s.name: s
    for s in (
        _crash_point("intake", "after_commit", 5, "between its commit and the relay"),
        *(
            Scenario(
                f"kill-{service}",
                f"{service} SIGKILLed three times during the load",
                partial(faults.kill_three_times, service=service),
            )
            for service in ("eligibility", "assignment")
        ),
        _crash_point("notifications", "after_send", 2, "between a gateway's answer and the commit"),
        Scenario(
            "kill-leader",
            "three-broker cluster; the partition leader SIGKILLed five times",
            faults.kill_leaders,
            cluster=True,
        ),
        Scenario(
            "broker-down",
            "the single broker stopped for a while (2 min by default) as intake keeps accepting",
            faults.broker_down,
        ),
        Scenario(
            "pg-pause",
            "one service's PostgreSQL SIGSTOPped (1 min by default), then resumed",
            faults.pause_database,
            own_database=True,
        ),
        Scenario(
            "duplicates",
            "10% of the events on the journey topics published a second time",
            faults.duplicates,
        ),
        Scenario(
            "malformed",
            "200 malformed or schema-invalid records among the good ones",
            faults.malformed,
        ),
        Scenario(
            "scale",
            "consumer groups scaled from one replica to three and back during the load",
            faults.scale,
        ),
        Scenario(
            "rolling-restart",
            "every service stopped with SIGTERM and started again, one after the other",
            faults.rolling_restart,
        ),
    )
}
