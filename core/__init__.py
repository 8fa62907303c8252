"""Domain, persistence and services of spokebot. Never imports Slack."""
