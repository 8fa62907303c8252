"""The shared test kit, loaded by tests/conftest.py through `pytest_plugins`.

- `loopback`: an HTTP server on 127.0.0.1 in a thread (every stand-in below runs on one).
- `fake_slack`: `FakeSlack`, the stand-in for Slack's Web API and response_url endpoints,
  recording calls, with fault injection (delays, ok: false errors, 429s, HTTP faults).
- `slack_harness`: `SlackHarness`, the real WSGI app over HTTP with signed Slack requests.
- `world`: `build_world`, one campaign world (org, admin, texters, campaign, contacts) with
  options, and the single-row builders it is made of (`make_org`, `make_campaign`, ...).
- `texting`, `admin`, `conversations`, `inbox`, `scheduler`, `reliability`, `texting_service`,
  `scenarios`: helpers per area of the app (each builds its world with `build_world`).
- `pg_faults`: killing a PostgreSQL backend that waits on a lock.
- `twilio`: the loopback stand-in for Twilio's Messages API.
- `csv_files`: contact CSV files for imports.
- `database`: the `db` fixture on SQLite and PostgreSQL.
"""
