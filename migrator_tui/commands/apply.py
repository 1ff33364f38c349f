"""`migrator-tui apply [PATH] [--phase N]... [--file F]... [--min-confidence M] [--dry-run | --in-place]`.

With neither flag, a headless reviewer: scan, propose, accept every proposal at or above the
minimum confidence (default `review`) whose occurrence has no decision yet, record those decisions
in the review state (reviewer = the git identity, note "accepted by apply"), and commit each file
to its own branch. Decisions a reviewer already made are kept; stale ones are never applied.

`--dry-run` prints every proposal's unified diff (coloured on a terminal). `--in-place` writes the
working tree instead, atomically per file, refusing any file that changed since the scan.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from migrator_tui.commands.branches import add_common
from migrator_tui.errors import printable
from migrator_tui.sourcefile import split_lines

if TYPE_CHECKING:
    from migrator_tui.errors import MigratorError
    from migrator_tui.model import Occurrence, ScanResult
    from migrator_tui.recipe import Recipe
    from migrator_tui.review.state import DecisionRecord
    from migrator_tui.review.workspace import Workspace
    from migrator_tui.rewrite import FileAnalysis
    from migrator_tui.rewrite.proposal import Choice, Proposal


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "apply", help="accept proposals headlessly: commit per-file branches, or --dry-run / --in-place",
        description="Accept every proposal at or above --min-confidence and commit each file to its own "
                    "branch (default), print the diffs (--dry-run), or write the working tree (--in-place).",
    )
    parser.add_argument("path", nargs="?", default=".", metavar="PATH", help="the repository (default: .)")
    parser.add_argument("--phase", type=_phase_arg, action="append", default=[], metavar="N|unplanned",
                        help="only this phase (repeatable); `unplanned` for the files outside every phase "
                             "(default: every planned phase)")
    parser.add_argument("--all", action="store_true",
                        help="every occurrence, the Unplanned files' too")
    parser.add_argument("--file", action="append", default=[], metavar="F",
                        help="only this file or glob, relative to the repository (repeatable)")
    parser.add_argument("--min-confidence", choices=("safe", "review"), default="safe",
                        help="accept proposals at least this confident (default: safe; `review` also "
                             "accepts proposals whose warnings nobody has read)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="print every proposal's diff, change nothing")
    mode.add_argument("--in-place", action="store_true", help="rewrite the working tree files")
    parser.add_argument("--rescan", action="store_true",
                        help="HEAD moved since the review began: re-scan from HEAD, keeping the decisions "
                             "whose code is unchanged")
    parser.add_argument("--prefix", default=None, metavar="PREFIX",
                        help="branch prefix of a new review (default: migrate/<recipe>)")
    add_common(parser)
    parser.set_defaults(run=run)


UNPLANNED = "unplanned"


def _phase_arg(value: str) -> int | str:
    if value.strip().lower() == UNPLANNED:
        return UNPLANNED
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a phase number or 'unplanned'") from None


def planned_only(phases: Sequence[int | str], files: Sequence[str], everything: bool) -> bool:
    """True when the run takes the recipe's plan only: no --phase, no --file, no --all."""
    return not phases and not files and not everything


def select(result: ScanResult, recipe: Recipe, phases: Sequence[int | str], files: Sequence[str],
           under: str = "", *, everything: bool = True) -> dict[str, list[Occurrence]]:
    """The scan's occurrences by path, kept to the phases (a number, or "unplanned"), files (or
    globs) and folder asked for. With no phase and no file, `everything=False` keeps the planned
    phases only (the recipe's plan is the migration plan)."""
    from migrator_tui.errors import MigratorError
    from migrator_tui.recipe import compile_glob

    known = {p.number for p in recipe.phases}
    for n in phases:
        if n != UNPLANNED and n not in known:
            listed = ", ".join(str(k) for k in sorted(known))
            raise MigratorError(f"Unknown phase {n}: recipe {recipe.name} has phases {listed}.")
    # A value that is the path of a scanned file selects that file, whatever characters it holds
    # (`brack[.py`); anything else is a glob.
    scanned = {o.path for o in result.occurrences}
    literal: set[str] = set()
    patterns = []
    for f in files:
        if f.strip("/") in scanned:
            literal.add(f.strip("/"))
            continue
        try:
            patterns.append(compile_glob(f.strip("/")))
        except ValueError as exc:
            raise MigratorError(f"--file {printable(f)!r} is neither a scanned file nor a valid glob "
                                f"({printable(str(exc))}).") from None
    wanted = {None if n == UNPLANNED else n for n in phases}
    if not phases and not files and not everything:
        wanted = known  # type: ignore[assignment]
    out: dict[str, list[Occurrence]] = {}
    for occ in result.occurrences:
        if wanted and occ.phase not in wanted:
            continue
        if files and occ.path not in literal and not any(p.match(occ.path) for p in patterns):
            continue
        if under and not occ.path.startswith(under):
            continue
        out.setdefault(occ.path, []).append(occ)
    # in the order `scan` lists them: by phase (the recipe's order, Unplanned last), then by path
    order = {p.number: i for i, p in enumerate(recipe.phases)}
    return dict(sorted(out.items(), key=lambda kv: (order.get(kv[1][0].phase, len(order)), kv[0])))


def _codes(p: Proposal) -> list[str]:
    return list(dict.fromkeys(w.code for w in p.warnings))


def run(args: argparse.Namespace) -> int:
    from migrator_tui.recipe import load_recipe

    recipe = load_recipe(args.recipe)
    if args.dry_run or args.in_place:
        return _run_working_tree(args, recipe)
    return _run_commit(args, recipe)


# --- the headless reviewer ---------------------------------------------------------------------


def _run_commit(args: argparse.Namespace, recipe: Recipe) -> int:
    from functools import partial

    from migrator_tui.review.state import APPLY_NOTE
    from migrator_tui.review.workspace import Prepared, Workspace
    from migrator_tui.rewrite.batch import analyse_files
    from migrator_tui.rewrite.proposal import Choice

    with Workspace.open(args.path, recipe, rescan=args.rescan, prefix=args.prefix) as ws:
        result = ws.scan_base()
        under = _subfolder(Path(args.path), ws.root)
        planned = planned_only(args.phase, args.file, args.all)
        chosen = select(result, recipe, args.phase, args.file, under, everything=not planned)
        stale = rolled_back = 0
        #: occurrence id -> its decision before this run, for each decision this run made
        made: dict[str, dict[str, DecisionRecord | None]] = {}
        #: per file: the occurrences this run decides, and the choices of those decided before
        undecided: dict[str, set[str]] = {}
        kept: dict[str, dict[str, Choice] | None] = {}
        for path, occs in chosen.items():
            if ws.sources.get(path) is None:
                continue
            for occ in occs:
                previous = ws.state.decision(occ.id)
                if previous is not None and previous.decision != "pending":
                    stale += previous.stale
                    rolled_back += previous.rolled_back and not previous.stale
                else:
                    undecided.setdefault(path, set()).add(occ.id)
            before = [d for d in ws.state.accepted(path) if d.id in {o.id for o in occs}]
            # a decision without a strategy takes its default as a commit computes it: not here
            kept[path] = ({d.id: Choice(d.strategy, d.edited) for d in before}  # type: ignore[arg-type]
                          if all(d.strategy for d in before) else None)
        todo = {p: chosen[p] for p in chosen if p in undecided or kept.get(p)}
        if todo:
            import migrator_tui.rewrite.build  # noqa: F401  (libcst, loaded once before the workers fork)
        work = partial(_decide_and_build, args.min_confidence, undecided, kept)
        prepared: dict[str, Prepared] = {}
        unanalysed = 0
        with ws.state.batch():
            for path, text, found, error in analyse_files(ws.root, todo, recipe, work, texts=ws.sources):
                if error is not None or text is None:
                    print(f"migrator-tui: {printable(path)} {error}; nothing was decided or committed "
                          "for it.", file=sys.stderr)
                    unanalysed += 1
                    continue
                summaries, choices, new_text = found  # type: ignore[misc]
                for occ_id, p in summaries.items():
                    if p.at_least(args.min_confidence):
                        made.setdefault(path, {})[occ_id] = ws.state.decision(occ_id)
                        ws.decide(occ_id, "accepted", strategy=p.strategy, note=APPLY_NOTE,
                                  warnings=_codes(p))
                if choices is not None and new_text is not None:
                    prepared[path] = Prepared(text, choices, new_text)
        to_commit = [p for p in chosen if ws.state.accepted(p)]
        batch = ws.commit_files(to_commit, prepared)
        with ws.state.batch():  # a file that could not be committed keeps no decision of this run
            for path in batch.failed:
                ws.state.restore(made.get(path, {}))
        committed = {c.path: c for c in batch.committed}
        tips = ws.flow.tips()
        for path in chosen:
            total = len(ws.occurrences_of(path))
            if path in committed:
                c = committed[path]
                same = "" if c.changed else " (unchanged)"
                n = len(ws.state.accepted(path))
                print(f"{printable(path)}: {c.branch} {c.sha[:12]} {n}/{total}{same}")
            elif path not in batch.failed:
                print(f"{printable(path)}: {_nothing_committed(ws, path, total, tips.get(path))}")
            if path in ws.dirty:
                print(f"  {printable(path)} has uncommitted edits: it was reviewed and committed as the base "
                      f"commit {ws.state.base[:12]} holds it; your edits are not on its branch.")
        for path, exc in sorted(batch.failed.items()):
            undone = len(made.get(path, {}))
            tail = f" ({undone} decision{'s' if undone != 1 else ''} of this run dropped)" if undone else ""
            print(f"migrator-tui: {printable(exc.message)}{tail}", file=sys.stderr)
        if stale:
            print(f"{stale} stale decision{'s' if stale != 1 else ''} left for review (code changed).")
        made = sum(1 for c in batch.committed if c.old is None)
        unchanged = sum(1 for c in batch.committed if c.old == c.sha)
        updated = len(batch.committed) - made - unchanged
        nothing = len(chosen) - len(batch.committed) - len(batch.failed)
        print(f"{_count(len(chosen), 'file')}: {_count(made, 'branch', 'branches')} made, {updated} updated, "
              f"{unchanged} unchanged, {nothing} with nothing accepted, {len(batch.failed)} refused.")
        if rolled_back:
            print(f"{rolled_back} rolled-back decision{'s' if rolled_back != 1 else ''} not applied again "
                  "(decide them again in the review to bring them back).")
        if planned:
            _left_unplanned(result, under)
        if not chosen:
            print("No occurrences matched.")
    return 2 if batch.failed or unanalysed else 0


def _decide_and_build(minimum: str, undecided: Mapping[str, set[str]],
                      kept: Mapping[str, Mapping[str, Choice] | None], path: str, text: str,
                      fa: FileAnalysis) -> tuple[dict[str, Proposal], dict[str, Choice] | None, str | None]:
    """From a file's one analysis: the summaries of the occurrences this run decides, and the
    file's new text with what will be accepted then (the kept choices and those at `minimum`),
    or None when it cannot be told or built here (the commit then builds it itself)."""
    from migrator_tui.errors import MigratorError
    from migrator_tui.rewrite.proposal import Choice

    wanted = undecided.get(path, set())
    summaries = {o.id: fa.summary(o.id) for o in fa.occurrences.values() if o.id in wanted}
    choices = kept.get(path)
    if choices is None:
        return summaries, None, None
    choices = {**choices, **{i: Choice(p.strategy, None) for i, p in summaries.items()  # type: ignore[arg-type]
                             if p.at_least(minimum)}}  # type: ignore[arg-type]
    if not choices:
        return summaries, None, None
    try:
        return summaries, choices, fa.apply(choices)
    except MigratorError:
        return summaries, None, None


def _nothing_committed(ws: Workspace, path: str, total: int, tip: str | None) -> str:
    """What there is for a file nothing was committed for: its stale decisions, its old branch."""
    ids = [o.id for o in ws.occurrences_of(path)]
    counts = ws.state.counts(path, ids)
    out = f"nothing accepted ({counts['accepted']}/{total})"
    if counts["stale"]:
        out += f", {counts['stale']} stale decision{'s' if counts['stale'] != 1 else ''} (code changed)"
    if tip is None:
        return out + ", no branch"
    return out + f"; its branch {ws.flow.branch_for(path)} is still at {tip[:12]} from an earlier commit"


def _count(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _left_unplanned(result: ScanResult, under: str, stream=None) -> None:  # type: ignore[no-untyped-def]
    """Say how many occurrences were left because their files are outside every phase."""
    left = [o for o in result.occurrences if o.phase is None and o.path.startswith(under)]
    if left:
        files = len({o.path for o in left})
        print(f"{len(left)} occurrence{'s' if len(left) != 1 else ''} in {files} Unplanned "
              f"file{'s' if files != 1 else ''} left alone (outside the recipe's phases): "
              "use --phase unplanned or --all to include them.", file=stream or sys.stdout)


def _subfolder(path: Path, root: Path) -> str:
    try:
        rel = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return ""
    return "" if rel in ("", ".") else rel.rstrip("/") + "/"


# --- dry run and in place ------------------------------------------------------------------------


def _run_working_tree(args: argparse.Namespace, recipe: Recipe) -> int:
    from functools import partial

    from migrator_tui.errors import MigratorError
    from migrator_tui.review.cache import use_kept_reads
    from migrator_tui.review.workspace import decode_python
    from migrator_tui.rewrite.batch import analyse_files
    from migrator_tui.scan import scan

    root = Path(args.path)
    result = scan(root, recipe)
    use_kept_reads(Path(result.root), recipe)  # (the callers the last scan read, while unchanged)
    planned = planned_only(args.phase, args.file, args.all)
    chosen = select(result, recipe, args.phase, args.file, everything=not planned)
    if args.in_place:
        _clean_leftovers(Path(result.root), chosen)
    failed = 0
    chunks: list[str] = []
    tally = {"safe": 0, "review": 0, "manual": 0}
    applied = 0
    # each file is analysed once, in a worker when there are many: its diffs (dry run) or its new
    # text (in place) are built there from the analysis that decided them
    work = partial(_dry_run_file if args.dry_run else _rewrite_file, args.min_confidence)
    import migrator_tui.rewrite.build  # noqa: F401  (libcst, loaded once before the workers fork)
    for path, text, found, error in analyse_files(Path(result.root), chosen, recipe, work):
        occs = chosen[path]
        if error is not None or text is None:
            print(f"migrator-tui: {printable(path)} {error}.", file=sys.stderr)
            failed += 1
            continue
        proposals, output = found  # type: ignore[misc]
        for occ in occs:
            p = proposals[occ.id]
            tally[p.confidence] += 1
            applied += p.at_least(args.min_confidence)
        if args.dry_run:
            chunks.append(output)
            continue
        if isinstance(output, MigratorError):
            print(f"migrator-tui: {printable(output.message)}", file=sys.stderr)
            failed += 1
            continue
        file = Path(result.root) / path
        try:
            data = file.read_bytes()
            decoded = decode_python(data)
        except (OSError, MigratorError) as exc:
            print(f"migrator-tui: {printable(path)} cannot be read ({getattr(exc, 'message', exc)}).",
                  file=sys.stderr)
            failed += 1
            continue
        n = output[1] if output is not None else 0
        try:
            if output is not None:
                _write_in_place(file, path, data, decoded, text, output[0], result.file_hashes.get(path),
                                Path(result.root))
        except MigratorError as exc:
            print(f"migrator-tui: {printable(exc.message)}", file=sys.stderr)
            failed += 1
            continue
        shown = printable(path)
        print(f"{shown}: {n}/{len(occs)} rewritten" if n else f"{shown}: nothing accepted (0/{len(occs)})")
    if planned:
        _left_unplanned(result, "", stream=sys.stderr if args.dry_run else sys.stdout)
    if args.dry_run:
        text = "".join(chunks)
        if sys.stdout.isatty():
            from pygments import highlight
            from pygments.formatters import TerminalFormatter
            from pygments.lexers import DiffLexer

            text = highlight(text, DiffLexer(), TerminalFormatter())
        sys.stdout.write(text)
    n = sum(tally.values())
    verb = "would be applied" if args.dry_run else "applied"
    print(f"{_count(len(chosen), 'file')}, {_count(n, 'proposal')}: {tally['safe']} safe, {tally['review']} "
          f"review, {tally['manual']} manual; {applied} {verb} (--min-confidence {args.min_confidence})"
          + (f", {_count(failed, 'file')} refused" if failed else "") + ".")
    return 2 if failed else 0


def _dry_run_file(minimum: str, path: str, text: str, fa: FileAnalysis) -> tuple[dict[str, Proposal], str]:
    """A file's summaries and its dry-run diffs, from its one analysis."""
    from migrator_tui.rewrite.batch import summaries_of

    proposals = summaries_of(path, text, fa)
    return proposals, _diffs(path, text, list(fa.occurrences.values()), proposals, minimum, fa)


def _rewrite_file(minimum: str, path: str, text: str, fa: FileAnalysis
                  ) -> tuple[dict[str, Proposal], tuple[str, int] | MigratorError | None]:
    """A file's summaries and its new text with every proposal at `minimum` or above (None when
    there is none, the error when the file cannot be rewritten) and how many were rewritten, from
    its one analysis."""
    from migrator_tui.errors import MigratorError
    from migrator_tui.rewrite.batch import summaries_of
    from migrator_tui.rewrite.proposal import Choice

    proposals = summaries_of(path, text, fa)
    choices = {i: Choice(p.strategy or "", None) for i, p in proposals.items()
               if p.at_least(minimum)}  # type: ignore[arg-type]
    if not choices:
        return proposals, None
    try:
        try:
            return proposals, (fa.apply(choices), len(choices))
        except MigratorError:
            # One of them cannot be built after all: find which (one full proposal each, the slow
            # way, only in this rare case) and rewrite the others.
            choices = {i: c for i, c in choices.items() if not fa.propose(i, c.strategy or None).is_manual}
            return proposals, (fa.apply(choices), len(choices)) if choices else None
    except MigratorError as exc:
        return proposals, exc


def _diffs(path: str, text: str, occs: Sequence[Occurrence], proposals: dict[str, Proposal],
           minimum: str, fa: FileAnalysis) -> str:
    """One diff per occurrence, from a single build of the file with every shown proposal applied
    (linear in the occurrences): each diff shows its own region; what the proposals add once
    (imports, helper methods) follows in a diff of its own. Should that build fail, each occurrence
    is proposed on its own instead and a failing one is shown as manual."""
    from migrator_tui.errors import MigratorError
    from migrator_tui.rewrite.proposal import Choice

    old = split_lines(text, keepends=True)
    shown = printable(path)
    wanted = {o.id: Choice(proposals[o.id].strategy or "") for o in occs
              if not proposals[o.id].is_manual and proposals[o.id].at_least(minimum)}  # type: ignore[arg-type]
    new_source, regions = text, {}
    if wanted:
        try:
            new_source, regions = fa.apply_with_regions(wanted, shown_only=True)
        except MigratorError:
            regions = {}
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    texts: dict[tuple[int, int], str] = {}
    for occ in occs:
        p = proposals[occ.id]
        head = f"# {printable(occ.id)} (line {occ.line}, {occ.function or '<module>'})"
        if p.is_manual:
            out.append(f"{head}: manual: {p.manual_reason or 'no automatic rewrite'}\n")
            continue
        codes = _codes(p)
        head += f": {p.strategy}, {p.confidence}" + (f", warnings: {', '.join(codes)}" if codes else "")
        if occ.id not in wanted:
            out.append(f"{head}: below --min-confidence {minimum}, not applied\n")
            continue
        if occ.id in regions:
            out.append(head + "\n")
            out.extend(_region_diff(old, p.start_line, p.end_line, regions[occ.id], shown))
            spans.append((p.start_line, p.end_line))
            texts[(p.start_line, p.end_line)] = regions[occ.id]
            continue
        full = fa.propose(occ.id, p.strategy)
        if full.is_manual or full.new_source is None:
            out.append(f"# {printable(occ.id)} (line {occ.line}, {occ.function or '<module>'}): manual: "
                       f"{full.manual_reason or 'no automatic rewrite'}\n")
            continue
        out.append(head + "\n")
        out.extend(_diff_lines(old, split_lines(full.new_source, keepends=True), shown))
    if regions:
        extra = _outside(_added_once(old, texts, split_lines(new_source, keepends=True), shown), spans)
        if extra:
            out.append(f"# {shown}: added once for the proposals above (imports, helpers)\n")
            out.extend(extra)
    return "".join(out)


def _diff_lines(a: list[str], b: list[str], shown: str, *, context: int = 3, offset: int = 0) -> list[str]:
    import difflib
    import re

    out = []
    for line in difflib.unified_diff(a, b, f"a/{shown}", f"b/{shown}", n=context):
        if offset and line.startswith("@@"):
            def shift(m: re.Match[str]) -> str:
                return f"@@ -{int(m[1]) + offset}{m[2] or ''} +{int(m[3]) + offset}{m[4] or ''} @@"

            line = re.sub(r"^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@", shift, line)
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return out


def _region_diff(old: list[str], start: int, end: int, after: str, shown: str) -> list[str]:
    """The diff of lines `start`..`end` replaced by `after`, with three lines of context."""
    lo, hi = max(1, start - 3), min(len(old), end + 3)
    a = old[lo - 1 : hi]
    b = old[lo - 1 : start - 1] + split_lines(after, keepends=True) + old[end:hi]
    return _diff_lines(a, b, shown, offset=lo - 1)


def _added_once(old: list[str], texts: dict[tuple[int, int], str], new: list[str], shown: str) -> list[str]:
    """The diff of what the build added beyond the regions (imports, helpers), numbered as in the
    original file: the new file against the original with only the regions replaced, two texts
    that differ in a few lines (a whole-file diff of the original against the new file costs time
    quadratic in the number of regions)."""
    import re
    from bisect import bisect_right

    from migrator_tui.sourcefile import outermost

    outer = sorted(outermost(texts))
    mid: list[str] = []
    starts: list[int] = []  # first line of `mid` after each region
    deltas: list[int] = []  # lines the regions up to there added (new minus old)
    pos, delta = 1, 0
    for start, end in outer:
        mid.extend(old[pos - 1 : start - 1])
        mid.extend(split_lines(texts[(start, end)], keepends=True))
        delta += len(split_lines(texts[(start, end)], keepends=True)) - (end - start + 1)
        starts.append(len(mid) + 1)
        deltas.append(delta)
        pos = end + 1
    mid.extend(old[pos - 1 :])

    def renumber(m: re.Match[str]) -> str:
        line = int(m[1])
        i = bisect_right(starts, line) - 1
        back = deltas[i] if i >= 0 else 0
        return f"@@ -{line - back}{m[2] or ''} +{m[3]}"

    return [re.sub(r"^@@ -(\d+)(,\d+)? \+(\d+)", renumber, ln) if ln.startswith("@@") else ln
            for ln in _diff_lines(mid, new, shown, context=0)]


def _outside(diff: list[str], spans: list[tuple[int, int]]) -> list[str]:
    """The hunks of a whole-file diff that change no line of `spans` (with the file header)."""
    import re

    if not diff:
        return []
    header, hunks, current = diff[:2], [], None
    for line in diff[2:]:
        if line.startswith("@@"):
            current = [line]
            hunks.append(current)
        elif current is not None:
            current.append(line)
    kept = []
    for hunk in hunks:
        m = re.match(r"@@ -(\d+)(?:,(\d+))?", hunk[0])
        first, count = int(m[1]), int(m[2] if m and m[2] is not None else 1)  # type: ignore[index]
        last = first + max(count, 1) - 1
        if count == 0:
            first = last = first + 1  # a pure insertion after line `first`
        if not any(first <= e and s <= last for s, e in spans):
            kept.extend(hunk)
    return header + kept if kept else []


def _clean_leftovers(root: Path, paths: Iterable[str]) -> None:
    """Remove the temporary files an `--in-place` run that was killed left beside these files."""
    from migrator_tui.review.state import remove_leftovers

    for folder in sorted({(root / p).parent for p in paths}):
        for tmp in remove_leftovers(folder):
            rel = tmp.relative_to(root).as_posix()
            print(f"removed {printable(rel)}, left by an interrupted run", file=sys.stderr)


def _refuse_links(root: Path, path: str) -> None:
    """`--in-place` writes only a regular file reached without any symbolic link."""
    import os

    from migrator_tui.errors import MigratorError
    from migrator_tui.scan.files import linked_folder

    real = os.path.realpath(root)
    link = linked_folder(real, path)
    if link is not None:
        raise MigratorError(f"{path} is inside {link}, a symbolic link to a folder; nothing was written.")
    if os.path.islink(os.path.join(real, path)):
        raise MigratorError(f"{path} is a symbolic link; nothing was written (rewrite its target instead).")


def _write_in_place(file: Path, path: str, data: bytes, decoded: tuple[str, str, bool], analysed: str,
                    rewritten: str, scanned: str | None, root: Path) -> None:
    """Write `rewritten` (made from the text `analysed`) over `file`, read as `data` just now,
    unless it changed since the scan or since it was analysed."""
    import os

    from migrator_tui.errors import MigratorError
    from migrator_tui.review.state import atomic_write
    from migrator_tui.review.workspace import encode_python
    from migrator_tui.scan import blob_hash

    text, encoding, bom = decoded
    if (scanned is not None and blob_hash(data) != scanned) or text != analysed:
        raise MigratorError(f"{path} changed since the scan; nothing was written to it.")
    new = encode_python(rewritten, encoding, bom)
    try:
        current = file.read_bytes()
        mode = os.stat(file).st_mode & 0o7777
    except OSError:
        raise MigratorError(f"{path} was deleted since the scan; nothing was written.") from None
    if current != data:
        raise MigratorError(f"{path} changed since the scan; nothing was written to it.")
    _refuse_links(root, path)
    atomic_write(file, new, mode=mode)
