"""docs/ARCHITECTURE.md and README's map say what the tree is: the floors table names the
floors tests/test_layers.py enforces, every module is on README's map and every file the map
names exists, and comments cite sections that exist in the repository's own document."""

from __future__ import annotations

import re
from pathlib import Path

from test_layers import FLOORS

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE = ROOT / "docs" / "ARCHITECTURE.md"
CITED = ["gpugrad", "tests", "benchmarks", "kernels", "docs", "examples"]


def _floor_rows() -> list:
    """(floor name, set of module prefixes) per row of the floors table."""
    section = ARCHITECTURE.read_text().split("## The floors", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not re.match(r"\d+ ", cells[0]):
            continue
        prefixes = set()
        for path in re.findall(r"`([\w/]+(?:\.py)?/?)`", cells[1]):
            name = "gpugrad." + path.rstrip("/").removesuffix(".py").replace("/", ".")
            prefixes.add(name)
        rows.append((cells[0], prefixes))
    return rows


def test_the_floors_table_is_the_one_the_layer_test_enforces():
    rows = _floor_rows()
    assert len(rows) == len(FLOORS), f"{len(rows)} rows in the table, {len(FLOORS)} floors"
    for (name, prefixes), (rule, expected) in zip(rows, FLOORS):
        assert prefixes == set(expected), (
            f"docs/ARCHITECTURE.md floor {name!r} lists {sorted(prefixes)}; "
            f"tests/test_layers.py's floor {rule!r} has {sorted(expected)}")


def _readme_map() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("## How it is built", 1)[1]
    return re.findall(r"```\n(.*?)```", section, flags=re.S)[0]


def test_every_module_is_on_readmes_map():
    names = set(re.findall(r"[\w.]+", _readme_map()))
    missing = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "gpugrad").rglob("*.py"))
               if p.name != "__init__.py" and p.name not in names and p.stem not in names]
    assert not missing, f"README's map ('How it is built') does not name: {missing}"


def test_every_file_on_readmes_map_exists():
    files = {p.name for p in ROOT.rglob("*") if ".venv" not in p.parts}
    named = set(re.findall(r"\b[\w]+\.(?:py|cu|md)\b", _readme_map()))
    assert named - files == set(), f"README's map names files that do not exist: {named - files}"


def _sources():
    yield ROOT / "README.md"
    for folder in CITED:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in (".py", ".md", ".cu", ".cuh", ".sh") and path.is_file():
                yield path


def test_comments_cite_sections_that_exist():
    headings = {h.strip() for h in re.findall(r"^##+ (.+)$", ARCHITECTURE.read_text(), re.M)}
    bad = []
    for path in _sources():
        text = path.read_text()
        if path != Path(__file__) and "DESIGN" + ".md" in text:
            bad.append(f"{path.relative_to(ROOT)} cites DESIGN.md, which is not in the repo")
        for cited in re.findall(r"ARCHITECTURE\.md,\s+[\"']([^\"']+)[\"']", text):
            if " ".join(cited.split()) not in headings:
                bad.append(f"{path.relative_to(ROOT)} cites section {cited!r}")
    assert not bad, "\n".join(bad)
