"""The Slack layer: listeners, rendering and serving. Never writes SQL."""
