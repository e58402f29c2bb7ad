"""The documentation stays short, complete and linked: README length and commands, every
configuration variable documented, relative links that resolve, no internal issue numbers."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MAKEFILE = ROOT / "Makefile"
CONFIG = ROOT / "bot" / "config.py"
OPERATIONS = ROOT / "docs" / "operations.md"
MAX_README_LINES = 150

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.M | re.S)
# [text](target) and ![alt](target), with an optional "title"; the text may hold `code`.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
# A "#12"-style reference to an issue or pull request (not a colour such as #1a4e8a or #111111).
ISSUE_REF = re.compile(r"(?<![\w&/#])#\d{1,5}(?![0-9A-Za-z])")


def markdown_files() -> list[Path]:
    return [README, *sorted((ROOT / "docs").glob("*.md"))]


def make_targets(makefile: Path = MAKEFILE) -> list[str]:
    return re.findall(r"^([a-z-]+):", makefile.read_text(encoding="utf-8"), re.M)


def config_variables(source: Path = CONFIG) -> list[str]:
    """Names of the environment variables bot/config.py reads: string literals `"BOT_…"`."""
    return sorted(set(re.findall(r"""["'](BOT_[A-Z0-9_]+)["']""", source.read_text(encoding="utf-8"))))


def missing_commands(readme_text: str, targets: list[str]) -> list[str]:
    return [t for t in targets if not re.search(rf"make {re.escape(t)}(?![a-z-])", readme_text)]


def relative_links(path: Path) -> list[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    out = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
            continue  # http(s)://, mailto:, an anchor in the same page
        out.append(target.split("#", 1)[0])
    return out


def test_readme_is_short():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_README_LINES, (
        f"README.md has {len(lines)} lines (at most {MAX_README_LINES}): move details to docs/")


def test_every_make_target_is_in_the_readme():
    targets = make_targets()
    assert {"help", "test", "chat"} <= set(targets), f"Makefile targets not parsed: {targets}"
    missing = missing_commands(README.read_text(encoding="utf-8"), targets)
    assert not missing, f"README.md does not mention: {', '.join('make ' + t for t in missing)}"


def test_the_target_check_can_fail():
    readme = "`make test` and `make test-scale`"
    assert missing_commands(readme, ["test", "test-scale", "bench"]) == ["bench"]
    assert missing_commands("`make test-scale`", ["test"]) == ["test"]


def test_every_config_variable_is_documented():
    names = config_variables()
    assert len(names) >= 10 and "BOT_TRACKER_URL" in names, f"variables not parsed from {CONFIG}: {names}"
    doc = OPERATIONS.read_text(encoding="utf-8")
    missing = [n for n in names if not re.search(rf"\b{n}\b", doc)]
    assert not missing, f"docs/operations.md does not document: {', '.join(missing)}"


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path):
    broken = [t for t in relative_links(path) if t and not (path.parent / t).exists()]
    assert not broken, f"{path.relative_to(ROOT)}: links to missing files: {broken}"


def test_the_link_check_sees_links(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("[a](there.md) ![b](img/x.png \"t\") [c](https://x.org) [d](#top) [e](here.md#part)\n"
                    "```\n[not](a-link.md)\n```\n", encoding="utf-8")
    assert relative_links(page) == ["there.md", "img/x.png", "here.md"]


def test_docs_cite_no_issue_references():
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
             for p in markdown_files() for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if ISSUE_REF.search(line)]
    assert not found, "internal issue references in the docs:\n" + "\n".join(found)
    assert ISSUE_REF.search("fixed in #12.") and not ISSUE_REF.search("colour #1a4e8a, #111111, #ffffff")


def test_no_internal_issue_numbers():
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    inside = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], cwd=ROOT,
                            capture_output=True, text=True)
    if inside.returncode != 0:
        pytest.skip("not a git checkout")
    # --untracked: also new files not yet committed (ignored files such as reports/ stay out).
    res = subprocess.run(["git", "grep", "-n", "-I", "-i", "--untracked", "-e", "issue [0-9]", "--",
                          ".", ":(exclude)tests/eval"], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode in (0, 1), res.stderr
    assert res.returncode == 1, "internal issue numbers (say what changed instead):\n" + res.stdout
