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
from core.progress import whole_percent
from core.services.admin import CampaignSettingsChange, update_campaign_settings
from core.services.campaign_editing import (
    ScriptReport,
    copy_campaign,
    create_checked,
    script_report,
)
from core.services.campaigns import (
    DEFAULT_TEXTING_HOURS,
    CampaignSpec,
    launch_campaign,
    list_campaigns,
    parse_texting_hours,
)
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
@click.option(
    "--texting-hours",
    default=f"{DEFAULT_TEXTING_HOURS.start}-{DEFAULT_TEXTING_HOURS.end}",
    show_default=True,
    help="contacts' local hours texts may be sent in, like 9-21; `any` for no limit",
)
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
    texting_hours: str,
    timezone: str,
    conversations_per_take: int,
    split_assignments: bool,
) -> None:
    """Create a campaign; prints its id. Texting hours are 9 AM-9 PM in the campaign's time
    zone unless --texting-hours says otherwise. The script's {fields} are checked: one that
    is not standard gets a warning until contacts are imported (they may bring the column)."""
    spec = CampaignSpec(
        organization_id=organization_id,
        title=title,
        script=script,
        description=description,
        batch_size=batch_size,
        use_dynamic_assignment=dynamic_assignment,
        strategies=list(strategies) or None,
        texting_hours=parse_texting_hours(texting_hours),
        timezone=timezone,
        conversations_per_take=conversations_per_take,
        split_assignments=split_assignments,
    )
    report = create_checked(open_database(), spec)
    click.echo(report.campaign_id)
    _script_notes(report)


def _script_notes(report: ScriptReport) -> None:
    """The warning, the texting hours and the first text as it will read, on stderr so
    stdout stays machine-readable."""
    if report.warning:
        click.echo(f"warning: {report.warning}", err=True)
    click.echo(f"texting hours: {report.texting_hours}", err=True)
    who = "the first contact" if report.has_contacts else "a contact (before any import)"
    click.echo(f"first text for {who}: {report.preview}", err=True)


@campaign.command("set")
@click.argument("campaign_id", type=int)
@click.option("--title")
@click.option("--description")
@click.option("--script", help="first text; fields like {firstName}; unsent texts use it")
@click.option("--texting-hours", help="like 9-21, or `any` for no limit")
@click.option("--timezone", help="IANA name like America/New_York")
@click.option("--batch-size", type=click.IntRange(min=1))
@click.option("--dynamic-assignment/--no-dynamic-assignment", default=None)
@click.option("--strategy", "strategies", multiple=True, help="replaces the list; repeat")
def set_command(
    campaign_id: int,
    title: str | None,
    description: str | None,
    script: str | None,
    texting_hours: str | None,
    timezone: str | None,
    batch_size: int | None,
    dynamic_assignment: bool | None,
    strategies: tuple[str, ...],
) -> None:
    """Change a campaign's settings; only the options given change. A script using fields
    the imported contacts lack is refused (status 2) with the list of known fields."""
    change = CampaignSettingsChange(
        use_dynamic_assignment=dynamic_assignment,
        batch_size=batch_size,
        strategies=list(strategies) or None,
        texting_hours=texting_hours,
        timezone=timezone,
        title=title,
        description=description,
        script=script,
    )
    db = open_database()
    saved = update_campaign_settings(db, None, campaign_id, change)
    if not saved:
        raise UserError("nothing to change: give at least one option (see --help)")
    click.echo(f"campaign {campaign_id}: changed {', '.join(sorted(saved))}")
    _script_notes(script_report(db, campaign_id))


@campaign.command("copy")
@click.argument("campaign_id", type=int)
def copy_command(campaign_id: int) -> None:
    """Copy a campaign: same settings and script, no contacts, not launched, a new join
    link. Prints the copy's id."""
    click.echo(copy_campaign(open_database(), campaign_id))


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
    _script_notes(script_report(db, campaign_id))


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
    """Launch a campaign (needs a script whose fields the contacts have, and contacts)."""
    db = open_database()
    launch_campaign(db, campaign_id)
    click.echo(f"campaign {campaign_id} launched")
    _script_notes(script_report(db, campaign_id))


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
                "texting_hours": summary.texting_hours,
            }
        )
        return
    click.echo(f"#{summary.id} {summary.title} ({summary.status})")
    click.echo(
        f"dynamic assignment: {'on' if summary.use_dynamic_assignment else 'off'}; "
        f"batch size: {summary.batch_size or 'none'}; texters: {stats.texters}"
    )
    click.echo(f"texting hours: {summary.texting_hours}")
    click.echo(
        f"contacts: {stats.total}; first texts sent: {whole_percent(stats.sent, stats.textable)}%"
    )
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
