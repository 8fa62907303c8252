"""Concurrency beyond one process: 200 batch requests from threads in several processes on
PostgreSQL, Done for the Day racing batch requests, and CSV imports fuzzed."""

from __future__ import annotations

import io
import multiprocessing
import string
import threading
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.db import Database
from core.errors import InvalidInput
from core.models import CampaignContact
from core.services.batches import request_batch
from core.services.contact_import import import_contacts
from tests.support.csv_files import csv_text
from tests.support.people import end_day
from tests.support.world import add_contacts, make_assignment, make_campaign, make_org, make_texter

PROCESSES = 4
THREADS_PER_PROCESS = 50


def _process_requests(
    url: str, campaign: int, users: list[int], out: multiprocessing.Queue
) -> None:
    db = Database.from_url(url, pool_size=THREADS_PER_PROCESS)
    got: dict[int, list[int]] = {}
    errors: list[str] = []
    barrier = threading.Barrier(len(users))

    def ask(user: int) -> None:
        barrier.wait()
        try:
            got[user] = request_batch(db, campaign, user, requested=10).contact_ids
        except Exception as exc:  # reported to the parent, which fails the test
            errors.append(repr(exc))

    threads = [threading.Thread(target=ask, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.dispose()
    out.put((got, errors))


@pytest.mark.heavy
def test_200_requests_from_four_processes(request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("postgres_url")
    db = Database.from_url(url)
    from tests.support.database import _truncate_all

    _truncate_all(db)
    org = make_org(db)
    campaign = make_campaign(db, org, batch_size=10)
    add_contacts(db, campaign, 1500, prefix="+1202")
    total = PROCESSES * THREADS_PER_PROCESS
    users = [make_texter(db, org, f"UP{n:03d}") for n in range(total)]
    for user in users:
        make_assignment(db, campaign, user)
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    workers = [
        context.Process(
            target=_process_requests,
            args=(url, campaign, users[i::PROCESSES], out),
        )
        for i in range(PROCESSES)
    ]
    for w in workers:
        w.start()
    results = [out.get(timeout=180) for _ in workers]
    for w in workers:
        w.join(timeout=60)
    errors = [e for _, errs in results for e in errs]
    assert not errors, errors[:3]
    owners = Counter(cid for got, _ in results for ids in got.values() for cid in ids)
    assert all(n == 1 for n in owners.values()), "a contact was given to two texters"
    assert sum(owners.values()) == min(1500, total * 10)
    with db.uow(read_only=True) as uow:
        assert uow.session.scalar(
            select(func.count()).where(CampaignContact.assignment_id.is_not(None))
        ) == min(1500, total * 10)
    db.dispose()


def test_done_for_the_day_racing_batch_requests(db: Database) -> None:
    org = make_org(db)
    campaign = make_campaign(db, org, batch_size=20)
    add_contacts(db, campaign, 400)
    texter = make_texter(db, org, "URACE")
    make_assignment(db, campaign, texter)
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def request_then_release(n: int) -> None:
        barrier.wait()
        try:
            for _ in range(5):
                if n % 2:
                    request_batch(db, campaign, texter)
                else:
                    end_day(db, campaign, texter)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=request_then_release, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    with db.uow(read_only=True) as uow:
        held = uow.session.scalar(
            select(func.count()).where(CampaignContact.assignment_id.is_not(None))
        )
    # Requests and releases serialise on the texter's assignment: whatever the interleaving,
    # the texter ends with at most one batch, never two.
    assert held in (0, 20)


CELLS = st.one_of(
    st.from_regex(r"\+1[2-9][0-9]{2}[2-9][0-9]{6}", fullmatch=True),
    st.from_regex(r"\([2-9][0-9]{2}\) [2-9][0-9]{2}-[0-9]{4}", fullmatch=True),
    st.text(alphabet=string.digits + "+-() .x", max_size=16),
    st.text(max_size=12),
)
FIELD = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@pytest.mark.heavy
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.tuples(FIELD, CELLS, FIELD), max_size=25))
def test_fuzzed_csv_imports_write_all_valid_rows_or_nothing(
    db: Database, rows: list[tuple[str, str, str]]
) -> None:
    from tests.test_assignment_properties import wipe

    wipe(db)
    org = make_org(db)
    campaign = make_campaign(db, org, started=False)
    buffer = io.StringIO(csv_text([["firstName", "cell", "note"], *rows]))
    try:
        report = import_contacts(db, campaign, buffer)
    except InvalidInput as refused:
        assert refused.message
        imported = 0
    else:
        imported = report.imported
        assert report.imported + len(report.skipped) == len(rows)
        assert all(s.reason and s.line >= 2 for s in report.skipped)
    with db.uow(read_only=True) as uow:
        stored = uow.session.scalars(select(CampaignContact.cell)).all()
    assert len(stored) == imported
    assert len(set(stored)) == len(stored)
    assert all(c.startswith("+") and c[1:].isdigit() for c in stored)
