"""`migrator-tui scan [PATH] [--json] [--recipe NAME|FILE]`: list every occurrence, by phase.

The human form fits 100 columns: per phase (number, name, priority, count), per file (count),
per occurrence (line, function, shapes), then excluded and skipped files. `--json` prints the
object of the CLI contract (schema: `migrator_tui/schemas/scan.schema.json`).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Mapping, Sequence

from migrator_tui.errors import printable

#: `typing.TYPE_CHECKING` without importing `typing` (a kept scan is printed without it)
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any

    from migrator_tui.model import Occurrence, ScanResult
    from migrator_tui.recipe import Recipe
    from migrator_tui.review import kept_output
    from migrator_tui.rewrite.clusters import Cluster
    from migrator_tui.rewrite.proposal import Proposal

WIDTH = 100
UNPLANNED = "Unplanned"
#: Seconds a scan runs before the progress counter appears (terminals only).
PROGRESS_DELAY = 0.3


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "scan", help="list every occurrence, grouped by phase",
        description="List every hand-acquired session, grouped by the recipe's phases.",
    )
    parser.add_argument("path", nargs="?", default=".", metavar="PATH",
                        help="the repository or folder to scan (default: .)")
    parser.add_argument("--json", action="store_true", help="print one JSON object (see the schema)")
    parser.add_argument("--format", choices=("full", "concise"), default="full",
                        help="full: grouped by phase (default); concise: one `path:line:col: "
                             "confidence function(): shapes [warning codes]` line per occurrence")
    parser.add_argument("--recipe", metavar="NAME|FILE", default=None,
                        help="a built-in recipe name or a TOML file (default: db-session)")
    parser.add_argument("--no-proposals", action="store_true",
                        help="skip the rewrite analysis (strategy, confidence, warnings): fastest")
    parser.add_argument("--no-cache", action="store_true",
                        help="scan and analyse again even when the repository, the recipe and the tool "
                             "are as they were at the last scan (kept in .git/migrator/cache)")
    parser.add_argument("--clusters", action="store_true",
                        help="also group alike proposals (same strategy, confidence, shapes, warnings "
                             "and normalised diff), largest first: what can be decided once for all")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from migrator_tui.review import kept_output

    wrap = sys.stdout.isatty()
    slot = None
    if not args.no_cache:  # nothing changed since the last scan with these options: its output
        options = repr((args.path, args.recipe, args.json, args.format, args.no_proposals, args.clusters,
                        wrap))
        slot = kept_output.slot(args.path, args.recipe, options)
        data = kept_output.kept(slot) if slot is not None else None
        if data is not None:
            _write_bytes(data)
            return 0
    from pathlib import Path

    from migrator_tui.recipe import load_recipe
    from migrator_tui.scan.files import check_root

    recipe = load_recipe(args.recipe)
    check_root(Path(args.path))
    text = output(args, recipe, wrap, slot)
    sys.stdout.write(text)
    if slot is not None:
        kept_output.keep(slot, text, (m for s in recipe.strategies.values() for m in s.imported_modules()))
    return 0


def _write_bytes(data: bytes) -> None:
    """Print UTF-8 `data` as it is (a large kept output is not decoded and encoded again)."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None or (sys.stdout.encoding or "").lower().replace("-", "") != "utf8":
        sys.stdout.write(data.decode("utf-8"))
        return
    sys.stdout.flush()
    buffer.write(data)
    buffer.flush()


def output(args: argparse.Namespace, recipe: Recipe, wrap: bool, slot: kept_output.Slot | None = None) -> str:
    """What `scan` prints for `args` (`slot`: where its output is kept, with the repository's
    state it holds)."""
    from migrator_tui.review.cache import cached_scan

    progress = _Counter() if sys.stderr.isatty() else None
    try:
        result, proposals = cached_scan(args.path, recipe, proposals=not args.no_proposals,
                                        progress=progress, use_cache=not args.no_cache,
                                        state=slot.state if slot is not None else None)
    finally:
        if progress is not None:
            progress.clear()
    found = effort = None
    if args.clusters and not args.no_proposals:
        from pathlib import Path

        from migrator_tui.rewrite.batch import cluster_members
        from migrator_tui.rewrite.clusters import clusters, review_effort

        members = cluster_members(Path(result.root), result.by_path(), recipe)
        found = clusters(members)
        phase_of = {o.id: o.phase for o in result.occurrences}
        safe_phases = {phase_of.get(m.id) for m in members if m.confidence == "safe"}
        effort = review_effort(found, sum(1 for m in members if m.confidence == "manual"), len(safe_phases))
    if args.json:
        import json

        doc = scan_json(result, recipe, proposals)
        if found is not None:
            doc["clusters"] = [c.to_json() for c in found]
            doc["review_effort"] = effort
        return json.dumps(doc) + "\n"
    text = concise(result, recipe, proposals) if args.format == "concise" else render(
        result, recipe, proposals=proposals, wrap=wrap)
    if found is not None and effort is not None:
        text += cluster_lines(found, effort)
    return text


def concise(result: ScanResult, recipe: Recipe, proposals: Mapping[str, Proposal] | None = None) -> str:
    """One grep-style line per occurrence, in phase order: `path:line:col: code message`, where
    the code is the proposal's confidence (`occurrence` without proposals) and the column 1-based;
    then the summary line."""
    out = []
    for _number, _name, _priority, files in grouped(result, recipe):
        for path, occs in files.items():
            for occ in occs:
                p = proposals.get(occ.id) if proposals else None
                code = p.confidence if p is not None else "occurrence"
                where = f"{occ.function}()" if occ.function and occ.function != "<module>" else "<module>"
                message = f"{where}: {', '.join(occ.shapes) or '-'}"
                if p is not None:
                    codes = list(dict.fromkeys(w.code for w in p.warnings))
                    if codes:
                        message += f" [{', '.join(codes)}]"
                out.append(f"{printable(path)}:{occ.line}:{occ.column + 1}: {code} {message}")
    out.append(summary_line(result, proposals))
    return "\n".join(out) + "\n"


def summary_line(result: ScanResult, proposals: Mapping[str, Proposal] | None = None) -> str:
    """`N occurrences in M files (P planned, U unplanned); proposals: a safe, b review, c manual`."""
    planned = sum(1 for o in result.occurrences if o.phase is not None)
    line = (f"{_plural(result.total, 'occurrence')} in {_plural(len(result.by_path()), 'file')} "
            f"({planned:,} planned, {result.total - planned:,} unplanned)")
    if proposals:
        tally = {c: sum(1 for p in proposals.values() if p.confidence == c)
                 for c in ("safe", "review", "manual")}
        line += f"; proposals: {tally['safe']:,} safe, {tally['review']:,} review, {tally['manual']:,} manual"
    return line


def cluster_lines(found: Sequence[Cluster], effort: Mapping[str, int], top: int = 10) -> str:
    """The clusters section of the human output: the largest ones and the effort they save."""
    def n(count: int, word: str) -> str:
        return f"{count:,} {word}" + ("" if count == 1 else "s")

    out = ["", f"Clusters: {n(effort['clusters'], 'group')} of alike proposals "
           f"(largest {effort['largest']:,}); "
           f"deciding by cluster takes {n(effort['decisions'], 'decision')} (manual ones included) "
           f"and {n(effort['confirmations'], 'sample confirmation')}; accepting the safe ones per phase "
           f"at once (`A`), {n(effort['decisions_accepting_safe'], 'decision')}."]
    for c in found[:top]:
        codes = f" [{', '.join(c.codes)}]" if c.codes else ""
        out.append(f"  {c.size:>5} × {c.strategy} {c.confidence}{codes}  e.g. {printable(c.representative)}")
    if len(found) > top:
        out.append(f"  … {len(found) - top:,} more")
    return "\n".join(out) + "\n"


class _Counter:
    """`scanning n/N files` on stderr, once the scan has taken longer than `PROGRESS_DELAY`."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if time.monotonic() - self.start < PROGRESS_DELAY:
            return
        self.shown = True
        sys.stderr.write(f"\rscanning {done}/{total} files")
        sys.stderr.flush()

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


# --- JSON ----------------------------------------------------------------------------------

def occurrence_json(occ: Occurrence, proposal: Proposal | None = None) -> dict[str, Any]:
    """One occurrence as in `scan --json`; with a proposal, also its strategy, alternatives,
    confidence and warnings."""
    out: dict[str, Any] = occ.to_json()
    out["end_line"] = occ.end_line
    out["end_column"] = occ.end_column
    out["phase"] = occ.phase
    if proposal is not None:
        out["strategy"] = proposal.strategy
        out["alternatives"] = list(proposal.alternatives)
        out["confidence"] = proposal.confidence
        out["warnings"] = [w.to_json() for w in proposal.warnings]
    return out


def grouped(result: ScanResult, recipe: Recipe) -> list[tuple[int | None, str, str | None,
                                                               dict[str, list[Occurrence]]]]:
    """(phase number, name, priority, {path: occurrences}) for every phase in recipe order, then
    Unplanned. Phases without occurrences are kept; Unplanned is always last."""
    by_phase: dict[int | None, dict[str, list[Occurrence]]] = {}
    for occ in result.occurrences:
        by_phase.setdefault(occ.phase, {}).setdefault(occ.path, []).append(occ)
    out = [(p.number, p.name, p.priority, by_phase.get(p.number, {})) for p in recipe.phases]
    out.append((None, UNPLANNED, None, by_phase.get(None, {})))
    return out


def scan_json(result: ScanResult, recipe: Recipe,
              proposals: Mapping[str, Proposal] | None = None,
              occurrence: Callable[..., dict[str, Any]] = occurrence_json) -> dict[str, Any]:
    """The `scan --json` object. `proposals` (by occurrence id) adds the rewrite's fields."""
    proposals = proposals or {}
    return {
        "root": result.root,
        "recipe": result.recipe,
        "base": result.base,
        "total": result.total,
        "phases": [
            {"phase": number, "name": name, "priority": priority,
             "files": [{"path": path, "occurrences": [occurrence(o, proposals.get(o.id)) for o in occs]}
                       for path, occs in files.items()]}
            for number, name, priority, files in grouped(result, recipe)
        ],
        "skipped": [{"path": s.path, "reason": s.reason} for s in result.skipped],
        "excluded": [{"path": e.path, "line": e.line, "function": e.function, "reason": e.reason}
                     for e in result.excluded],
    }


# --- human form ----------------------------------------------------------------------------

def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _wrap(words: list[str], width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in words:
        piece = word if not current else current + ", " + word
        if current and len(piece) >= width:
            lines.append(current + ",")
            current = word
        else:
            current = piece
    return [*lines, current] if current or not lines else lines


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def render(result: ScanResult, recipe: Recipe, done: Mapping[str, bool] | None = None,
           proposals: Mapping[str, Proposal] | None = None, wrap: bool = True) -> str:
    """The human form. `done` (occurrence id → decided) adds done/total per phase; `proposals`
    adds each occurrence's confidence and strategy, and a count per confidence."""
    out: list[str] = []
    base = result.base[:12] if result.base else "no commit"
    files = len(result.by_path())
    root = printable(str(result.root))
    out.append(_fit(f"{root}: {_plural(result.total, 'occurrence')} in {_plural(files, 'file')} "
                    f"({_plural(result.files_scanned, 'file')} scanned, recipe {result.recipe}, "
                    f"base {base})", WIDTH))
    fn_width = min(50, max([len(o.function) for o in result.occurrences] or [8]))
    for number, name, priority, phase_files in grouped(result, recipe):
        count = sum(len(v) for v in phase_files.values())
        if done is not None:
            finished = sum(1 for v in phase_files.values() for o in v if done.get(o.id))
            tally = f"{finished}/{count} done"
        else:
            tally = _plural(count, "occurrence")
        head = f"Phase {number}: {name}" if number is not None else name
        out.append("")
        out.append(_fit(f"{head}  [{priority}]  {tally}" if priority else f"{head}  {tally}", WIDTH))
        for path, occs in phase_files.items():
            out.append(_fit(f"  {printable(path)}  ({len(occs)})", WIDTH))
            for occ in occs:
                p = proposals.get(occ.id) if proposals else None
                badge = f"{p.confidence:<6}  " if p is not None else ""
                prefix = f"    {occ.line:>6}  {badge}{_fit(occ.function, fn_width):<{fn_width}}  "
                shapes = list(occ.shapes) or ["-"]
                # piped: one line per occurrence, whatever its length (grep and sort read lines)
                shape_lines = _wrap(shapes, WIDTH - len(prefix)) if wrap else [", ".join(shapes)]
                out.append(prefix + shape_lines[0])
                out.extend(" " * len(prefix) + rest for rest in shape_lines[1:])
    if result.excluded:
        out.append("")
        out.append(f"Excluded ({len(result.excluded)})")
        for e in result.excluded:
            out.append(_fit(f"  {printable(e.path)}:{e.line}  {e.function}", WIDTH))
            out.append(_fit(f"      {e.reason}", WIDTH))
    if result.skipped:
        out.append("")
        out.append(f"Skipped ({len(result.skipped)})")
        out.extend(_fit(f"  {printable(s.path)}: {printable(s.reason)}", WIDTH) for s in result.skipped)
    out.append("")
    planned = sum(1 for o in result.occurrences if o.phase is not None)
    out.append(_fit(f"Total: {_plural(result.total, 'occurrence')} ({planned:,} planned, "
                    f"{result.total - planned:,} unplanned), {len(result.excluded):,} excluded, "
                    f"{_plural(len(result.skipped), 'file')} skipped", WIDTH))
    if proposals:
        tally = {c: sum(1 for p in proposals.values() if p.confidence == c)
                 for c in ("safe", "review", "manual")}
        out.append(f"Proposals: {tally['safe']:,} safe, {tally['review']:,} review, "
                   f"{tally['manual']:,} manual")
    return "\n".join(out) + "\n"
