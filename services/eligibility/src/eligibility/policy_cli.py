"""Rule-set versions for administrators: check a candidate file, activate it, list what is active.

    python -m eligibility.policy_cli validate policy/2026-2.toml
    python -m eligibility.policy_cli activate policy/2026-2.toml [--actor NAME]
    python -m eligibility.policy_cli list

It uses eligibility's database (ELIGIBILITY_DATABASE_URL; by default var/data/eligibility.db). A
running service picks an activated version up within a few seconds, without a restart. An
activation records who made it: the administrator named by `--actor`, by default the user running
the command. Exit status: 0 done, 1 the file was refused (each reason printed as FILE:LINE: field:
reason), 2 bad usage.
"""

import argparse
import asyncio
import getpass
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from sqlmodel.ext.asyncio.session import AsyncSession

from eligibility.app import EligibilitySettings
from eligibility.policy_check import Finding, check_text
from eligibility.policy_store import (
    RuleSetRow,
    activate,
    activations,
    parse_document,
    rule_sets_in_force,
)
from eligibility.ruleset import RuleSet, RuleSetError
from eligibility.schema import SCHEMA
from socialsvc_common.apikeys import Role
from socialsvc_common.contract.actor import Actor
from socialsvc_common.db import make_engine, session_factory, transaction
from socialsvc_common.migrations import SchemaNotAtHeadError, require_head


@asynccontextmanager
async def _unit_of_work() -> AsyncIterator[AsyncSession]:
    engine = make_engine(EligibilitySettings().database)
    try:
        await require_head(engine, SCHEMA)
        async with transaction(session_factory(engine)) as session:
            yield session
    finally:
        await engine.dispose()


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        print(f"{path}: cannot read rule file: {error}", file=sys.stderr)
        return None


def _refused(path: Path, findings: list[Finding]) -> bool:
    for finding in findings:
        where = f"{path}:{finding.line}" if finding.line is not None else str(path)
        print(f"{where}: {finding.field}: {finding.reason}", file=sys.stderr)
    return bool(findings)


def _dates(rule_set: RuleSet) -> str:
    to = f" to {rule_set.effective_to}" if rule_set.effective_to else ""
    return f"in force from {rule_set.effective_from}{to}"


async def validate(path: Path) -> int:
    document = _read(path)
    if document is None:
        return 1
    async with _unit_of_work() as session:
        findings = check_text(document, await rule_sets_in_force(session))
    if _refused(path, findings):
        return 1
    rule_set = parse_document(document, str(path))
    print(f"{path}: valid, version {rule_set.version}, {_dates(rule_set)}")
    return 0


def administrator(name: str) -> Actor:
    """The administrator activating a rule set (argparse reports a bad name)."""
    try:
        return Actor(role=Role.ADMINISTRATOR, name=name)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{name!r}: a name is 1-64 letters, digits, '.', '_' or '-'"
        ) from None


async def activate_file(path: Path, actor: Actor) -> int:
    document = _read(path)
    if document is None:
        return 1
    # Checked and stored in one transaction, against what is active at that moment.
    async with _unit_of_work() as session:
        if _refused(path, check_text(document, await rule_sets_in_force(session))):
            return 1
        rule_set = parse_document(document, str(path))
        added = await activate(session, rule_set, document, actor)
    if added:
        print(f"activated version {rule_set.version}, {_dates(rule_set)}, by {actor}")
    else:
        print(f"already active, unchanged: version {rule_set.version}, {_dates(rule_set)}")
    return await list_versions()


async def list_versions() -> int:
    async with _unit_of_work() as session:
        in_force = await rule_sets_in_force(session)
        stored = {row.version: row for row in await activations(session)}
    table: list[tuple[str, ...]] = [
        ("version", "effective from", "effective to", "source", "activated at", "by")
    ]
    table += [_listed(rule_set, stored.get(rule_set.version)) for rule_set in in_force]
    widths = [max(len(line[column]) for line in table) for column in range(len(table[0]))]
    for line in table:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )
    return 0


def _listed(rule_set: RuleSet, row: RuleSetRow | None) -> tuple[str, ...]:
    to = str(rule_set.effective_to or "-")
    if row is None:
        return (rule_set.version, str(rule_set.effective_from), to, "packaged", "-", "-")
    activated = row.activated_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    by = row.activated_by or "-"
    return (rule_set.version, str(rule_set.effective_from), to, "activated", activated, by)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m eligibility.policy_cli", description=__doc__.splitlines()[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("validate", help="check a candidate").add_argument("file", type=Path)
    activation = commands.add_parser("activate", help="check, then store it")
    activation.add_argument("file", type=Path)
    activation.add_argument(
        "--actor",
        type=administrator,
        default=getpass.getuser(),
        help="the administrator activating it (default: the user running this)",
    )
    commands.add_parser("list", help="the versions in force, with their dates")
    args = parser.parse_args(argv)
    try:
        if args.command == "validate":
            return asyncio.run(validate(args.file))
        if args.command == "activate":
            return asyncio.run(activate_file(args.file, args.actor))
        return asyncio.run(list_versions())
    except SchemaNotAtHeadError as error:
        print(error, file=sys.stderr)
        return 1
    except RuleSetError as error:
        # A version clash found while storing, or a stored version that no longer loads.
        print(f"refused: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
