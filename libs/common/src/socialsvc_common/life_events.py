"""What every consumer of the state registries' life events checks first."""

from socialsvc_common.consumer import Received, Rejected
from socialsvc_common.contract.payloads import LifeEventRecorded, Registry


def from_its_registry(item: Received[LifeEventRecorded], registry: Registry) -> None:
    """Refuses an event on another registry's topic: the topic's ACL is what vouches for it."""
    if item.payload.registry is not registry:
        raise Rejected(
            f"a {item.payload.registry.value} registry event on the {registry.value} registry's "
            "topic"
        )
