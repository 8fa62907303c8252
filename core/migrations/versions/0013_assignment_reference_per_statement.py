"""campaign_contact.assignment_id checked once per statement on PostgreSQL, not once per row

A foreign key checks each changed row on its own: a batch claim of 200 contacts ran 200
lookups of the same assignment (1.2 ms of a 4 ms claim at 1M contacts, the largest part of
the claim that was not the rows' own writes). The same guarantee, checked once per statement:
- a statement that sets assignment_id (a claim, a reassign, a take) finds every assignment it
  points at and holds it FOR KEY SHARE to the end of its transaction, as the foreign key's
  check does, so none of them can be deleted until it commits; else it fails with
  foreign_key_violation (23503), as the foreign key did;
- an INSERT with an assignment_id is checked row by row (imports insert none: the WHEN
  clause skips them without a call);
- deleting assignments sets their contacts' assignment_id to NULL, the foreign key's ON DELETE
  SET NULL.
An assignment's id is never updated, so that case (the foreign key's NO ACTION) is not kept.

PostgreSQL only: SQLite keeps the foreign key (core/models/spoke.py declares it for SQLite).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

FOREIGN_KEY = "fk_campaign_contact_assignment_id_assignment"

# What the foreign key raised: the same SQLSTATE (23503, IntegrityError) and constraint name.
REFUSE = f"""RAISE foreign_key_violation USING
          MESSAGE = 'campaign_contact.assignment_id refers to no assignment',
          CONSTRAINT = '{FOREIGN_KEY}';"""

UPGRADE = [
    f"ALTER TABLE campaign_contact DROP CONSTRAINT {FOREIGN_KEY}",
    f"""
    CREATE FUNCTION campaign_contact_assignments_exist() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (
        SELECT 1
        FROM (SELECT DISTINCT assignment_id FROM changed_contacts
              WHERE assignment_id IS NOT NULL) AS referred
        WHERE NOT EXISTS (
          SELECT 1 FROM assignment WHERE assignment.id = referred.assignment_id
          FOR KEY SHARE
        )
      ) THEN
        {REFUSE}
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER campaign_contact_updated_assignments_exist
    AFTER UPDATE ON campaign_contact
    REFERENCING NEW TABLE AS changed_contacts
    FOR EACH STATEMENT EXECUTE FUNCTION campaign_contact_assignments_exist()
    """,
    f"""
    CREATE FUNCTION campaign_contact_assignment_exists() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM 1 FROM assignment WHERE assignment.id = NEW.assignment_id FOR KEY SHARE;
      IF NOT FOUND THEN
        {REFUSE}
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER campaign_contact_inserted_assignment_exists
    AFTER INSERT ON campaign_contact
    FOR EACH ROW WHEN (NEW.assignment_id IS NOT NULL)
    EXECUTE FUNCTION campaign_contact_assignment_exists()
    """,
    """
    CREATE FUNCTION assignment_deleted_frees_contacts() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE campaign_contact SET assignment_id = NULL
      WHERE assignment_id IN (SELECT id FROM deleted_assignments);
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER assignment_deleted_frees_contacts
    AFTER DELETE ON assignment
    REFERENCING OLD TABLE AS deleted_assignments
    FOR EACH STATEMENT EXECUTE FUNCTION assignment_deleted_frees_contacts()
    """,
]

DOWNGRADE = [
    "DROP TRIGGER assignment_deleted_frees_contacts ON assignment",
    "DROP FUNCTION assignment_deleted_frees_contacts()",
    "DROP TRIGGER campaign_contact_inserted_assignment_exists ON campaign_contact",
    "DROP FUNCTION campaign_contact_assignment_exists()",
    "DROP TRIGGER campaign_contact_updated_assignments_exist ON campaign_contact",
    "DROP FUNCTION campaign_contact_assignments_exist()",
    f"""
    ALTER TABLE campaign_contact ADD CONSTRAINT {FOREIGN_KEY}
    FOREIGN KEY (assignment_id) REFERENCES assignment (id) ON DELETE SET NULL
    """,
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in DOWNGRADE:
        op.execute(statement)
