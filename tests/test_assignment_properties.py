"""A Hypothesis state machine over joins, batch requests, sends, replies, opt-outs and
releases by several texters, checked against a simple model after every step."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select, text, update

from core.db import Database
from core.models import Base, Campaign, CampaignContact
from core.refusals import RefusalReason
from core.services.batches import request_batch
from core.services.joining import JoinRefused
from core.services.link_joining import join_by_link
from core.services.organizations import set_organization_setting
from core.statuses import MessageStatus as S
from tests.support.people import end_day
from tests.support.world import add_contacts, make_campaign, make_org

TEXTERS = ["UA", "UB", "UC"]
CAPS = {"UA": None, "UB": 7, "UC": 3}
CONTACTS = 24
BATCH = 5


@dataclass
class ModelContact:
    owner: str | None = None
    status: S = S.NEEDS_MESSAGE
    opted_out: bool = False


def wipe(db: Database) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.is_postgres:
            names = ", ".join(f'"{t}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))


class AssignmentMachine(RuleBasedStateMachine):
    db: Database

    @initialize(
        strategy=st.sampled_from(["finished-replies", "all-texters"]),
        release_conversations=st.booleans(),
    )
    def start(self, strategy: str, release_conversations: bool) -> None:
        wipe(self.db)
        org = make_org(self.db)
        set_organization_setting(
            self.db, org, "RELEASE_CONVERSATIONS_ALLOWED", str(release_conversations)
        )
        self.release_conversations = release_conversations
        self.campaign = make_campaign(self.db, org, batch_size=BATCH, strategies=[strategy])
        ids = add_contacts(self.db, self.campaign, CONTACTS)
        self.contacts = {cid: ModelContact() for cid in ids}
        with self.db.uow(read_only=True) as uow:
            self.token = uow.session.get(Campaign, self.campaign).join_token
        self.users: dict[str, int] = {}
        self.caps: dict[str, int | None] = {}

    def held(self, texter: str) -> list[int]:
        return [cid for cid, c in self.contacts.items() if c.owner == texter]

    @rule(texter=st.sampled_from(TEXTERS))
    def join(self, texter: str) -> None:
        try:
            joined = join_by_link(
                self.db, "T1", texter, None, self.campaign, self.token, environ={}
            ).result
        except JoinRefused as exc:  # pragma: no cover - nothing here should refuse
            raise AssertionError(exc.message) from exc
        assert joined.already_joined == (texter in self.users)
        self.users[texter] = joined.user_id
        if CAPS[texter] is not None and not joined.already_joined:
            from core.models import Assignment

            with self.db.uow() as uow:
                uow.session.execute(
                    update(Assignment)
                    .where(Assignment.id == joined.assignment_id)
                    .values(max_contacts=CAPS[texter])
                )
                uow.commit()
        self.caps[texter] = CAPS[texter]

    @precondition(lambda self: self.users)
    @rule(data=st.data(), requested=st.one_of(st.none(), st.integers(1, 8)))
    def request(self, data: st.DataObject, requested: int | None) -> None:
        texter = data.draw(st.sampled_from(sorted(self.users)))
        result = request_batch(self.db, self.campaign, self.users[texter], requested)
        for cid in result.contact_ids:
            contact = self.contacts[cid]
            assert contact.owner is None, f"contact {cid} already belonged to {contact.owner}"
            assert not contact.opted_out, f"opted-out contact {cid} was assigned"
            assert contact.status == S.NEEDS_MESSAGE
            contact.owner = texter
        assert result.assigned <= min(requested or BATCH, BATCH)
        cap = self.caps[texter]
        if cap is not None:
            assert len(self.held(texter)) <= cap or result.assigned == 0
        if result.assigned == 0:
            assert result.refusal is not None and result.refusal.message
            free = [
                c
                for c in self.contacts.values()
                if c.owner is None and c.status == S.NEEDS_MESSAGE and not c.opted_out
            ]
            if result.refusal.reason == RefusalReason.NO_INITIALS_LEFT:
                assert not free, "told nothing is left while unassigned first texts remain"

    @precondition(lambda self: any(c.owner for c in self.contacts.values()))
    @rule(data=st.data())
    def send_or_reply(self, data: st.DataObject) -> None:
        cid = data.draw(st.sampled_from(sorted(c for c, m in self.contacts.items() if m.owner)))
        contact = self.contacts[cid]
        new = {
            S.NEEDS_MESSAGE: S.MESSAGED,
            S.MESSAGED: S.NEEDS_RESPONSE,
            S.NEEDS_RESPONSE: S.CONVO,
            S.CONVO: S.NEEDS_RESPONSE,
            S.CLOSED: S.NEEDS_RESPONSE,
        }[contact.status]
        self._set(cid, message_status=new.value)
        contact.status = new

    @rule(data=st.data())
    def opt_out(self, data: st.DataObject) -> None:
        cid = data.draw(st.sampled_from(sorted(self.contacts)))
        self._set(cid, is_opted_out=True)
        self.contacts[cid].opted_out = True

    @precondition(lambda self: self.users)
    @rule(data=st.data())
    def done_for_the_day(self, data: st.DataObject) -> None:
        texter = data.draw(st.sampled_from(sorted(self.users)))
        result = end_day(self.db, self.campaign, self.users[texter])
        expected_initials = [
            cid for cid in self.held(texter) if self.contacts[cid].status == S.NEEDS_MESSAGE
        ]
        expected_rest = [
            cid for cid in self.held(texter) if self.contacts[cid].status != S.NEEDS_MESSAGE
        ]
        assert result.initials == len(expected_initials)
        released = expected_initials + (expected_rest if self.release_conversations else [])
        assert result.conversations == (len(expected_rest) if self.release_conversations else 0)
        for cid in released:
            self.contacts[cid].owner = None

    def _set(self, cid: int, **values: object) -> None:
        with self.db.uow() as uow:
            uow.session.execute(
                update(CampaignContact).where(CampaignContact.id == cid).values(**values)
            )
            uow.commit()

    @invariant()
    def database_matches_model(self) -> None:
        if not hasattr(self, "campaign"):
            return
        with self.db.uow(read_only=True) as uow:
            rows = uow.session.execute(
                select(
                    CampaignContact.id,
                    CampaignContact.assignment_id,
                    CampaignContact.is_opted_out,
                    CampaignContact.message_status,
                )
            ).all()
        from core.models import Assignment

        with self.db.uow(read_only=True) as uow:
            owner_of = {
                a.id: next(s for s, u in self.users.items() if u == a.user_id)
                for a in uow.session.scalars(select(Assignment))
            }
        for cid, assignment_id, opted_out, status in rows:
            model = self.contacts[cid]
            assert (owner_of.get(assignment_id) if assignment_id else None) == model.owner
            assert opted_out == model.opted_out and status == model.status.value
        for texter, cap in self.caps.items():
            if cap is not None:
                assert len(self.held(texter)) <= cap


@pytest.mark.heavy
def test_assignment_state_machine(db: Database, engine_name: str) -> None:
    machine = type("Machine", (AssignmentMachine,), {"db": db})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=30 if engine_name == "sqlite" else 20,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
