"""The Join button as one use case: who clicked, the join, and their Home, in one
transaction."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from core.db import Database, again_if_raced
from core.roles import Role
from core.services.batch_inputs import HeldWork
from core.services.identity import Identity, identify_in
from core.services.joining import JOIN_ATTEMPTS, JoinResult, join_as
from core.services.texter_home import TexterHome, home_in


@dataclass(frozen=True)
class JoinAnswer:
    identity: Identity
    result: JoinResult
    home: TexterHome


def join_by_link(
    db: Database,
    slack_team_id: str,
    slack_user_id: str,
    name: str | None,
    campaign_id: int,
    join_token: str,
    environ: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> JoinAnswer:
    """Join by the link's button (refusals raise JoinRefused with a sentence). A texter
    already in the campaign is never refused; MAX_TEXTERS_PER_CAMPAIGN can't be overshot by
    concurrent joins (the campaign row is locked)."""
    env = os.environ if environ is None else environ
    now = now or datetime.now(UTC)
    # A concurrent first join of the same new user can collide once.
    return again_if_raced(
        lambda: _join_once(
            db, slack_team_id, slack_user_id, name, campaign_id, join_token, env, now
        ),
        JOIN_ATTEMPTS,
    )


def _join_once(
    db: Database,
    slack_team_id: str,
    slack_user_id: str,
    name: str | None,
    campaign_id: int,
    join_token: str,
    env: Mapping[str, str],
    now: datetime,
) -> JoinAnswer:
    with db.uow() as uow:
        session = uow.session
        identity = identify_in(session, slack_team_id, slack_user_id, name)
        new_user = identity.created
        result = join_as(session, identity, campaign_id, join_token, new_user, env)
        if identity.role is None:  # a member now
            identity = replace(identity, role=Role.TEXTER)
        # A new assignment holds nothing yet; a user created just now has no replies.
        known = {} if result.already_joined else {result.assignment_id: _nothing(result)}
        home = home_in(
            session, identity, now, db, known_held=known, replies=[] if new_user else None
        )
        uow.commit()
        return JoinAnswer(identity, result, home)


def _nothing(result: JoinResult) -> HeldWork:
    capped = result.max_contacts is not None
    return HeldWork(0, 0, False, 0 if capped else None, 0)
