"""RFC 9457 problem details for every HTTP API of the platform, with field-level errors.

Validation errors name each field by its JSON path (`applicant.fin`) with a message a caller can act
on; the input value itself is never echoed, since it may be personal data.
"""

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://socialsvc.example.az/problems/"


class Problem(Exception):
    """An error an API answers with: a status, a stable type slug, a title and a detail."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra

    def body(self, instance: str) -> dict[str, Any]:
        return {
            "type": TYPE_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
            **self.extra,
        }


def problem_response(problem: Problem, request: Request) -> JSONResponse:
    return JSONResponse(
        problem.body(request.url.path),
        problem.status,
        headers=problem.headers,
        media_type=PROBLEM_JSON,
    )


def field_errors(errors: Any) -> list[dict[str, str]]:
    """Pydantic errors as [{field, message}], the field a dotted path without the body prefix."""
    out = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part != "body"]
        out.append({"field": ".".join(location) or "body", "message": error.get("msg", "invalid")})
    return out


def install_problem_handlers(app: FastAPI) -> None:
    """Makes every error of `app` a problem+json response."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, problem: Problem) -> JSONResponse:
        return problem_response(problem, request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = field_errors(error.errors())
        fields = ", ".join(e["field"] for e in errors)
        problem = Problem(
            422, "validation", "Invalid request", f"invalid fields: {fields}", errors=errors
        )
        return problem_response(problem, request)

    @app.exception_handler(OperationalError)
    async def _database(request: Request, error: OperationalError) -> JSONResponse:
        # SQLite (the one-machine default) has one writer: past its busy timeout a request is
        # told to come again, as a client is told of any overload, instead of a bare 500.
        if "database is locked" not in str(error.orig):
            raise error
        problem = Problem(
            503,
            "database-busy",
            "The database is busy",
            "too many changes at once; nothing was done, send the request again",
            headers={"Retry-After": "1"},
        )
        return problem_response(problem, request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        problem = Problem(
            error.status_code, "http", str(error.detail), str(error.detail), headers=error.headers
        )
        return problem_response(problem, request)
