"""Gives every principal of the access map its SCRAM user and exactly its ACLs (`socialsvc-acls`).

The partner organisations of the register given with `--partners` (socialsvc_common.partners)
keep their ACLs; their passwords, which only they know, are never set here.

Run as the cluster's super user (SOCIALSVC_KAFKA_SECURITY_PROTOCOL=SASL_SSL,
SOCIALSVC_KAFKA_SASL_USERNAME=admin, SOCIALSVC_KAFKA_SASL_PASSWORD=...). The principals' passwords
come from a `principal=password` file readable by its owner only; a principal missing from it
gets a new random password written there. Running it again changes nothing but the salts: ACLs a
principal should have are added, ACLs it should no longer have are removed, and the command
returns once every broker enforces the result. Passwords are never printed.
"""

import argparse
import asyncio
import os
import secrets
import stat
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from aiokafka.errors import KafkaError

from socialsvc_common.contract.access import RETIRED_PRINCIPALS, Access, Grant, access_map
from socialsvc_common.partners import PartnerError, Register
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


def load_passwords(path: Path, principals: Iterable[str]) -> dict[str, str]:
    """The password of each principal from `path`, adding random ones for those it lacks."""
    known: dict[str, str] = {}
    if path.exists():
        if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SecurityAdminError(f"{path} is readable by others: chmod 600 it first")
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if not line.strip() or line.startswith("#"):
                continue
            name, separator, password = line.partition("=")
            if not separator or not name.strip() or not password:
                raise SecurityAdminError(f"{path}:{number}: expected principal=password")
            known[name.strip()] = password
    missing = [name for name in principals if name not in known]
    if missing:
        known |= {name: secrets.token_urlsafe(24) for name in missing}
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.writelines(f"{name}={password}\n" for name, password in sorted(known.items()))
    return known


async def provision(
    admin_settings: ServiceSettings,
    passwords: Mapping[str, str],
    principals: Mapping[str, Access] | None = None,
) -> list[str]:
    """Makes users and ACLs match the access map; returns a line for each change. The
    credentials set are those of the principals in `passwords`: a partner's (issued by
    socialsvc-partners, its password kept nowhere) is left as it is."""
    principals = access_map() if principals is None else principals
    admin = await admin_client(admin_settings, "socialsvc-acls")
    try:
        users = {name: passwords[name] for name in principals if name in passwords}
        await upsert_scram_users(admin, users)
        report = [f"user {name}: credential set" for name in sorted(users)]
        wanted = {name: set(access.grants()) for name, access in principals.items()}
        for name, grants in sorted(wanted.items()):
            have = await describe_acls(admin, name)
            await create_acls(admin, sorted(grants - have))
            await delete_acls(admin, sorted(have - grants))
            report += [f"granted {_show(grant)}" for grant in sorted(grants - have)]
            report += [f"revoked {_show(grant)}" for grant in sorted(have - grants)]
        for retired in RETIRED_PRINCIPALS:
            stale = await describe_acls(admin, retired)
            await delete_acls(admin, sorted(stale))
            await delete_scram_users(admin, [retired], missing_ok=True)
            report += [f"revoked {_show(grant)}" for grant in sorted(stale)]
            wanted[retired] = set()
        await wait_until_enforced(admin, wanted)
        return report
    finally:
        await admin.close()


def _show(grant: Grant) -> str:
    prefixed = " (prefix)" if grant.pattern == "prefixed" else ""
    return f"{grant.principal}: {grant.operation} {grant.resource} {grant.name}{prefixed}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="socialsvc-acls",
        description="Create the SCRAM users and ACLs of the access map on a secure cluster, "
        "as the super user given by SOCIALSVC_KAFKA_SASL_USERNAME/PASSWORD.",
    )
    parser.add_argument("--bootstrap-servers", help="host:port,... (default: from SOCIALSVC_)")
    parser.add_argument(
        "--passwords",
        type=Path,
        required=True,
        help="principal=password file (mode 600); missing principals get new passwords there",
    )
    parser.add_argument(
        "--partners",
        type=Path,
        help="the partner register of socialsvc-partners: their ACLs are kept, their passwords "
        "left alone",
    )
    args = parser.parse_args(argv)
    overrides = (
        {"kafka_bootstrap_servers": args.bootstrap_servers} if args.bootstrap_servers else {}
    )
    try:
        settings = ServiceSettings(**overrides)
        if settings.kafka_security_protocol == "PLAINTEXT":
            raise SecurityAdminError("set SOCIALSVC_KAFKA_SECURITY_PROTOCOL=SASL_SSL")
        partners = Register(args.partners).current() if args.partners else {}
        passwords = load_passwords(args.passwords, access_map())
        report = asyncio.run(provision(settings, passwords, access_map(partners)))
    except (PartnerError, SecurityAdminError, KafkaError, OSError, ValueError) as error:
        print(f"socialsvc-acls: error: {error}", file=sys.stderr)
        return 2
    print("\n".join(report))
    return 0
