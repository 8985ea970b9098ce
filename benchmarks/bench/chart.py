"""The run on one page: throughput, latency and backlog over time (PNG, matplotlib)."""

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on a server

import matplotlib.pyplot as plt


def draw(results: dict[str, Any], path: Path) -> None:
    seconds = results["platform"]["timeline"]
    at = [s["at"] for s in seconds]
    figure, (rate, latency, backlog) = plt.subplots(3, 1, sharex=True, figsize=(10, 9))
    run = results["run"]
    figure.suptitle(
        f"{run['mode']} load at {run['rate'] or 'max'}/s for {run['duration']:.0f} s, "
        f"{run['started']}"
    )
    rate.plot(at, [s["received"] for s in seconds], label="received /s", linewidth=0.8)
    rate.plot(at, [s["completed"] for s in seconds], label="completed /s", linewidth=0.8)
    relay = results.get("relay")
    if relay:
        rate.set_title(
            f"bare relay over four hops: {relay['per_second']:.0f} records/s", fontsize=9
        )
        peak = max([s["received"] for s in seconds] + [s["completed"] for s in seconds], default=0)
        if relay["per_second"] < 3 * peak:  # drawn only where it does not flatten the rest
            rate.axhline(relay["per_second"], linestyle="--", color="grey", label="bare relay /s")
    rate.set_ylabel("applications / s")
    rate.legend(loc="upper right")
    for name in ("p50", "p99"):
        points = [s[name] for s in seconds]
        latency.plot(at, points, label=name, linewidth=0.6, marker=".", markersize=3)
    latency.set_ylabel("received -> delivered, s")
    latency.legend(loc="upper right")
    backlog.plot(at, [s["backlog"] for s in seconds], label="applications in flight")
    lag = results.get("lag", [])
    for service in lag[0]["lag"] if lag else []:
        backlog.plot(
            [x["at"] for x in lag],
            [x["lag"][service] for x in lag],
            label=f"{service} lag (records)",
            linewidth=0.8,
        )
    backlog.set_ylabel("backlog")
    backlog.set_xlabel("seconds from the start of the load")
    backlog.legend(loc="upper right")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
