"""The public twins of private events, for the partner streams (`public.*`).

A service that owns a private event adds its twin to the same list of events, so both are written
by the same outbox transaction: a partner sees an event exactly when the platform committed it.
The twin's envelope is its own: the pseudonymous id as key and `ce_subject`, and no correlation or
causation id that would point at a private event, and no actor: partners learn what the platform
did, not which of its staff or clients asked for it.

Partners must not single anyone out either (see socialsvc_common.disclosure): the moments on a
public record (its payload's times and `ce_time`) are cut to the policy's unit, and the sensitive
target groups (victims of trafficking or domestic violence) are never named, nor a provider that
serves them (`protected`, with its economic region for its district). An offer's expiry is cut as
well: less the fixed offer period, it would give the moment of the offer.
"""

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from uuid import UUID

from socialsvc_common.contract import payloads as p
from socialsvc_common.contract import public as pub
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import Event, new_event
from socialsvc_common.contract.topics import Topic
from socialsvc_common.disclosure import PROTECTED, DisclosurePolicy, default_disclosure_policy
from socialsvc_common.geography import load_geography
from socialsvc_common.pseudonym import public_application_id

# The topics whose records carry coarse times. The outbox relay gives their records the
# envelope's time as the Kafka record time, so the broker's clock does not give the moment away;
# a reader that seeks by time cuts its start time the same way (`coarse_since`).
COARSE_TIME_TOPICS = frozenset(topic.name for topic in topics.PUBLIC_APPLICATION_TOPICS)


def coarse_since(topic: str, since: datetime, policy: DisclosurePolicy | None = None) -> datetime:
    """Where a reader of `topic` looking for records since `since` seeks to by time: `since`
    itself, or on a coarse-time topic the start of its unit (records of the unit are stamped
    with that start)."""
    if topic not in COARSE_TIME_TOPICS:
        return since
    return (policy or default_disclosure_policy()).coarsen(since)


class PublicStream:
    """Builds public events of one producing service under the platform's pseudonym key."""

    def __init__(self, producer: str, key: bytes, policy: DisclosurePolicy | None = None) -> None:
        self._producer = producer
        self._key = key
        self._policy = policy or default_disclosure_policy()

    def ref(self, application_id: UUID) -> UUID:
        """The pseudonymous id partners know this application by."""
        return public_application_id(application_id, self._key)

    def _event(self, topic: Topic, payload: pub.PublicPayload) -> Event:
        return new_event(
            topic,
            payload,
            producer=self._producer,
            application_id=payload.application_ref,
            at=self._at(datetime.now(UTC)),
        )

    def _at(self, moment: datetime) -> datetime:
        return self._policy.coarsen(moment)

    def _coarse_or_none(self, moment: datetime | None) -> datetime | None:
        # An offer's deadline is cut too: less the fixed offer period, it would give the moment.
        return None if moment is None else self._at(moment)

    def _provider(self, provider_id: str, served: Sequence[p.TargetGroup]) -> str:
        # A place with a provider of victims would name the person's group.
        return PROTECTED if self._policy.protects(served) else provider_id

    def _groups(self, groups: Iterable[p.TargetGroup]) -> list[p.TargetGroup]:
        return self._policy.public_groups(groups)

    def received(self, received: p.ApplicationReceived) -> Event:
        payload = pub.PublicApplicationReceived(
            application_ref=self.ref(received.application_id),
            status=pub.PublicStatus.RECEIVED,
            received_at=self._at(received.submitted_at),
            service_requested=received.service_requested,
            district=received.applicant.district,
            channel=received.channel,
            revision=received.revision,
        )
        return self._event(topics.PUBLIC_APPLICATION_RECEIVED, payload)

    def decided(self, made: p.DecisionMade) -> Event:
        payload = pub.PublicApplicationDecided(
            application_ref=self.ref(made.application_id),
            status=pub.PublicStatus(made.outcome.value),
            decided_at=self._at(made.decided_at),
            rule_set_version=made.rule_set_version,
            district=made.district,
            groups=self._groups(made.groups),
            need_level=made.need_level,
            provision_types=made.provision_types,
            reasons=made.refusal_reasons(),
            missing=made.missing,
            age_band=made.age_band,
        )
        return self._event(topics.PUBLIC_APPLICATION_DECIDED, payload)

    def placed(
        self,
        made: p.PlacementMade,
        groups: Sequence[p.TargetGroup],
        provider_groups: Sequence[p.TargetGroup] = (),
    ) -> Event:
        provider_id = self._provider(made.provider_id, provider_groups)
        protected = provider_id == PROTECTED
        payload = pub.PublicApplicationPlaced(
            application_ref=self.ref(made.application_id),
            status=pub.PublicStatus.PLACED,
            placed_at=self._at(made.placed_at),
            provision_type=made.provision_type,
            provider_id=provider_id,
            # A shelter's district could name it where it is the district's only institution.
            district=load_geography().region_of(made.district) if protected else made.district,
            groups=self._groups(groups),
            offer_expires_at=self._coarse_or_none(made.offer_expires_at),
        )
        return self._event(topics.PUBLIC_APPLICATION_PLACED, payload)

    def waitlisted(self, waiting: p.PlacementWaitlisted, groups: Sequence[p.TargetGroup]) -> Event:
        payload = pub.PublicApplicationWaitlisted(
            application_ref=self.ref(waiting.application_id),
            status=pub.PublicStatus.WAITLISTED,
            waitlisted_at=self._at(waiting.waitlisted_at),
            provision_type=waiting.provision_type,
            district=waiting.district,
            groups=self._groups(groups),
        )
        return self._event(topics.PUBLIC_APPLICATION_WAITLISTED, payload)

    def released(
        self,
        released: p.PlacementReleased,
        provision_type: p.ProvisionType,
        provider_groups: Sequence[p.TargetGroup] = (),
    ) -> Event:
        known = released.reason in {reason.value for reason in p.ReleaseReason}
        payload = pub.PublicApplicationReleased(
            application_ref=self.ref(released.application_id),
            status=pub.PublicStatus.RELEASED,
            released_at=self._at(released.released_at),
            # The private reason is free text in its schema; partners get the closed list.
            reason=p.ReleaseReason(released.reason) if known else p.ReleaseReason.OTHER,
            provider_id=self._provider(released.provider_id, provider_groups),
            provision_type=provision_type,
        )
        return self._event(topics.PUBLIC_APPLICATION_RELEASED, payload)
