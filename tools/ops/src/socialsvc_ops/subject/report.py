"""The subject access report: intake names the person's applications, each service says what it
holds about them; one JSON document, and a readable page in the person's language."""

import html
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import httpx

SERVICES = ("intake", "eligibility", "assignment", "notifications")
LANGUAGES = ("az", "ru", "en")
CATALOGUE = Path(__file__).parent / "catalogue.json"


class SubjectError(Exception):
    """A service refused or could not be reached; the message says which and why."""


@cache
def catalogue() -> dict[str, dict[str, Any]]:
    return dict(json.loads(CATALOGUE.read_text(encoding="utf-8")))


def _answer(response: httpx.Response, service: str) -> dict[str, Any]:
    if response.is_success:
        return dict(response.json())
    try:
        detail = response.json().get("detail", response.text)
    except ValueError:
        detail = response.text
    raise SubjectError(f"{service} answered {response.status_code}: {detail}")


async def gather(
    urls: Mapping[str, str], api_key: str, fin: str, language: str | None
) -> dict[str, Any]:
    """Asks intake for the person's applications, then every other service what it holds about
    them. The FIN goes in a request body only."""
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(headers=headers, timeout=30) as client:
        found = _answer(
            await client.post(f"{urls['intake']}/subjects/report", json={"fin": fin}), "intake"
        )
        # The other services know a proactive offer's contact and messages by the offer's id.
        ids = [*found["application_ids"], *found.get("offer_ids", [])]
        services = [found["intake"]]
        for service in SERVICES[1:]:
            if not ids:
                services.append({"service": service, "holdings": []})
                continue
            answer = await client.post(
                f"{urls[service]}/subject/holdings", json={"application_ids": ids}
            )
            services.append(_answer(answer, service))
    return {
        "generated_at": datetime.now(UTC).isoformat(),
        "language": language or found.get("language") or "az",
        "application_ids": found["application_ids"],
        "offer_ids": found.get("offer_ids", []),
        "services": services,
    }


async def erase(intake_url: str, api_key: str, fin: str, legal_basis: str) -> dict[str, Any]:
    """Asks intake to erase the person's data everywhere, on the given legal basis."""
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(headers=headers, timeout=30) as client:
        response = await client.post(
            f"{intake_url}/subjects/erasures", json={"fin": fin, "legal_basis": legal_basis}
        )
    return _answer(response, "intake")


def _value(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, indent=1)
    return "" if value is None else str(value)


def _holding(holding: Mapping[str, Any], words: Mapping[str, Any]) -> str:
    category = words["categories"].get(holding["category"], holding["category"])
    purpose = words["purposes"].get(holding["purpose"], holding["purpose"])
    until = holding.get("retained_until") or words["while_open"]
    rows = "".join(
        f"<tr><th>{html.escape(str(key))}</th><td><pre>{html.escape(_value(value))}</pre></td></tr>"
        for key, value in holding["data"].items()
    )
    application = html.escape(holding["application_id"])
    return (
        f"<section><h3>{html.escape(category)}</h3>"
        f"<p>{html.escape(words['application'])}: <code>{application}</code><br>"
        f"{html.escape(words['purpose'])}: {html.escape(purpose)}<br>"
        f"{html.escape(words['retained_until'])}: {html.escape(until)}</p>"
        f"<table>{rows}</table></section>"
    )


STYLE = (
    "body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
    "h2{border-bottom:2px solid #1b5e8c;color:#1b5e8c}table{border-collapse:collapse;width:100%}"
    "th,td{border:1px solid #ccc;padding:.3rem;text-align:left;vertical-align:top}"
    "th{width:12rem;background:#f3f6f9}pre{margin:0;white-space:pre-wrap}"
)


def render_html(report: Mapping[str, Any]) -> str:
    """The report as one self-contained HTML page (its style inline, nothing fetched)."""
    language = report["language"] if report["language"] in LANGUAGES else "az"
    words = catalogue()[language]
    parts = []
    for answer in report["services"]:
        name = words["services"].get(answer["service"], answer["service"])
        held = [_holding(h, words) for h in answer["holdings"]] or [
            f"<p>{html.escape(words['nothing'])}</p>"
        ]
        parts.append(f"<h2>{html.escape(name)}</h2>{''.join(held)}")
    ids = ", ".join(html.escape(str(i)) for i in report["application_ids"]) or "-"
    return (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        f"<title>{html.escape(words['title'])}</title><style>{STYLE}</style></head><body>"
        f"<h1>{html.escape(words['title'])}</h1><p>{html.escape(words['intro'])}</p>"
        f"<p>{html.escape(words['generated'])}: {html.escape(report['generated_at'])}<br>"
        f"{html.escape(words['applications'])}: {ids}</p>{''.join(parts)}</body></html>\n"
    )
