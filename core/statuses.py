"""Contact message statuses and how messages move a contact between them (Spoke's rules)."""

from __future__ import annotations

import enum


class MessageStatus(enum.StrEnum):
    NEEDS_MESSAGE = "needsMessage"
    MESSAGED = "messaged"
    NEEDS_RESPONSE = "needsResponse"
    CONVO = "convo"
    CLOSED = "closed"


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


def status_after_outbound(current: MessageStatus) -> MessageStatus:
    """An outbound text continues a conversation, otherwise it marks the contact messaged."""
    if current in (MessageStatus.NEEDS_RESPONSE, MessageStatus.CONVO):
        return MessageStatus.CONVO
    return MessageStatus.MESSAGED


def status_after_inbound(_current: MessageStatus) -> MessageStatus:
    """Any inbound text means the texter owes an answer."""
    return MessageStatus.NEEDS_RESPONSE
