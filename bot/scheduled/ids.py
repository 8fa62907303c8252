"""Action ids of the buttons the scheduled messages carry (the listener lives in bot/listeners).

The button's value is the campaign id as a string (bot.ids.campaign_value); the acting user
comes from the payload, never from the value.
"""

from __future__ import annotations

HANDLE_REPLIES_ACTION = "handle_replies"
