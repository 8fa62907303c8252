"""The Slack side of the scheduled jobs: DMs and digest posts, and `spokebot scheduler`."""
