"""The command group, its global options, and its settings: where the ledger and its views are,
and the rules for files a command writes.

Errors become one line on stderr and the exit code of their kind (docs/design.md §9):
1 refused or failed check, 2 bad usage or input, 3 not found."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli.files import check_output, with_journals
from cli.output import language_of, t
from ledger.errors import LedgerError, NotFound, Refused

# The store and the views are loaded by the commands that use them: `--help`, and every command
# that reads no ledger, starts without eventsourcing, psycopg or sqlite-utils.
if TYPE_CHECKING:
    from ledger.application import MissionLedger
    from ledger.store.contract import Follower
    from projections.runner import Projector


class LedgerGroup(click.Group):
    """LedgerGroup turns every foreseeable error into one line and its exit code."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        # Click's standalone mode prints a usage error on four lines; here it is one, also for
        # the group's own options (read before invoke). Exit codes are kept.
        kwargs.pop("standalone_mode", None)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[call-overload]
            sys.exit(code if isinstance(code, int) else 0)
        except click.UsageError as e:
            _usage_error(e)
        except click.exceptions.Exit as e:
            sys.exit(e.exit_code)
        except click.Abort:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except click.ClickException as e:
            e.show()
            sys.exit(e.exit_code)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as e:
            _usage_error(e)
        except LedgerError as e:
            _explain(e)
            _error(str(e))
            ctx.exit(e.exit_code)
        except Exception as e:
            from eventsourcing.persistence import PersistenceError

            if not isinstance(e, PersistenceError):
                raise
            # The store failed under us (a server restarted, a disk full): one line, nothing half done —
            # every write is one transaction.
            _explain(e)
            from ledger.store.location import StoreLocation, translate_store_error

            where = ctx.obj.location if isinstance(ctx.obj, Settings) else StoreLocation("?")
            _error(str(translate_store_error(e, where)))
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo(t("interrupted"), err=True)
            ctx.exit(130)


class TranslatedHelp(click.HelpFormatter):
    """TranslatedHelp writes `--help` in the working language: every paragraph of a command's
    help, every option's, the headings and the placeholders come from the one catalog (ledger/i18n);
    what has no entry is written as it is."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, " ".join(t(p) for p in args.split(" ")) if args else args, f"{t('Usage:')} ")

    def write_heading(self, heading: str) -> None:
        super().write_heading(t(heading))

    def write_text(self, text: str) -> None:
        super().write_text("\n\n".join(_paragraph(p) for p in text.split("\n\n")))

    def write_dl(self, rows: Any, col_max: int = 30, col_spacing: int = 2) -> None:
        shown = [
            (" ".join(t(w) if w.isupper() else w for w in term.split(" ")), _option_help(text)) for term, text in rows
        ]
        super().write_dl(shown, col_max, col_spacing)


def _paragraph(text: str) -> str:
    """One paragraph of help in the working language (the catalog has it joined on one line)."""
    joined = " ".join(line.strip() for line in text.splitlines()).strip()
    said = t(joined)
    return text if said == joined else said


def _option_help(text: str) -> str:
    """An option's help and click's `[default: …; required]` after it, in the working language."""
    if text.startswith("[") and text.endswith("]"):  # no help of its own, only click's extras
        text = f"  {text}"
    words, _, extra = text.rpartition("  [") if text.endswith("]") and "  [" in text else (text, "", "")
    said = t(" ".join(words.split())) if words.strip() else ""
    if not extra:
        return said
    parts = "; ".join(t(p) for p in extra[:-1].split("; "))
    return f"{said}  [{parts}]".strip()


class LedgerContext(click.Context):
    """LedgerContext is every command's context: its help in the working language."""

    formatter_class = TranslatedHelp


def _error(message: str) -> None:
    """The one line of an error, in the working language."""
    click.echo(f"{t('Error')}: {t(message)}", err=True)


def _usage_error(error: click.UsageError) -> None:
    """A usage error as one line: what is wrong, the command's usage, where the help is (exit 2)."""
    ctx = error.ctx
    usage = ""
    if ctx is not None:
        pieces = ctx.command.collect_usage_pieces(ctx)
        # The usage is what to type, so it is quoted (and its placeholders are words of the catalog).
        shown = " ".join(t(p) for p in pieces)
        usage = t(f" (usage: '{ctx.command_path} {shown}'; see '{ctx.command_path} --help')")
    click.echo(f"{t('Error')}: {t(error.format_message())}{usage}", err=True)
    sys.exit(error.exit_code)


def _explain(error: BaseException) -> None:
    """With MISSION_LEDGER_DEBUG set, the error's traceback and its chained causes go to stderr
    before the one line: for whoever debugs the tool, never in a user's way."""
    if os.environ.get("MISSION_LEDGER_DEBUG"):
        import traceback

        traceback.print_exception(error, file=sys.stderr)


def _writable(views: Path) -> bool:
    if views.exists():
        return os.access(views, os.W_OK) and os.access(views.parent, os.W_OK)
    return os.access(views.parent, os.W_OK)


def cached_views_path(default: Path) -> Path:
    """cached_views_path is where the views of a ledger in a read-only folder are kept: the
    user's cache folder ($XDG_CACHE_HOME, else ~/.cache), named after the views file and its
    folder, so two read-only ledgers never share one; where the cache cannot be written either
    (no home, a read-only one), the system's temporary folder (rebuilt on each run)."""
    import tempfile

    tag = hashlib.sha256(str(default.resolve()).encode()).hexdigest()[:8]
    for folder in (
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mission-ledger",
        Path(tempfile.gettempdir()) / f"mission-ledger-{os.getuid() if hasattr(os, 'getuid') else 'user'}",
    ):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if _writable(folder / f"{default.stem}-{tag}.db"):
            return folder / f"{default.stem}-{tag}.db"
    return Path(tempfile.mkdtemp(prefix="mission-ledger-views-")) / f"{default.stem}.db"


class Settings:
    """Settings holds the global options; `open()` opens the ledger they name."""

    def __init__(self, db: str, views: str | None, actor: str | None, lang: str | None = None) -> None:
        self.lang = lang or language_of(os.environ)
        from ledger.store.location import StoreLocation

        self.location = StoreLocation(db)
        self._views = Path(views) if views else None
        self.actor = actor  # None: the application takes the OS user

    @property
    def calendar(self) -> str:
        """calendar is how dates print by default: BE for who works in Thai, else CE."""
        return "be" if self.lang == "th" else "ce"

    @property
    def views(self) -> Path:
        """views is the views file: --views, or the ledger's default (asked once). Where the
        default cannot be written (an auditor's read-only copy of a ledger), the views are kept
        in the user's cache folder instead, and a note says where."""
        if self._views is None:
            default = self.location.views_path()
            if _writable(default):
                self._views = default
            else:
                self._views = cached_views_path(default)
                note = f"{default.parent} is read-only; the views are kept in {self._views} (--views chooses)"
                click.echo(f"{t('Note')}: {t(note)}", err=True)
        return self._views

    def open(self, *, create: bool = False, clock_env: dict[str, str] | None = None) -> MissionLedger:
        """open opens the ledger; unless `create`, it must have been initialised."""
        if not create and not self.location.exists():
            raise NotFound(f"no ledger at {self.location.describe()}: run `mission-ledger init` or give --db")
        from ledger.application import MissionLedger
        from ledger.clock import clock_from_environment

        clock = clock_from_environment(clock_env if clock_env is not None else dict(os.environ))
        return MissionLedger(self.location, clock=clock, actor=self.actor, create_tables=create)

    @contextmanager
    def writing(self) -> Iterator[MissionLedger]:
        """writing opens the ledger for a write command and, once the command has succeeded,
        catches the views up so that every query reflects the write at once."""
        if self.location.read_only:
            raise Refused(
                f"the ledger {self.location.describe()} is read-only here: it can be read and verified, not written"
            )
        app = self.open()
        yield app
        self.catch_up_after_write(app)

    @contextmanager
    def following(self, app: MissionLedger, *, when: bool = True) -> Iterator[Follower | None]:
        """following gives a large write's batch the views to tell as it appends
        (projections.follow), so that they are current as soon as it commits; None: `when` is
        false, or the views cannot follow (they are caught up after the write as ever)."""
        if not when:
            yield None
            return
        from projections.follow import views_following

        with views_following(app.ledger_recorder, self.views) as follower:
            yield follower

    def catch_up_after_write(self, app: MissionLedger) -> None:
        """catch_up_after_write updates the views; a views problem never undoes the write, it
        is reported as a warning with the way to fix it."""
        try:
            from projections.runner import Projector

            projector = Projector(app.ledger_recorder, self.views)
            try:
                projector.catch_up()
            finally:
                projector.close()
        except LedgerError as e:
            click.echo(f"Warning: views not updated: {e}", err=True)

    def protected_files(self, *inputs: Path) -> list[tuple[Path, str]]:
        """protected_files are the files no output may overwrite: the ledger, its views, their
        journals, and the files the command reads."""
        files: list[tuple[Path, str]] = []
        if not self.location.is_postgres:
            files += [
                (p, "the ledger" if not i else "a journal file of the ledger")
                for i, p in enumerate(with_journals(self.location.path))
            ]
        files += [
            (p, "the views file" if not i else "a journal file of the views")
            for i, p in enumerate(with_journals(self.views))
        ]
        files += [(p, "the file being read") for p in inputs]
        return files

    def output(
        self,
        path: Path,
        *,
        force: bool,
        option: str = "--out",
        inputs: tuple[Path, ...] = (),
        ours: Callable[[Path], bool] = lambda path: False,
    ) -> Path:
        """output checks a path the command will write (see cli.files.check_output)."""
        return check_output(path, protected=self.protected_files(*inputs), force=force, option=option, ours=ours)

    def views_of(self, app: MissionLedger) -> Projector:
        """views_of opens the views and catches them up with the ledger (other writers too)."""
        from projections.runner import Projector

        projector = Projector(app.ledger_recorder, self.views)
        click.get_current_context().call_on_close(projector.close)
        projector.catch_up()
        return projector


pass_settings = click.make_pass_decorator(Settings)


@click.group(cls=LedgerGroup)
@click.option(
    "--db",
    envvar="MISSION_LEDGER_DB",
    default="mission-ledger.db",
    show_default=True,
    help="The ledger: a SQLite file path, or a postgresql:// URL. A password written in the URL is "
    "visible to other users in `ps`: put it in PGPASSWORD or ~/.pgpass instead.",
)
@click.option("--views", default=None, help="The views file (default: beside the ledger, NAME.views.db).")
@click.option("--actor", envvar="MISSION_LEDGER_ACTOR", default=None, help="Who is writing (default: the OS user).")
@click.option(
    "--lang",
    type=click.Choice(["th", "en"]),
    envvar="MISSION_LEDGER_LANG",
    default=None,
    help="Work in Thai or English: Thai prints BE dates (default: th under a Thai locale, else en).",
)
@click.version_option(package_name="mission-ledger")
@click.pass_context
def cli(ctx: click.Context, db: str, views: str | None, actor: str | None, lang: str | None) -> None:
    """mission-ledger: an audit ledger of the missions transferred to Thai local administrative
    organizations. Every record, correction, change and cancellation is an immutable event."""
    ctx.obj = Settings(db, views, actor, lang)
