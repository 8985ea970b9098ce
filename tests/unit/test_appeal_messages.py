"""Appeal messages: an appeal lodged and an appeal decided each call for one message to the
citizen, which reads as what happened in Azerbaijani, Russian and English."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from notifications.message_kinds import message_for
from notifications.templates import MessageContext, MessageKind, render
from socialsvc_common.contract.appeals import (
    AppealDecided,
    AppealLodged,
    AppealStatus,
    AppealSubject,
)
from socialsvc_common.contract.payloads import Language

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
CONTEXT = MessageContext(application_ref="1A2B-3C4D")
# Words each text must hold, by language: "appeal", and what became of it.
WORDS = {
    Language.AZ: {
        MessageKind.APPEAL_RECEIVED: ("şikayət", "qəbul edildi"),
        MessageKind.APPEAL_UPHELD: ("şikayət", "dəyişdirilmədi"),
        MessageKind.APPEAL_OVERTURNED: ("şikayət", "təmin edildi"),
    },
    Language.RU: {
        MessageKind.APPEAL_RECEIVED: ("жалоб", "принята"),
        MessageKind.APPEAL_UPHELD: ("жалоб", "без изменений"),
        MessageKind.APPEAL_OVERTURNED: ("жалоб", "удовлетворена"),
    },
    Language.EN: {
        MessageKind.APPEAL_RECEIVED: ("appeal", "received"),
        MessageKind.APPEAL_UPHELD: ("appeal", "stays as it was"),
        MessageKind.APPEAL_OVERTURNED: ("appeal", "accepted"),
    },
}


def decided(status: AppealStatus) -> AppealDecided:
    return AppealDecided(
        appeal_id=uuid4(),
        application_id=uuid4(),
        status=status,
        decided_at=NOW,
        decided_by="reviewer:r-1",
    )


def test_each_appeal_event_calls_for_its_message() -> None:
    lodged = AppealLodged(
        appeal_id=uuid4(),
        application_id=uuid4(),
        subject=AppealSubject.DECISION,
        decision_event_id=uuid4(),
        lodged_at=NOW,
        lodged_by="social_worker:w-1",
        respond_by=NOW,
    )
    assert message_for(lodged) == (MessageKind.APPEAL_RECEIVED, {})
    assert message_for(decided(AppealStatus.UPHELD)) == (MessageKind.APPEAL_UPHELD, {})
    assert message_for(decided(AppealStatus.OVERTURNED)) == (MessageKind.APPEAL_OVERTURNED, {})


@pytest.mark.parametrize("language", list(Language))
def test_appeal_texts_say_what_happened_in_each_language(language: Language) -> None:
    texts = {}
    for kind, words in WORDS[language].items():
        message = render(kind, language, CONTEXT)
        everything = f"{message.sms} {message.subject} {message.body}".lower()
        for word in words:
            assert word in everything, (kind, word)
        assert "1A2B-3C4D" in message.sms
        texts[kind] = message.sms
    assert len(set(texts.values())) == len(texts)
