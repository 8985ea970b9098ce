"""Every word a decision is explained in has a sentence in every language a citizen may choose."""

import pytest

from notifications.templates import load_templates
from socialsvc_common.contract.explanation import MissingFact, Reason
from socialsvc_common.contract.payloads import Language, ProvisionType

TEMPLATES = load_templates()


@pytest.mark.parametrize("language", list(Language))
def test_every_reason_missing_fact_and_provision_type_is_worded(language: Language) -> None:
    pack = TEMPLATES[language]
    assert set(Reason) <= set(pack.reasons)
    assert set(MissingFact) <= set(pack.missing)
    assert set(ProvisionType) <= set(pack.provision_types)
    assert all(text.strip() for text in [*pack.reasons.values(), *pack.missing.values()])
