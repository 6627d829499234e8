"""The options commands share, as plain decorators, and the one way a typed value is read from
the command line: a ledger parser run inside a click callback, its refusal a usage error (exit 2)
that names the option."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ledger.domain.thai import parse_date, parse_instant
from ledger.errors import BadInput

F = TypeVar("F", bound=Callable[..., Any])
Callback = Callable[[click.Context, click.Parameter, Any], Any]


def parsed(parse: Callable[[str, str], Any]) -> Callback:
    """parsed makes a click callback of a ledger parser `parse(text, what)`: None stays None, and
    a value the parser refuses is a usage error naming the option."""

    def callback(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
        if value is None:
            return None
        try:
            return parse(value, f"--{(param.name or 'value').replace('_', '-')}")
        except BadInput as e:
            raise click.BadParameter(str(e)) from e

    return callback


def checked(parse: Callable[[str, str], Any]) -> Callback:
    """checked makes a click callback that refuses, as `parsed` does, what a ledger parser refuses
    — naming the option — but keeps the text: the record commands hand their text to the one
    translation every face shares (ledger.domain.commands.command_arguments)."""
    return parsed(lambda text, what: (parse(text, what), text.strip())[1])


#: A date (CE or BE, Thai digits); an instant (a date alone is the end of that day); an instant
#: where a date alone is the start of that day (a window's lower end); a record status.
date_callback = parsed(lambda text, what: parse_date(text, what=what))
instant_callback = parsed(lambda text, what: parse_instant(text, what=what))
since_callback = parsed(lambda text, what: parse_instant(text, what=what, day_starts=True))


def _status(text: str, what: str) -> Any:
    from ledger.domain.values import parse_status

    return parse_status(text)


def _field(name: str, text: str) -> Any:
    from ledger.domain.values import parse_field

    return parse_field(name, text)


#: The record commands' status, date and instant options: checked, kept as text.
status_callback = checked(_status)
date_text_callback = checked(lambda text, what: parse_date(text, what=what))
instant_text_callback = checked(lambda text, what: parse_instant(text, what=what))


def sets_callback(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    """sets_callback checks repeated FIELD=VALUE options (`correct` also takes effective_from=DATE)
    and keeps each VALUE's text."""
    out: dict[str, str] = {}
    for item in values:
        name, eq, text = item.partition("=")
        name = name.strip()
        if not eq:
            raise click.BadParameter(f"{item!r} is not FIELD=VALUE")
        if name in out:
            raise click.BadParameter(f"{name} is set twice")
        if name == "status" and text.strip() in ("cancelled", "ยกเลิก"):
            raise click.BadParameter("status 'cancelled' is set only by a cancellation: use `cancel`")
        try:
            if name == "effective_from" and ctx.info_name == "correct":
                parse_date(text, what="effective_from")
            else:
                _field(name, text)
        except BadInput as e:
            raise click.BadParameter(str(e)) from e
        out[name] = text.strip()
    return out


def field_option(name: str, help: str) -> Callable[[F], F]:
    """field_option adds --NAME for one of the record's fields, checked as the field is."""
    callback = checked(lambda text, what: _field(name, text))
    return click.option(f"--{name.replace('_', '-')}", name, callback=callback, help=help)


#: --reported-at: when the source system says the LAO reported (every record command takes it).
reported_at_option = click.option(
    "--reported-at", callback=instant_text_callback, help="When the source system says the LAO reported it."
)


def write_options(f: F) -> F:
    """write_options adds the options every correcting command shares."""
    f = reported_at_option(f)
    f = click.option(
        "--expect-version",
        type=click.IntRange(min=0),
        help="Refuse unless the record is at this version (optimistic concurrency).",
    )(f)
    return f


def out_options(help: str) -> Callable[[F], F]:
    """out_options adds --out FILE and --force (replace an existing FILE)."""

    def decorate(f: F) -> F:
        f = click.option("--force", is_flag=True, help="Replace the --out file if it exists.")(f)
        return click.option("--out", type=click.Path(path_type=Path), help=help)(f)

    return decorate


def _calendar(ctx: click.Context, param: click.Parameter, value: str | None) -> str:
    if value is not None:
        return value
    lang = getattr(ctx.find_root().obj, "lang", "en")
    return "be" if lang == "th" else "ce"


def calendar_option(f: F) -> F:
    """calendar_option adds --calendar ce|be for printed dates: BE by default for who works in Thai."""
    return click.option(
        "--calendar",
        type=click.Choice(["ce", "be"]),
        default=None,
        callback=_calendar,
        help="Print dates in CE or in the Buddhist Era (default: BE when working in Thai, else CE).",
    )(f)


def scope_options(f: F) -> F:
    """scope_options adds --lao, --district, --province (at most one)."""
    f = click.option("--province", help="Only this province (2-digit code, e.g. 81).")(f)
    f = click.option("--district", help="Only this district (4-digit code, e.g. 8101).")(f)
    f = click.option("--lao", help="Only this LAO (7-digit code).")(f)
    return f


def sort_option(f: F) -> F:
    """sort_option adds --sort code|name (names in Thai dictionary order)."""
    return click.option(
        "--sort",
        type=click.Choice(["code", "name"]),
        default="code",
        show_default=True,
        help="Order by codes, or by LAO name in Thai dictionary order.",
    )(f)


def format_options(f: F) -> F:
    """format_options adds --json and --csv (a table for people by default)."""
    f = click.option("--csv", "as_csv", is_flag=True, help="Print CSV (UTF-8 with BOM, for Excel).")(f)
    f = click.option("--json", "as_json", is_flag=True, help="Print JSON.")(f)
    return f


def one_format(as_json: bool, as_csv: bool) -> None:
    """one_format refuses --json with --csv."""
    if as_json and as_csv:
        raise click.UsageError("give --json or --csv, not both")
