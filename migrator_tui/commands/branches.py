"""`migrator-tui branches [PATH] [--json] [--recipe NAME|FILE]`: the per-file branches and their state.

One line per file that has a decision or a branch: branch, tip, accepted/rejected/pending, whether
its change is integrated (in the integration branch or the current HEAD), and whether it is stale
(base moved, file changed since the base, or decisions whose code changed).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--recipe", metavar="NAME|FILE", default=None,
                        help="a built-in recipe name or a TOML file (default: db-session)")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "branches", help="list the per-file branches and their state",
        description="List every migrated file: its branch, tip, decisions, integrated or not, stale or not.",
    )
    parser.add_argument("path", nargs="?", default=".", metavar="PATH", help="the repository (default: .)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_common(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from migrator_tui.checks.verify import badge
    from migrator_tui.recipe import load_recipe
    from migrator_tui.review.workspace import open_readonly

    recipe = load_recipe(args.recipe)
    ws = open_readonly(args.path, recipe)
    try:
        ws.scan_base()  # files with uncommitted edits as the base holds them, as their branches do
        rows = ws.rows()
        head = ws.repo.head.commit.hexsha
        integration = ws.flow.integration_branch
        all_tip = ws.flow.tips_of([integration]).get(integration)
        data: dict[str, Any] = {
            "recipe": recipe.name, "base": ws.state.base, "head": head,
            "integration": {"branch": integration, "tip": all_tip},
            "files": [
                {"path": r.path, "branch": r.branch, "tip": r.tip, "accepted": r.accepted,
                 "rejected": r.rejected, "pending": r.pending, "stale_decisions": r.stale_decisions,
                 "integrated": r.integrated, "stale": bool(r.stale), "stale_reasons": list(r.stale),
                 "ours": r.ours, "rolled_back": r.rolled_back, "uncommitted_decisions": r.uncommitted,
                 **_verification(ws.state.files.get(r.path), r.tip, badge)}
                for r in rows
            ],
        }
    finally:
        ws.close()
    if args.json:
        import json

        sys.stdout.write(json.dumps(data) + "\n")
        return 0
    sys.stdout.write(render(data))
    return 0


def _verification(record: Any, tip: str | None, badge: Any) -> dict[str, Any]:
    """`verified`: the `verify` result at this tip ("passed", "failed", "timeout", "error"),
    "outdated" when it ran on another tip, None when never verified; and the record itself."""
    from dataclasses import asdict

    v = record.verification if record is not None else None
    return {"verified": badge(v, tip),
            "verification": None if v is None else {
                "status": v.status, "sha": v.sha, "command": v.command, "time": v.time,
                "seconds": v.seconds, "log": v.log,
                "coverage": None if v.coverage is None else asdict(v.coverage)}}


def render(data: dict[str, Any]) -> str:
    files = data["files"]
    out = [f"base {data['base'][:12]}" + ("" if data["head"] == data["base"] else
                                            f" (HEAD moved to {data['head'][:12]})")]
    tip = data["integration"]["tip"]
    out.append(f"integration {data['integration']['branch']}: {tip[:12] if tip else 'not created'}")
    if not files:
        out.append("no decisions and no branches yet")
        return "\n".join(out) + "\n"
    width = max(len(f["branch"]) for f in files)
    out.append("")
    out.append(f"{'BRANCH':<{width}}  {'TIP':<12}  {'ACC':>3} {'REJ':>3} {'PEN':>3}  {'VERIFIED':<8}  STATE")
    for f in files:
        state = []
        if f["tip"] is None:
            state.append("no branch")
        elif f["integrated"]:
            state.append("integrated")
        else:
            state.append("committed")
        if f.get("uncommitted_decisions"):
            state.append("uncommitted decisions")
        if f.get("rolled_back"):
            state.append(f"{f['rolled_back']} rolled back")
        if not f["ours"]:
            state.append("not ours")
        if f["stale"]:
            state.append("stale: " + ", ".join(f["stale_reasons"]))
        out.append(
            f"{f['branch']:<{width}}  {(f['tip'] or '-')[:12]:<12}  {f['accepted']:>3} {f['rejected']:>3} "
            f"{f['pending']:>3}  {f.get('verified') or '-':<8}  {'; '.join(state)}"
        )
    return "\n".join(out) + "\n"
