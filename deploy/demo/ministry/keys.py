"""Provider keys for the demo's registry, issued before the services start.

The services read the key store at start-up, so a provider key issued while they run is unknown
to them until they restart. `make run` (deploy/dev-keys.sh) therefore issues, before it starts
them, one key for every provider the demo's default plan puts in a fresh platform's registry (the
shipped registry completed to the articles' scale): the key in `<dir>/<provider id>.key`
(owner-only), its hash in the store. Keys already issued are kept.
"""

import argparse
import os
from datetime import date
from pathlib import Path
from typing import Any

from assignment.registry import load_providers
from deploy.demo.ministry.places import Country, load_country
from deploy.demo.ministry.registry import DEFAULT_SEED, Scale, plan_registry
from socialsvc_common.apikeys import Role, issue

ROOT = Path(__file__).resolve().parents[3]


def shipped_registry() -> list[dict[str, Any]]:
    """The registry a fresh platform seeds, in the shape GET /providers lists it."""
    return [
        {
            "provision_type": p.provision_type.value,
            **p.model_dump(mode="json", by_alias=True),
            "capacity": p.capacity,
        }
        for p in load_providers()
    ]


def demo_provider_ids(country: Country, seed: int, today: date) -> list[str]:
    """Every provider of a fresh platform's registry once the demo has loaded it."""
    existing = shipped_registry()
    plan = plan_registry(existing, country, Scale(), seed, today)
    return sorted({str(e["id"]) for e in existing} | set(plan.provider_ids()))


def issue_provider_keys(store: Path, directory: Path, provider_ids: list[str]) -> int:
    """A key for each provider that has no key file yet; how many were issued."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    issued = 0
    for provider_id in provider_ids:
        path = directory / f"{provider_id}.key"
        if path.exists() and path.stat().st_size:
            continue
        key = issue(store, f"demo-{provider_id}"[:64], Role.PROVIDER, provider=provider_id)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(key + "\n")
        issued += 1
    return issued


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.demo.ministry.keys", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--store", type=Path, default=ROOT / "var" / "keys" / "api-keys.jsonl")
    parser.add_argument("--dir", type=Path, default=ROOT / "var" / "keys" / "providers")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    ids = demo_provider_ids(load_country(), args.seed, date.today())
    issued = issue_provider_keys(args.store, args.dir, ids)
    if issued:
        print(f"demo keys: {issued} provider keys issued into {args.dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
