"""Listeners by feature; each feature module (or package) has one `register(app, deps)`, and
bot.app.create_app registers them all (FEATURES). No listener module imports another.

The texter's features: joining (the Join button), first_texts (Send First Texts, Request
More, `/sendfirsttexts`, Done For Now, Done for the Day and `/doneforday`), send_card (Send,
Skip, Opt out, Edit on the card), threads (a contact's DM thread), conversations
(`/takeconversations`, Take conversations, waiting replies), home (the Home tab opening) and
reminders (Handle replies); admin/ is the admin side, installs Add to Slack's uninstalls.
Not listeners: common (Turn, Deps, the middleware putting deps into Bolt's context, `lazy`)
and steps (what several texter features, or the durable inbox, share).

Adding to the bot:
- a button: name its action id in `bot.ids`, write `def work(turn: Turn) -> None` in its
  feature (one core use case, then `turn.reply`/`turn.reply_or_dm`/`turn.show` with a
  message from `bot.render`), and register it in that feature's `register` with
  `lazy(work)`.
- a slash command: registered the same way, and listed in the feature's COMMANDS (and in
  manifest.yml; a test checks they agree).
- a `/campaign` subcommand: a `Subcommand` in the SUBCOMMANDS of its feature module in
  `bot/listeners/admin/` (see that package; help lists it).
Every listener only acks; its work runs in a lazy listener (see bot.app.create_app), where
a SpokebotError's `.message` reaches the user and anything else is logged with a reference.
Who is acting comes from Bolt's context (context.team_id, context.user_id) through the Turn,
never from button values.
"""
