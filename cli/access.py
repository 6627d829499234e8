"""Commands for who may use the service: principals, their roles, and tokens (DESIGN §10).

They run as the operator (the OS user): each appends a ledger event, so grants and tokens are
history. A token is printed once, alone on stdout's last line; only its hash is kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from cli.base import Settings, cli, pass_settings
from cli.options import instant_callback
from cli.output import echo_json, echo_table, t, voice

if TYPE_CHECKING:
    from ledger.application import MissionLedger


def _principal_json(p: Any, now: datetime) -> dict[str, Any]:
    return {
        "name": p.name,
        "display_name": p.display_name,
        "roles": sorted(str(r) for r in p.roles),
        "added_at": p.added_at,
        "tokens": [
            {
                "token_id": x.token_id,
                "label": x.label,
                "issued_at": x.issued_at,
                "expires_at": x.expires_at,
                "revoked_at": x.revoked_at,
                "active": x.holds_at(now),
            }
            for x in sorted(p.tokens.values(), key=lambda x: x.issued_at)
        ],
    }


@cli.group()
def principal() -> None:
    """Who may sign in to the service, and their roles."""


def _role_words(app: MissionLedger, role: str) -> str:
    """A role in the reader's words, an LAO's by its name from the registry (names before codes)."""
    from ledger.errors import NotFound

    name = None
    if role.startswith("lao:"):
        try:
            name = app.lao(role[4:]).name_th
        except NotFound:
            name = None
    return voice().role(role, name)


@principal.command("add")
@click.argument("name")
@click.option(
    "--role", "roles", multiple=True, help="admin, auditor, integration[:PP], province:PP, district:DDDD or lao:CODE."
)
@click.option("--display-name", help="The person's or program's name as people read it (Thai welcome).")
@pass_settings
def principal_add(settings: Settings, name: str, roles: tuple[str, ...], display_name: str | None) -> None:
    """Add a principal with its roles.

    Example: mission-ledger principal add krabi.officer --role province:81 --display-name "สถ.จ.กระบี่"
    """
    from ledger.identity import Identity

    with settings.writing() as app:
        receipt = Identity(app).add(name, list(roles), display_name)
    said = voice(settings.calendar)
    shown = ", ".join(_role_words(app, r) for r in sorted(roles)) or said("no role yet")
    click.echo(said(f"principal {name} added ({shown}) at position {receipt.positions[0]}"))


def _role_command(verb: str, example: str, help: str) -> None:
    @principal.command(verb)
    @click.argument("name")
    @click.argument("role")
    @pass_settings
    def change(settings: Settings, name: str, role: str) -> None:
        from ledger.identity import Identity

        with settings.writing() as app:
            identity = Identity(app)
            receipt = identity.grant(name, role) if verb == "grant" else identity.revoke(name, role)
        named = _role_words(app, role)
        said = f"{name} granted {named}" if verb == "grant" else f"{name} no longer holds {named}"
        click.echo(t(f"{said} at position {receipt.positions[0]}"))

    change.help = f"{help}\n\nExample: {example}"


_role_command("grant", "mission-ledger principal grant somchai lao:6810103", "Give a principal one more role.")
_role_command(
    "revoke",
    "mission-ledger principal revoke somchai lao:6810103",
    "Take a role away from a principal (from now on; history keeps that it held it).",
)


@principal.command("list")
@click.option("--known-at", callback=instant_callback, help="The principals as they were at this time.")
@click.option("--can-write", "lao", help="Only those whose roles let them write this LAO's records then.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_settings
def principal_list(settings: Settings, known_at: datetime | None, lao: str | None, as_json: bool) -> None:
    """List principals with their roles and tokens (as known now, or at --known-at).

    Example: mission-ledger principal list --known-at 2567-12-30 --can-write 6810103
    """
    from ledger.domain.thai import bangkok_date
    from ledger.identity import Identity

    app = settings.open()
    now = known_at or app.clock.now()
    found = Identity(app).principals(known_at)
    if lao is not None:
        # The LAO's province as the registry said on that day: who could write for it then.
        province = app.lao(lao, on=bangkok_date(now)).province_code
        found = [p for p in found if p.may_write_record(lao, province)]
    if as_json:
        echo_json([_principal_json(p, now) for p in found])
        return
    echo_table(
        ("name", "display name", "roles", "active tokens"),
        [
            (p.name, p.display_name, ", ".join(_role_words(app, str(r)) for r in sorted(p.roles, key=str)),
             sum(1 for x in p.tokens.values() if x.holds_at(now)))
            for p in found
        ],
        calendar=settings.calendar,
    )  # fmt: skip


@cli.group()
def token() -> None:
    """Tokens that sign principals in to the service."""


@token.command("issue")
@click.argument("name")
@click.option("--expires", callback=instant_callback, help="Until when it holds (default: 90 days).")
@click.option("--label", help="What it is for (e.g. the integration's host).")
@click.option(
    "--link",
    "link_base",
    metavar="URL",
    help="Print a one-time sign-in link to the pages served at URL instead (default expiry: 3 days).",
)
@pass_settings
def token_issue(
    settings: Settings, name: str, expires: datetime | None, label: str | None, link_base: str | None
) -> None:
    """Issue a token for a principal; it is printed once, alone on the last line.

    Only its SHA-256 is kept: a lost token cannot be shown again (revoke it, issue another).
    With --link URL, the last line is a sign-in link instead: opened once, it signs its holder
    in to the pages and is useless afterwards. The token rides in the link's #fragment, which
    browsers never send to a server, so no proxy or access log sees it.

    Example: mission-ledger token issue krabi.officer --label "สำนักงานจังหวัด" --expires 2568-03-31

    Example: mission-ledger token issue somchai --link https://ledger.example.go.th
    """
    from ledger.identity import Identity

    if link_base is not None:
        link_base = _link_base(link_base)
    with settings.writing() as app:
        issued = Identity(app).issue(name, expires_at=expires, label=label, one_time=link_base is not None)
    until = voice(settings.calendar).when(issued.expires_at)
    if link_base is not None:
        click.echo(t(f"sign-in link {issued.token_id} for {name}, once, until {until} (keep it secret):"))
        click.echo(f"{link_base}/signin#link={issued.token}")
        return
    click.echo(t(f"token {issued.token_id} for {name}, until {until} (shown once; keep it secret):"))
    click.echo(issued.token)


def _link_base(url: str) -> str:
    from urllib.parse import urlsplit

    from ledger.errors import BadInput

    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise BadInput(f"--link {url!r} is not the address of the pages (such as https://ledger.example.go.th)")
    return url.strip().rstrip("/")


@token.command("revoke")
@click.argument("token_id")
@pass_settings
def token_revoke(settings: Settings, token_id: str) -> None:
    """Revoke a token by its id (from `token list`): its next request is refused.

    Example: mission-ledger token revoke 3f9c2a71d0e4
    """
    from ledger.identity import Identity

    with settings.writing() as app:
        receipt = Identity(app).revoke_token(token_id)
    if receipt is None:
        click.echo(t(f"token {token_id} was revoked already; the page sessions it opened are ended"))
    else:
        click.echo(t(f"token {token_id} revoked at position {receipt.positions[0]}"))


@token.command("list")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_settings
def token_list(settings: Settings, name: str | None, as_json: bool) -> None:
    """List tokens (ids, never the tokens), of one principal or of all.

    Example: mission-ledger token list krabi.officer
    """
    from ledger.identity import Identity

    app = settings.open()
    now = app.clock.now()
    identity = Identity(app)
    found = [identity.principal(name)] if name else identity.principals()
    rows = [{"name": p.name, **x} for p in found for x in _principal_json(p, now)["tokens"]]
    if as_json:
        echo_json(rows)
        return
    echo_table(
        ("token_id", "name", "label", "expires", "state"),
        [
            (r["token_id"], r["name"], r["label"], r["expires_at"],
             "active" if r["active"] else "revoked" if r["revoked_at"] else "expired")
            for r in rows
        ],
        calendar=settings.calendar,
    )  # fmt: skip


@cli.group()
def session() -> None:
    """The pages' open sessions: list them, end them."""


@session.command("list")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_settings
def session_list(settings: Settings, name: str | None, as_json: bool) -> None:
    """List the open page sessions (of one principal, or all), newest first; never a secret.

    Example: mission-ledger session list krabi.officer
    """
    from ledger.identity import Identity

    found = Identity(settings.open()).sessions(name)
    rows = [
        {"session_id": s.session_id, "name": s.name, "token_id": s.token_id, "started_at": s.started_at,
         "expires_at": s.expires_at}
        for s in found
    ]  # fmt: skip
    if as_json:
        echo_json(rows)
        return
    echo_table(
        ("session", "name", "token", "started", "ends"),
        [(r["session_id"], r["name"], r["token_id"], r["started_at"], r["expires_at"]) for r in rows],
        calendar=settings.calendar,
    )


@session.command("end")
@click.argument("session_id", required=False)
@click.option("--principal", "name", help="End every open session of this principal.")
@pass_settings
def session_end(settings: Settings, session_id: str | None, name: str | None) -> None:
    """End a page session (its id from `session list`), or every session of a principal: the
    next request with its cookie is sent to the sign-in page.

    Example: mission-ledger session end --principal krabi.officer
    """
    from ledger.identity import Identity

    ended = Identity(settings.open()).end_sessions(session_id=session_id, name=name)
    click.echo(t(f"{ended} page sessions ended"))
