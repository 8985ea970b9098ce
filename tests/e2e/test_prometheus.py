"""Prometheus (Debian's package) watching a running platform, as deploy/prometheus/prometheus.yml
has it watch `make run`: every service scraped with a monitor key, a wrong key seen as a failed
scrape, the alert rules loaded and evaluated, and every query of the Grafana dashboard accepted
and answered from what was scraped."""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from socialsvc_common.apikeys import Role
from tests.harness import ROOT, debian_tool, free_port

from .applicants import mixed_applications
from .conftest import Platform
from .ops_tool import poll
from .test_journey import journeys_when_complete, submit_all

pytestmark = pytest.mark.integration

DASHBOARD = ROOT / "deploy" / "grafana" / "socialsvc-dashboard.json"


def configuration(platform: Platform, directory: Path) -> Path:
    """The shipped configuration with this platform's addresses and key, and a quick pace."""
    shipped = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    (directory / "monitor.key").write_text(platform.keys[Role.MONITOR])
    (directory / "stranger.key").write_text("sk_" + "x" * 40)
    shutil.copy(ROOT / "deploy/prometheus/alerts.yml", directory)
    job = shipped["scrape_configs"][0]
    job["authorization"]["credentials_file"] = "monitor.key"
    job["static_configs"] = [
        {"targets": [url.removeprefix("http://")], "labels": {"service": name}}
        for name, url in platform.urls.items()
    ]
    refused = {
        **job,
        "job_name": "refused",
        "authorization": {"type": "Bearer", "credentials_file": "stranger.key"},
        "static_configs": [{"targets": [platform.urls["intake"].removeprefix("http://")]}],
    }
    shipped["scrape_configs"] = [job, refused]
    shipped["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    path = directory / "prometheus.yml"
    path.write_text(yaml.safe_dump(shipped))
    return path


async def api(client: httpx.AsyncClient, path: str, **params: str) -> Any:
    response = await client.get(path, params=params)
    body = response.json()
    assert body["status"] == "success", (path, params, body)
    return body["data"]


async def test_prometheus_scrapes_every_service_and_answers_the_dashboard(
    platform: Platform, tmp_path: Path
) -> None:
    config = configuration(platform, tmp_path)
    port = free_port()
    log = (tmp_path / "prometheus.log").open("w")
    server = subprocess.Popen(  # noqa: ASYNC220 - started once; the test then awaits its API
        [
            debian_tool("prometheus", "prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:

            async def ready() -> bool:
                try:
                    return (await client.get("/-/ready")).status_code == 200
                except httpx.TransportError:
                    return False

            await poll("Prometheus ready", ready)

            async def targets() -> list[dict[str, Any]] | None:
                found = (await api(client, "/api/v1/targets"))["activeTargets"]
                scraped = [t for t in found if t["health"] != "unknown"]
                return found if len(scraped) == len(platform.urls) + 1 else None

            found = await poll("a scrape of every target", targets)
            health = {(t["labels"]["job"], t["labels"].get("service")): t for t in found}
            for name in platform.urls:
                assert health[("socialsvc", name)]["health"] == "up", health[("socialsvc", name)]
            refused = health[("refused", None)]
            assert refused["health"] == "down"
            assert "401" in refused["lastError"], refused["lastError"]

            async with platform.client("intake", timeout=30) as intake:
                ids = await submit_all(intake, mixed_applications(6, seed=61))
                await journeys_when_complete(intake, ids, seconds=120)

            async def consumed() -> float | None:
                query = 'sum(socialsvc_messages_in_total{job="socialsvc"})'
                result = (await api(client, "/api/v1/query", query=query))["result"]
                return float(result[0]["value"][1]) if result else None

            assert await poll("records consumed, as scraped", consumed) >= len(ids)

            async def evaluated() -> list[dict[str, Any]] | None:
                groups = (await api(client, "/api/v1/rules"))["groups"]
                rules = [rule for group in groups for rule in group["rules"]]
                return (
                    rules
                    if all(r.get("lastEvaluation", "0001").startswith("20") for r in rules)
                    else None
                )

            rules = await poll("the alert rules evaluated", evaluated)
            assert sorted(r["name"] for r in rules) == sorted(
                [
                    "ConsumerLagGrowing",
                    "DeadLetters",
                    "GatewayBreakerOpen",
                    "OutboxStale",
                    "ReceiptsMissing",
                    "ServiceDown",
                ]
            )
            assert all(r["health"] == "ok" for r in rules), rules

            panels = json.loads(DASHBOARD.read_text())["panels"]
            # Series the platform has by now (flow, lag, outbox, the gateways' gauges); the rates
            # once two scrapes of a counter fall within their window.
            wanted = {
                "Services answering scrapes",
                "Records consumed per second",
                "Events published per second",
                "Consumer lag (records)",
                "Oldest unsent outbox event",
                "Gateway breakers open and failing",
                "Messages awaiting a receipt",
            }
            answered: dict[str, int] = {}

            async def every_query_answered() -> bool:
                for panel in panels:
                    for target in panel["targets"]:
                        data = await api(client, "/api/v1/query", query=target["expr"])
                        answered[panel["title"]] = len(data["result"])
                return all(answered[title] > 0 for title in wanted)

            await poll(f"series for {sorted(wanted)}", every_query_answered, 90)
            print(f"dashboard series: {answered}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
