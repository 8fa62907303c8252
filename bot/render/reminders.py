"""What a texter sees after clicking Handle replies on a reminder."""

from __future__ import annotations

from bot.render.common import Reply, context, escape, reply, section
from core.refusals import plural
from core.services.stats import ContactRow


def waiting_replies(title: str, rows: list[ContactRow], total: int) -> Reply:
    if total == 0:
        text = f"No replies are waiting in *{escape(title)}*. Thanks for keeping up!"
        return reply(text, [section(text)])
    names = ", ".join(escape(f"{r.first_name} {r.last_name}".strip() or r.cell) for r in rows)
    more = f" and {total - len(rows)} more" if total > len(rows) else ""
    text = f"{plural(total, 'reply', 'replies')} waiting in *{escape(title)}*: {names}{more}."
    return reply(
        text,
        [
            section(text),
            context(
                "Each conversation is a thread in our direct messages: answer in the thread and "
                "it goes out as a text. Use Close when no answer is needed."
            ),
        ],
    )
