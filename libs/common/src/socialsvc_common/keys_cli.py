"""socialsvc-keys: issue, list and revoke the API keys of intake and assignment.

    socialsvc-keys issue NAME ROLE [--district D ...] [--provider ID] [--file STORE]
    socialsvc-keys list [--file STORE]          (STORE: var/keys/api-keys.jsonl by default)
    socialsvc-keys revoke NAME [--file ...]

`issue` prints the new key once, alone on stdout (so `> name.key` keeps it), and stores only its
SHA-256. Services read the store at start-up: restart them after a change.
"""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from socialsvc_common.apikeys import KeyStore, KeyStoreError, Role, issue, revoke

DEFAULT_FILE = Path("var/keys/api-keys.jsonl")


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="socialsvc-keys", description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="the key store")
    commands = parser.add_subparsers(dest="command", required=True)
    issuing = commands.add_parser("issue", help="issue a key; it is printed once")
    issuing.add_argument("name", help="who holds the key, e.g. egov-gateway")
    issuing.add_argument("role", choices=[role.value for role in Role])
    issuing.add_argument(
        "--district",
        action="append",
        default=[],
        help="a social worker's or reviewer's district (repeat for several; none: every one)",
    )
    issuing.add_argument("--provider", help="a provider key's provider (its registry id)")
    commands.add_parser("list", help="names, roles and issue times (never keys)")
    revoking = commands.add_parser("revoke", help="remove every key of a name")
    revoking.add_argument("name")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    try:
        if args.command == "issue":
            key = issue(
                args.file,
                args.name,
                Role(args.role),
                districts=args.district,
                provider=args.provider,
            )
            print(
                f"keys: issued a {args.role} key for {args.name} into {args.file}", file=sys.stderr
            )
            print(key)
        elif args.command == "list":
            for caller in KeyStore.load(args.file):
                scope = ",".join(sorted(caller.districts)) or caller.provider or "-"
                print(
                    f"{caller.name}\t{caller.role.value}\t{scope}\t{caller.issued_at.isoformat()}"
                )
        else:
            removed = revoke(args.file, args.name)
            print(f"keys: revoked {removed} key(s) of {args.name}", file=sys.stderr)
            return 0 if removed else 1
    except KeyStoreError as error:
        print(f"keys: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
