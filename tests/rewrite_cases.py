"""Run one rewrite fixture: scan `before.py` in a scratch folder, accept every proposal."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from migrator_tui.recipe import load_recipe
from migrator_tui.rewrite import FileAnalysis
from migrator_tui.rewrite.proposal import Choice
from migrator_tui.scan import scan
from migrator_tui.sourcefile import decode, encode

CASES = Path(__file__).parent / "fixtures" / "rewrite"


@dataclass
class Outcome:
    after: bytes
    warnings: list[str]
    manual: list[str]
    regions: list[tuple[int, int]]


def run_bytes(data: bytes, strategy: str | None = None, recipe_name: str | None = None,
              name: str = "before.py") -> Outcome:
    recipe = load_recipe(recipe_name)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / name).write_bytes(data)
        result = scan(root, recipe)
    occs = [o for o in result.occurrences if o.path == name]
    text, encoding = decode(data)
    if not occs:
        return Outcome(data, [], [], [])
    fa = FileAnalysis(text, occs, recipe, repo_root=None)
    warnings, manual, choices, regions = [], [], {}, []
    for occ in occs:
        p = fa.summary(occ.id, strategy)
        if p.is_manual:
            manual.append(f"{occ.function}: {p.manual_reason}")
            continue
        codes = sorted({w.code for w in p.warnings})
        warnings.append(" ".join([f"{occ.function}:", p.confidence, *codes]))
        choices[occ.id] = Choice(p.strategy or "")
        regions.append((p.start_line, p.end_line))
    new = fa.apply(choices) if choices else text
    return Outcome(encode(new, encoding), warnings, manual, regions)


def case_options(case: Path) -> tuple[str | None, str | None]:
    """The case's forced strategy (`strategy.txt`) and recipe (`recipe.txt`), if any."""
    out = []
    for name in ("strategy.txt", "recipe.txt"):
        f = case / name
        out.append(f.read_text().strip() if f.exists() else None)
    return out[0], out[1]


def run_case(case: Path) -> Outcome:
    strategy, recipe = case_options(case)
    return run_bytes((case / "before.py").read_bytes(), strategy, recipe)


def regenerate(case: Path) -> None:
    out = run_case(case)
    (case / "after.py").write_bytes(out.after)
    for fname, lines in (("warnings.txt", out.warnings), ("manual.txt", out.manual)):
        path = case / fname
        if lines:
            path.write_text("\n".join(lines) + "\n")
        elif path.exists():
            path.unlink()


def scratch_copy(case: Path) -> Path:
    tmp = Path(tempfile.mkdtemp())
    shutil.copytree(case, tmp / case.name)
    return tmp / case.name
