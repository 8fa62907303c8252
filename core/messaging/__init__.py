"""Sending SMS through a provider (fake or Twilio) behind one interface, and Twilio's webhooks."""

from core.messaging.base import MessageService, SendOutcome, SendStatus, send_safely
from core.messaging.factory import message_service_from_env
from core.messaging.fake import FakeMessageService

__all__ = [
    "FakeMessageService",
    "MessageService",
    "SendOutcome",
    "SendStatus",
    "message_service_from_env",
    "send_safely",
]
