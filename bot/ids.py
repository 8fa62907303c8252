"""Every action id and block id prefix the app sends and listens for, named once."""

from __future__ import annotations

# Buttons (action_id). Values carry a campaign id (and the join token for JOIN); the acting
# user always comes from the payload, never from the value.
JOIN = "campaign_join"
SEND_FIRST_TEXTS = "send_first_texts"
REQUEST_MORE = "request_more_texts"
DONE_FOR_NOW = "done_for_now"
DONE_FOR_THE_DAY = "done_for_the_day"
DONE_FOR_THE_DAY_CONFIRM = "done_for_the_day_confirm"
DONE_FOR_THE_DAY_CANCEL = "done_for_the_day_cancel"
PICK_CAMPAIGN = "pick_campaign"

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


def _campaign_id(text: str) -> int:
    if not text.isdigit():
        raise _stale()
    return int(text)


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
