"""A pool of realistic application forms as JSON templates with a hole for the FIN, so the load
generator (wrk's Lua script, or the bulk producer of `--mode kafka`) makes every submission
unique by filling in a FIN of its own, without building a form per request.

The FIN of submission number `counter` of load thread `thread` is `fin_for(salt, thread,
counter)`; benchmarks/bench/submit.lua computes the same in Lua.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from benchmarks.bench.forms import FormMaker
from socialsvc_common.contract.payloads import ApplicationForm

PLACEHOLDER = "@FIN@"
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
COUNTER_DIGITS = 5  # 36**5, about 60 million submissions per thread
POOL_SIZE = 500  # enough that districts, profiles and languages mix as in FormMaker


def base36(number: int, width: int) -> str:
    """`number` in base 36 (digits, then capital letters), zero-padded to `width`."""
    if not 0 <= number < len(ALPHABET) ** width:
        raise ValueError(f"{number} does not fit {width} base-36 digits")
    digits = []
    for _ in range(width):
        number, digit = divmod(number, len(ALPHABET))
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits))


def fin_for(salt: str, thread: int, counter: int) -> str:
    """The FIN of submission `counter` of load thread `thread` in a run marked by `salt`: seven
    characters of [0-9A-Z], unique per (thread, counter) within the run."""
    if len(salt) != 1 or salt not in ALPHABET:
        raise ValueError(f"the salt must be one character of {ALPHABET}, not {salt!r}")
    return salt + base36(thread, 1) + base36(counter, COUNTER_DIGITS)


@dataclass(frozen=True, slots=True)
class FormTemplate:
    """A form's JSON split around its FIN."""

    prefix: str
    suffix: str

    def fill(self, fin: str) -> bytes:
        return (self.prefix + fin + self.suffix).encode()


def form_templates(seed: int, count: int = POOL_SIZE) -> list[FormTemplate]:
    """`count` mixed forms (FormMaker's), each checked against ApplicationForm, with the FIN cut
    out."""
    maker = FormMaker(seed)
    pool = []
    for index in range(count):
        form = maker.form(index)
        ApplicationForm.model_validate(form)
        form["applicant"]["fin"] = PLACEHOLDER
        text = json.dumps(form, ensure_ascii=False, separators=(",", ":"))
        prefix, _, suffix = text.partition(PLACEHOLDER)
        pool.append(FormTemplate(prefix, suffix))
    return pool


def write_templates(path: Path, pool: list[FormTemplate]) -> Path:
    """The pool as the Lua script reads it: one form a line, PLACEHOLDER where the FIN goes."""
    lines = (t.prefix + PLACEHOLDER + t.suffix for t in pool)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
