"""What the app asks of Slack, in one place: the OAuth install asks for these scopes and
tests/test_slack_oauth.py fails if manifest.yml asks for others."""

from __future__ import annotations

BOT_SCOPES: tuple[str, ...] = (
    "commands",  # slash commands
    "chat:write",  # join links in channels the bot was invited to, cards and threads in DMs
    "im:write",  # conversations.open: the DM a card or reminder goes to
    "users:read",  # users.info: texters' names
    "im:history",  # message.im: texters answer contacts by replying in the DM thread
    "reactions:write",  # a ✅ on a texter's thread answer once it went out as a text
    "files:read",  # a CSV an admin shares in a DM (`import CAMPAIGN_ID`)
)

# Bolt's defaults, and what manifest.yml registers with YOUR-HOST in front.
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
