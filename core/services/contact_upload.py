"""Contacts an admin uploads from Slack: the checks made before anything is downloaded, and
the import with its report. The import itself commits as contact_import does (one COPY on
PostgreSQL, chunks on SQLite), so it can't share a transaction with the checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO

from core.db import Database
from core.services import contact_import
from core.services.campaign_access import MANAGE, campaign_for
from core.services.campaign_editing import ScriptReport, report_on
from core.services.campaigns import get_campaign
from core.services.contact_import import ImportReport


def upload_target(db: Database, actor_user_id: int, organization_id: int, campaign_id: int) -> str:
    """The campaign's title, once the actor may import into it (admins; NotFound for another
    organization's campaign)."""
    with db.uow(read_only=True) as uow:
        return campaign_for(uow.session, actor_user_id, organization_id, campaign_id, MANAGE).title


@dataclass(frozen=True)
class ContactsImported:
    report: ImportReport
    script: ScriptReport  # the script's {fields} checked against the columns just imported


def import_contacts(
    db: Database,
    actor_user_id: int,
    organization_id: int,
    campaign_id: int,
    source: TextIO,
    region: str = "US",
) -> ImportReport:
    upload_target(db, actor_user_id, organization_id, campaign_id)
    return contact_import.import_contacts(db, campaign_id, source, region)


def import_uploaded(
    db: Database,
    actor_user_id: int,
    organization_id: int,
    campaign_id: int,
    source: TextIO,
) -> ContactsImported:
    report = import_contacts(db, actor_user_id, organization_id, campaign_id, source)
    with db.uow(read_only=True) as uow:
        campaign = get_campaign(uow.session, campaign_id, organization_id)
        return ContactsImported(report, report_on(uow.session, campaign))
