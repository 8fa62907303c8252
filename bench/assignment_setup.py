"""Setting up the assignment benchmark: a freshly loaded campaign, joined texters, and one
identical copy of the database per variant (the baseline's with Spoke's indexes)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from rich.console import Console
from sqlalchemy import Engine, text

from bench import pg
from core.db import Database, make_engine
from core.migrate import upgrade
from core.services.campaigns import (
    CampaignSpec,
    TextingHours,
    create_campaign,
    launch_campaign,
)
from core.services.organizations import create_organization

# ---------------------------------------------------------------------------------------------
# The baseline: Spoke's table shape and query sequence (findNewCampaignContact + the default
# finished-replies strategy's count). Our partial indexes (claimable contacts, conversations)
# are dropped; Spoke's composite index and its index on cell take their place.
# (assignment_id, message_status) and the unique (campaign_id, cell) stay: Spoke has the same.
# Queries use bound parameters, as knex sends them, and run in autocommit, one statement at a
# time, as Spoke runs them.
BASELINE_INDEXES = (
    "DROP INDEX ix_campaign_contact_claimable",
    "DROP INDEX ix_campaign_contact_conversations",
    "CREATE INDEX spoke_campaign_contact_campaign_status_assignment "
    "ON campaign_contact (campaign_id, message_status, assignment_id)",
    "CREATE INDEX spoke_campaign_contact_cell ON campaign_contact (cell)",
)
BASELINE_COUNT_AVAILABLE = text(
    "SELECT count(*) FROM campaign_contact WHERE campaign_id = :campaign "
    "AND message_status = :status AND assignment_id IS NULL AND NOT is_opted_out"
)
BASELINE_COUNT_HELD = text(
    "SELECT count(*) FROM campaign_contact WHERE assignment_id = :assignment"
)
BASELINE_CLAIM = text(
    "UPDATE campaign_contact SET assignment_id = :assignment, updated_at = now() "
    "WHERE id IN (SELECT id FROM campaign_contact WHERE campaign_id = :campaign "
    "AND message_status = :status AND NOT is_opted_out AND assignment_id IS NULL "
    "LIMIT :n FOR UPDATE SKIP LOCKED) RETURNING id"
)

TEXTING_HOURS = TextingHours(9, 21)
BENCH_TEAM = "TBENCH"  # the workspace the texters join from (the Join button's use case)


def inside_texting_hours() -> datetime:
    """The clock the drain runs at: today 17:00 UTC, 12:00 or 13:00 in the campaign's
    America/New_York, within TEXTING_HOURS. A campaign with texting hours hands out nothing
    outside them, so the bench can't use the wall clock and run at any hour."""
    return datetime.now(UTC).replace(hour=17, minute=0, second=0, microsecond=0)


# Bench code standing in for the texter sending the batch (same for both variants).
MARK_SENT = text(
    "UPDATE campaign_contact SET message_status = 'messaged', updated_at = now() "
    "WHERE id = ANY(:ids)"
)

LOAD_CONTACTS = text(
    "INSERT INTO campaign_contact (campaign_id, first_name, last_name, cell, zip, custom_fields, "
    "timezone, message_status, is_opted_out, created_at, updated_at) "
    "SELECT :campaign, 'Voter', 'Number ' || g, '+1' || (2002000000 + g)::text, '10001', "
    "'{}', NULL, 'needsMessage', false, now(), now() FROM generate_series(1, :n) AS g"
)


@dataclass(frozen=True)
class Texter:
    user_id: int
    assignment_id: int


@dataclass(frozen=True)
class Prepared:
    urls: dict[str, str]  # variant -> its own copy of the freshly loaded database
    campaign_id: int
    texters: list[Texter]
    load_seconds: float


def prepare(
    server: str,
    contacts: int,
    texters: int,
    batch: int,
    console: Console,
    tag: str,
    variants: Sequence[str] = ("spokebot", "baseline"),
) -> Prepared:
    """A campaign of `contacts` unassigned contacts and `texters` joined texters: our schema,
    then an identical copy per other variant (the baseline's with Spoke's indexes; the
    floor's as ours)."""
    admin = pg.admin_engine(server)
    ours_name = pg.new_name(f"{tag}_ours")
    pg.create_database(admin, ours_name)
    ours_url = pg.database_url(server, ours_name)
    started = time.perf_counter()
    db = Database(make_engine(ours_url, pool_size=2, max_overflow=0))
    try:
        upgrade(db.engine)
        org_id = create_organization(db, "Benchmark org", slack_team_id=BENCH_TEAM)
        campaign_id = create_campaign(
            db,
            CampaignSpec(
                organization_id=org_id,
                title=f"Benchmark {contacts:,}",
                script="Hi {firstName}, it's {texterFirstName}. Can we count on your vote?",
                batch_size=batch,
                # As a real campaign has: the finished-replies check then counts the
                # texter's replies within texting hours, over the zones inside them now.
                texting_hours=TEXTING_HOURS,
            ),
        )
        with db.engine.begin() as conn:
            conn.execute(LOAD_CONTACTS, {"campaign": campaign_id, "n": contacts})
        launch_campaign(db, campaign_id)
        from core.services.link_joining import join_by_link

        token = _join_token(db, campaign_id)
        joined = []
        for i in range(texters):
            slack_id, name = f"UBENCH{i:05d}", f"Texter {i}"
            result = join_by_link(db, BENCH_TEAM, slack_id, name, campaign_id, token).result
            joined.append(Texter(result.user_id, result.assignment_id))
        _vacuum_analyze(db.engine)
    finally:
        db.dispose()
    urls = {"spokebot": ours_url}
    try:
        for variant in variants:
            if variant == "spokebot":
                continue
            name = pg.new_name(
                f"{tag}_{'spoke' if variant == 'baseline' else variant.replace(':', '_')}"
            )
            pg.create_database(admin, name, template=ours_name)
            urls[variant] = pg.database_url(server, name)
            if variant != "baseline":
                continue
            engine = make_engine(urls[variant], pool_size=1, max_overflow=0)
            try:
                with engine.begin() as conn:
                    for statement in BASELINE_INDEXES:
                        conn.execute(text(statement))
                _vacuum_analyze(engine)
            finally:
                engine.dispose()
    finally:
        admin.dispose()
    load_seconds = time.perf_counter() - started
    copies = ", ".join(url.rsplit("/", 1)[1] for url in urls.values())
    console.print(
        f"loaded {contacts:,} contacts and {texters} texters in {load_seconds:.1f} s ({copies})"
    )
    return Prepared(urls, campaign_id, joined, load_seconds)


def drop(server: str, prepared: Prepared) -> None:
    admin = pg.admin_engine(server)
    try:
        for url in prepared.urls.values():
            pg.drop_database(admin, url.rsplit("/", 1)[1])
    finally:
        admin.dispose()


def _join_token(db: Database, campaign_id: int) -> str:
    with db.engine.connect() as conn:
        return str(
            conn.execute(
                text("SELECT join_token FROM campaign WHERE id = :id"), {"id": campaign_id}
            ).scalar_one()
        )


def _vacuum_analyze(engine: Engine) -> None:
    # A freshly imported campaign gets this from autovacuum soon after the import.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
