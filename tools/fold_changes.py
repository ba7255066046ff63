"""Fold the branches' change notes (``changes/*.md``) into CHANGELOG.md, or date a release.

    python tools/fold_changes.py --check          # the notes are well formed (CI runs this)
    python tools/fold_changes.py                  # move every note into [Unreleased], delete them
    python tools/fold_changes.py --release 0.3.0  # [Unreleased] becomes [0.3.0] - today

A note is a bullet list under Keep a Changelog category headings (``### Added``, ``## Fixed``
...; a ``# title`` line is skipped), or bullets that name their category (``- Fixed: ...``). A
bullet may run over several lines (indented continuation lines); a breaking change carries its
migration in its bullet (``**Migration:** ...``). Anything else in a note is refused with the
file and line, so nothing is dropped silently.
"""

from __future__ import annotations

import argparse
import datetime
import re
import sys
from pathlib import Path

CATEGORIES = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")
ROOT = Path(__file__).resolve().parents[1]
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*$")
_RELEASE = re.compile(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", re.M)
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
_PREFIXED = re.compile(r"^\**(" + "|".join(CATEGORIES) + r")\**\s*[:\u2014-]\s*\**\s*", re.I)


class NoteError(ValueError):
    """A change note or the changelog is not in the expected shape."""


def parse_note(text: str, name: str) -> dict[str, list[str]]:
    """The bullets of one note by category, each bullet with its continuation lines.

    Raises:
        NoteError: a heading that is not a category, text outside a bullet, or no bullet at all.
    """
    found: dict[str, list[str]] = {}
    category: str | None = None
    last: list[str] | None = None  # the list holding the bullet a continuation line extends
    for number, line in enumerate(text.splitlines(), 1):
        heading = _HEADING.match(line)
        if heading and line.startswith("# "):
            continue  # a title ("# wt-transport"): not an entry
        if heading:
            title = heading.group(1).strip().rstrip(":").capitalize()
            if title not in CATEGORIES:
                raise NoteError(f"{name}:{number}: heading {heading.group(1)!r} is not a Keep a "
                                f"Changelog category; use one of {', '.join(CATEGORIES)}")
            category, last = title, None
        elif line.startswith(("- ", "* ")):
            prefixed = _PREFIXED.match(line[2:])
            if prefixed:  # "- Fixed: ..." in a plain list
                where, entry = prefixed.group(1).capitalize(), line[2 + prefixed.end():]
            elif category is not None:
                where, entry = category, line[2:]
            else:
                raise NoteError(f"{name}:{number}: a bullet without a category; put it under "
                                "### Added, ### Changed, ### Fixed ... or start it with 'Fixed:'")
            last = found.setdefault(where, [])
            last.append("- " + entry.rstrip())
        elif line.strip() and line[:1].isspace() and last:
            last[-1] += "\n  " + line.strip()
        elif line.strip():
            raise NoteError(f"{name}:{number}: text outside a bullet: {line.strip()[:60]!r}; "
                            "write every entry as a '- ' bullet (indent its further lines)")
    if not found:
        raise NoteError(f"{name}: no entries; a note lists at least one '- ' bullet")
    return found


def _unreleased_bounds(changelog: str) -> tuple[int, int]:
    start = changelog.find("\n## [Unreleased]\n")
    if start < 0:
        raise NoteError("CHANGELOG.md has no '## [Unreleased]' section to fold notes into")
    start += 1
    nxt = changelog.find("\n## [", start + 1)
    links = changelog.find("\n[Unreleased]:", start)
    end = min(i for i in (nxt, links, len(changelog)) if i >= 0)
    return start, end


def _split_section(section: str) -> tuple[str, dict[str, list[str]]]:
    """[Unreleased]'s text after its heading: the preamble, and each category's lines."""
    preamble: list[str] = []
    categories: dict[str, list[str]] = {}
    current: list[str] = preamble
    for line in section.splitlines():
        if line.startswith("### ") and line[4:].strip() in CATEGORIES:
            current = categories.setdefault(line[4:].strip(), [])
        else:
            current.append(line)
    return "\n".join(preamble).strip(), {
        k: "\n".join(v).strip().splitlines() for k, v in categories.items()}


def fold(changelog: str, notes: dict[str, list[str]]) -> str:
    """The changelog with ``notes``'s bullets appended under [Unreleased]'s category headings
    (in Keep a Changelog's order, created where missing).

    Raises:
        NoteError: the changelog has no [Unreleased] section.
    """
    start, end = _unreleased_bounds(changelog)
    heading = "## [Unreleased]\n"
    preamble, categories = _split_section(changelog[start + len(heading):end])
    for category, bullets in notes.items():
        categories.setdefault(category, []).extend(
            line for bullet in bullets for line in bullet.splitlines())
    parts = [heading.rstrip("\n")] + ([preamble] if preamble else [])
    parts += [f"### {c}\n\n" + "\n".join(categories[c])
              for c in CATEGORIES if categories.get(c)]
    return changelog[:start] + "\n\n".join(parts) + "\n\n" + changelog[end:].lstrip("\n")


def release(changelog: str, version: str, date: str) -> str:
    """[Unreleased] becomes ``[version] - date`` under a fresh, empty [Unreleased].

    Raises:
        NoteError: the version is not X.Y.Z, not above the last release, or nothing to release.
    """
    if not _VERSION.match(version):
        raise NoteError(f"version {version!r} is not MAJOR.MINOR.PATCH; give e.g. 0.3.0")
    last = _RELEASE.search(changelog)
    if last and tuple(map(int, version.split("."))) <= tuple(map(int, last.group(1).split("."))):
        raise NoteError(f"version {version} is not above the last release {last.group(1)}")
    start, end = _unreleased_bounds(changelog)
    body = changelog[start + len("## [Unreleased]\n"):end]
    body = re.sub(r"^Next version: .*?(?:\n\n|\Z)", "", body.lstrip("\n"), flags=re.S)
    if "\n- " not in "\n" + body:
        raise NoteError("[Unreleased] has no entries: nothing to release")
    section = f"## [Unreleased]\n\n## [{version}] - {date}\n\n{body.strip()}\n\n"
    text = changelog[:start] + section + changelog[end:].lstrip("\n")
    previous = last.group(1) if last else None
    links = f"[Unreleased]: https://github.com/jaato/jaato-github-models/compare/v{version}...HEAD\n"
    links += (f"[{version}]: https://github.com/jaato/jaato-github-models/compare/"
              f"v{previous}...v{version}\n" if previous else
              f"[{version}]: https://github.com/jaato/jaato-github-models/releases/tag/v{version}\n")
    return re.sub(r"^\[Unreleased\]: .*\n", links, text, count=1, flags=re.M)


def main(argv: list[str] | None = None) -> int:
    """Check, fold or release; 0 on success, 1 with the reason on stderr."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check the notes")
    parser.add_argument("--keep", action="store_true", help="fold, but keep the note files")
    parser.add_argument("--release", metavar="X.Y.Z", help="date [Unreleased] as this version")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    changelog_path = args.root / "CHANGELOG.md"
    notes = sorted((args.root / "changes").glob("*.md"))
    try:
        parsed = [(path, parse_note(path.read_text(encoding="utf-8"), path.name))
                  for path in notes]
        text = changelog_path.read_text(encoding="utf-8")
        _unreleased_bounds(text)
        if args.check:
            print(f"{len(parsed)} change note(s) well formed")
            return 0
        if args.release:
            if parsed:
                raise NoteError("fold the change notes first (run without --release)")
            text = release(text, args.release, datetime.date.today().isoformat())
        for _path, note in parsed:
            text = fold(text, note)
        changelog_path.write_text(text, encoding="utf-8")
        if not args.keep:
            for path, _ in parsed:
                path.unlink()
    except NoteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"CHANGELOG.md: {len(parsed)} note(s) folded" + (
        f", released {args.release}: set __version__ = {args.release!r}" if args.release else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
