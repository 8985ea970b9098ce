"""Schemathesis against the running intake, from the OpenAPI document intake serves: valid and
invalid requests alike never get a 5xx, every 4xx is problem+json, and every answer is one the
document describes (status, content type, body). Bounded, to fit make test; raise FUZZ_EXAMPLES
for a longer hunt.

Left out: schemathesis's check that schema-valid data is accepted. The document cannot say
everything intake checks (a district must be one of the decree's names, consent must be given,
a birth date lies in the past), so such requests rightly get a 422."""

import os
import time
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure
from schemathesis.generation.case import Case
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import positive_data_acceptance

from socialsvc_common.apikeys import Role

from .conftest import Platform, bearer

pytestmark = pytest.mark.integration
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
PROBLEM = "application/problem+json"


def problem_json_for_4xx(ctx: object, response: schemathesis.Response, case: Case[Any]) -> bool:
    """Every refusal is RFC 9457 problem+json with its status in the body."""
    if 400 <= response.status_code < 500:
        content_type = response.headers.get("content-type", [""])[0]
        if content_type != PROBLEM or response.json().get("status") != response.status_code:
            raise Failure(
                operation=case.operation.label,
                title="A 4xx that is not problem+json",
                message=f"{response.status_code} {content_type}: {response.text[:300]}",
                case_id=case.id,
            )
    return True


def fuzz(schema: BaseSchema, mode: GenerationMode, url: str, auth: dict[str, str]) -> list[int]:
    """Sends EXAMPLES generated requests and checks each answer; returns their statuses."""
    seen: list[int] = []

    @given(case=schema.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def one(case: Case[Any]) -> None:
        response = case.call(base_url=url, headers=auth, timeout=30)
        seen.append(response.status_code)
        case.validate_response(
            response,
            additional_checks=[not_a_server_error, problem_json_for_4xx],
            excluded_checks=[positive_data_acceptance],
            headers=auth,
        )

    one()
    return seen


def test_intake_answers_every_request_without_5xx_and_refuses_with_problem_json(
    platform: Platform,
) -> None:
    url = platform.urls["intake"]
    auth = bearer(platform.keys[Role.ADMINISTRATOR])
    schema = schemathesis.openapi.from_url(url + "/openapi.json", headers=auth)
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        started = time.monotonic()
        seen = fuzz(schema, mode, url, auth)
        print(
            f"{mode.value}: {len(seen)} requests in {time.monotonic() - started:.1f}s, "
            f"statuses {sorted(set(seen))}"
        )
        assert len(seen) >= EXAMPLES
