"""Batch-eligibility strategies: who may get more contacts, how many, and which ones."""

from strategies.base import (
    Allowance,
    AssignmentInfo,
    BatchStrategy,
    CampaignInfo,
    ContactPool,
    ContactSelection,
    StrategyContext,
    TexterInfo,
)

__all__ = [
    "Allowance",
    "AssignmentInfo",
    "BatchStrategy",
    "CampaignInfo",
    "ContactPool",
    "ContactSelection",
    "StrategyContext",
    "TexterInfo",
]
