"""The provider registry in assignment's database, managed over HTTP or by CSV import.

The registry file seeds providers the database does not know yet; after that the database is the
truth, so an administrator's change survives restarts and every replica sees it. A capacity cut
never evicts anyone: the ledger keeps room for those already placed (capacity = max(wanted,
used)) while the provider's own capacity, which matching reads, stops new placements until it is
under its limit again.
"""

import csv
import io
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, func
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from assignment.registry import NgoProject, Problem, Provider, RegistryError, parse_providers
from assignment.store import LedgerRow
from socialsvc_common.contract import topics
from socialsvc_common.contract.actor import MAX_LENGTH as ACTOR_LENGTH
from socialsvc_common.contract.actor import Actor
from socialsvc_common.contract.envelope import Event, new_event
from socialsvc_common.contract.payloads import ProvisionType
from socialsvc_common.contract.public import PublicProviderChanged, provider_subject
from socialsvc_common.db import UtcDateTime, among
from socialsvc_common.geography import Geography, load_geography
from socialsvc_common.outbox import add_events

REGISTRY_LOCK_KEY = 7_160_023
LIST_FIELDS = frozenset({"districts", "target_groups"})


class ProviderRow(SQLModel, table=True):
    __tablename__ = "providers"

    id: str = Field(primary_key=True)
    provision_type: str = Field(index=True)
    definition: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    # Who last created or changed it (`<role>:<name>`); none for a provider seeded from the file.
    changed_by: str | None = Field(default=None, max_length=ACTOR_LENGTH)


def definition_of(provider: Provider) -> dict[str, Any]:
    """The provider as a registry entry (the field names of the file and the API)."""
    return provider.model_dump(mode="json", by_alias=True)


def parse_one(entry: dict[str, Any], geography: Geography) -> Provider:
    """One provider from an API body: `provision_type` plus the fields of its kind."""
    kind = entry.get("provision_type")
    body = {k: v for k, v in entry.items() if k != "provision_type"}
    if kind not in {t.value for t in ProvisionType}:
        expected = ", ".join(t.value for t in ProvisionType)
        raise RegistryError(
            "request",
            [Problem(str(body.get("id", "-")), "provision_type", f"expected one of {expected}")],
        )
    return parse_providers({str(kind): [body]}, geography, source="request")[0]


def parse_csv(document: str, geography: Geography) -> list[Provider]:
    """Providers from CSV (a header row; lists separated by ';'); every bad row is reported."""
    providers: list[Provider] = []
    problems: list[Problem] = []
    for number, row in enumerate(csv.DictReader(io.StringIO(document)), start=2):
        entry: dict[str, Any] = {
            key.strip(): (
                [part.strip() for part in value.split(";")]
                if key.strip() in LIST_FIELDS
                else value.strip()
            )
            for key, value in row.items()
            if key and value and value.strip()
        }
        try:
            providers.append(parse_one(entry, geography))
        except RegistryError as error:
            problems += [
                Problem(f"row {number} ({p.provider_id})", p.field, p.message)
                for p in error.problems
            ]
    seen: set[str] = set()
    for provider in providers:
        if provider.id in seen:
            problems.append(Problem(provider.id, "id", "appears in more than one row"))
        seen.add(provider.id)
    if problems:
        raise RegistryError("CSV", problems)
    # In id order, the order placements lock ledger rows in, so an import and a placement never
    # wait for each other.
    return sorted(providers, key=lambda p: p.id)


async def _lock(session: AsyncSession) -> None:
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.exec(select(func.pg_advisory_xact_lock(REGISTRY_LOCK_KEY)))


async def seed(
    session: AsyncSession, providers: list[Provider], geography: Geography | None = None
) -> int:
    """Adds the providers the database does not know (with their ledger rows); returns how many.

    The providers it already knows are told on public.provider.changed again, as they are: a
    deployment older than that topic has them on it after its first start, and on the compacted
    topic a repeat replaces an equal record."""
    await _lock(session)
    known = (await session.exec(select(ProviderRow))).all()
    await add_events(
        session,
        [
            provider_changed(stored(row, geography or load_geography()), row.updated_at)
            for row in known
        ],
    )
    known_ids = {row.id for row in known}
    added = [p for p in providers if p.id not in known_ids]
    for provider in sorted(added, key=lambda p: p.id):
        await upsert(session, provider)
    return len(added)


async def upsert(
    session: AsyncSession, provider: Provider, changed_by: Actor | None = None
) -> tuple[bool, LedgerRow]:
    """Creates or changes a provider and its ledger row under the row's lock, recording who did
    it; returns whether it was created, and the (locked) ledger row."""
    now = datetime.now(UTC)
    existing = await session.get(ProviderRow, provider.id, with_for_update=True)
    if existing is not None and existing.provision_type != provider.provision_type.value:
        raise RegistryError(
            "request",
            [
                Problem(
                    provider.id,
                    "provision_type",
                    f"the provider is {existing.provision_type}; a new id is needed",
                )
            ],
        )
    row = existing or ProviderRow(
        id=provider.id, provision_type=provider.provision_type.value, definition={}, updated_at=now
    )
    row.definition, row.updated_at = definition_of(provider), now
    row.changed_by = str(changed_by) if changed_by else None
    session.add(row)
    ledger = await session.get(LedgerRow, provider.id, with_for_update=True)
    if ledger is None:
        ledger = LedgerRow(
            provider_id=provider.id,
            provision_type=provider.provision_type.value,
            capacity=provider.capacity,
        )
    ledger.capacity = max(provider.capacity, ledger.used)
    ledger.district = (
        provider.districts[0] if provider.provision_type is ProvisionType.HOME_CARE else None
    )
    session.add(ledger)
    await add_events(session, [provider_changed(provider, now)])
    return existing is None, ledger


def provider_changed(provider: Provider, at: datetime) -> Event:
    """The provider's new state for partners and the statistics (public.provider.changed.v1)."""
    project = provider if isinstance(provider, NgoProject) else None
    payload = PublicProviderChanged(
        provider_id=provider.id,
        provision_type=provider.provision_type,
        name=provider.name,
        organisation=project.organisation if project else None,
        districts=list(provider.districts),
        capacity=provider.capacity,
        target_groups=list(provider.served_groups),
        contract_start=project.contract_start if project else None,
        contract_end=project.contract_end if project else None,
        changed_at=at,
    )
    return new_event(
        topics.PUBLIC_PROVIDER_CHANGED,
        payload,
        producer="assignment",
        application_id=provider_subject(provider.id),
        at=at,
    )


def stored(row: ProviderRow, geography: Geography) -> Provider:
    """The provider a registry row holds."""
    return parse_one({"provision_type": row.provision_type, **row.definition}, geography)


class ProviderCache:
    """Parsed providers by id, re-read only when their row changed."""

    def __init__(self, geography: Geography) -> None:
        self.geography = geography
        self._parsed: dict[str, tuple[datetime, Provider]] = {}

    async def load(self, session: AsyncSession, ids: list[str]) -> dict[str, Provider]:
        query = select(ProviderRow).where(among(col(ProviderRow.id), ids))
        found: dict[str, Provider] = {}
        for row in (await session.exec(query)).all():
            cached = self._parsed.get(row.id)
            if cached is None or cached[0] != row.updated_at:
                cached = (row.updated_at, stored(row, self.geography))
                self._parsed[row.id] = cached
            found[row.id] = cached[1]
        return found


def capacity_of(definition: dict[str, Any]) -> int:
    for field in ("capacity", "caseload_limit", "places"):
        if field in definition:
            return int(definition[field])
    return 0


async def listing(session: AsyncSession) -> list[dict[str, Any]]:
    query = (
        select(ProviderRow, LedgerRow)
        .join(LedgerRow, col(LedgerRow.provider_id) == col(ProviderRow.id))
        .order_by(col(ProviderRow.id))
    )
    return [
        {
            "provision_type": row.provision_type,
            **row.definition,
            # One name for the places of every kind (caseload limit, places, capacity).
            "capacity": capacity_of(row.definition),
            "used": ledger.used,
            "updated_at": row.updated_at,
            "changed_by": Actor.stored(row.changed_by),
        }
        for row, ledger in (await session.exec(query)).all()
    ]
