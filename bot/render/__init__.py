"""Everything the app shows in Slack is built here, within Block Kit's limits."""

from bot.render.common import Reply

__all__ = ["Reply"]
