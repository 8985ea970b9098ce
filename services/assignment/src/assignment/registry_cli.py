"""Import providers from a CSV file into a running assignment service.

    python -m assignment.registry_cli FILE.csv [--url http://127.0.0.1:8002]

Columns: provision_type, id, name and the fields of that kind (district, caseload_limit; places,
target_groups; organisation, districts, capacity, contract_start, contract_end). Lists are
separated by ';'. The service validates every row and imports all of them or none.
The administrator's API key is read from SOCIALSVC_API_KEY (never from the command line, where
other users of the machine could see it).
"""

import argparse
import os
import sys
from pathlib import Path

import httpx


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assignment.registry_cli", description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--url", default="http://127.0.0.1:8002", help="the assignment service")
    args = parser.parse_args(argv)
    try:
        document = args.file.read_bytes()
        response = httpx.post(
            f"{args.url}/providers/import",
            content=document,
            headers={
                "content-type": "text/csv",
                "Authorization": f"Bearer {os.environ.get('SOCIALSVC_API_KEY', '')}",
            },
            timeout=60,
        )
    except (OSError, httpx.HTTPError) as error:
        print(f"registry: {error}", file=sys.stderr)
        return 2
    body = response.json()
    if response.status_code != 200:
        for fault in body.get("errors", [body]):
            print(
                f"{args.file}: {fault.get('field', '')}: {fault.get('message', fault)}",
                file=sys.stderr,
            )
        return 1
    print(f"{args.file}: created {len(body['created'])}, updated {len(body['updated'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
