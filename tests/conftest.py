"""The shared test kit (tests/support/) is loaded here as pytest plugins: its fixtures are
available to every test module without importing them."""

import pytest

# Asserts inside the kit's helpers report their values like asserts in tests do.
pytest.register_assert_rewrite("tests.support")

pytest_plugins = [
    "tests.support.database",  # db, database_url, engine_name: SQLite and PostgreSQL
    "tests.support.slack_harness",  # fake_slack, slack: the real app over loopback HTTP
    "tests.support.texting",  # sms, texting_slack, simulate: the texting loop
]
