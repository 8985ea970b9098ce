"""Loads the ministry's scale into a running platform (`make run`) and times the statistics.

    python -m deploy.demo.ministry [--people 20000] [--seed 2019] [--concurrency 16] ...

Through the services' HTTP APIs only, with the keys `make run` issues (var/keys/<role>.key, and
var/keys/providers/<id>.key for the providers): the provider registry at the articles' scale,
then the applications, a handful of appeals, the providers' answers to their offers; then it
waits for the platform to settle and times GET /statistics (skipped when nothing answers on
:8006). Each stage's duration and the totals are printed; no name, FIN or contact is.
"""

import argparse
import asyncio
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import httpx

from deploy.demo.ministry.answer_time import time_statistics
from deploy.demo.ministry.calls import KeyMissing, Keys
from deploy.demo.ministry.offers import answer_offers, backlog, settle
from deploy.demo.ministry.people import People
from deploy.demo.ministry.places import load_country
from deploy.demo.ministry.registry import DEFAULT_SEED, Scale
from deploy.demo.ministry.stages import (
    DemoError,
    Platform,
    appeal,
    load_registry,
    providers,
    registry_totals,
    submit,
)

ROOT = Path(__file__).resolve().parents[3]
SERVICES = {
    "intake": 8000,
    "eligibility": 8001,
    "assignment": 8002,
    "notifications": 8003,
    "statistics": 8006,
}
PIPELINE = ("intake", "eligibility", "assignment", "notifications")
MOST_APPEALS = 300
DURATIONS: dict[str, float] = {}


def whole(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"{text} is less than {least}")
    return value


def positive(text: str) -> int:
    return whole(text, 1)


def service_url(text: str) -> str:
    url = httpx.URL(text)
    if url.scheme not in ("http", "https") or not url.host or url.query or url.fragment:
        raise argparse.ArgumentTypeError(f"{text!r} is not a service's base URL (http://host:port)")
    return text.rstrip("/")


def appeals(text: str) -> int:
    value = whole(text, 0)
    if value > MOST_APPEALS:
        raise argparse.ArgumentTypeError(f"at most {MOST_APPEALS} appeals")
    return value


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m deploy.demo.ministry", description=__doc__)
    add = parser.add_argument
    add("--people", type=positive, default=20_000, help="applications to submit")
    add("--seed", type=int, default=DEFAULT_SEED, help="the same seed, the same demo")
    add("--concurrency", type=positive, default=16, help="requests in flight at once")
    add("--appeals", type=appeals, default=30, help=f"appeals lodged (0-{MOST_APPEALS})")
    scale = Scale()
    for name in ("organisations", "projects", "ngo_places", "institution_places"):
        add(f"--{name.replace('_', '-')}", type=positive, default=getattr(scale, name))
    add("--home-care-places", type=positive, default=scale.home_care_places)
    add("--keys", type=Path, default=ROOT / "var" / "keys", help="where make run put the keys")
    for service, port in SERVICES.items():
        add(
            f"--{service}",
            type=service_url,
            default=f"http://127.0.0.1:{port}",
            help=f"the {service} service",
        )
    add("--quiet", type=positive, default=15, help="seconds without offers that end the answers")
    add("--timeout", type=positive, default=3600, help="longest wait for offers, in seconds")
    add("--settle-timeout", type=positive, default=900, help="longest wait to settle, seconds")
    add("--repeats", type=positive, default=5, help="how often GET /statistics is timed")
    return parser.parse_args(argv)


def say(text: str) -> None:
    print(f"demo-statistics: {text}", flush=True)


async def answering(client: httpx.AsyncClient, url: str) -> bool:
    try:
        return (await client.get(url + "/health", timeout=5)).status_code == 200
    except httpx.TransportError:
        return False


@contextmanager
def stage(name: str) -> Iterator[None]:
    say(f"{name} ...")
    started = time.monotonic()
    yield
    DURATIONS[name] = time.monotonic() - started
    say(f"{name} took {DURATIONS[name]:.1f} s")


async def load(args: argparse.Namespace, keys: Keys) -> None:
    country = load_country()
    scale = Scale(
        args.organisations,
        args.projects,
        args.ngo_places,
        args.institution_places,
        args.home_care_places,
    )
    urls = {service: str(getattr(args, service)) for service in SERVICES}
    limits = httpx.Limits(max_connections=args.concurrency + 8)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        platform = Platform(urls, keys, client)
        absent = [s for s in PIPELINE if not await answering(client, urls[s])]
        if absent:
            raise DemoError(f"{', '.join(absent)} not answering; start the platform: make run")
        with stage("provider registry"):
            changed = await load_registry(platform, country, scale, args.seed, date.today())
        say(f"providers created {changed.get('created', 0)}, updated {changed.get('updated', 0)}")
        say(f"registry now: {registry_totals(await providers(platform))}")
        with stage("applications"):
            people = People(country, args.seed, date.today().year)(args.people)
            submitted = await submit(platform, people, args.seed, args.concurrency, args.people)
        say(f"applications accepted {len(submitted.accepted)}, refused {dict(submitted.refused)}")
        with stage("appeals"):
            say(f"appeals {dict(await appeal(platform, submitted, args.appeals))}")
        with stage("providers' answers"):
            answers = await answer_offers(
                platform, args.seed, args.concurrency, args.quiet, args.timeout
            )
        say(f"placements {dict(sorted(answers.items()))}")
        with stage("settling"):
            # The statistics service is watched too once it is there and serves its metrics.
            statistics = await backlog(platform, ["statistics"]) is not None
            watched = [*PIPELINE, "statistics"] if statistics else list(PIPELINE)
            waited = await settle(platform, watched, args.settle_timeout)
        say("settled" if waited is not None else "still busy after the settle timeout")
        for line in await time_statistics(platform, args.repeats):
            say(line)
    say("stages: " + ", ".join(f"{name} {took:.1f} s" for name, took in DURATIONS.items()))


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    try:
        keys = Keys.read(args.keys)
        asyncio.run(load(args, keys))
    except KeyMissing as error:
        print(f"demo-statistics: {error}; start the platform with make run first", file=sys.stderr)
        return 2
    except (DemoError, httpx.TransportError) as error:
        print(f"demo-statistics: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
