"""Every relative link of the README and the manual names a file that exists, and every
`#anchor` a heading of that file, so that moving or renaming a page or a section breaks a test
rather than a reader's click."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator, List, Set, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", ROOT / "SECURITY.md", *(ROOT / "docs").glob("*.md")])
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def prose_lines(page: Path) -> Iterator[Tuple[int, str]]:
    """The page's lines outside fenced code blocks, numbered from 1."""
    in_code = False
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        if FENCE.match(line):
            in_code = not in_code
        elif not in_code:
            yield number, line


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> Set[str]:
    found: Set[str] = set()
    for _, line in prose_lines(page):
        match = HEADING.match(line)
        if match:
            base = slug(match.group(2))
            name, n = base, 0
            while name in found:  # GitHub numbers repeated headings: name, name-1, name-2
                n += 1
                name = f"{base}-{n}"
            found.add(name)
    return found


def relative_links(page: Path) -> List[Tuple[int, str]]:
    return [(number, target) for number, line in prose_lines(page)
            for target in LINK.findall(line)
            if not re.match(r"^[a-z][a-z0-9+.-]*:", target)]  # http:, https:, mailto:...


def test_the_manual_is_there() -> None:
    names = {page.name for page in PAGES}
    assert {"README.md", "guide.md", "configuration.md", "cli.md", "deploy.md",
            "architecture.md", "performance.md", "MIGRATING_FROM_PYMACARON.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    broken: List[str] = []
    for number, target in relative_links(page):
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        where = f"{page.relative_to(ROOT)}:{number}: {target}"
        if not file.exists():
            broken.append(f"{where}: no such file")
        elif ROOT not in file.parents and file != ROOT:
            broken.append(f"{where}: outside the repository")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{where}: no heading with this anchor")
    assert not broken, "\n".join(broken)


def test_the_slugs_follow_github() -> None:
    assert slug("Authentication (JWT)") == "authentication-jwt"
    assert slug("`.chalice/config.json`") == "chaliceconfigjson"
    assert slug("What `pym-lambda new NAME` writes") == "what-pym-lambda-new-name-writes"
    assert slug("Performance, measured against peers") == "performance-measured-against-peers"
