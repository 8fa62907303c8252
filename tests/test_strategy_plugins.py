"""Strategies installed by other packages are found through the `spokebot.strategies`
entry-point group; configuration errors are loud, not silent skips."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.db import Database
from core.errors import ConfigurationError, InvalidInput
from core.services.batches import request_batch
from core.services.campaigns import validate_strategies
from core.services.organizations import set_organization_setting
from strategies.registry import available_strategies, get_strategy
from tests.support.world import add_contacts, make_assignment, make_campaign, make_org, make_texter


def _install_distribution(root: Path, entry_points: str) -> None:
    """Write the metadata pip would write for an installed package with entry points."""
    dist = root / "spokebot_quota_plugin-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: spokebot-quota-plugin\nVersion: 1.0\n"
    )
    (dist / "entry_points.txt").write_text(f"[spokebot.strategies]\n{entry_points}\n")


@pytest.fixture
def installed_plugin(tmp_path: Path) -> Iterator[None]:
    _install_distribution(tmp_path, "quota-of-three = tests.plugin.quota_of_three:STRATEGY")
    sys.path.insert(0, str(tmp_path))
    available_strategies.cache_clear()
    yield
    sys.path.remove(str(tmp_path))
    available_strategies.cache_clear()


def test_plugin_strategy_is_found_by_name_and_used(installed_plugin: None, db: Database) -> None:
    assert get_strategy("quota-of-three").display_name == "At most three contacts per request"
    org = make_org(db)
    campaign = make_campaign(db, org, strategies=["quota-of-three"])
    add_contacts(db, campaign, 50)
    texter = make_texter(db, org, "UPLUG")
    make_assignment(db, campaign, texter)
    result = request_batch(db, campaign, texter)
    assert result.eligibility.strategy == "quota-of-three"
    assert result.assigned == 3


def test_plugin_named_in_organization_setting(installed_plugin: None, db: Database) -> None:
    org = make_org(db)
    set_organization_setting(db, org, "DYNAMICASSIGNMENT_BATCHES", "quota-of-three")
    campaign = make_campaign(db, org)
    add_contacts(db, campaign, 10)
    texter = make_texter(db, org, "UPLUG")
    make_assignment(db, campaign, texter)
    assert request_batch(db, campaign, texter).assigned == 3


def test_entry_point_with_mismatched_name_is_a_configuration_error(tmp_path: Path) -> None:
    _install_distribution(tmp_path, "other-name = tests.plugin.quota_of_three:STRATEGY")
    sys.path.insert(0, str(tmp_path))
    available_strategies.cache_clear()
    try:
        with pytest.raises(ConfigurationError, match="must match"):
            available_strategies()
    finally:
        sys.path.remove(str(tmp_path))
        available_strategies.cache_clear()


def test_unknown_strategy_names_are_rejected_loudly() -> None:
    with pytest.raises(InvalidInput, match="unknown batch strategy nope"):
        validate_strategies(["finished-replies", "nope"])
    with pytest.raises(ConfigurationError, match="unknown batch strategy 'nope'"):
        get_strategy("nope")
