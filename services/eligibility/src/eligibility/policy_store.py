"""Activated rule sets: versions added by administrators without a code change.

The versions in force are the packaged files of `policy/` plus the rows of `rule_sets`. A row is
never changed once written: a version is refused at activation when another with the same number
but different content is already active (stored or packaged), so a decision naming a version can
always be explained by one rule set. "The same" means the same validated content: comments and
layout may differ. Because rows are only ever added, the number of rows and the latest activation
time are enough to tell the running service that something changed.
"""

import time
import tomllib
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Column, Text, func
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from eligibility.policy_check import same_content
from eligibility.ruleset import RuleSet, RuleSetError, default_rule_sets
from socialsvc_common.contract.actor import MAX_LENGTH as ACTOR_LENGTH
from socialsvc_common.contract.actor import Actor
from socialsvc_common.db import UtcDateTime

RELOAD_CHECK_SECONDS = 5.0


class RuleSetRow(SQLModel, table=True):
    __tablename__ = "rule_sets"

    version: str = Field(primary_key=True)
    effective_from: date
    effective_to: date | None = None
    # The TOML text as activated: what the administrator wrote is what an audit reads back.
    document: str = Field(sa_column=Column(Text, nullable=False))
    activated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    # Who activated it (`<role>:<name>`); none for versions activated before this was recorded.
    activated_by: str | None = Field(default=None, max_length=ACTOR_LENGTH)


class ActivationRefused(RuleSetError):
    """The rule set cannot be activated; the message says which version clashes and how."""


def parse_document(document: str, source: str) -> RuleSet:
    """A rule set from TOML text; RuleSetError names `source` when the text is not a rule set."""
    try:
        return RuleSet.model_validate(tomllib.loads(document))
    except (tomllib.TOMLDecodeError, ValidationError) as error:
        raise RuleSetError(f"{source}: not a valid rule set: {error}") from error


async def activate(
    session: AsyncSession,
    rule_set: RuleSet,
    document: str,
    actor: Actor,
    now: datetime | None = None,
) -> bool:
    """Stores `rule_set` (parsed from `document`) as active, by `actor`; False if it already was,
    unchanged (the first activation's actor stays).

    Raises ActivationRefused when the version is active with different content. Date collisions
    with other versions are the caller's to check first (`policy_check`).
    """
    if not same_content(parse_document(document, rule_set.version), rule_set):
        raise ValueError(f"document does not hold rule set {rule_set.version}")
    stored = await session.get(RuleSetRow, rule_set.version)
    active = [parse_document(stored.document, f"rule_sets row {stored.version}")] if stored else []
    active += [known for known in default_rule_sets() if known.version == rule_set.version]
    if any(not same_content(known, rule_set) for known in active):
        raise ActivationRefused(
            f"version {rule_set.version} is already active with different content"
        )
    if stored is not None:
        return False
    session.add(
        RuleSetRow(
            version=rule_set.version,
            effective_from=rule_set.effective_from,
            effective_to=rule_set.effective_to,
            document=document,
            activated_at=now or datetime.now(UTC),
            activated_by=str(actor),
        )
    )
    await session.flush()
    return True


async def activations(session: AsyncSession) -> list[RuleSetRow]:
    """The stored rows, oldest effective date first."""
    query = select(RuleSetRow).order_by(col(RuleSetRow.effective_from))
    return list((await session.exec(query)).all())


async def stored_rule_sets(session: AsyncSession) -> list[RuleSet]:
    """The activated rule sets, oldest effective date first."""
    rows = await activations(session)
    return [parse_document(row.document, f"rule_sets row {row.version}") for row in rows]


async def rule_sets_in_force(
    session: AsyncSession, packaged: Sequence[RuleSet] | None = None
) -> list[RuleSet]:
    """The packaged rule sets (`default_rule_sets()` unless given) and the activated ones.

    A stored version that is also packaged must be identical; if a release ships a file under a
    number already activated differently, this refuses rather than pick one silently.
    """
    if packaged is None:
        packaged = default_rule_sets()
    by_version = {known.version: known for known in packaged}
    for rule_set in await stored_rule_sets(session):
        known = by_version.get(rule_set.version)
        if known is not None and not same_content(known, rule_set):
            raise RuleSetError(
                f"version {rule_set.version} is packaged and activated with different content"
            )
        by_version[rule_set.version] = rule_set
    return sorted(by_version.values(), key=lambda rule_set: rule_set.effective_from)


async def activation_mark(session: AsyncSession) -> tuple[Any, int]:
    """(latest activation time, number of rows): changes whenever a version is activated."""
    query = select(func.max(col(RuleSetRow.activated_at)), func.count()).select_from(RuleSetRow)
    latest, count = (await session.exec(query)).one()
    return latest, count


class RuleSets:
    """The rule sets in force, reloaded when an activation is seen, so no restart is needed.

    Each call checks the activation mark at most once every `interval` seconds, within the
    caller's session; a new version is picked up within that delay.
    """

    def __init__(
        self,
        packaged: Sequence[RuleSet],
        interval: float = RELOAD_CHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._packaged = list(packaged)
        self._interval = interval
        self._clock = clock
        self._checked_at: float | None = None
        self._mark: tuple[Any, int] | None = None
        self._rule_sets = self._packaged

    async def current(self, session: AsyncSession) -> list[RuleSet]:
        now = self._clock()
        if self._checked_at is not None and now - self._checked_at < self._interval:
            return self._rule_sets
        mark = await activation_mark(session)
        if mark != self._mark:
            self._rule_sets = await rule_sets_in_force(session, self._packaged)
            self._mark = mark
        # Only after a successful load: a failed one is tried again on the next call.
        self._checked_at = now
        return self._rule_sets
