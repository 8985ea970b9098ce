"""The e-government portal acting for a citizen: who the citizen is, on every portal route.

The portal authenticates the citizen itself and vouches for their FIN in the `X-Citizen-FIN`
header, never in a URL (proxies and logs keep URLs). A portal route answers only about that
citizen's applications and placements: another person's is `404`, as one that does not exist, so
the portal learns nothing of anyone else. The FIN is checked like the form's and never echoed or
logged. The actor of what the portal does is its own key (`citizen_portal:<name>`): the citizen is
the applicant of the application acted on.
"""

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Header

from socialsvc_common.apikeys import Caller, Role
from socialsvc_common.auth import require
from socialsvc_common.contract.actor import Actor
from socialsvc_common.contract.payloads import FIN_PATTERN
from socialsvc_common.problems import Problem
from socialsvc_common.pseudonym import pseudonym

CITIZEN_HEADER = "X-Citizen-FIN"


@dataclass(frozen=True, slots=True)
class Citizen:
    """The person the portal acts for, and the portal's key as the actor."""

    fin: str = field(repr=False)
    actor: Actor

    def person_ref(self, key: bytes) -> str:
        """The citizen's pseudonymous reference, as other services store it."""
        return pseudonym(self.fin, key)


def citizen() -> Any:
    """A FastAPI dependency admitting the portal (and administrators) with the citizen's FIN in
    the header; it returns the `Citizen`. No header, or one that is not a FIN, is `422`."""

    async def vouched(
        caller: Annotated[Caller, require(Role.CITIZEN_PORTAL)],
        fin: Annotated[
            str,
            Header(
                alias=CITIZEN_HEADER,
                pattern=FIN_PATTERN,
                description="the FIN of the citizen the portal authenticated and acts for",
            ),
        ],
    ) -> Citizen:
        return Citizen(fin=fin, actor=Actor.of(caller))

    return Depends(vouched)


def not_theirs(what: str, identifier: object) -> Problem:
    """The answer about something that is not the citizen's: as if it did not exist."""
    return Problem(404, "not-found", f"No such {what}", f"no {what} {identifier}")
