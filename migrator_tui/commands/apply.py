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
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from migrator_tui.commands.branches import add_common
from migrator_tui.review.state import APPLY_NOTE

if TYPE_CHECKING:
    from migrator_tui.model import Occurrence, ScanResult
    from migrator_tui.recipe import Recipe
    from migrator_tui.review.state import DecisionRecord
    from migrator_tui.rewrite.proposal import Proposal



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
    parser.add_argument("--min-confidence", choices=("safe", "review"), default="review",
                        help="accept proposals at least this confident (default: review)")
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
    from migrator_tui.recipe import glob_to_regex

    known = {p.number for p in recipe.phases}
    for n in phases:
        if n != UNPLANNED and n not in known:
            listed = ", ".join(str(k) for k in sorted(known))
            raise MigratorError(f"Unknown phase {n}: recipe {recipe.name} has phases {listed}.")
    patterns = []
    for f in files:
        try:
            patterns.append(glob_to_regex(f.strip("/")))
        except ValueError:
            raise MigratorError(f"--file {f!r} is not a valid path or glob.") from None
    wanted = {None if n == UNPLANNED else n for n in phases}
    if not phases and not files and not everything:
        wanted = known  # type: ignore[assignment]
    out: dict[str, list[Occurrence]] = {}
    for occ in result.occurrences:
        if wanted and occ.phase not in wanted:
            continue
        if files and not any(occ.path == f.strip("/") or p.match(occ.path) for f, p in zip(files, patterns,
                                                                                        strict=True)):
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
    from migrator_tui.review.workspace import Workspace
    from migrator_tui.rewrite import FileAnalysis

    with Workspace.open(args.path, recipe, rescan=args.rescan, prefix=args.prefix) as ws:
        result = ws.scan_base()
        under = _subfolder(Path(args.path), ws.root)
        planned = planned_only(args.phase, args.file, args.all)
        chosen = select(result, recipe, args.phase, args.file, under, everything=not planned)
        stale = rolled_back = 0
        #: occurrence id -> its decision before this run, for each decision this run made
        made: dict[str, dict[str, DecisionRecord | None]] = {}
        with ws.state.batch():
            for path, occs in chosen.items():
                text = ws.sources.get(path)
                if text is None:
                    continue
                undecided = []
                for occ in occs:
                    previous = ws.state.decision(occ.id)
                    if previous is not None and previous.decision != "pending":
                        stale += previous.stale
                        rolled_back += previous.rolled_back and not previous.stale
                    else:
                        undecided.append(occ)
                if not undecided:
                    continue
                analysis = FileAnalysis(text, occs, recipe, repo_root=ws.root)
                for occ in undecided:
                    p = analysis.summary(occ.id)
                    if p.at_least(args.min_confidence):
                        made.setdefault(path, {})[occ.id] = ws.state.decision(occ.id)
                        ws.decide(occ.id, "accepted", strategy=p.strategy, note=APPLY_NOTE,
                                  warnings=_codes(p))
        to_commit = [p for p in chosen if ws.state.accepted(p)]
        batch = ws.commit_files(to_commit)
        with ws.state.batch():  # a file that could not be committed keeps no decision of this run
            for path in batch.failed:
                ws.state.restore(made.get(path, {}))
        committed = {c.path: c for c in batch.committed}
        for path in chosen:
            total = len(ws.occurrences_of(path))
            if path in committed:
                c = committed[path]
                print(f"{path}: {c.branch} {c.sha[:12]} {len(ws.state.accepted(path))}/{total}")
            elif path not in batch.failed:
                print(f"{path}: nothing accepted (0/{total}), no branch")
            if path in ws.dirty:
                print(f"  {path} has uncommitted edits: it was reviewed and committed as the base commit "
                      f"{ws.state.base[:12]} holds it; your edits are not on its branch.")
        for path, exc in sorted(batch.failed.items()):
            undone = len(made.get(path, {}))
            tail = f" ({undone} decision{'s' if undone != 1 else ''} of this run dropped)" if undone else ""
            print(f"migrator-tui: {exc.message}{tail}", file=sys.stderr)
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
    return 2 if batch.failed else 0


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
    from migrator_tui.errors import MigratorError
    from migrator_tui.review.workspace import decode_python
    from migrator_tui.rewrite.batch import propose_files
    from migrator_tui.scan import scan

    root = Path(args.path)
    result = scan(root, recipe)
    planned = planned_only(args.phase, args.file, args.all)
    chosen = select(result, recipe, args.phase, args.file, everything=not planned)
    failed = 0
    chunks: list[str] = []
    tally = {"safe": 0, "review": 0, "manual": 0}
    applied = 0
    for path, text, proposals, error in propose_files(Path(result.root), chosen, recipe):
        occs = chosen[path]
        if error is not None or text is None:
            print(f"migrator-tui: {path} {error}.", file=sys.stderr)
            failed += 1
            continue
        for occ in occs:
            p = proposals[occ.id]
            tally[p.confidence] += 1
            applied += p.at_least(args.min_confidence)
        if args.dry_run:
            chunks.append(_diffs(path, text, occs, proposals, args.min_confidence))
            continue
        file = Path(result.root) / path
        try:
            data = file.read_bytes()
            decoded = decode_python(data)
        except (OSError, MigratorError) as exc:
            print(f"migrator-tui: {path} cannot be read ({getattr(exc, 'message', exc)}).", file=sys.stderr)
            failed += 1
            continue
        try:
            n = _write_in_place(file, path, data, decoded, occs, proposals, args.min_confidence,
                                recipe, result.file_hashes.get(path), Path(result.root))
        except MigratorError as exc:
            print(f"migrator-tui: {exc.message}", file=sys.stderr)
            failed += 1
            continue
        print(f"{path}: {n}/{len(occs)} rewritten" if n else f"{path}: nothing accepted (0/{len(occs)})")
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


def _diffs(path: str, text: str, occs: Sequence[Occurrence], proposals: dict[str, Proposal],
           minimum: str) -> str:
    import difflib

    out: list[str] = []
    old = text.splitlines(keepends=True)
    for occ in occs:
        p = proposals[occ.id]
        head = f"# {occ.id} (line {occ.line}, {occ.function or '<module>'})"
        if p.is_manual or p.new_source is None:
            out.append(f"{head}: manual: {p.manual_reason or 'no automatic rewrite'}\n")
            continue
        codes = _codes(p)
        head += f": {p.strategy}, {p.confidence}" + (f", warnings: {', '.join(codes)}" if codes else "")
        if not p.at_least(minimum):  # type: ignore[arg-type]
            out.append(f"{head}: below --min-confidence {minimum}, not applied\n")
            continue
        out.append(head + "\n")
        diff = difflib.unified_diff(old, p.new_source.splitlines(keepends=True), f"a/{path}", f"b/{path}")
        for line in diff:
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _write_in_place(file: Path, path: str, data: bytes, decoded: tuple[str, str, bool],
                    occs: Sequence[Occurrence], proposals: dict[str, Proposal], minimum: str,
                    recipe: Recipe, scanned: str | None, root: Path) -> int:
    import os

    from migrator_tui.errors import MigratorError
    from migrator_tui.review.state import atomic_write
    from migrator_tui.review.workspace import encode_python
    from migrator_tui.rewrite import apply_choices
    from migrator_tui.rewrite.proposal import Choice
    from migrator_tui.scan import blob_hash

    text, encoding, bom = decoded
    if scanned is not None and blob_hash(data) != scanned:
        raise MigratorError(f"{path} changed since the scan; nothing was written to it.")
    choices = {o.id: Choice(proposals[o.id].strategy or "", None) for o in occs
               if proposals[o.id].at_least(minimum)}  # type: ignore[arg-type]
    if not choices:
        return 0
    new = encode_python(apply_choices(text, occs, choices, recipe, repo_root=root), encoding, bom)
    try:
        current = file.read_bytes()
        mode = os.stat(file).st_mode & 0o7777
    except OSError:
        raise MigratorError(f"{path} was deleted since the scan; nothing was written.") from None
    if current != data:
        raise MigratorError(f"{path} changed since the scan; nothing was written to it.")
    atomic_write(file, new, mode=mode)
    return len(choices)
