"""Listeners grouped by kind; each module has one `register(app, deps)`."""
