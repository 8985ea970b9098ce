"""Partner organisations on the secure cluster, one Kafka principal each (`socialsvc-partners`).

An NGO, a research institute or another ministry that reads the platform's public streams gets a
principal of its own, `partner-<name>` (socialsvc_common.contract.access), never a shared one:
- `issue NAME --organisation TEXT` creates its SCRAM credential and its ACLs (read `public.*`, in
  consumer groups `partner-<name>-*`). The random password is printed once, for the partner,
  and kept nowhere.
- `revoke NAME` removes its ACLs and its credential. It can no longer log in, and a connection it
  still holds is refused at its next request.
- `list` shows the partners and who issued each.

The register is a JSON-lines file, owner-only, appended to by every issue and revocation with
who did it and when; it is the audit trail too. A partner is current when its last line is an
issue. `socialsvc-acls --partners FILE` reads it, so provisioning the cluster again keeps the
current partners' ACLs and leaves their passwords alone.

Run as the cluster's super user, like socialsvc-acls (SOCIALSVC_KAFKA_SECURITY_PROTOCOL=
SASL_SSL, SOCIALSVC_KAFKA_SSL_CAFILE=..., SOCIALSVC_KAFKA_SASL_USERNAME=admin,
SOCIALSVC_KAFKA_SASL_PASSWORD=...).
"""

import argparse
import asyncio
import json
import os
import re
import secrets
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiokafka.errors import KafkaError

from socialsvc_common.apikeys import Role
from socialsvc_common.contract.access import partner_access, partner_principal
from socialsvc_common.contract.actor import Actor
from socialsvc_common.secure_admin import (
    SecurityAdminError,
    admin_client,
    create_acls,
    delete_acls,
    delete_scram_users,
    describe_acls,
    upsert_scram_users,
    wait_until_enforced,
)
from socialsvc_common.settings import ServiceSettings

# No dash: a partner's groups are `partner-<name>-*`, so a dash in a name would make one partner's
# prefix ("partner-umid-") cover another's groups ("partner-umid-x-...").
NAME = re.compile(r"^[a-z0-9]{1,40}$")
ISSUED, REVOKED = "issued", "revoked"


class PartnerError(ValueError):
    """A partner that cannot be issued or revoked as asked; the message says why."""


@dataclass(frozen=True)
class Entry:
    partner: str
    organisation: str
    action: str
    at: str
    by: str


class Register:
    """The register of partner organisations at `path` (created owner-only on first write)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def entries(self) -> list[Entry]:
        if not self.path.exists():
            return []
        if self.path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise PartnerError(f"{self.path} is readable by others: chmod 600 it first")
        found = []
        for number, line in enumerate(self.path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                found.append(Entry(**json.loads(line)))
            except (TypeError, ValueError):
                raise PartnerError(f"{self.path}:{number}: not a register entry") from None
        return found

    def current(self) -> dict[str, Entry]:
        """The partners whose last entry is an issue, by name, with that entry."""
        last: dict[str, Entry] = {}
        for entry in self.entries():
            last[entry.partner] = entry
        return {name: entry for name, entry in last.items() if entry.action == ISSUED}

    def append(self, entry: Entry) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(descriptor, "a") as file:
            file.write(json.dumps(entry.__dict__, ensure_ascii=False) + "\n")


def checked_name(name: str) -> str:
    if not NAME.match(name):
        raise PartnerError(
            f"{name!r}: a partner's name is 1-40 lowercase letters or digits (no '-': it "
            "separates the name from the partner's group names)"
        )
    return name


async def issue(
    settings: ServiceSettings, register: Register, name: str, organisation: str, by: Actor
) -> str:
    """Creates the partner's credential and ACLs and records who did; returns its password."""
    name = checked_name(name)
    if not organisation.strip():
        raise PartnerError("say which organisation the partner is (--organisation)")
    if name in register.current():
        raise PartnerError(f"{name} is issued already; revoke it first to issue it anew")
    access = partner_access(partner_principal(name))
    password = secrets.token_urlsafe(24)
    admin = await admin_client(settings, "socialsvc-partners")
    try:
        await upsert_scram_users(admin, {access.principal: password})
        await create_acls(
            admin, sorted(set(access.grants()) - await describe_acls(admin, access.principal))
        )
        await wait_until_enforced(admin, {access.principal: set(access.grants())})
    finally:
        await admin.close()
    register.append(Entry(name, organisation.strip(), ISSUED, _now(), str(by)))
    return password


async def revoke(settings: ServiceSettings, register: Register, name: str, by: Actor) -> None:
    """Removes the partner's ACLs and credential and records who did."""
    current = register.current()
    if name not in current:
        raise PartnerError(f"{name} is not an issued partner")
    principal = partner_principal(name)
    admin = await admin_client(settings, "socialsvc-partners")
    try:
        await delete_acls(admin, sorted(await describe_acls(admin, principal)))
        # A revocation that stopped half-way (its credential gone) can be run again.
        await delete_scram_users(admin, [principal], missing_ok=True)
        await wait_until_enforced(admin, {principal: set()})
    finally:
        await admin.close()
    register.append(Entry(name, current[name].organisation, REVOKED, _now(), str(by)))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="socialsvc-partners",
        description="Issue, revoke and list the partner organisations' Kafka principals, as the "
        "super user given by SOCIALSVC_KAFKA_SASL_USERNAME/PASSWORD.",
    )
    parser.add_argument("--register", type=Path, required=True, help="the register (JSON lines)")
    commands = parser.add_subparsers(dest="command", required=True)
    issuing = commands.add_parser("issue", help="give a partner its principal; prints its password")
    issuing.add_argument("name")
    issuing.add_argument("--organisation", required=True, help="the organisation's full name")
    revoking = commands.add_parser("revoke", help="take a partner's principal away")
    revoking.add_argument("name")
    commands.add_parser("list", help="the partners issued now")
    args = parser.parse_args(argv)
    register = Register(args.register)
    try:
        if args.command == "list":
            for name, entry in sorted(register.current().items()):
                issued = f"issued {entry.at} by {entry.by}"
                print(f"{partner_principal(name)}\t{entry.organisation}\t{issued}")
            return 0
        settings = ServiceSettings()
        if settings.kafka_security_protocol == "PLAINTEXT":
            raise SecurityAdminError("set SOCIALSVC_KAFKA_SECURITY_PROTOCOL=SASL_SSL")
        by = Actor.running(Role.ADMINISTRATOR)
        if args.command == "issue":
            password = asyncio.run(issue(settings, register, args.name, args.organisation, by))
            print(f"principal {partner_principal(args.name)}")
            print(f"password {password}")
            print("give both to the partner over a safe channel; the password is shown only now")
        else:
            asyncio.run(revoke(settings, register, args.name, by))
            print(f"revoked {partner_principal(args.name)}")
    except (PartnerError, SecurityAdminError, KafkaError, OSError, ValueError) as error:
        print(f"socialsvc-partners: error: {error}", file=sys.stderr)
        return 2
    return 0
