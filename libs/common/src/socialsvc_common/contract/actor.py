"""Who gave a command from outside the platform: a role and a name.

An API caller is its key's name and role; a submission on the e-government topic is the
submitting client (a submitter); a command-line change is the person running it. The e-government
portal acting for a citizen is `citizen_portal:<its key's name>`: the portal is answered about the
applications of the citizen it names and no other, so the person is the application's own
applicant (known by its person reference) and the actor need not name them. The actor
travels as the CloudEvents extension `ce_actor` (`<role>:<name>`) on the event the command caused
and is stored, in the same form, on the row it changed. Events a service makes by itself (a
decision, a lapsed offer, a place given to the next person waiting) name no actor.
"""

import os
import re
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from socialsvc_common.apikeys import ACTOR_LENGTH, Caller, Role, longest_name

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$"
# "<role>:<name>" fits the columns that store it (a name in a longer role is shorter).
MAX_LENGTH = ACTOR_LENGTH
_NAME = re.compile(NAME_PATTERN)
FORM = f"<role>:<name>, role one of {', '.join(Role)}, name 1-64 letters, digits, '.', '_' or '-'"


class Actor(BaseModel):
    """The role and name of whoever gave a command."""

    model_config = ConfigDict(frozen=True)

    role: Role
    name: str = Field(pattern=NAME_PATTERN)

    @model_validator(mode="after")
    def _fits(self) -> Self:
        if len(self.name) > longest_name(self.role):
            raise ValueError(
                f"a name in the role {self.role} has at most {longest_name(self.role)} characters"
            )
        return self

    def __str__(self) -> str:
        return f"{self.role.value}:{self.name}"

    @classmethod
    def of(cls, caller: Caller) -> Self:
        """The holder of an API key."""
        return cls(role=caller.role, name=caller.name)

    @classmethod
    def parse(cls, text: str) -> Self:
        """An actor from its `<role>:<name>` form; ValueError (never echoing the text) if it is
        not one."""
        role, separator, name = text.partition(":")
        if not separator or role not in set(Role) or not _NAME.match(name):
            raise ValueError(f"an actor is {FORM}")
        if len(name) > longest_name(Role(role)):
            raise ValueError(f"an actor is {FORM}, and at most {MAX_LENGTH} characters")
        return cls(role=Role(role), name=name)

    @classmethod
    def stored(cls, text: str | None) -> Self | None:
        """The actor of a row's column (None where no command set it)."""
        return cls.parse(text) if text is not None else None

    @classmethod
    def running(cls, role: Role) -> Self:
        """The person running a command-line tool, in `role`: SOCIALSVC_OPERATOR, else USER;
        ValueError for a name that cannot be an actor's."""
        name = os.environ.get("SOCIALSVC_OPERATOR") or os.environ.get("USER") or role.value
        try:
            return cls(role=role, name=name)
        except ValueError:
            raise ValueError(
                "SOCIALSVC_OPERATOR (else USER) must be 1-64 letters, digits, '.', '_' or '-'"
            ) from None
