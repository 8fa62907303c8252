"""`spokebot campaign ...`."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import TextIO

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from core.cli.common import UserError, emit_json, open_database
from core.db import Database
from core.services.campaigns import (
    CampaignSpec,
    TextingHours,
    launch_campaign,
    list_campaigns,
)
from core.services.campaigns import create_campaign as create_campaign_service
from core.services.contact_import import ImportReport, import_contacts
from core.services.csv_decoding import undecodable_problem
from core.services.stats import campaign_stats

MAX_SKIPPED_LINES_SHOWN = 50


@click.group()
def campaign() -> None:
    """Campaigns: create, import contacts, launch, inspect."""


@campaign.command("create")
@click.option("--org", "organization_id", type=int, required=True, help="organization id")
@click.option("--title", required=True)
@click.option("--script", required=True, help="first text; fields like {firstName}")
@click.option("--description", default="")
@click.option("--batch-size", type=click.IntRange(min=1), default=200, show_default=True)
@click.option("--dynamic-assignment/--no-dynamic-assignment", default=True, show_default=True)
@click.option("--strategy", "strategies", multiple=True, help="batch strategy; repeat for several")
@click.option("--texting-hours", help="local hours texts may be sent, like 9-21")
@click.option("--timezone", default="America/New_York", show_default=True)
@click.option(
    "--conversations-per-take",
    type=click.IntRange(min=1, max=1000),
    default=10,
    show_default=True,
    help="conversations a vetted texter takes at a time (vetted-takeconversations)",
)
@click.option(
    "--split-assignments",
    is_flag=True,
    help="replies go to the conversation team: a contact is unassigned once its first text "
    "is sent (needs --strategy vetted-takeconversations)",
)
def create_campaign(
    organization_id: int,
    title: str,
    script: str,
    description: str,
    batch_size: int,
    dynamic_assignment: bool,
    strategies: tuple[str, ...],
    texting_hours: str | None,
    timezone: str,
    conversations_per_take: int,
    split_assignments: bool,
) -> None:
    """Create a campaign; prints its id."""
    spec = CampaignSpec(
        organization_id=organization_id,
        title=title,
        script=script,
        description=description,
        batch_size=batch_size,
        use_dynamic_assignment=dynamic_assignment,
        strategies=list(strategies) or None,
        texting_hours=TextingHours.parse(texting_hours) if texting_hours else None,
        timezone=timezone,
        conversations_per_take=conversations_per_take,
        split_assignments=split_assignments,
    )
    click.echo(create_campaign_service(open_database(), spec))


@campaign.command("import-contacts")
@click.argument("campaign_id", type=int)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--region", default="US", show_default=True, help="region for numbers without +")
@click.option("--json", "as_json", is_flag=True, help="machine-readable report")
def import_contacts_command(campaign_id: int, file: Path, region: str, as_json: bool) -> None:
    """Import contacts from a CSV (firstName, lastName, cell, zip, any custom columns)."""
    db = open_database()
    try:
        with file.open(newline="", encoding="utf-8-sig") as source:
            report = _import_with_progress(db, campaign_id, source, region, file)
    except OSError as exc:
        raise UserError(f"can't read {file}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        with file.open("rb") as raw:
            problem = undecodable_problem(raw) or "it can't be read as UTF-8"
        raise UserError(
            f"{file} is not UTF-8 text: {problem}; nothing was imported. Save it as CSV (UTF-8)"
        ) from None
    if as_json:
        emit_json(
            {
                "imported": report.imported,
                "opted_out": report.opted_out,
                "skipped": [dataclasses.asdict(row) for row in report.skipped],
                "skipped_by_reason": dict(report.skipped_by_reason),
            }
        )
        return
    for row in report.skipped[:MAX_SKIPPED_LINES_SHOWN]:
        click.echo(f"skipped {row.describe()}", err=True)
    if len(report.skipped) > MAX_SKIPPED_LINES_SHOWN:
        click.echo(
            f"... and {len(report.skipped) - MAX_SKIPPED_LINES_SHOWN} more skipped rows "
            "(use --json for all of them)",
            err=True,
        )
    click.echo(report.summary())


def _import_with_progress(
    db: Database, campaign_id: int, source: TextIO, region: str, file: Path
) -> ImportReport:
    if not sys.stderr.isatty():
        return import_contacts(db, campaign_id, source, region)
    total_bytes = max(file.stat().st_size, 1)
    columns = [TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, transient=True) as bar:
        # Rows are unknown until read; a byte-based estimate of the row count drives the bar.
        task = bar.add_task("import", total=None)
        bar.update(task, total=max(total_bytes // 60, 1))
        return import_contacts(
            db, campaign_id, source, region, progress=lambda n: bar.advance(task, n)
        )


@campaign.command("launch")
@click.argument("campaign_id", type=int)
def launch(campaign_id: int) -> None:
    """Launch a campaign (needs a script and contacts)."""
    launch_campaign(open_database(), campaign_id)
    click.echo(f"campaign {campaign_id} launched")


@campaign.command("show")
@click.argument("campaign_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def show(campaign_id: int, as_json: bool) -> None:
    """Settings and counts by status."""
    stats = campaign_stats(open_database(), campaign_id)
    summary = stats.campaign
    if as_json:
        emit_json(
            {
                **dataclasses.asdict(summary),
                "status": summary.status,
                "by_status": stats.by_status,
                "opted_out": stats.opted_out,
                "unassigned_initials": stats.unassigned_initials,
                "texters": stats.texters,
                "total": stats.total,
                "progress": round(stats.progress, 4),
            }
        )
        return
    click.echo(f"#{summary.id} {summary.title} ({summary.status})")
    click.echo(
        f"dynamic assignment: {'on' if summary.use_dynamic_assignment else 'off'}; "
        f"batch size: {summary.batch_size or 'none'}; texters: {stats.texters}"
    )
    click.echo(f"contacts: {stats.total}; first texts sent: {stats.progress:.0%}")
    for status, count in stats.by_status.items():
        click.echo(f"  {status}: {count}")
    click.echo(f"  opted out: {stats.opted_out}")
    click.echo(f"  unassigned first texts: {stats.unassigned_initials}")


@campaign.command("list")
@click.option("--org", "organization_id", type=int, help="only this organization's")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def list_command(organization_id: int | None, as_json: bool) -> None:
    """Every campaign with its status."""
    campaigns = list_campaigns(open_database(), organization_id)
    if as_json:
        emit_json([{**dataclasses.asdict(c), "status": c.status} for c in campaigns])
        return
    if not campaigns:
        where = f"organization {organization_id} has" if organization_id else "there are"
        click.echo(f"{where} no campaigns yet; create one with `spokebot campaign create`")
    for c in campaigns:
        click.echo(f"#{c.id}\t{c.status}\torg {c.organization_id}\t{c.title}")
