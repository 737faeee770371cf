"""Digest files: known digests read from them, and the lock file ``pin --write-digests`` writes.

A line file holds ``REFERENCE@sha256:...`` lines: what ``pack build --quiet`` prints and what
``pinner pin --write-digests`` writes; the JSON is ``gcloud builds describe --format=json``
(``results.images[]``).

A lock is rewritten, not replaced: pre-commit hands pinner only the staged files, so a run sees
a few of the tags the lock holds. ``merge_lock`` keeps every line the run did not see (comments
too), updates the lines of the tags it did, and adds new ones where a sorted lock sorts them;
``prune=True`` drops the entries of tags the run did not see.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from pinner.errors import Diagnostic, DigestFileError, InvalidReferenceError, Location
from pinner.jsonload import load_json
from pinner.manifests.files import describe_os_error
from pinner.manifests.rewrite import create_atomic, write_atomic
from pinner.manifests.scan import FileScan
from pinner.manifests.sites import ImageSite, locations
from pinner.pinning import PinRun
from pinner.planning import PinOptions
from pinner.policy import is_exempt
from pinner.reference import MatchKey, Reference, check_digest, parse_reference


def load_digest_files(paths: Iterable[Path]) -> dict[MatchKey, str]:
    """Every known digest, by (registry, repository, tag); conflicting entries are errors."""
    known: dict[MatchKey, str] = {}
    origin: dict[MatchKey, str] = {}
    for path in paths:
        for where, reference, digest in _entries(path):
            key = reference.match_key
            if key in known and known[key] != digest:
                raise DigestFileError(
                    f"{where}: {reference} is given digest {digest}, but {origin[key]} gives "
                    f"{known[key]}. Keep one of them."
                )
            known[key] = digest
            origin[key] = where
    return known


def format_digest_lines(pins: Mapping[Reference, str]) -> str:
    """The lock-file text: one sorted ``REFERENCE@sha256:...`` line per reference."""
    lines = sorted({lock_line(ref, digest) for ref, digest in pins.items()})
    return "".join(f"{line}\n" for line in lines)


def write_lock_file(
    path: Path, scans: Sequence[FileScan], options: PinOptions, run: PinRun, *, prune: bool
) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """Write the lock file of ``run`` (``--write-digests``) into ``path``, merged with what it
    holds (``write_lock``); return its notices (tags it had to leave out) and its errors."""
    pins, notices = lock_pins(scans, options, run.wanted, run.digests)
    try:
        write_lock(path, pins, prune=prune)
    except DigestFileError as exc:
        return notices, [Diagnostic(str(exc), (Location(str(path)),))]
    return notices, []


def lock_line(reference: Reference, digest: str) -> str:
    """A lock entry: the name as written, the tag (``latest`` when none is written), the digest."""
    return f"{reference.name}:{reference.tag_or_default}@{digest}"


def merge_lock(path: str, old: str, pins: Mapping[Reference, str], *, prune: bool = False) -> str:
    """``old`` (the lock at ``path``) with ``pins`` written into it; see the module docstring.

    Raises DigestFileError for a line of ``old`` that is not an entry, as reading it would.
    """
    new = {ref.match_key: lock_line(ref, digest) for ref, digest in pins.items()}
    lines: list[tuple[str, MatchKey | None]] = []  # each old line, with its entry's key
    for number, raw in enumerate(old.splitlines(), start=1):
        line = raw.strip()
        key = None
        if line and not line.startswith("#"):
            key = _split(f"{path}:{number}", line)[0].match_key
        lines.append((raw, key))
    known = {key for _, key in lines}
    # New entries go before the first entry that sorts after them: a sorted lock stays sorted.
    adding = sorted(line for key, line in new.items() if key not in known)
    kept: list[str] = []
    written: set[MatchKey] = set()
    for raw, key in lines:
        if key is None:
            kept.append(raw)  # a comment or a blank line
            continue
        if key in written or (prune and key not in new):
            continue  # a duplicate, or a tag the run did not see, pruned
        text = new.get(key, raw)
        while adding and adding[0] < text:
            kept.append(adding.pop(0))
        kept.append(text)
        written.add(key)
    kept += adding
    return "".join(f"{line}\n" for line in kept)


def write_lock(path: Path, pins: Mapping[Reference, str], *, prune: bool = False) -> bool:
    """Write ``pins`` into the lock at ``path``, atomically; return whether it changed.

    A new lock holds exactly ``pins``; an existing one is merged (``merge_lock``). Raises
    DigestFileError when the old lock cannot be read or the new one cannot be written.
    """
    try:
        old: bytes | None = path.read_bytes()
    except FileNotFoundError:
        old = None
    except OSError as exc:
        raise DigestFileError(
            f"{path}: cannot read the lock file ({describe_os_error(exc)}). Check the path."
        ) from None
    if old is None:
        text = format_digest_lines(pins)
    else:
        try:
            decoded = old.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DigestFileError(
                f"{path}: cannot read the lock file (it is not UTF-8). Save it as UTF-8."
            ) from None
        if decoded.lstrip().startswith("{"):
            raise DigestFileError(
                f"{path}: is Cloud Build JSON, not a lock file pinner writes. Name another file "
                "to write the digests to."
            )
        text = merge_lock(str(path), decoded, pins, prune=prune)
    data = text.encode("utf-8")
    if data == old:
        return False
    try:
        if old is None:
            create_atomic(path, data)
        else:
            write_atomic(path, data, expected=old)
    except OSError as exc:
        raise DigestFileError(
            f"{path}: cannot write the lock file ({describe_os_error(exc)}). Check the path and "
            "the permissions of its folder."
        ) from None
    return True


def lock_pins(
    scans: Sequence[FileScan],
    options: PinOptions,
    wanted: Mapping[MatchKey, Reference],
    digests: Mapping[MatchKey, str],
) -> tuple[dict[Reference, str], list[Diagnostic]]:
    """Every tag the files use, with its digest, so the lock file is complete.

    A tag this run looked up (or was given by --digests) gets that digest. A tag only written
    as ``name:tag@digest`` gets the digest written, so ``pin --update --offline`` can replay
    the run; if the files pin it to different digests there is no one answer, and it is left
    out with a notice. Digest-only pins name no tag and need no entry.
    """
    pins: dict[MatchKey, tuple[Reference, str]] = {
        key: (ref, digests[key]) for key, ref in wanted.items() if key in digests
    }
    written: dict[MatchKey, dict[str, list[ImageSite]]] = {}
    names: dict[MatchKey, Reference] = {}
    for scan in scans:
        for site, ref, _ in scan.images:
            if ref is None or ref.tag is None or ref.digest is None:
                continue
            if is_exempt(site.image, options.exempt) or ref.match_key in pins:
                continue
            names.setdefault(ref.match_key, ref)
            written.setdefault(ref.match_key, {}).setdefault(ref.digest, []).append(site)
    notices = []
    for key, by_digest in written.items():
        ref = names[key]
        if len(by_digest) == 1:
            pins[key] = (ref, next(iter(by_digest)))
            continue
        sites = [site for sites in by_digest.values() for site in sites]
        message = (
            f"{ref.name}:{ref.tag} is pinned to {len(by_digest)} different digests "
            f"({locations(sites)}), so the digest file leaves it out. Run `pinner pin --update` "
            "to pin them alike."
        )
        notices.append(Diagnostic(message, tuple(site.location for site in sites)))
    return {ref: digest for ref, digest in pins.values()}, notices


def _entries(path: Path) -> Iterable[tuple[str, Reference, str]]:
    try:
        # utf-8-sig: a byte order mark (Windows editors write one) is not part of line 1.
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DigestFileError(
            f"{path}: cannot read the digest file ({describe_os_error(exc)}). Check the path."
        ) from None
    except UnicodeDecodeError:
        raise DigestFileError(
            f"{path}: cannot read the digest file (it is not UTF-8). Save it as UTF-8."
        ) from None
    if text.lstrip().startswith("{"):
        return _cloud_build_entries(path, text)
    return _line_entries(path, text)


def _line_entries(path: Path, text: str) -> Iterable[tuple[str, Reference, str]]:
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path}:{number}"
        yield where, *_split(where, line)


def _cloud_build_entries(path: Path, text: str) -> Iterable[tuple[str, Reference, str]]:
    try:
        # Not JSON at all is None, which fails here like JSON of the wrong shape.
        images = load_json(text)["results"]["images"]
        pairs = [(image["name"], image["digest"]) for image in images]
    except (KeyError, TypeError):
        raise DigestFileError(
            f"{path}: not a digest file: JSON must be `gcloud builds describe --format=json` "
            "output with results.images[].name and .digest."
        ) from None
    for index, (name, digest) in enumerate(pairs):
        where = f"{path}: results.images[{index}]"
        yield where, *_split(where, f"{name}@{digest}")


def _split(where: str, text: str) -> tuple[Reference, str]:
    try:
        reference = parse_reference(text)
        if reference.digest is None:
            raise InvalidReferenceError("it has no @sha256:<digest>")
        check_digest(reference.digest)
    except InvalidReferenceError as exc:
        raise DigestFileError(
            f"{where}: {text!r} is not REFERENCE@sha256:<64 hex>: {exc}. Fix or remove the line."
        ) from None
    bare = Reference(reference.domain, reference.path, reference.tag, None)
    return bare, reference.digest
