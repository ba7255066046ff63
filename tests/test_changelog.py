"""CHANGELOG.md, ``__version__`` and ``--version`` agree; change notes fold into the changelog."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from packaging.version import Version

from shared.plugins.model_provider.github_models import __version__

ROOT = Path(__file__).resolve().parents[1]
CHANGELOG = (ROOT / "CHANGELOG.md").read_text()
RELEASE = re.compile(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", re.M)


def _fold_tool() -> ModuleType:
    path = ROOT / "tools" / "fold_changes.py"
    spec = importlib.util.spec_from_file_location("fold_changes", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fold_changes = _fold_tool()


def _releases() -> list[tuple[Version, str]]:
    return [(Version(v), d) for v, d in RELEASE.findall(CHANGELOG)]


def test_the_changelog_has_unreleased_first_then_releases_newest_first() -> None:
    headings = re.findall(r"^## (.*)$", CHANGELOG, re.M)
    assert headings[0] == "[Unreleased]"
    assert all(RELEASE.match(f"## {h}") for h in headings[1:]), headings
    releases = _releases()
    assert releases, "no released version"
    assert releases == sorted(releases, reverse=True)
    for version, _ in releases:
        assert f"[{version}]: https://" in CHANGELOG, f"no link for {version}"


def test_every_section_uses_keep_a_changelog_categories() -> None:
    for title in re.findall(r"^### (.*)$", CHANGELOG, re.M):
        assert title in fold_changes.CATEGORIES, title


def test_version_agrees_with_the_changelog() -> None:
    version = Version(__version__)
    latest = _releases()[0][0]
    if version.is_devrelease or version.is_prerelease:
        # between releases: the next version, named by [Unreleased], above the last release
        unreleased = CHANGELOG.split("## [Unreleased]", 1)[1].split("\n## [", 1)[0]
        named = re.search(r"^Next version: (\d+\.\d+\.\d+)\b", unreleased, re.M)
        assert named, "[Unreleased] says 'Next version: X.Y.Z'"
        assert Version(version.base_version) == Version(named.group(1)) > latest
    else:
        assert version == latest, f"__version__ {version} is not the changelog's latest {latest}"


def test_the_cli_prints_the_same_version() -> None:
    cli = "shared.plugins.model_provider.github_models.cli"
    result = subprocess.run([sys.executable, "-m", cli, "--version"], capture_output=True,
                            text=True, check=True, timeout=60)
    assert result.stdout.strip() == f"jaato-github-models {__version__}"


def test_the_packaged_version_is_read_from_the_package() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'version = { attr = "jaato_github_models.common.version.__version__" }' in pyproject


# --- the change notes -------------------------------------------------------------------------

NOTE = """### Fixed
- A rate-store password holding `/` now works as typed and no piece of it
  is quoted by the URL error.
- The log is private.

### Changed
- Free-tier caps are off by default except on the retired host.
  **Migration:** set `enforce_tier_limits=True` to keep them.
"""


def test_a_note_parses_by_category_with_its_continuation_lines() -> None:
    parsed = fold_changes.parse_note(NOTE, "wt-x.md")
    assert parsed["Fixed"][0] == ("- A rate-store password holding `/` now works as typed and no "
                                  "piece of it\n  is quoted by the URL error.")
    assert len(parsed["Fixed"]) == 2 and "**Migration:**" in parsed["Changed"][0]


def test_a_plain_list_names_its_categories() -> None:
    parsed = fold_changes.parse_note("# wt-x\n- Fixed: a thing\n- **Added**: a command\n", "n")
    assert parsed == {"Fixed": ["- a thing"], "Added": ["- a command"]}


@pytest.mark.parametrize(("text", "complaint"), [
    ("### Improvements\n- faster\n", "not a Keep a Changelog category"),
    ("- a bullet with no category\n", "without a category"),
    ("### Fixed\nSome prose.\n", "text outside a bullet"),
    ("### Fixed\n", "no entries"),
])
def test_a_malformed_note_is_refused_with_its_line(text: str, complaint: str) -> None:
    with pytest.raises(fold_changes.NoteError, match=complaint):
        fold_changes.parse_note(text, "wt-x.md")


def test_folding_appends_under_unreleased_in_category_order() -> None:
    changelog = ("# Changelog\n\n## [Unreleased]\n\nNext version: 0.3.0.\n\n"
                 "### Fixed\n\n- old fix\n\n## [0.2.0] - 2026-11-30\n\n### Added\n\n- first\n\n"
                 "[Unreleased]: https://x/compare/v0.2.0...HEAD\n")
    folded = fold_changes.fold(changelog, fold_changes.parse_note(NOTE, "wt-x.md"))
    unreleased = folded.split("## [0.2.0]")[0]
    assert unreleased.index("### Changed") < unreleased.index("### Fixed")
    assert "- old fix\n- A rate-store password" in unreleased
    assert "Next version: 0.3.0." in unreleased
    assert folded.split("## [0.2.0]")[1] == changelog.split("## [0.2.0]")[1]  # history untouched


def test_release_dates_unreleased_and_opens_a_new_one() -> None:
    released = fold_changes.release(CHANGELOG, "0.3.0", "2026-12-24")
    assert "## [Unreleased]\n\n## [0.3.0] - 2026-12-24\n\n### Added" in released
    assert "Next version" not in released.split("## [0.2.0]")[0]
    assert "[0.3.0]: https://github.com/jaato/jaato-github-models/compare/v0.2.0...v0.3.0" in (
        released)
    with pytest.raises(fold_changes.NoteError, match="not above the last release"):
        fold_changes.release(CHANGELOG, "0.2.0", "2026-12-24")
    with pytest.raises(fold_changes.NoteError, match="nothing to release"):
        fold_changes.release(released, "0.4.0", "2026-12-25")


def test_the_tool_folds_the_notes_of_a_checkout_and_removes_them(tmp_path: Path) -> None:
    (tmp_path / "CHANGELOG.md").write_text(CHANGELOG)
    (tmp_path / "changes").mkdir()
    (tmp_path / "changes" / "wt-x.md").write_text(NOTE)
    tool = [sys.executable, str(ROOT / "tools" / "fold_changes.py"), "--root", str(tmp_path)]
    check = subprocess.run([*tool, "--check"], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0 and "1 change note(s) well formed" in check.stdout
    refused = subprocess.run([*tool, "--release", "0.3.0"], capture_output=True, text=True,
                             timeout=60)
    assert refused.returncode == 1 and "fold the change notes first" in refused.stderr
    subprocess.run(tool, check=True, capture_output=True, timeout=60)
    assert not (tmp_path / "changes" / "wt-x.md").exists()
    text = (tmp_path / "CHANGELOG.md").read_text()
    assert "- The log is private." in text.split("## [0.2.0]")[0]
    (tmp_path / "changes" / "wt-y.md").write_text("### Better\n- x\n")
    bad = subprocess.run([*tool, "--check"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "wt-y.md:1: heading 'Better'" in bad.stderr


def test_the_repository_notes_are_well_formed() -> None:
    """What the integrator folds: every changes/*.md of this checkout parses."""
    for path in sorted((ROOT / "changes").glob("*.md")):
        fold_changes.parse_note(path.read_text(), path.name)
