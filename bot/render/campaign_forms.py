"""The campaign form (`/campaign create`, `/campaign edit ID`) and what admins are told after
creating, editing, copying, importing into or launching a campaign."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block, Option

from bot import ids
from bot.render.admin_modals import (
    PRIMARY_STRATEGIES,
    batch_size_input,
    modal,
    strategy_option,
    strategy_select,
    text_input,
)
from bot.render.common import Reply, context, escape, reply, section
from bot.render.send_card import quoted
from core.services.campaign_editing import CampaignForm, ScriptReport
from strategies.registry import available_strategies

ORG_DEFAULT = "org-default"  # the strategy select's "the organization's default" option


def strategy_options(configured: list[str]) -> list[Option]:
    """Spoke's primary strategies plus every strategy the campaign lists, so a form never
    hides (and a save never drops) one set elsewhere."""
    strategies = available_strategies()
    names = [n for n in PRIMARY_STRATEGIES if n in strategies]
    names += [n for n in configured if n not in names]
    options = [Option(value=ORG_DEFAULT, label="The organization's default")]
    options += [strategy_option(name, strategies) for name in names]
    return options


def campaign_modal(form: CampaignForm) -> dict[str, Any]:
    """One form for both: a new campaign (no id) and editing one."""
    options = strategy_options(form.strategies)
    chosen = form.strategies[0] if form.strategies else ORG_DEFAULT
    initial = next((o for o in options if o.value == chosen), options[0])
    blocks: list[Block] = []
    if form.campaign_id is not None:
        blocks.append(
            section(f"Campaign *{form.campaign_id}*: a changed script applies to unsent texts.")
        )
    blocks += [
        text_input(ids.CAMPAIGN_FIELD_TITLE, "Title", form.title, optional=False),
        text_input(
            ids.CAMPAIGN_FIELD_DESCRIPTION,
            "Description (texters see it when they join)",
            form.description,
            multiline=True,
        ),
        text_input(
            ids.CAMPAIGN_FIELD_SCRIPT,
            "Script (the first text)",
            form.script,
            hint="Fields: {firstName} {lastName} {texterFirstName} {texterLastName} {cell} "
            "{zip} and your CSV's own columns, like {ward}.",
            multiline=True,
            optional=False,
        ),
        batch_size_input(ids.CAMPAIGN_FIELD_BATCH_SIZE, "Batch size", form.batch_size),
        strategy_select(ids.CAMPAIGN_FIELD_STRATEGY, options, initial),
        text_input(
            ids.CAMPAIGN_FIELD_TEXTING_HOURS,
            "Texting hours (contacts' local time)",
            form.texting_hours,
            hint="Like 9-21 (9 AM to 9 PM); `any` for no limit.",
            optional=False,
        ),
        text_input(
            ids.CAMPAIGN_FIELD_TIMEZONE,
            "Time zone (for contacts without one)",
            form.timezone,
            hint="An IANA name like America/New_York or America/Los_Angeles.",
            optional=False,
        ),
    ]
    if form.campaign_id is None:
        return modal(ids.ADMIN_CREATE_MODAL, "New campaign", blocks, "", submit="Create")
    return modal(ids.ADMIN_EDIT_MODAL, "Edit campaign", blocks, str(form.campaign_id))


def script_lines(report: ScriptReport) -> list[str]:
    """Texting hours, the warning if any, and the first text as it will read."""
    lines = [f"*Texting hours:* {escape(report.texting_hours)}"]
    if report.warning:
        lines.append(f"⚠️ {escape(report.warning)}")
    who = "the first contact" if report.has_contacts else "a contact (before any import)"
    lines.append(f"*First text for {who}:*\n{quoted(report.preview)}")
    return lines


def next_steps(campaign_id: int) -> str:
    return (
        f"*Next:* in a direct message with me, upload the contacts CSV with the message "
        f"`import {campaign_id}`, then `/campaign launch {campaign_id}`. "
        f"`/campaign edit {campaign_id}` changes anything."
    )


def created(report: ScriptReport) -> list[str]:
    """The create modal's confirmation: the id, the checks, the next steps."""
    return [
        f"Campaign *{report.campaign_id}* “{escape(report.title)}” is created (not launched).",
        *script_lines(report),
        next_steps(report.campaign_id),
    ]


def edited(report: ScriptReport) -> list[str]:
    return [
        f"Campaign *{report.campaign_id}* “{escape(report.title)}” is saved.",
        *script_lines(report),
    ]


def copied(source_title: str, report: ScriptReport) -> Reply:
    text = (
        f"Copied “{escape(source_title)}” to campaign *{report.campaign_id}* "
        f"“{escape(report.title)}”: same settings and script, no contacts, not launched, "
        f"its own join link."
    )
    blocks = [
        section(text),
        section("\n".join(script_lines(report))),
        context(next_steps(report.campaign_id)),
    ]
    return reply(f"Campaign {report.campaign_id} is a copy of “{source_title}”.", blocks)


def launched(report: ScriptReport) -> Reply:
    text = (
        f"Campaign {report.campaign_id} is launched. Post its join link with "
        f"`/campaign link {report.campaign_id}`."
    )
    return reply(text, [section(text), section("\n".join(script_lines(report)))])


def confirmation_modal(title: str, lines: list[str]) -> dict[str, Any]:
    return modal(ids.ADMIN_DONE_MODAL, title, [section(line) for line in lines], "", submit=None)
