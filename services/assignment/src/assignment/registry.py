"""Providers that can take a person: home-care teams, residential institutions and NGO projects.

The registry is data (data/providers.toml, one array of tables per provision type), checked here
so that a mistake in the file stops the service at start-up with the provider and field named.
"""

import tomllib
from abc import abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from socialsvc_common.contract.payloads import ProvisionType, TargetGroup
from socialsvc_common.geography import Geography, UnknownUnit, load_geography

DEFAULT_PATH = Path(__file__).parent / "data" / "providers.toml"


def _geography(info: ValidationInfo) -> Geography:
    # Loaders pass the geography in the validation context; models built directly (tests, REPL)
    # fall back to the country's geography rather than skipping the check.
    given = (info.context or {}).get("geography")
    return given if isinstance(given, Geography) else load_geography()


def _known_unit(name: str, info: ValidationInfo) -> str:
    try:
        return _geography(info).canonical(name)
    except UnknownUnit as error:
        raise ValueError(str(error)) from None


KnownUnit = Annotated[str, AfterValidator(_known_unit)]
ProviderId = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)]
Groups = Annotated[tuple[TargetGroup, ...], Field(min_length=1)]


class Provider(BaseModel):
    """What matching needs of any provider, whatever its kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provision_type: ClassVar[ProvisionType]
    id: ProviderId
    name: str = Field(min_length=1, max_length=200)

    @property
    @abstractmethod
    def capacity(self) -> int: ...

    @property
    @abstractmethod
    def districts(self) -> tuple[str, ...]:
        """The units whose residents the provider serves from where it is."""

    @abstractmethod
    def accepts(self, groups: Iterable[TargetGroup]) -> bool: ...

    @property
    def served_groups(self) -> tuple[TargetGroup, ...]:
        """The only groups it takes; none for a provider that takes everyone."""
        return ()

    def active_on(self, on: date) -> bool:
        # State teams and institutions have no contract; only social orders expire.
        return True


class HomeCareTeam(Provider):
    provision_type: ClassVar[ProvisionType] = ProvisionType.HOME_CARE
    district: KnownUnit
    caseload_limit: PositiveInt

    @property
    def capacity(self) -> int:
        return self.caseload_limit

    @property
    def districts(self) -> tuple[str, ...]:
        return (self.district,)

    def accepts(self, groups: Iterable[TargetGroup]) -> bool:
        # Eligibility already decided that home care suits the person; teams do not select.
        return True


class Institution(Provider):
    provision_type: ClassVar[ProvisionType] = ProvisionType.RESIDENTIAL
    district: KnownUnit
    places: PositiveInt
    target_groups: Groups

    @property
    def capacity(self) -> int:
        return self.places

    @property
    def districts(self) -> tuple[str, ...]:
        return (self.district,)

    def accepts(self, groups: Iterable[TargetGroup]) -> bool:
        return not set(self.target_groups).isdisjoint(groups)

    @property
    def served_groups(self) -> tuple[TargetGroup, ...]:
        return self.target_groups


class NgoProject(Provider):
    """A social order ("sosial sifariş"): an NGO's project under a contract with the ministry."""

    provision_type: ClassVar[ProvisionType] = ProvisionType.NGO_PROJECT
    organisation: str = Field(min_length=1, max_length=200)
    # Aliased so the file says `districts` and `capacity` while the names stay free for the
    # properties every provider shares.
    districts_served: tuple[KnownUnit, ...] = Field(alias="districts", min_length=1)
    capacity_: PositiveInt = Field(alias="capacity")
    target_groups: Groups
    contract_start: date
    contract_end: date

    @field_validator("contract_end")
    @classmethod
    def _ends_after_start(cls, end: date, info: ValidationInfo) -> date:
        start = info.data.get("contract_start")
        if start is not None and end < start:
            raise ValueError(f"contract ends on {end}, before it starts on {start}")
        return end

    @property
    def capacity(self) -> int:
        return self.capacity_

    @property
    def districts(self) -> tuple[str, ...]:
        return self.districts_served

    def accepts(self, groups: Iterable[TargetGroup]) -> bool:
        return not set(self.target_groups).isdisjoint(groups)

    @property
    def served_groups(self) -> tuple[TargetGroup, ...]:
        return self.target_groups

    def active_on(self, on: date) -> bool:
        return self.contract_start <= on <= self.contract_end


SECTIONS: Mapping[str, type[Provider]] = {
    ProvisionType.HOME_CARE.value: HomeCareTeam,
    ProvisionType.RESIDENTIAL.value: Institution,
    ProvisionType.NGO_PROJECT.value: NgoProject,
}


@dataclass(frozen=True)
class Problem:
    provider_id: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"provider {self.provider_id!r}, field {self.field!r}: {self.message}"


class RegistryError(ValueError):
    """The provider registry cannot be used; `problems` lists every fault found, not the first."""

    def __init__(self, source: str, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"{source}: invalid provider registry:\n{lines}")


def load_providers(path: Path | None = None, geography: Geography | None = None) -> list[Provider]:
    """Every provider in the registry file (the shipped demo registry by default)."""
    source = path or DEFAULT_PATH
    try:
        document = tomllib.loads(source.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise RegistryError(str(source), [Problem("-", "-", f"not valid TOML: {error}")]) from None
    return parse_providers(document, geography or load_geography(), source=str(source))


def parse_providers(
    document: Mapping[str, Any], geography: Geography, source: str = "registry"
) -> list[Provider]:
    providers: list[Provider] = []
    problems: list[Problem] = []
    for section, entries in document.items():
        model = SECTIONS.get(section)
        if model is None or not isinstance(entries, list):
            expected = ", ".join(f"[[{name}]]" for name in SECTIONS)
            what = "not an array of tables" if model else "unknown section"
            problems.append(Problem("-", section, f"{what}; expected {expected}"))
            continue
        for index, entry in enumerate(entries):
            provider = _parse_entry(model, entry, f"{section}[{index}]", geography, problems)
            if provider is not None:
                providers.append(provider)
    problems.extend(_duplicates(providers))
    if problems:
        raise RegistryError(source, problems)
    return providers


def _parse_entry(
    model: type[Provider], entry: Any, position: str, geography: Geography, problems: list[Problem]
) -> Provider | None:
    # An entry without a usable id is named by its position, so the message still points at it.
    known_id = entry.get("id") if isinstance(entry, dict) else None
    provider_id = known_id if isinstance(known_id, str) and known_id else position
    try:
        return model.model_validate(entry, context={"geography": geography})
    except ValidationError as error:
        for detail in error.errors(include_url=False):
            field = ".".join(str(part) for part in detail["loc"]) or "(entry)"
            problems.append(Problem(provider_id, field, detail["msg"]))
        return None


def _duplicates(providers: Iterable[Provider]) -> list[Problem]:
    seen: set[str] = set()
    problems = []
    for provider in providers:
        if provider.id in seen:
            problems.append(Problem(provider.id, "id", "the id is used by another provider"))
        seen.add(provider.id)
    return problems
