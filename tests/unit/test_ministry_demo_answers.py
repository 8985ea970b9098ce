"""How the ministry demo answers offers (the provider's own key, else the operator's) and how it
tells that the platform has settled (the services' metrics)."""

from collections import Counter
from pathlib import Path

import httpx

from deploy.demo.ministry.calls import ROLES, Keys
from deploy.demo.ministry.offers import Answering, backlog
from deploy.demo.ministry.stages import Platform

OPERATOR = "ssk_" + "o" * 43
KNOWN = "ssk_" + "k" * 43
UNKNOWN = "ssk_" + "u" * 43


def keys(tmp_path: Path) -> Keys:
    (tmp_path / "providers").mkdir()
    for role in ROLES:
        (tmp_path / f"{role}.key").write_text(OPERATOR if role == "operator" else "ssk_x")
    (tmp_path / "providers" / "hc-xetai.key").write_text(KNOWN + "\n")
    (tmp_path / "providers" / "sifaris-001-gunerzi-xetai.key").write_text(UNKNOWN)
    return Keys.read(tmp_path)


async def test_an_offer_is_answered_with_the_providers_key_or_else_the_operators(
    tmp_path: Path,
) -> None:
    used: list[tuple[str, str]] = []

    def assignment(request: httpx.Request) -> httpx.Response:
        key = request.headers["Authorization"].removeprefix("Bearer ")
        used.append((request.url.path.rsplit("/", 1)[1], key))
        # A key issued after the service started is unknown to it.
        return httpx.Response(401 if key == UNKNOWN else 202, json={})

    transport = httpx.MockTransport(assignment)
    async with httpx.AsyncClient(transport=transport) as client:
        platform = Platform({"assignment": "http://assignment"}, keys(tmp_path), client)
        answering = Answering(platform, seed=1, counts=Counter())
        await answering.step("p-1", "hc-xetai", "accept")
        await answering.step("p-2", "sifaris-001-gunerzi-xetai", "accept")
        await answering.step("p-3", "sifaris-001-gunerzi-xetai", "start")
        await answering.step("p-4", "inst-ahillar-quba", "decline")
    assert used == [
        ("accept", KNOWN),
        ("accept", UNKNOWN),
        ("accept", OPERATOR),
        # Once refused, the provider's key is not tried again.
        ("start", OPERATOR),
        ("decline", OPERATOR),
    ]
    assert answering.counts == {"steps by providers' own keys": 1, "steps by the operator's key": 3}


async def test_the_backlog_adds_lag_and_unsent_events_over_the_services(tmp_path: Path) -> None:
    metrics = {
        "intake": "\n".join(
            [
                "# HELP socialsvc_consumer_lag_records Records not yet consumed",
                'socialsvc_consumer_lag_records{topic="a",partition="0"} 3.0',
                'socialsvc_consumer_lag_records{topic="a",partition="1"} 2.0',
                "socialsvc_outbox_unsent_events 4.0",
                "socialsvc_messages_in_total 99.0",
            ]
        ),
        "eligibility": "socialsvc_outbox_unsent_events 0.0",
    }

    def service(request: httpx.Request) -> httpx.Response:
        host = str(request.url.host)
        return httpx.Response(200, text=metrics[host]) if host in metrics else httpx.Response(404)

    async with httpx.AsyncClient(transport=httpx.MockTransport(service)) as client:
        urls = {name: f"http://{name}" for name in ("intake", "eligibility", "statistics")}
        platform = Platform(urls, keys(tmp_path), client)
        assert await backlog(platform, ["intake", "eligibility"]) == 9
        assert await backlog(platform, ["eligibility"]) == 0
        # A service without metrics cannot be said to have settled.
        assert await backlog(platform, ["eligibility", "statistics"]) is None
