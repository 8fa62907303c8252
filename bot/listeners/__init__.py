"""Listeners grouped by kind; each module has one `register(app, deps)`.

Adding to the bot:
- a button: name its action id in `bot.ids`, write `def work(turn: Turn) -> None` in
  `actions.py` (one core call, then `turn.reply`/`turn.show` with a message from
  `bot.render`), and add it to the table in `actions.register`.
- a slash command: a `work(turn)` in `commands.py`, listed in `COMMANDS` (and in
  manifest.yml; a test checks both agree).
- a `/campaign` subcommand: a `Subcommand` in the SUBCOMMANDS of its feature module in
  `bot/listeners/admin/` (see that package; help lists it).
- an event or a modal: `events.py` / a feature module of `admin/`, same shape.
Every listener only acks; its work runs in a lazy listener (see bot.app.create_app), where
a SpokebotError's `.message` reaches the user and anything else is logged with a reference.
"""
