"""Retention: how long a person's data is kept after their applications closed (policy data), and
whose time has come, in pure code."""

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from intake.store import CLOSED, Status

POLICY_FILE = Path(__file__).parent / "policy" / "retention.toml"


class RetentionPolicyError(ValueError):
    """The retention policy file cannot be used; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    version: str
    days_after_closing: dict[Status, int]

    @classmethod
    def load(cls, path: Path = POLICY_FILE) -> "RetentionPolicy":
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        days = data.get("days_after_closing", {})
        try:
            by_status = {Status(status): int(value) for status, value in days.items()}
        except ValueError as error:
            raise RetentionPolicyError(f"{path}: {error}") from None
        if set(by_status) != CLOSED or min(by_status.values()) < 1:
            wanted = ", ".join(sorted(CLOSED))
            raise RetentionPolicyError(f"{path}: give days >= 1 for exactly: {wanted}")
        return cls(str(data.get("version", "")), by_status)

    def retained_until(self, status: Status, closed_at: datetime) -> datetime | None:
        """When an application's data is due for erasure; None while it is open."""
        days = self.days_after_closing.get(status)
        return None if days is None else closed_at + timedelta(days=days)


@dataclass(frozen=True, slots=True)
class HeldApplication:
    fin: str
    status: Status
    updated_at: datetime


def people_due(
    applications: Iterable[HeldApplication], policy: RetentionPolicy, now: datetime
) -> list[str]:
    """The FINs whose every application is closed and past its retention, in FIN order."""
    due: dict[str, bool] = {}
    for application in applications:
        until = policy.retained_until(application.status, application.updated_at)
        due[application.fin] = due.get(application.fin, True) and until is not None and until <= now
    return sorted(fin for fin, ended in due.items() if ended)
