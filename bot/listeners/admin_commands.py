"""`/campaign` admin subcommands (list, stats, texters, settings, review, assign, launch,
archive, vet, unvet, rotate-link), and the steps the admin buttons share with them.

Importing this module adds the subcommands to /campaign's table; core checks every role.
"""

from __future__ import annotations

import re

from slack_bolt import App

from bot import ids
from bot.listeners.commands import campaign_subcommand
from bot.listeners.common import Deps, Turn
from bot.render import Reply, admin, admin_modals, campaign_forms
from bot.render.common import escape, text_reply
from core.errors import InvalidInput
from core.refusals import plural
from core.roles import Role
from core.services import admin_gate, admin_lookup
from core.services.admin import assign_manually, set_archived
from core.services.campaign_editing import script_report
from core.statuses import MessageStatus

# Slack sends a mention as <@U123|name> (or <@U123>) when the command escapes mentions.
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")

REVIEW_STATUSES: dict[str, MessageStatus | None] = {
    "needsfirstmessage": MessageStatus.NEEDS_MESSAGE,
    "needsmessage": MessageStatus.NEEDS_MESSAGE,
    "messaged": MessageStatus.MESSAGED,
    "needsresponse": MessageStatus.NEEDS_RESPONSE,
    "convo": MessageStatus.CONVO,
    "conversation": MessageStatus.CONVO,
    "closed": MessageStatus.CLOSED,
    "all": None,
}
REVIEW_STATUS_WORDS = "needs-first-message, messaged, needs-response, convo, closed or all"

USAGE = {
    "list": "list",
    "stats": "stats CAMPAIGN_ID",
    "texters": "texters CAMPAIGN_ID",
    "settings": "settings CAMPAIGN_ID",
    "rotate-link": "rotate-link CAMPAIGN_ID",
    "review": "review CAMPAIGN_ID [@texter] [status]",
    "assign": "assign CAMPAIGN_ID @texter N",
    "launch": "launch CAMPAIGN_ID",
    "archive": "archive CAMPAIGN_ID",
    "vet": "vet @user",
    "unvet": "unvet @user",
}


def register(app: App, deps: Deps) -> None:
    """Nothing to register: the subcommands join /campaign's table when this is imported."""


def usage_error(name: str, problem: str) -> InvalidInput:
    return InvalidInput(f"{problem}\nUsage: `/campaign {USAGE[name]}`")


def campaign_id_arg(name: str, word: str | None) -> int:
    if word is None:
        raise usage_error(name, "Which campaign? Give its id.")
    campaign_id = ids.parse_id(word)
    if campaign_id is None:
        raise usage_error(name, f"`{escape(word)}` is not a campaign id (a number).")
    return campaign_id


def mention_arg(name: str, word: str | None) -> str:
    if word is None:
        raise usage_error(name, "Whom? Mention them with @.")
    match = MENTION.fullmatch(word)
    if match is None:
        raise usage_error(
            name,
            f"`{escape(word)}` is not a mention: pick the person from Slack's @ list so "
            "the command carries their id.",
        )
    return match[1]


def only_campaign_id(name: str, args: list[str]) -> int:
    """A subcommand whose one argument is a campaign id."""
    campaign_id = campaign_id_arg(name, args[0] if args else None)
    exactly(name, args, 1)
    return campaign_id


def exactly(name: str, args: list[str], count: int) -> None:
    if len(args) > count:
        extra = " ".join(args[count:])
        raise usage_error(name, f"Unexpected `{escape(extra)}`.")


def show(turn: Turn, message: Reply, *, replace: bool = False) -> None:
    """Privately where the request came from; a Home-tab click (no response_url) gets it
    as a direct message."""
    if turn.respond is not None:
        turn.reply(message, replace=replace)
    else:
        turn.direct_message(message)


# --- steps shared with the buttons ---------------------------------------------------------


def show_stats(turn: Turn, campaign_id: int) -> None:
    identity = turn.identity()
    stats = admin_gate.campaign_stats(
        turn.db, identity.user_id, identity.organization_id, campaign_id
    )
    holding = admin_lookup.texters_holding_unsent(
        turn.db, identity.user_id, identity.organization_id, campaign_id
    )
    show(turn, admin.campaign_stats(stats, holding))


def texters_page(turn: Turn, campaign_id: int, offset: int, notice: str | None = None) -> Reply:
    identity = turn.identity()
    title = admin_lookup.campaign_title(
        turn.db, identity.user_id, identity.organization_id, campaign_id, admin_gate.VIEW
    )
    rows, total = admin_gate.texter_rows(
        turn.db,
        identity.user_id,
        identity.organization_id,
        campaign_id,
        offset,
        admin.TEXTERS_PER_PAGE,
    )
    if not rows and offset > 0:  # the team shrank under a stale page: show the last one
        offset = max(total - admin.TEXTERS_PER_PAGE, 0)
        rows, total = admin_gate.texter_rows(
            turn.db,
            identity.user_id,
            identity.organization_id,
            campaign_id,
            offset,
            admin.TEXTERS_PER_PAGE,
        )
    return admin.texters_panel(campaign_id, title, rows, total, offset, notice=notice)


def open_settings(turn: Turn, campaign_id: int) -> None:
    identity = turn.identity()
    form = admin_lookup.settings_form(
        turn.db, identity.user_id, identity.organization_id, campaign_id
    )
    turn.client.views_open(
        trigger_id=turn.body["trigger_id"], view=admin_modals.settings_modal(form)
    )


# --- subcommands ---------------------------------------------------------------------------


@campaign_subcommand("list", USAGE["list"], "campaigns with status and a progress bar")
def campaign_list(turn: Turn, args: list[str]) -> None:
    exactly("list", args, 0)
    identity = turn.identity()
    campaigns, total = admin_lookup.campaigns_with_stats(
        turn.db, identity.user_id, identity.organization_id, limit=admin.LIST_CAMPAIGNS_SHOWN
    )
    turn.reply(admin.campaign_list(campaigns, total))


@campaign_subcommand(
    "stats", USAGE["stats"], "progress, counts by status, texters holding unsent texts, opt-outs"
)
def campaign_stats(turn: Turn, args: list[str]) -> None:
    campaign_id = only_campaign_id("stats", args)
    show_stats(turn, campaign_id)


@campaign_subcommand(
    "texters",
    USAGE["texters"],
    "the Texters panel: set max amount, remove unsent, release all",
)
def campaign_texters(turn: Turn, args: list[str]) -> None:
    campaign_id = only_campaign_id("texters", args)
    turn.reply(texters_page(turn, campaign_id, 0))


@campaign_subcommand(
    "settings", USAGE["settings"], "Assignment Management settings in a form (admins)"
)
def campaign_settings(turn: Turn, args: list[str]) -> None:
    campaign_id = only_campaign_id("settings", args)
    open_settings(turn, campaign_id)


@campaign_subcommand(
    "rotate-link", USAGE["rotate-link"], "make every earlier join link stop working (admins)"
)
def campaign_rotate_link(turn: Turn, args: list[str]) -> None:
    campaign_id = only_campaign_id("rotate-link", args)
    identity = turn.identity()
    admin_gate.rotate_join_link(turn.db, identity.user_id, identity.organization_id, campaign_id)
    turn.reply(
        text_reply(
            f"Every earlier join link of campaign {campaign_id} stopped working. Post a fresh "
            f"one with `/campaign link {campaign_id}` when you want one."
        )
    )


def parse_review_filters(args: list[str]) -> tuple[str | None, MessageStatus | None]:
    slack_id: str | None = None
    status: MessageStatus | None = MessageStatus.NEEDS_MESSAGE
    seen_status = False
    for word in args:
        if word.startswith("<@") or word.startswith("@"):
            if slack_id is not None:
                raise usage_error("review", "Name at most one texter.")
            slack_id = mention_arg("review", word)
            continue
        key = re.sub(r"[-_ ]", "", word.lower())
        if key not in REVIEW_STATUSES or seen_status:
            raise usage_error(
                "review",
                f"`{escape(word)}` is not a status; use one of {REVIEW_STATUS_WORDS}.",
            )
        status, seen_status = REVIEW_STATUSES[key], True
    return slack_id, status


@campaign_subcommand(
    "review",
    USAGE["review"],
    "Message Review: contacts by status (default needs-first-message) and texter; Unassign",
)
def campaign_review(turn: Turn, args: list[str]) -> None:
    campaign_id = campaign_id_arg("review", args[0] if args else None)
    slack_id, status = parse_review_filters(args[1:])
    identity = turn.identity()
    actor, org = identity.user_id, identity.organization_id
    title = admin_lookup.campaign_title(turn.db, actor, org, campaign_id, admin_gate.VIEW)
    texter_user_id = (
        admin_lookup.member_user_id(turn.db, actor, org, slack_id) if slack_id else None
    )
    rows, total = admin_gate.search_contacts(
        turn.db,
        actor,
        org,
        campaign_id,
        status=status,
        texter_user_id=texter_user_id,
        limit=admin.REVIEW_ROWS_SHOWN,
    )
    holders = admin_lookup.slack_user_ids(
        turn.db, actor, org, {r.texter_user_id for r in rows if r.texter_user_id}
    )
    turn.reply(
        admin.review(
            campaign_id,
            title,
            rows,
            total,
            texter_user_id=texter_user_id,
            texter_label=f"<@{slack_id}>" if slack_id else None,
            status=status,
            slack_ids=holders,
        )
    )


@campaign_subcommand(
    "assign", USAGE["assign"], "assign N first texts by hand (only with dynamic assignment off)"
)
def campaign_assign(turn: Turn, args: list[str]) -> None:
    campaign_id = campaign_id_arg("assign", args[0] if args else None)
    slack_id = mention_arg("assign", args[1] if len(args) > 1 else None)
    wanted = ids.parse_id(args[2]) if len(args) > 2 else None
    if wanted is None:
        raise usage_error("assign", "How many first texts? Give a whole number.")
    exactly("assign", args, 3)
    identity = turn.identity()
    actor, org = identity.user_id, identity.organization_id
    title = admin_lookup.campaign_title(turn.db, actor, org, campaign_id, admin_gate.MANAGE)
    texter_user_id = admin_lookup.member_user_id(turn.db, actor, org, slack_id)
    assigned = assign_manually(turn.db, actor, campaign_id, texter_user_id, wanted)
    sentence = f"Assigned {plural(assigned, 'first text')} to <@{slack_id}> in *{escape(title)}*."
    if assigned < wanted:
        sentence += f" Only {assigned} unassigned first texts were left."
    turn.reply(text_reply(sentence))


@campaign_subcommand("launch", USAGE["launch"], "launch a campaign (admins)")
def campaign_launch(turn: Turn, args: list[str]) -> None:
    campaign_id = only_campaign_id("launch", args)
    identity = turn.identity()
    admin_gate.launch_campaign(turn.db, identity.user_id, identity.organization_id, campaign_id)
    report = script_report(turn.db, campaign_id, identity.organization_id)
    turn.reply(campaign_forms.launched(report))


@campaign_subcommand("archive", USAGE["archive"], "archive a campaign (admins)")
def campaign_archive(turn: Turn, args: list[str]) -> None:
    campaign_id = only_campaign_id("archive", args)
    identity = turn.identity()
    title = admin_lookup.campaign_title(
        turn.db, identity.user_id, identity.organization_id, campaign_id, admin_gate.MANAGE
    )
    set_archived(turn.db, identity.user_id, campaign_id, True)
    turn.reply(text_reply(f"*{escape(title)}* is archived: its join link and batches are closed."))


def _vetting(turn: Turn, args: list[str], name: str, vetted: bool) -> None:
    slack_id = mention_arg(name, args[0] if args else None)
    exactly(name, args, 1)
    identity = turn.identity()
    admin_lookup.change_vetting(
        turn.db, identity.user_id, identity.organization_id, slack_id, vetted
    )
    role = Role.VETTED_TEXTER if vetted else Role.TEXTER
    turn.reply(text_reply(f"<@{slack_id}> is now {role.value}."))


@campaign_subcommand("vet", USAGE["vet"], "make a texter a vetted texter (admins)")
def campaign_vet(turn: Turn, args: list[str]) -> None:
    _vetting(turn, args, "vet", True)


@campaign_subcommand("unvet", USAGE["unvet"], "make a vetted texter a plain texter (admins)")
def campaign_unvet(turn: Turn, args: list[str]) -> None:
    _vetting(turn, args, "unvet", False)
