"""A message at every turn, on the whole platform with short periods: an offer made, reminded
and lapsed; accepted, started and ended; declined; facts never sent, reminded and expired; and a
refusal that states only the reasons that decided it. Each text is read from the SMS sink, in
the citizen's language, and compared with the template's."""

import uuid
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from notifications.quiet_hours import BAKU
from notifications.templates import MessageContext, MessageKind, default_templates, render
from socialsvc_common.apikeys import Role
from socialsvc_common.contract.payloads import Language
from tests.harness import until

from .applicants import mixed_applications
from .conftest import Platform

pytestmark = pytest.mark.integration
DAY = 86_400
OFFER_SECONDS = 30
# The reminder goes this long before the offer lapses: 12 seconds after it is made.
REMINDER_SECONDS = 18
REMIND_AFTER_SECONDS, EXPIRE_AFTER_SECONDS = 5, 12


@pytest.fixture
def platform_settings(tmp_path: Path) -> dict[str, dict[str, str]]:
    policy = tmp_path / "needs_information.toml"
    policy.write_text(
        f'version = "e2e"\nreminder_after_days = {REMIND_AFTER_SECONDS / DAY:.10f}\n'
        f"expire_after_days = {EXPIRE_AFTER_SECONDS / DAY:.10f}\n",
        encoding="utf-8",
    )
    return {
        "intake": {"information_policy_file": str(policy), "information_sweep_seconds": "0.5"},
        "assignment": {"offer_days": str(OFFER_SECONDS / DAY), "offer_sweep_seconds": "0.5"},
        "notifications": {"offer_reminder_days": str(REMINDER_SECONDS / DAY)},
    }


def citizen(seed: int, language: Language, **circumstances: Any) -> dict[str, Any]:
    """A form answered by SMS alone (no e-mail), in `language`."""
    body = mixed_applications(1, seed=seed)[0]
    body["applicant"] |= {"email": None, "language": language.value, "district": "Xətai"}
    if circumstances:
        body["circumstances"] = circumstances
    return body


def home_care(seed: int, language: Language) -> dict[str, Any]:
    """An elderly person living alone who needs help: offered home care in Xətai."""
    body = citizen(
        seed,
        language,
        lives_alone=True,
        activities_needing_help=["washing", "eating", "moving_about", "toilet", "dressing"],
    )
    body["service_requested"] = "home_care"
    body["applicant"]["birth_date"] = "1946-05-01"
    return body


def reference(application_id: str) -> str:
    head = uuid.UUID(application_id).hex[:8].upper()
    return f"{head[:4]}-{head[4:]}"


def texts_to(platform: Platform, application_id: str) -> list[str]:
    ref = reference(application_id)
    return [line["text"] for line in platform.sink_lines("sms.jsonl") if ref in line["text"]]


def in_order(texts: list[str], expected: list[str]) -> bool:
    """Each expected text is among the texts, in this order. Other platforms on the shared broker
    act on this run's applications too (their decisions and offers reach this run's
    notifications), so their messages may come in between."""
    position = 0
    for text in expected:
        if text not in texts[position:]:
            return False
        position = texts.index(text, position) + 1
    return True


def told_in_order(platform: Platform, application_id: str, expected: list[str]) -> bool:
    return in_order(texts_to(platform, application_id), expected)


def sms(kind: MessageKind, language: Language, application_id: str, **context: Any) -> str:
    ref = reference(application_id)
    return render(kind, language, MessageContext(application_ref=ref, **context)).sms


async def eventually(check: Callable[[], Any], seconds: float = 90) -> Any:
    async def checked() -> Any:
        return check()

    return await until(checked, seconds)


async def submit(platform: Platform, form: dict[str, Any]) -> str:
    async with platform.client("intake", Role.SOCIAL_WORKER, timeout=30) as intake:
        submitted = await intake.post("/applications", json=form)
    assert submitted.status_code == 202, submitted.text
    return str(submitted.json()["application_id"])


async def test_offers_reminded_answered_lapsed_and_ended_are_told(platform: Platform) -> None:
    az, ru, en = Language.AZ, Language.RU, Language.EN
    accepting = await submit(platform, home_care(41, az))
    waiting = await submit(platform, home_care(42, ru))
    declining = await submit(platform, home_care(43, en))
    assignment = platform.client("assignment", Role.OPERATOR, timeout=30)

    async def offered(application_id: str) -> dict[str, Any] | None:
        found = await assignment.get("/placements", params={"application_id": application_id})
        rows = [row for row in found.json() if row["status"] == "offered"]
        return rows[0] if rows and texts_to(platform, application_id) else None

    offers = {}
    for application_id in (accepting, waiting, declining):
        offers[application_id] = await until(partial(offered, application_id))
    assert all(offers.values()), offers
    placement = offers[accepting]["id"]
    for step in ("accept", "start"):
        assert (await assignment.post(f"/placements/{placement}/{step}")).status_code == 202
    ended = {"reason": "service_ended"}
    assert (
        await assignment.post(f"/placements/{placement}/release", json=ended)
    ).status_code == 202
    declined = await assignment.post(f"/placements/{offers[declining]['id']}/decline")
    assert declined.status_code == 202
    await assignment.aclose()

    lapsed = sms(MessageKind.OFFER_LAPSED, ru, waiting)
    assert await eventually(lambda: lapsed in texts_to(platform, waiting), OFFER_SECONDS + 60), (
        texts_to(platform, waiting)
    )
    turns = {
        accepting: (
            az,
            [MessageKind.OFFER_ACCEPTED, MessageKind.SERVICE_STARTED, MessageKind.SERVICE_ENDED],
        ),
        waiting: (ru, [MessageKind.OFFER_REMINDER, MessageKind.OFFER_LAPSED]),
        declining: (en, [MessageKind.OFFER_DECLINED]),
    }
    for application_id, (language, kinds) in turns.items():
        expires = offers[application_id]["offer_expires_at"]
        pack = default_templates()[language]
        moment = datetime.fromisoformat(expires).astimezone(BAKU).strftime(pack.date_time)
        # This run's offer, with its answer's last moment in Baku time, then the turns.
        answer = pack.sentences["offer_answer"]["until"].format(offer_expires=moment)
        offer_text = next(t for t in texts_to(platform, application_id) if answer in t)
        expected = [offer_text] + [
            sms(kind, language, application_id, offer_expires_at=expires) for kind in kinds
        ]
        done = await eventually(partial(told_in_order, platform, application_id, expected))
        assert done, (language, texts_to(platform, application_id))
    # An offer answered before its reminder's time gets no reminder.
    reminder_words = {az: "saxlanılır", en: "held for you until"}
    assert not any(reminder_words[az] in t for t in texts_to(platform, accepting))
    assert not any(reminder_words[en] in t for t in texts_to(platform, declining))


async def test_facts_never_sent_are_reminded_then_expire_and_a_refusal_reads_clear(
    platform: Platform,
) -> None:
    # Profile 9 of the applicants: a family of four that did not state its income.
    asked = mixed_applications(10, seed=11)[9]
    asked["applicant"] |= {"email": None, "language": "ru"}
    waiting = await submit(platform, asked)
    # Forty, no group, income above the need criterion: refused.
    no_group = citizen(
        44, Language.EN, activities_needing_help=["washing"], monthly_household_income_azn="5000"
    )
    no_group["applicant"]["birth_date"] = "1986-01-10"
    refused = await submit(platform, no_group)
    async with platform.client("intake", Role.SOCIAL_WORKER, timeout=30) as intake:

        async def expired() -> dict[str, Any] | None:
            journey = (await intake.get(f"/applications/{waiting}")).json()
            return journey if journey["status"] == "expired" else None

        journey = await until(expired, 90)
        assert journey, (await intake.get(f"/applications/{waiting}")).json()
        late = await intake.patch(
            f"/applications/{waiting}", json={"monthly_household_income_azn": "320"}
        )
    assert late.status_code == 409
    steps = {step["type"]: step for step in journey["journey"]}
    assert steps["intake.information.reminded"]["summary"]["missing"] == [
        "monthly_household_income_azn"
    ]
    assert steps["intake.application.expired"]["summary"]["reason"] == "information_not_received"
    assert steps["intake.application.expired"]["actor"] is None

    closed = sms(MessageKind.APPLICATION_EXPIRED, Language.RU, waiting)
    assert await eventually(lambda: closed in texts_to(platform, waiting))
    texts = texts_to(platform, waiting)
    pack = default_templates()[Language.RU]
    expires_at = steps["intake.information.reminded"]["summary"]["expires_at"]
    reminder = sms(
        MessageKind.INFORMATION_REMINDER,
        Language.RU,
        waiting,
        missing=["monthly_household_income_azn"],
        expires_at=expires_at,
    )
    assert in_order(texts, [reminder, closed]), texts
    assert pack.missing["monthly_household_income_azn"] in texts[-2]

    en = default_templates()[Language.EN]
    refusal = await eventually(lambda: [t for t in texts_to(platform, refused) if "cannot" in t])
    assert refusal, texts_to(platform, refused)
    assert en.reasons["no_target_group"] in refusal[0]
    assert en.reasons["income_above_need_criterion"] in refusal[0]
    assert en.reasons["group_not_served"] not in refusal[0]
    assert en.sentences["appeal"]["open"] in refusal[0]
