"""What every consumer of the state registries' life events checks first."""

from socialsvc_common.consumer import Received, Rejected
from socialsvc_common.contract.payloads import LIFE_EVENT_NAMESPACE, LifeEventRecorded, Registry


def from_its_registry(item: Received[LifeEventRecorded], registry: Registry) -> None:
    """Refuses an event on another registry's topic (the topic's ACL is what vouches for it),
    and one whose subject is not the life event's id: the platform keeps, archives and erases
    everything of a life event under that id, as it does an application's under its own."""
    if item.payload.registry is not registry:
        raise Rejected(
            f"a {item.payload.registry.value} registry event on the {registry.value} registry's "
            "topic"
        )
    if item.envelope.application_id != item.payload.life_event_id:
        raise Rejected(
            f"the subject of a life event is its id, {item.payload.life_event_id} "
            f"(uuid5 of {LIFE_EVENT_NAMESPACE} and registry:reference), "
            f"not {item.envelope.application_id}"
        )
