"""`socialsvc-ops subject report|erase`: what the platform holds about a person, and erasure."""

import asyncio
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from socialsvc_ops.subject.report import LANGUAGES, SubjectError, erase, gather, render_html

subject = typer.Typer(no_args_is_help=True, help="A data subject's report and erasure.")


class Format(StrEnum):
    JSON = "json"
    HTML = "html"


Fin = Annotated[str, typer.Option(help="the person's FIN (sent in a request body, never a URL)")]
ApiKey = Annotated[
    str, typer.Option(envvar="SOCIALSVC_API_KEY", help="an operator's or administrator's key")
]
IntakeUrl = Annotated[str, typer.Option(envvar="SOCIALSVC_INTAKE_URL")]
EligibilityUrl = Annotated[str, typer.Option(envvar="SOCIALSVC_ELIGIBILITY_URL")]
AssignmentUrl = Annotated[str, typer.Option(envvar="SOCIALSVC_ASSIGNMENT_URL")]
NotificationsUrl = Annotated[str, typer.Option(envvar="SOCIALSVC_NOTIFICATIONS_URL")]


@subject.command("report")
def report_command(
    *,
    fin: Fin,
    api_key: ApiKey,
    language: Annotated[
        str | None, typer.Option(help="az, ru or en (default: the person's own language)")
    ] = None,
    output_format: Annotated[Format, typer.Option("--format")] = Format.HTML,
    output: Annotated[Path | None, typer.Option(help="write here (default: stdout)")] = None,
    intake_url: IntakeUrl = "http://127.0.0.1:8000",
    eligibility_url: EligibilityUrl = "http://127.0.0.1:8001",
    assignment_url: AssignmentUrl = "http://127.0.0.1:8002",
    notifications_url: NotificationsUrl = "http://127.0.0.1:8003",
) -> None:
    """Everything every service holds about one person, why and until when."""
    if language is not None and language not in LANGUAGES:
        raise typer.BadParameter(f"{language!r}: use one of {', '.join(LANGUAGES)}")
    urls = {
        "intake": intake_url,
        "eligibility": eligibility_url,
        "assignment": assignment_url,
        "notifications": notifications_url,
    }
    try:
        found = asyncio.run(gather(urls, api_key, fin, language))
    except SubjectError as error:
        typer.echo(f"socialsvc-ops: {error}", err=True)
        raise typer.Exit(2) from None
    if output_format is Format.JSON:
        text = json.dumps(found, ensure_ascii=False, indent=2) + "\n"
    else:
        text = render_html(found)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@subject.command("erase")
def erase_command(
    *,
    fin: Fin,
    api_key: ApiKey,
    legal_basis: Annotated[
        str, typer.Option(help="the law or decision that calls for it (a reference, no names)")
    ],
    intake_url: IntakeUrl = "http://127.0.0.1:8000",
) -> None:
    """Erases the person's data in every service (an administrator's key)."""
    try:
        done = asyncio.run(erase(intake_url, api_key, fin, legal_basis))
    except SubjectError as error:
        typer.echo(f"socialsvc-ops: {error}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(done, ensure_ascii=False, indent=2))
