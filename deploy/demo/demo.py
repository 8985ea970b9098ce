"""Submits the demo applications to intake and prints each journey and what the citizen received.

    python deploy/demo/demo.py [--intake URL] [--sinks DIR] [--file applications.json]
                               [--key-file var/keys/social_worker.key]

It calls intake as a social worker: with the key in SOCIALSVC_API_KEY, or else in the key file
that `make run` issues.

Each application is sent with the Idempotency-Key `demo-<n>`, so running the demo again shows the
same applications instead of making new ones. Names, FINs and phone numbers are not printed.
"""

import argparse
import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
FINAL = {"ineligible", "needs_information", "placed", "waitlisted"}


def submit(client: httpx.Client, forms: list[dict[str, Any]]) -> list[str]:
    ids = []
    for number, form in enumerate(forms, start=1):
        response = client.post(
            "/applications", json=form, headers={"Idempotency-Key": f"demo-{number}"}
        )
        if response.status_code != 202:
            sys.exit(f"demo: application {number} refused: {response.text}")
        ids.append(response.json()["application_id"])
    return ids


def settled(journey: dict[str, Any]) -> bool:
    delivered = sum(s["type"] == "notifications.message.delivered" for s in journey["journey"])
    steps = 3 if journey["status"] in {"placed", "waitlisted"} else 2
    return journey["status"] in FINAL and delivered >= steps


def wait(client: httpx.Client, ids: list[str], seconds: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + seconds
    while True:
        journeys = [client.get(f"/applications/{i}").json() for i in ids]
        if all(settled(j) for j in journeys) or time.monotonic() > deadline:
            return journeys
        time.sleep(0.5)


def received(sinks: Path, reference: str) -> list[str]:
    texts = []
    for name, field in (
        ("sms.jsonl", "text"),
        ("mail.jsonl", "subject"),
        ("inbox.jsonl", "subject"),
    ):
        path = sinks / name
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                entry = json.loads(line)
                body = entry.get("text") or entry.get("body") or ""
                if reference in body or reference in entry.get("subject", ""):
                    texts.append(f"{name.split('.')[0]:>4}: {entry.get(field, '')}")
    return texts


def show(journey: dict[str, Any], sinks: Path) -> None:
    reference = journey["application_id"].replace("-", "")[:8].upper()
    reference = f"{reference[:4]}-{reference[4:]}"
    status, service = journey["status"], journey["service_requested"]
    print(f"\n== application {reference}  status: {status}  ({service})")
    start = None
    for step in journey["journey"]:
        at = datetime.fromisoformat(step["time"])
        start = start or at
        facts = ", ".join(f"{k}={v}" for k, v in step["summary"].items() if v not in (None, [], ""))
        print(f"   +{(at - start).total_seconds():6.2f}s  {step['type']:<34} {facts}")
    for text in received(sinks, reference):
        print(f"   {text}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intake", default="http://127.0.0.1:8000")
    parser.add_argument("--sinks", type=Path, default=ROOT / "var" / "sinks")
    parser.add_argument("--file", type=Path, default=HERE / "applications.json")
    parser.add_argument("--wait", type=float, default=60.0)
    parser.add_argument(
        "--key-file", type=Path, default=ROOT / "var" / "keys" / "social_worker.key"
    )
    args = parser.parse_args()
    forms = json.loads(args.file.read_text(encoding="utf-8"))
    try:
        key = os.environ.get("SOCIALSVC_API_KEY") or args.key_file.read_text().strip()
    except OSError as error:
        sys.exit(f"demo: no API key ({error}); set SOCIALSVC_API_KEY or run it from make run")
    auth = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=args.intake, headers=auth, timeout=30) as client:
        ids = submit(client, forms)
        print(f"demo: submitted {len(ids)} applications; waiting for their journeys")
        journeys = wait(client, ids, args.wait)
    for journey in journeys:
        show(journey, args.sinks)
    unsettled = sum(not settled(j) for j in journeys)
    if unsettled:
        print(f"\ndemo: {unsettled} journeys still under way; see var/log/", file=sys.stderr)
    return 1 if unsettled else 0


if __name__ == "__main__":
    raise SystemExit(main())
