"""`spokebot org ...` and `spokebot user ...`."""

from __future__ import annotations

import click

from core.cli.common import emit_json, open_database
from core.errors import NotFound
from core.org_settings import SETTINGS
from core.roles import Role
from core.services.installations import OrganizationInstall, organizations_with_installations
from core.services.organizations import (
    add_member,
    create_organization,
    organization_settings,
    set_organization_setting,
    unset_organization_setting,
)


@click.group()
def org() -> None:
    """Organizations and their settings."""


@org.command("create")
@click.argument("name")
@click.option("--slack-team", "slack_team", help="Slack workspace (team) id, like T012AB3C4")
def org_create(name: str, slack_team: str | None) -> None:
    """Create an organization; prints its id."""
    click.echo(create_organization(open_database(), name, slack_team))


@org.command("set")
@click.argument("organization_id", type=int)
@click.argument("key")
@click.argument("value")
def org_set(organization_id: int, key: str, value: str) -> None:
    """Set one organization setting (see `org show` for the keys)."""
    stored = set_organization_setting(open_database(), organization_id, key, value)
    click.echo(f"{key.upper()} = {stored!r}")


@org.command("unset")
@click.argument("organization_id", type=int)
@click.argument("key")
def org_unset(organization_id: int, key: str) -> None:
    """Remove an organization's own value: the environment's or the default applies again."""
    removed = unset_organization_setting(open_database(), organization_id, key)
    name = key.strip().upper()
    click.echo(
        f"{name} removed" if removed else f"{name} was not set on organization {organization_id}"
    )


def _installed(found: OrganizationInstall) -> str:
    install = found.installation
    if install is None:
        return "not installed"
    when = install.installed_at.strftime("%Y-%m-%d %H:%M UTC")
    return f"installed {when} by {install.installer_slack_user_id}"


@org.command("list")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def org_list(as_json: bool) -> None:
    """Every organization: its Slack team and whether (and when) it installed the app."""
    found = organizations_with_installations(open_database())
    if as_json:
        emit_json([org.as_dict() for org in found])
        return
    if not found:
        click.echo("no organizations yet: `spokebot org create` or install the app (Add to Slack)")
        return
    for org in found:
        click.echo(f"{org.organization_id}\t{org.name}\t{org.team_id or '-'}\t{_installed(org)}")
    click.echo("(installed: through Add to Slack; with a single SLACK_BOT_TOKEN none is recorded)")


@org.command("show")
@click.argument("organization_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def org_show(organization_id: int, as_json: bool) -> None:
    """Show the organization's Slack installation and every setting with its effective value."""
    db = open_database()
    values = organization_settings(db, organization_id)
    found = organizations_with_installations(db, organization_id)
    if not found:
        raise NotFound(f"no organization with id {organization_id}")
    if as_json:
        # Settings keys are upper case; "installation" can't clash with one.
        emit_json({**values, "installation": found[0].as_dict()})
        return
    org = found[0]
    click.echo(f"# {org.name}: Slack team {org.team_id or '(none)'}, {_installed(org)}")
    for key, value in values.items():
        click.echo(f"{key} = {value!r}    # {SETTINGS[key].description}")


@click.group()
def user() -> None:
    """Organization members."""


@user.command("add")
@click.argument("slack_user_id")
@click.option("--org", "organization_id", type=int, required=True, help="organization id")
@click.option("--name", default="", help="display name")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role], case_sensitive=False),
    default=Role.TEXTER.value,
    show_default=True,
)
def user_add(slack_user_id: str, organization_id: int, name: str, role: str) -> None:
    """Add a member, or change an existing member's role."""
    member = add_member(open_database(), organization_id, slack_user_id, name, role)
    click.echo(f"{member.slack_user_id} is {member.role.value} in organization {organization_id}")
