"""Every action id and block id prefix the app sends and listens for, named once."""

from __future__ import annotations

from core.ascii_digits import MAX_INT32, parse_ascii_digits

# Buttons (action_id). Values carry a campaign id (and the join token for JOIN); the acting
# user always comes from the payload, never from the value.
JOIN = "campaign_join"
SEND_FIRST_TEXTS = "send_first_texts"
REQUEST_MORE = "request_more_texts"
DONE_FOR_NOW = "done_for_now"
DONE_FOR_THE_DAY = "done_for_the_day"
DONE_FOR_THE_DAY_CONFIRM = "done_for_the_day_confirm"
DONE_FOR_THE_DAY_CANCEL = "done_for_the_day_cancel"
# Spoke's "release first texts only" when the organization also allows releasing conversations.
DONE_FOR_THE_DAY_CONFIRM_INITIALS = "done_for_the_day_confirm_initials"
PICK_CAMPAIGN = "pick_campaign"
# Handle replies on a reply reminder (bot.render.notices); value: the campaign id.
HANDLE_REPLIES_ACTION = "handle_replies"

# Slash commands.
CMD_SEND_FIRST_TEXTS = "/sendfirsttexts"
CMD_DONE_FOR_DAY = "/doneforday"
CMD_CAMPAIGN = "/campaign"
COMMANDS = (CMD_SEND_FIRST_TEXTS, CMD_DONE_FOR_DAY, CMD_CAMPAIGN)

# Events.
EVENT_APP_HOME_OPENED = "app_home_opened"
EVENTS = (EVENT_APP_HOME_OPENED,)

# Purposes of a campaign picker button (value "purpose:campaign_id").
PICK_FOR_SEND = "send"
PICK_FOR_DONE = "done"


def join_value(campaign_id: int, join_token: str) -> str:
    return f"{campaign_id}:{join_token}"


def parse_join_value(value: str) -> tuple[int, str]:
    campaign, _, token = value.partition(":")
    return _campaign_id(campaign), token


def campaign_value(campaign_id: int) -> str:
    return str(campaign_id)


def parse_campaign_value(value: str) -> int:
    return _campaign_id(value)


def pick_value(purpose: str, campaign_id: int) -> str:
    return f"{purpose}:{campaign_id}"


def parse_pick_value(value: str) -> tuple[str, int]:
    purpose, _, campaign = value.partition(":")
    if purpose not in (PICK_FOR_SEND, PICK_FOR_DONE):
        raise _stale()
    return purpose, _campaign_id(campaign)


# Ids are PostgreSQL integers; a larger number can name nothing and would fail in the driver.
MAX_ID = MAX_INT32


def parse_id(text: str) -> int | None:
    """A database id typed or tampered by a person: ASCII digits only, within an integer
    column's range (core.ascii_digits says why not int() or str.isdigit())."""
    return parse_ascii_digits(text, MAX_ID)


def _campaign_id(text: str) -> int:
    campaign_id = parse_id(text)
    if campaign_id is None:
        raise _stale()
    return campaign_id


def _stale() -> Exception:
    from core.errors import InvalidInput

    return InvalidInput("That button is out of date. Run the command again for a fresh one.")


# Texting loop
# Send card buttons: value "campaign_id:contact_id" (the acting user comes from the payload).
SEND_TEXT = "send_text"
RETRY_SEND = "retry_send"
SKIP_CONTACT = "skip_contact"
OPT_OUT_CONTACT = "opt_out_contact"
EDIT_TEXT = "edit_text"
# When only skipped or not-textable contacts are left (value "campaign_id"): walk the
# skipped ones again, or give the unsent ones back to the pool.
CARD_RESTART = "card_restart"
RELEASE_HELD = "release_held"
SEND_CARD_BLOCK = "send_card"  # block_id prefix; every render gets a fresh suffix
# The Edit modal (callback_id) and its input.
EDIT_TEXT_MODAL = "edit_text_modal"
EDIT_TEXT_BLOCK = "edit_text_block"
EDIT_TEXT_INPUT = "edit_text_input"
# Buttons on a contact's DM thread: value "contact_id".
THREAD_CLOSE = "thread_close"
THREAD_OPT_OUT = "thread_opt_out"
THREAD_BLOCK = "thread"  # block_id prefix, fresh suffix per render
# The texter's answers in a DM thread arrive as message.im events.
EVENT_MESSAGE_IM = "message.im"
EVENTS = (*EVENTS, EVENT_MESSAGE_IM)
# Add to Slack: a workspace removing the app, or revoking its tokens.
EVENT_APP_UNINSTALLED = "app_uninstalled"
EVENT_TOKENS_REVOKED = "tokens_revoked"
EVENTS = (*EVENTS, EVENT_APP_UNINSTALLED, EVENT_TOKENS_REVOKED)


def contact_value(campaign_id: int, contact_id: int) -> str:
    return f"{campaign_id}:{contact_id}"


def parse_contact_value(value: str) -> tuple[int, int]:
    campaign, _, contact = value.partition(":")
    return _campaign_id(campaign), _campaign_id(contact)


def thread_value(contact_id: int) -> str:
    return str(contact_id)


def parse_thread_value(value: str) -> int:
    return _campaign_id(value)


def fresh_block_id(prefix: str) -> str:
    """A block_id no earlier render used, so Slack never keeps stale state for a new card."""
    import uuid

    return f"{prefix}:{uuid.uuid4().hex[:12]}"


# Admin
# /campaign texters panel (values "campaign_id:texter_user_id:offset"; offset = the page shown,
# so the panel can be refreshed in place after an action).
ADMIN_TEXTERS_PAGE = "admin_texters_page"  # value "campaign_id:offset"
ADMIN_SET_MAX = "admin_set_max"
ADMIN_REMOVE_UNSENT = "admin_remove_unsent"
ADMIN_RELEASE_ALL = "admin_release_all"
# /campaign review: value "campaign_id:texter_user_id (0 = everyone):status (or 'all')".
ADMIN_UNASSIGN = "admin_unassign"
# Admin Home quick actions: value "campaign_id".
ADMIN_HOME_STATS = "admin_home_stats"
ADMIN_HOME_TEXTERS = "admin_home_texters"
ADMIN_HOME_SETTINGS = "admin_home_settings"
# Modals (callback_id) and their inputs (block_id; the action_id inside is the same string).
ADMIN_MAX_MODAL = "admin_max_modal"  # private_metadata "campaign_id:texter_user_id"
ADMIN_MAX_INPUT = "admin_max_input"
ADMIN_SETTINGS_MODAL = "admin_settings_modal"  # private_metadata "campaign_id"
ADMIN_DONE_MODAL = "admin_done_modal"  # what a modal becomes after a save (no submit)
ADMIN_SETTING_DYNAMIC = "admin_setting_dynamic"
ADMIN_SETTING_BATCH_SIZE = "admin_setting_batch_size"
ADMIN_SETTING_STRATEGY = "admin_setting_strategy"
ADMIN_SETTING_TAKE_CONVERSATIONS = "admin_setting_take_conversations"
ADMIN_SETTING_PER_TAKE = "admin_setting_per_take"
ADMIN_SETTING_SPLIT = "admin_setting_split"
ADMIN_SETTING_DONE_FOR_THE_DAY = "admin_setting_done_for_the_day"
ADMIN_SETTING_RELEASE_CONVERSATIONS = "admin_setting_release_conversations"
ADMIN_SETTING_MAX_TEXTERS = "admin_setting_max_texters"
ADMIN_SETTING_REQUEST_LABEL = "admin_setting_request_label"
ADMIN_SETTING_REQUEST_MESSAGE = "admin_setting_request_message"
# /campaign create and /campaign edit ID: one form (private_metadata "" or "campaign_id").
ADMIN_CREATE_MODAL = "admin_create_modal"
ADMIN_EDIT_MODAL = "admin_edit_modal"
CAMPAIGN_FIELD_TITLE = "campaign_field_title"
CAMPAIGN_FIELD_DESCRIPTION = "campaign_field_description"
CAMPAIGN_FIELD_SCRIPT = "campaign_field_script"
CAMPAIGN_FIELD_BATCH_SIZE = "campaign_field_batch_size"
CAMPAIGN_FIELD_STRATEGY = "campaign_field_strategy"
CAMPAIGN_FIELD_TEXTING_HOURS = "campaign_field_texting_hours"
CAMPAIGN_FIELD_TIMEZONE = "campaign_field_timezone"
# Shared files in a DM with the bot (contacts by CSV upload).
EVENT_FILE_SHARE = {"type": "message", "subtype": "file_share"}
REVIEW_EVERYONE = 0
REVIEW_ALL_STATUSES = "all"


def admin_texter_value(campaign_id: int, texter_user_id: int, offset: int) -> str:
    return f"{campaign_id}:{texter_user_id}:{offset}"


def parse_admin_texter_value(value: str) -> tuple[int, int, int]:
    campaign, texter, offset = [*value.split(":"), "", "", ""][:3]
    return _campaign_id(campaign), _campaign_id(texter), _campaign_id(offset)


def admin_page_value(campaign_id: int, offset: int) -> str:
    return f"{campaign_id}:{offset}"


def parse_admin_page_value(value: str) -> tuple[int, int]:
    campaign, _, offset = value.partition(":")
    return _campaign_id(campaign), _campaign_id(offset)


def admin_unassign_value(campaign_id: int, texter_user_id: int | None, status: str | None) -> str:
    return f"{campaign_id}:{texter_user_id or REVIEW_EVERYONE}:{status or REVIEW_ALL_STATUSES}"


def parse_admin_unassign_value(value: str) -> tuple[int, int | None, str | None]:
    campaign, texter, status = [*value.split(":"), "", "", ""][:3]
    texter_id = _campaign_id(texter)
    if not status:
        raise _stale()
    return (
        _campaign_id(campaign),
        texter_id or None,
        None if status == REVIEW_ALL_STATUSES else status,
    )


# Conversations: taking them, links to waiting replies, reassigning in Message Review.
CMD_TAKE_CONVERSATIONS = "/takeconversations"
COMMANDS = (*COMMANDS, CMD_TAKE_CONVERSATIONS)
TAKE_CONVERSATIONS = "take_conversations"  # value "campaign_id"
OPEN_THREAD = "open_thread"  # a link button (url): Slack still sends the click
SHOW_REPLIES = "show_replies"  # value "campaign_id" (0 = every campaign)
THREAD_RETRY = "thread_retry"  # value "contact_id:message_id": resend a failed answer


def retry_value(contact_id: int, message_id: int) -> str:
    return f"{contact_id}:{message_id}"


def parse_retry_value(value: str) -> tuple[int, int]:
    contact, _, message = value.partition(":")
    return _campaign_id(contact), _campaign_id(message)


REVIEW_PICK = "review_pick_"  # + group number: checkboxes of the contacts shown
REVIEW_UNASSIGN_SELECTED = "review_unassign_selected"  # value "campaign_id"
REVIEW_REASSIGN_SELECTED = "review_reassign_selected"  # a users_select; campaign in block_id
REVIEW_SELECTED_BLOCK = "review_selected"  # block_id "review_selected:campaign_id"
