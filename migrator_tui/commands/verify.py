"""`migrator-tui verify [PATH] --test-cmd "CMD" [--jobs N] [--timeout S] [--only FILE...] [--baseline]
[--integration] [--coverage] [--json]`.

Runs CMD (through the shell) in a temporary worktree of each per-file branch's tip, a few at a
time, records passed / failed / timeout / error with the duration and the log's path in the review
state, and prints a table (`--json`: one object). With `--coverage`, pytest runs under coverage.py
(`checks.coverage`) and each rewritten block gets the tests that executed it, printed under the
table. Exit 0 when every run passed, 1 when any did not, 2 on an input error or a run that wrote no
coverage data. The review lock is held while it runs (the results are written to the review's state).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from migrator_tui.commands.branches import add_common
from migrator_tui.errors import printable


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "verify", help="run the target's tests on each per-file branch (in temporary worktrees)",
        description="Run a test command in a temporary git worktree of each per-file branch and record "
                    "the result in the review state. Exit 1 when any run did not pass.",
    )
    parser.add_argument("path", nargs="?", default=".", metavar="PATH", help="the repository (default: .)")
    parser.add_argument("--test-cmd", required=True, metavar="CMD",
                        help="the test command, run by the shell at the worktree's root")
    parser.add_argument("--jobs", type=int, default=2, metavar="N", help="runs at a time (default: 2)")
    parser.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS",
                        help="stop a run after this long (default: 600); it counts as a timeout")
    parser.add_argument("--only", nargs="+", default=[], metavar="FILE",
                        help="only these files' branches (paths relative to the repository)")
    parser.add_argument("--baseline", action="store_true",
                        help="also run the command once on the review's base commit")
    parser.add_argument("--integration", action="store_true",
                        help="also run the command on the integration branch (<prefix>/all) if it exists")
    parser.add_argument("--coverage", action="store_true",
                        help="run pytest under coverage.py, one context per test, and record which tests "
                             "execute each rewritten block (needs coverage.py here and in the tests' Python)")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    add_common(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from migrator_tui.checks.coverage import meter_for
    from migrator_tui.checks.verify import (
        BASE,
        Outcome,
        Runner,
        base_target,
        file_targets,
        integration_target,
        prune_dead_runs,
        run_all,
        signals_as_interrupt,
    )
    from migrator_tui.errors import MigratorError
    from migrator_tui.recipe import load_recipe
    from migrator_tui.review.workspace import Workspace

    if args.jobs < 1:
        raise MigratorError("--jobs must be at least 1.")
    if args.timeout <= 0:
        raise MigratorError("--timeout must be a positive number of seconds.")
    if not args.test_cmd.strip():
        raise MigratorError("--test-cmd is empty; give the command that runs the tests.")
    if args.coverage:
        from migrator_tui.checks.coverage import require

        require()
    recipe = load_recipe(args.recipe)
    with signals_as_interrupt(), Workspace.open(args.path, recipe, check_head=False) as ws:
        for folder in prune_dead_runs(ws.root):
            print(f"removed {printable(folder)}, left by a verify run that died", file=sys.stderr)
        state = ws.state
        targets = file_targets(state, ws.flow.tips(), args.only)
        if args.integration:
            branch = ws.flow.integration_branch
            tip = ws.flow.tips_of([branch]).get(branch)
            if tip is None:
                print(f"{branch} does not exist yet (run `migrator-tui integrate`); not verified.",
                      file=sys.stderr)
            else:
                targets.append(integration_target(branch, tip))
        if args.baseline:
            targets.insert(0, base_target(state))
        if not targets:
            print("No per-file branches to verify (commit some files first).")
            return 0
        meter = meter_for(ws, targets) if args.coverage else None
        runner = Runner(ws.root, args.test_cmd, timeout=args.timeout, log_dir=state.path.parent / "logs",
                        meter=meter)

        def record(outcome: Outcome) -> None:
            t, v = outcome.target, outcome.verification
            if t.is_file:
                state.set_file(t.key, verification=v)
            else:
                state.set_check(t.key, v)
            print(f"{v.status:<7} {printable(t.label)} ({v.seconds:.1f}s)", file=sys.stderr, flush=True)

        print(f"verifying {len(targets)} commit{'s' if len(targets) != 1 else ''}, {args.jobs} at a time",
              file=sys.stderr, flush=True)
        outcomes = run_all(runner, targets, jobs=args.jobs, on_result=record)
        base = state.checks.get(BASE)
        base_fails = base is not None and base.sha == state.base and base.command == args.test_cmd \
            and base.status == "failed"
        rows = []
        results: list[dict[str, Any]] = []
        for o in sorted(outcomes, key=lambda o: (o.target.is_file, o.target.key)):
            v = o.verification
            result = v.status
            if o.target.is_file and v.status == "failed" and base_fails:
                result += " (fails at base too)"
            log = printable(os.path.relpath(v.log, ws.root)) if v.log else "-"
            name = printable(o.target.key if o.target.is_file else o.target.label)
            rows.append((name, v.sha[:12], result, f"{v.seconds:.1f}", log))
            results.append(_result_json(o, result, log))
    if args.json:
        sys.stdout.write(json.dumps({"results": results}) + "\n")
    else:
        sys.stdout.write(render(rows))
        if args.coverage:
            sys.stdout.write(render_coverage(outcomes))
    errors = sum(1 for o in outcomes if o.verification.status == "error")
    if errors:
        print(f"{errors} run{'s' if errors != 1 else ''} ended in error, not in failing tests: the test "
              "command could not run (e.g. a conftest that does not import, or no tests collected). "
              "Check the environment by running the command at the base, or use --baseline.", file=sys.stderr)
    if args.coverage:
        unmeasured = [(o.target.key, o.verification.status, o.verification.coverage.error) for o in outcomes
                      if o.verification.coverage is not None and o.verification.coverage.error]
        for key, _, why in unmeasured:
            print(f"{printable(key)}: no coverage recorded: {why}", file=sys.stderr)
        # a run that ended (passed or failed) without coverage data: the command or its Python cannot
        # be measured, which no rerun mends (a timeout or an error is reported by its status, as always)
        if any(status in ("passed", "failed") for _, status, _ in unmeasured):
            return 2
    return 0 if all(o.verification.status == "passed" for o in outcomes) else 1


def _result_json(o: Any, result: str, log: str) -> dict[str, Any]:
    from dataclasses import asdict

    v = o.verification
    return {"target": o.target.key, "label": o.target.label,
            "file": o.target.is_file, "sha": v.sha, "status": v.status, "result": result,
            "seconds": v.seconds, "log": log, "command": v.command,
            "coverage": None if v.coverage is None else asdict(v.coverage)}


def render_coverage(outcomes: list[Any]) -> str:
    """Per branch a summary line, then one line per rewritten block: who executed it."""
    from migrator_tui.checks.coverage import block_lines, summary

    lines = []
    for o in sorted(outcomes, key=lambda o: o.target.key):
        run = o.verification.coverage
        if run is None:
            continue
        lines.append(f"{printable(o.target.key)}: {summary(run)}")
        lines += [f"  {printable(line)}" for line in block_lines(run)]
    return ("\ncoverage of the rewritten blocks:\n" + "\n".join(lines) + "\n") if lines else ""


def render(rows: list[tuple[str, str, str, str, str]]) -> str:
    head = ("FILE", "TIP", "RESULT", "SECONDS", "LOG")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    lines = []
    for r in [head, *rows]:
        lines.append("  ".join(
            [r[0].ljust(widths[0]), r[1].ljust(widths[1]), r[2].ljust(widths[2]), r[3].rjust(widths[3]), r[4]]
        ))
    return "\n".join(lines) + "\n"
