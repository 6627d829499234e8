"""Commands of the verifiable log: keygen, checkpoint, verify, prove, verify-proof."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from cli.base import Settings, cli, pass_settings
from cli.files import replacing
from cli.options import out_options
from cli.output import t
from ledger.errors import BadInput, Refused

if TYPE_CHECKING:
    from ledger.integrity.checkpoint import Quorum
    from ledger.integrity.witness import Policy

F = TypeVar("F", bound=Callable[..., Any])
FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(f"cannot read {what} {path}: {e}") from e


def _write(text: str, out: Path | None, settings: Settings, *, force: bool, inputs: tuple[Path, ...]) -> None:
    if out is None:
        click.echo(text, nl=False)
        return
    target = settings.output(out, force=force, inputs=inputs)
    with replacing(target) as f:
        f.write(text.encode("utf-8"))
    click.echo(t(f"wrote {out}"), err=True)


def no_signature_option(f: F) -> F:
    """no_signature_option adds --no-signature: accept checkpoints whose signature is not checked."""
    return click.option(
        "--no-signature",
        is_flag=True,
        help="Without --key: accept that no signature is checked (otherwise that is a failure, exit 1).",
    )(f)


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--name", help="The key's name in signatures (default: PATH's file name, e.g. krabi-ppao).")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="The folder PATH is relative to.",
)
@click.option(
    "--witness", "for_witness", is_flag=True, help="A witness's key (cosignatures, c2sp.org/tlog-cosignature)."
)
def keygen(path: Path, name: str | None, folder: Path, for_witness: bool) -> None:
    """Write an Ed25519 key pair for signing checkpoints: PATH.key (secret) and PATH.pub
    (the verifier key to give to auditors), in C2SP signed-note key format.

    The key's name, which every checkpoint it signs carries, is --name or PATH's file name —
    never the folders of the machine it was made on.

    Example: mission-ledger keygen keys/krabi-ppao
    """
    from ledger.integrity.checkpoint import Signer, check_key_name

    base = folder / path
    if base.suffix in (".key", ".pub"):
        base = base.with_suffix("")
    name = check_key_name(name if name is not None else base.name)
    if not base.parent.is_dir():
        raise BadInput(f"keygen {path}: folder {base.parent} does not exist")
    secret, public = base.with_name(f"{base.name}.key"), base.with_name(f"{base.name}.pub")
    for file in (secret, public):
        if file.exists() or file.is_symlink():
            raise Refused(f"{file} exists already; keys are never overwritten")
    if for_witness:
        from ledger.integrity.witness import Witness

        made = Witness.generate(name)
        private, verifier = made.format(), made.key.format()
    else:
        signer = Signer.generate(name)
        private, verifier = signer.format(), signer.verifier().format()
    fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(private + "\n")
    public.write_text(verifier + "\n")
    click.echo(t(f"wrote {secret} (keep it secret) and {public}: '{verifier}'"))


@cli.command()
@click.option(
    "--key",
    "key_file",
    type=FILE,
    envvar="MISSION_LEDGER_KEY",
    required=True,
    help="The signer key file (from keygen); or MISSION_LEDGER_KEY.",
)
@click.option(
    "--witness", "witnesses", multiple=True, metavar="URL",
    help="A witness to cosign the checkpoint (its add-checkpoint URL prefix). Repeatable.",
)  # fmt: skip
@out_options("Write the checkpoint here.")
@pass_settings
def checkpoint(settings: Settings, key_file: Path, out: Path | None, force: bool, witnesses: tuple[str, ...]) -> None:
    """Sign a checkpoint of the whole ledger (C2SP signed note) and record it in the ledger.

    Keep checkpoints outside the ledger: `verify --checkpoint FILE` and the proofs check against them.

    Example: mission-ledger checkpoint --key krabi-ppao.key --out 2567-12-30.checkpoint
    """
    from ledger.integrity.audit import LedgerAuditor
    from ledger.integrity.checkpoint import parse_signer
    from ledger.integrity.cosigning import cosigner

    signer = parse_signer(_read(key_file, "key"))
    app = settings.open()
    auditor = LedgerAuditor(app.ledger_recorder)
    refusals: list[str] = []  # one per witness that did not cosign
    cosign = cosigner(witnesses, auditor.subtree, refusals.append) if witnesses else None
    note = auditor.sign_checkpoint(signer, app.clock.now(), cosign=cosign)
    _write(note, out, settings, force=force, inputs=(key_file,))
    if refusals:
        raise Refused(
            f"the checkpoint is recorded with {len(witnesses) - len(refusals)} of {len(witnesses)} cosignatures; "
            + "; ".join(refusals)
        )


def key_options(help: str) -> Callable[[F], F]:
    """key_options are --key (repeatable) and --min-signatures: how many of the keys must have
    signed each checkpoint (a key rotation, a cosigner)."""

    def decorate(command: F) -> F:
        command = click.option(
            "--min-witnesses", type=click.IntRange(1),
            help="How many of the given witnesses must have cosigned each checkpoint (default: all of them).",
        )(command)  # fmt: skip
        command = click.option(
            "--witness-key", "witness_keys", type=FILE, multiple=True,
            help="A witness's verifier key: checkpoints must carry its cosignature (repeatable).",
        )(command)  # fmt: skip
        command = click.option(
            "--min-signatures", type=click.IntRange(1), default=1, show_default=True,
            help="How many of the given keys must have signed each checkpoint.",
        )(command)  # fmt: skip
        return click.option("--key", "key_files", type=FILE, multiple=True, help=help)(command)

    return decorate


def _quorum(
    key_files: tuple[Path, ...], needed: int, witness_keys: tuple[Path, ...] = (), witnesses: int | None = None
) -> Quorum | Policy | None:
    """The keys given, how many of them must have signed, and the witnesses that must have
    cosigned (None: no key given)."""
    from ledger.integrity.checkpoint import Quorum, parse_verifier
    from ledger.integrity.witness import Policy, parse_witness_key

    if not key_files:
        if witness_keys:
            raise click.UsageError("--witness-key needs --key: a cosignature vouches for a checkpoint the log signed")
        return None
    if needed > len(key_files):
        raise click.UsageError(f"--min-signatures {needed} needs at least {needed} --key")
    log = Quorum(tuple(parse_verifier(_read(k, "key")) for k in key_files), needed)
    if not witness_keys:
        if witnesses is not None:
            raise click.UsageError("--min-witnesses needs --witness-key")
        return log
    keys = tuple(parse_witness_key(_read(k, "witness key")) for k in witness_keys)
    if witnesses is not None and witnesses > len(keys):
        raise click.UsageError(f"--min-witnesses {witnesses} needs at least {witnesses} --witness-key")
    return Policy(log, keys, len(keys) if witnesses is None else witnesses)


@cli.command()
@click.option(
    "--checkpoint", "checkpoints", type=FILE, multiple=True, help="A checkpoint held outside the ledger (repeatable)."
)
@key_options("A verifier key (.pub): check checkpoint signatures (repeatable: several keys).")
@no_signature_option
@click.option("--no-views", is_flag=True, help="Check the ledger only, not the views file.")
@click.option(
    "--tiles",
    "mirror",
    metavar="DIR|URL",
    help="Check a mirror of the log instead (a `tiles export` folder, or a URL such as …/api/v1/log).",
)
@pass_settings
def verify(
    settings: Settings,
    checkpoints: tuple[Path, ...],
    key_files: tuple[Path, ...],
    min_signatures: int,
    witness_keys: tuple[Path, ...],
    min_witnesses: int | None,
    no_signature: bool,
    no_views: bool,
    mirror: str | None,
) -> None:
    """Recompute every leaf from the stored events and the root at every checkpoint, and
    rebuild the views from the ledger and compare them with the views file; exit 0 with a
    summary when all holds, 1 with the first bad position (or view row) otherwise.

    Without --key the checkpoints' signatures are not checked, and that is a failure unless
    --no-signature says it is accepted.

    Example: mission-ledger verify --checkpoint 2567-12-30.checkpoint --key krabi-ppao.pub
    """
    from ledger.integrity.audit import LedgerAuditor

    verifier = _quorum(key_files, min_signatures, witness_keys, min_witnesses)
    if mirror is not None:
        _verify_mirror(mirror, verifier, no_signature)
        return
    notes = [_read(p, "checkpoint") for p in checkpoints]
    app = settings.open()
    report = LedgerAuditor(app.ledger_recorder).verify(notes, verifier)
    if not report.ok:
        position, what, detail = report.first()
        where = f"position {position}" if position is not None else "ledger"
        more = f" (and {len(report.problems) - 1} more findings)" if len(report.problems) > 1 else ""
        raise Refused(f"verify failed at {where}: {what}: {detail}{more}")
    signed = f", {report.signatures} signatures" if verifier else ""
    from ledger.integrity.witness import Policy

    if isinstance(verifier, Policy):  # who cosigned the checkpoints given (each checked against the policy)
        names = sorted({name for note in notes for name, _ in verifier.cosigners(note)})
        signed += f" (cosigned by {', '.join(names)})" if names else ""
    summary = (
        f"{report.size} events, every leaf recomputed, root {report.root.hex()}, "
        f"{report.checkpoints} checkpoints consistent{signed}"
    )
    if not no_views and settings.views.exists():
        from projections.runner import check_views

        position, differences = check_views(app.ledger_recorder, settings.views)
        if differences:
            more = f" (and {len(differences) - 1} more findings)" if len(differences) > 1 else ""
            raise Refused(
                f"verify failed: the views file {settings.views} does not say what the ledger says: "
                f"{differences[0]}{more}; run `mission-ledger project --rebuild`"
            )
        summary += f"; views {settings.views} rebuilt to position {position} and compared: they match"
    elif not no_views:
        summary += f"; no views file at {settings.views}"
    if verifier is None and report.checkpoints and not no_signature:
        raise Refused(
            f"signatures NOT checked: anyone could have signed these checkpoints; give --key FILE.pub "
            f"(or --no-signature to accept that) ({summary})"
        )
    click.echo(t(f"ok: {summary}" + ("; signatures not checked (--no-signature)" if verifier is None else "")))


def _cosigners(verifier: Quorum | Policy | None, doc: dict[str, Any]) -> str:
    """Who cosigned a proof's checkpoint (the newer one of a consistency proof), when witnesses
    were asked for: `, cosigned by NAME at TIME, …`."""
    from ledger.integrity.witness import Policy

    note = doc.get("checkpoint") or doc.get("new")
    if not isinstance(verifier, Policy) or not isinstance(note, str):
        return ""
    return _cosigned_by(verifier, note)


def _cosigned_by(policy: Policy, note: str) -> str:
    from datetime import UTC, datetime

    from cli.output import voice

    said = voice()
    named = ", ".join(f"{name} ({said.when(datetime.fromtimestamp(at, UTC))})" for name, at in policy.cosigners(note))
    return f", cosigned by {named}" if named else ""


def _verify_mirror(source: str, verifier: Quorum | Policy | None, no_signature: bool) -> None:
    """Check a mirror: its checkpoint's signature, then every tile and entry bundle up to its size."""
    from cli.tiles import mirror_reader
    from ledger.integrity.checkpoint import parse_checkpoint
    from ledger.integrity.tiles import check_tiles

    fetch = mirror_reader(source)
    found = fetch("checkpoint")
    if found is None:
        raise Refused(f"{source} has no checkpoint")
    try:
        note = found.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadInput(f"{source}: the checkpoint is not UTF-8 text") from e
    if verifier is not None:
        verifier.check(note)
    elif not no_signature:
        raise Refused(
            "signatures NOT checked: anyone could have signed the mirror's checkpoint; give --key FILE.pub "
            "(or --no-signature to accept that)"
        )
    checkpoint = parse_checkpoint(note)
    count = check_tiles(fetch, checkpoint.size, checkpoint.root)
    signed = "signature verified" if verifier is not None else "signature not checked (--no-signature)"
    from ledger.integrity.witness import Policy

    if isinstance(verifier, Policy):
        signed += _cosigned_by(verifier, note)
    click.echo(
        t(
            f"ok: mirror {source}: {checkpoint.origin} at size {checkpoint.size}, {count} tiles and entry bundles "
            f"read, every entry hashes to its leaf, root {checkpoint.root.hex()}; {signed}"
        )
    )


@cli.group()
def prove() -> None:
    """Write proofs that anyone can check offline with `verify-proof`."""


@prove.command("inclusion")
@click.argument("position", type=click.IntRange(min=1))
@click.option("--checkpoint", "checkpoint_file", type=FILE, required=True, help="The checkpoint to prove against.")
@out_options("Write the proof here.")
@pass_settings
def prove_inclusion_command(
    settings: Settings, position: int, checkpoint_file: Path, out: Path | None, force: bool
) -> None:
    """Prove that the event at POSITION is in the ledger the checkpoint commits to.

    Example: mission-ledger prove inclusion 94 --checkpoint 2567-12-30.checkpoint --out 94.proof
    """
    from ledger.integrity.audit import LedgerAuditor

    app = settings.open()
    doc = LedgerAuditor(app.ledger_recorder).inclusion_proof(position, _read(checkpoint_file, "checkpoint"))
    _write(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", out, settings, force=force, inputs=(checkpoint_file,))


@prove.command("consistency")
@click.option("--old", "old_file", type=FILE, required=True, help="The earlier checkpoint.")
@click.option("--new", "new_file", type=FILE, required=True, help="The later checkpoint.")
@out_options("Write the proof here.")
@pass_settings
def prove_consistency_command(
    settings: Settings, old_file: Path, new_file: Path, out: Path | None, force: bool
) -> None:
    """Prove that the later checkpoint's ledger extends the earlier one's (nothing rewritten) — or,
    when the two fork (the log signed two histories), write the evidence of it instead and exit 1:
    a file anyone can check offline with `verify-proof`.

    Example: mission-ledger prove consistency --old deadline.checkpoint --new today.checkpoint
    """
    from ledger.integrity.audit import LedgerAuditor
    from ledger.integrity.split_view import split_view_evidence

    app = settings.open()
    auditor = LedgerAuditor(app.ledger_recorder)
    old, new = _read(old_file, "checkpoint"), _read(new_file, "checkpoint")
    evidence = split_view_evidence(auditor, old, new)
    doc = evidence if evidence is not None else auditor.consistency_proof(old, new)
    _write(
        json.dumps(doc, ensure_ascii=False, indent=1) + "\n", out, settings, force=force, inputs=(old_file, new_file)
    )
    if evidence is not None:
        raise Refused(
            "the two checkpoints fork: the log signed two histories; the evidence is written "
            "(anyone can check it with `verify-proof`)"
        )


@cli.command("verify-proof")
@click.argument("proof_file", type=FILE)
@key_options("A verifier key (.pub) that signed the checkpoints (repeatable: several keys).")
@no_signature_option
def verify_proof(
    proof_file: Path,
    key_files: tuple[Path, ...],
    min_signatures: int,
    witness_keys: tuple[Path, ...],
    min_witnesses: int | None,
    no_signature: bool,
) -> None:
    """Check a proof file offline, with no ledger at hand.

    Example: mission-ledger verify-proof 94.proof --key krabi-ppao.pub
    """
    from ledger.integrity.audit import check_proof_file

    verifier = _quorum(key_files, min_signatures, witness_keys, min_witnesses)
    result = check_proof_file(_read(proof_file, "proof"), verifier)
    if verifier is None and not no_signature:
        raise Refused(
            "the proof's hashes hold, but its checkpoint's signature was NOT checked: anyone could have "
            "signed it; give --key FILE.pub (or --no-signature to accept that)"
        )
    signed = "signature verified" if result.signed else "signature not checked (--no-signature)"
    signed += _cosigners(verifier, json.loads(_read(proof_file, "proof")))
    if result.kind == "inclusion":
        event = result.event or {}
        what = event.get("kind", "?")
        record = "/".join(str(event[k]) for k in ("lao_code", "mission_code") if k in event)
        click.echo(
            t(
                f"ok: event {result.position} ({what} {record}, recorded {event.get('recorded_at')}) is in "
                f"{result.checkpoint.origin} at size {result.checkpoint.size}; {signed}"
            )
        )
    elif result.kind == "split-view":
        assert result.old is not None
        first, second = result.old, result.checkpoint
        click.echo(
            t(
                f"ok: the evidence holds: {second.origin} signed two histories that fork (size {first.size} "
                f"and size {second.size}); {signed}"
            )
        )
    else:
        assert result.old is not None
        size, old = result.checkpoint.size, result.old.size
        click.echo(t(f"ok: {result.checkpoint.origin} at size {size} extends size {old}; {signed}"))
