"""Which channels reach a citizen, in which order: their preferred channel first, then the others
that their application gives an address for (e-mail when given, SMS, the e-gov inbox by FIN)."""

from notifications.store import ContactRow
from socialsvc_common.contract.payloads import Channel

# Without a preference: e-mail costs nothing and carries the whole letter; SMS reaches nearly
# everyone; the e-gov inbox is read least often, so it comes last.
DEFAULT_ORDER = (Channel.EMAIL, Channel.SMS, Channel.EGOV_INBOX)


def channels_for(contact: ContactRow) -> list[Channel]:
    """The channels to try for this citizen, first to last."""
    usable = [channel for channel in DEFAULT_ORDER if channel is not Channel.EMAIL or contact.email]
    preferred = Channel(contact.preferred_channel) if contact.preferred_channel else None
    if preferred in usable:
        usable.remove(preferred)
        usable.insert(0, preferred)
    return usable


def next_channel(contact: ContactRow, current: Channel) -> Channel | None:
    """The channel after `current` for this citizen, or None when every one has been tried."""
    order = channels_for(contact)
    later = order[order.index(current) + 1 :] if current in order else []
    return later[0] if later else None
