"""Plain HTML forms, read by hand: a URL-encoded body of bounded size, one value per field."""

from urllib.parse import parse_qs

from starlette.requests import Request

MAX_FORM_BYTES = 64 * 1024
MAX_FIELDS = 60


class BadForm(ValueError):
    """Not a form the workspace sent: too large, not URL-encoded, or a field given twice."""


async def read_form(request: Request) -> dict[str, str]:
    """The fields of a URL-encoded form; checkbox groups keep their values joined by commas."""
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind != "application/x-www-form-urlencoded":
        raise BadForm("not a URL-encoded form")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise BadForm("the form is too large")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError) as error:
        raise BadForm("the form cannot be read") from error
    return {name: ",".join(v.strip() for v in values) for name, values in fields.items()}
