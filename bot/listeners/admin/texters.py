"""The Texters panel (`/campaign texters`, the admin Home's Texters button) and its buttons:
pages, Set max amount (a modal), Remove unsent, Release all; and `/campaign assign`.

Button values only say which campaign, texter or page; the actor is re-identified from the
payload's user and team, and core checks the role, so a stale or forwarded message can be
clicked safely. The max amount form is answered in the ack itself: invalid input and
refusals come back under the field, with nothing saved.
"""

from __future__ import annotations

from slack_bolt import Ack, App

from bot import ids
from bot.listeners.admin.steps import (
    Subcommand,
    campaign_id_arg,
    exactly,
    mention_arg,
    metadata_ids,
    modal_state,
    only_campaign_id,
    open_modal,
    text_of,
    usage_error,
)
from bot.listeners.common import Deps, Turn, ack_now, action_value, lazy, view_submission
from bot.render import Reply, admin, admin_modals
from bot.render.common import escape, text_reply
from core.errors import SpokebotError
from core.refusals import plural
from core.services import texters_panel
from core.services.texters_panel import TextersPage

TEXTERS_USAGE = "texters CAMPAIGN_ID"
ASSIGN_USAGE = "assign CAMPAIGN_ID @texter N"


def register(app: App, deps: Deps) -> None:
    handlers = {
        ids.ADMIN_TEXTERS_PAGE: texters_page_clicked,
        ids.ADMIN_SET_MAX: set_max_clicked,
        ids.ADMIN_REMOVE_UNSENT: remove_unsent_clicked,
        ids.ADMIN_RELEASE_ALL: release_all_clicked,
        ids.ADMIN_HOME_TEXTERS: home_texters_clicked,
    }
    for action_id, work in handlers.items():
        app.action(action_id)(ack=ack_now, lazy=[lazy(work)])
    # Validated and saved inside the ack: only the ack can put errors under the field.
    app.view(ids.ADMIN_MAX_MODAL)(view_submission(submit_max_amount))


def panel(page: TextersPage, notice: str | None = None) -> Reply:
    return admin.texters_panel(
        page.campaign_id, page.title, page.rows, page.total, page.offset, notice=notice
    )


def texters_page(turn: Turn, campaign_id: int, offset: int) -> Reply:
    identity = turn.identity()
    page = texters_panel.texters_page(
        turn.db,
        identity.user_id,
        identity.organization_id,
        campaign_id,
        offset,
        admin.TEXTERS_PER_PAGE,
    )
    return panel(page)


def campaign_texters(turn: Turn, args: list[str]) -> None:
    turn.reply(texters_page(turn, only_campaign_id(TEXTERS_USAGE, args), 0))


def home_texters_clicked(turn: Turn) -> None:
    turn.reply_or_dm(texters_page(turn, ids.parse_campaign_value(action_value(turn)), 0))


def texters_page_clicked(turn: Turn) -> None:
    campaign_id, offset = ids.parse_admin_page_value(action_value(turn))
    turn.reply_or_dm(texters_page(turn, campaign_id, offset), replace=True)


def set_max_clicked(turn: Turn) -> None:
    campaign_id, texter_user_id, _offset = ids.parse_admin_texter_value(action_value(turn))
    identity = turn.identity()
    texter = texters_panel.texter_cap(
        turn.db, identity.user_id, identity.organization_id, campaign_id, texter_user_id
    )
    open_modal(
        turn,
        admin_modals.max_amount_modal(
            campaign_id, texter_user_id, texter.name, texter.max_contacts
        ),
    )


def _release_clicked(turn: Turn, *, everything: bool) -> None:
    campaign_id, texter_user_id, offset = ids.parse_admin_texter_value(action_value(turn))
    identity = turn.identity()
    released = texters_panel.release_texter(
        turn.db,
        identity.user_id,
        identity.organization_id,
        campaign_id,
        texter_user_id,
        everything=everything,
        offset=offset,
        limit=admin.TEXTERS_PER_PAGE,
    )
    notice = admin.admin_release_sentence(
        released.texter_name, released.result, everything=everything
    )
    turn.reply_or_dm(panel(released.page, notice), replace=True)


def remove_unsent_clicked(turn: Turn) -> None:
    _release_clicked(turn, everything=False)


def release_all_clicked(turn: Turn) -> None:
    _release_clicked(turn, everything=True)


def submit_max_amount(turn: Turn, ack: Ack) -> None:
    raw = text_of(modal_state(turn), ids.ADMIN_MAX_INPUT)
    try:
        campaign_id, texter_user_id = metadata_ids(turn, 2)
        identity = turn.identity()
        saved = texters_panel.save_max_amount(
            turn.db, identity.user_id, identity.organization_id, campaign_id, texter_user_id, raw
        )
    except SpokebotError as error:
        ack(response_action="errors", errors={ids.ADMIN_MAX_INPUT: error.message})
        return
    ack(
        response_action="update",
        view=admin_modals.done_modal(
            "Max amount saved",
            f"{saved.texter_name}'s max amount is now "
            f"{admin.max_amount_words(saved.max_contacts)}.",
        ),
    )


def campaign_assign(turn: Turn, args: list[str]) -> None:
    campaign_id = campaign_id_arg(ASSIGN_USAGE, args[0] if args else None)
    slack_id = mention_arg(ASSIGN_USAGE, args[1] if len(args) > 1 else None)
    wanted = ids.parse_id(args[2]) if len(args) > 2 else None
    if wanted is None:
        raise usage_error(ASSIGN_USAGE, "How many first texts? Give a whole number.")
    exactly(ASSIGN_USAGE, args, 3)
    identity = turn.identity()
    result = texters_panel.assign_texts(
        turn.db, identity.user_id, identity.organization_id, campaign_id, slack_id, wanted
    )
    sentence = (
        f"Assigned {plural(result.assigned, 'first text')} to <@{slack_id}> in "
        f"*{escape(result.campaign_title)}*."
    )
    if result.assigned < wanted:
        sentence += f" Only {result.assigned} unassigned first texts were left."
    turn.reply(text_reply(sentence))


SUBCOMMANDS = (
    Subcommand(
        "texters",
        TEXTERS_USAGE,
        "the Texters panel: set max amount, remove unsent, release all",
        campaign_texters,
    ),
    Subcommand(
        "assign",
        ASSIGN_USAGE,
        "assign N first texts by hand (only with dynamic assignment off)",
        campaign_assign,
    ),
)
