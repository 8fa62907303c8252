"""The assignment services in one place: join by link, ask for a batch, release."""

from core.services.batches import BatchResult, Eligibility, can_request_more, request_batch
from core.services.joining import JoinRefusal, JoinRefused, JoinResult, join_campaign

__all__ = [
    "BatchResult",
    "Eligibility",
    "JoinRefusal",
    "JoinRefused",
    "JoinResult",
    "can_request_more",
    "join_campaign",
    "request_batch",
]
