"""A case as social workers see it: the application's searchable facts, what a search asks for,
and who may see it. Pure: no database, no HTTP."""

import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any, Self
from uuid import UUID
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from intake.store import ApplicationRow, Status
from socialsvc_common.apikeys import Caller
from socialsvc_common.contract.actor import NAME_PATTERN
from socialsvc_common.contract.payloads import FIN_PATTERN, Applicant, TargetGroup
from socialsvc_common.explanations import application_ref
from socialsvc_common.geography import UnknownUnit, load_geography
from socialsvc_common.problems import Problem

# Azerbaijani has a dotted and a dotless i in both cases; people type either, so all fold to "i".
_DOTS = str.maketrans({"\u0130": "i", "I": "i", "\u0131": "i"})
REFERENCE_PATTERN = r"^[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}$"
# Search dates are the workers' calendar days.
BAKU = ZoneInfo("Asia/Baku")
# Groups are stored comma-wrapped (",elderly,disability,") so one LIKE finds a group by its name.
_SEPARATOR = ","


def fold(text: str) -> str:
    """The form a name is searched in: composed, every i alike, case folded."""
    return unicodedata.normalize("NFC", text).translate(_DOTS).casefold()


def display_name(applicant: Applicant) -> str:
    return f"{applicant.first_name} {applicant.last_name}"


def searchable(applicant: Applicant) -> dict[str, Any]:
    """The columns the search finds an applicant by (ApplicationRow)."""
    name = display_name(applicant)
    return {"applicant_name": name, "name_key": fold(name), "district": applicant.district}


def groups_text(groups: Iterable[TargetGroup]) -> str:
    return _SEPARATOR + "".join(f"{group.value}{_SEPARATOR}" for group in groups)


def groups_of(text: str) -> list[str]:
    return [group for group in text.split(_SEPARATOR) if group]


def group_pattern(group: TargetGroup) -> str:
    """The LIKE pattern of a case with this group (a group's name holds no wildcard)."""
    return f"%{_SEPARATOR}{group.value}{_SEPARATOR}%"


def reference_range(reference: str) -> tuple[UUID, UUID]:
    """The ids a short reference ('1A2B-3C4D', any case, dash optional) stands for: those
    whose first eight hex digits it is."""
    head = reference.replace("-", "").lower()
    return UUID(head + "0" * 24), UUID(head + "f" * 24)


def like_escaped(text: str) -> str:
    """`text` as a LIKE substring pattern that matches it literally (escape character '\\')."""
    return "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"


def baku_day_start(day: date) -> datetime:
    """When a calendar day in Azerbaijan begins."""
    return datetime.combine(day, time.min, tzinfo=BAKU)


class CaseSearch(BaseModel):
    """What a worker searches cases by (the query of GET /cases); a filter left out is any."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reference: str | None = Field(default=None, pattern=REFERENCE_PATTERN, description="1A2B-3C4D")
    fin: str | None = Field(default=None, pattern=FIN_PATTERN, description="exactly")
    name: str | None = Field(
        default=None, min_length=2, max_length=100, description="part of the first or last name"
    )
    district: str | None = Field(default=None, min_length=1, max_length=100)
    status: Status | None = None
    target_group: TargetGroup | None = None
    submitted_from: date | None = Field(default=None, description="a day in Asia/Baku, inclusive")
    submitted_to: date | None = Field(default=None, description="a day in Asia/Baku, inclusive")
    assigned_to: str | None = Field(default=None, pattern=NAME_PATTERN, description="a key's name")
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=1_000_000)

    @field_validator("district")
    @classmethod
    def _known_district(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return load_geography().canonical(value)
        except UnknownUnit as unknown:
            raise ValueError(str(unknown)) from None

    @model_validator(mode="after")
    def _period_in_order(self) -> Self:
        if self.submitted_from and self.submitted_to and self.submitted_from > self.submitted_to:
            raise ValueError("submitted_from is after submitted_to")
        return self

    def submitted_between(self) -> tuple[datetime | None, datetime | None]:
        """The search's dates as [start, end) instants, each date inclusive."""
        start = baku_day_start(self.submitted_from) if self.submitted_from else None
        end = baku_day_start(self.submitted_to + timedelta(days=1)) if self.submitted_to else None
        return start, end


class CaseSummary(BaseModel):
    application_id: UUID
    reference: str
    name: str | None
    district: str | None
    status: str
    service_requested: str
    target_groups: list[str]
    submitted_at: datetime
    updated_at: datetime
    assigned_to: str | None


def summary_of(row: ApplicationRow) -> CaseSummary:
    return CaseSummary(
        application_id=row.id,
        reference=application_ref(row.id),
        name=row.applicant_name,
        district=row.district,
        status=row.status,
        service_requested=row.service_requested,
        target_groups=groups_of(row.target_groups),
        submitted_at=row.submitted_at,
        updated_at=row.updated_at,
        assigned_to=row.assigned_to,
    )


class CaseNotFound(Problem):
    """No such case, or one outside the caller's districts: the same answer, so a scoped key
    learns nothing of cases it does not serve."""

    def __init__(self, application_id: UUID) -> None:
        super().__init__(404, "not-found", "No such case", f"no case {application_id}")


class CaseErased(Problem):
    def __init__(self, application_id: UUID) -> None:
        super().__init__(
            410, "erased", "The person's data was erased", f"case {application_id} was erased"
        )


def serves(caller: Caller, row: ApplicationRow) -> bool:
    """Whether the caller may see and act on the case (a case of no known district is served
    only by keys of every district)."""
    return caller.serves(row.district or "")


def in_scope(row: ApplicationRow | None, application_id: UUID, caller: Caller) -> ApplicationRow:
    """The case if the caller serves its district; CaseNotFound otherwise."""
    if row is None or not serves(caller, row):
        raise CaseNotFound(application_id)
    return row


def open_case(row: ApplicationRow | None, application_id: UUID, caller: Caller) -> ApplicationRow:
    """A case in the caller's scope whose person's data is still held (CaseErased if not)."""
    case = in_scope(row, application_id, caller)
    if case.erased_at is not None:
        raise CaseErased(application_id)
    return case
