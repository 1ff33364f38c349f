"""Real-code check: the verdicts on public codebases against a truth labelled by hand.

Not a test. For each corpus of `../shared/corpus` named in `benchmarks/truth/labels.tsv` and each
recipe labelled there, on a fresh git copy of the corpus:

1. `migrator-tui scan --json` gives every occurrence's default strategy, confidence and warnings;
2. `migrator-tui apply --in-place --min-confidence review` rewrites every proposal; every file
   must still compile, and a second `apply --in-place` must change nothing (idempotence);
3. the verdicts are compared with the truth: per warning code true hits, false alarms and misses;
   review-level precision (a `review` verdict names a real hazard), hazard recall (a hazardous
   site is `review` or `manual`), hazardous sites rated `safe`, harmless sites rated `safe`, and
   `manual` verdicts where a correct rewrite exists.

The truth file has one row per site and recipe: the acquire line, the expected confidence, the
true hazard codes and one line of why. Informational codes (`unguarded-acquire`,
`long-io-in-block`) are not hazards and are left out of the comparison.

    .venv/bin/python benchmarks/bench_corpus.py [--bin PATH/TO/migrator-tui] [--json OUT] [--corpus NAME ...]

Prints "skipped" and exits 0 when the corpus is not there.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).parent
CORPUS = HERE.parent.parent / "shared" / "corpus"
TRUTH = HERE / "truth" / "labels.tsv"
RECIPES = {"db-session": "db-session", "sqlalchemy-with": str(HERE / "truth" / "sqlalchemy_with_any.toml"),
           "sqlalchemy-sessionmaker": "sqlalchemy-sessionmaker", "dbapi-connection": "dbapi-connection",
           "sqlalchemy-session-calls": str(HERE / "truth" / "sqlalchemy_session_calls.toml")}
DBAPI_MODULES = {"sqlite3", "psycopg2", "psycopg", "pymysql", "MySQLdb", "pyodbc", "duckdb", "oracledb"}
INFORMATIONAL = {"unguarded-acquire", "long-io-in-block"}


def load_truth(path: Path = TRUTH) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def git_copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    env = ["-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)
    subprocess.run(["git", "add", "-A"], cwd=target, check=True)
    subprocess.run(["git", *env, "commit", "-qm", "corpus"], cwd=target, check=True)
    return target


def verdicts(binary: str, repo: Path, recipe: str) -> dict[tuple[str, int], tuple[str, set[str]]]:
    out = subprocess.run([binary, "scan", str(repo), "--json", "--recipe", recipe],
                         capture_output=True, text=True, check=True)
    doc = json.loads(out.stdout)
    found = {}
    for phase in doc["phases"]:
        for f in phase["files"]:
            for o in f["occurrences"]:
                codes = {w["code"] for w in o.get("warnings", [])} - INFORMATIONAL
                found[(f["path"], o["line"])] = (o.get("confidence") or "?", codes)
    return found


def independent_count(repo: Path, recipe: str) -> set[tuple[str, int]] | None:
    """The hand-closed sites of the new recipes, counted apart from the tool with the stdlib `ast`:
    `name = <acquire>(...)` in a scope that also calls `name.close()`. The acquire is, for
    sqlalchemy-sessionmaker, a callee named `*SessionLocal`, `Session` imported from
    sqlalchemy.orm, or a name bound to `sessionmaker(...)`/`scoped_session(...)` in the file; for
    dbapi-connection, `<module>.connect(...)` of an imported DB-API module."""
    import ast

    if recipe not in ("sqlalchemy-sessionmaker", "dbapi-connection"):
        return None
    out: set[tuple[str, int]] = set()
    for py in sorted(repo.rglob("*.py")):
        if ".git" in py.parts:
            continue
        try:
            tree = ast.parse(py.read_bytes())
        except (SyntaxError, ValueError):
            continue
        modules, sessions, factories = set(), set(), set()
        for n in ast.walk(tree):
            if isinstance(n, ast.Import):
                modules |= {a.asname or a.name for a in n.names if a.name in DBAPI_MODULES}
            elif isinstance(n, ast.ImportFrom) and n.module in ("sqlalchemy.orm", "sqlalchemy.orm.session"):
                sessions |= {a.asname or a.name for a in n.names if a.name == "Session"}
            elif isinstance(n, ast.Assign) and isinstance(n.value, ast.Call):
                f = n.value.func
                if (f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")) in (
                        "sessionmaker", "scoped_session"):
                    factories |= {t.attr if isinstance(t, ast.Attribute) else t.id for t in n.targets
                                  if isinstance(t, (ast.Name, ast.Attribute))}

        def acquire(call: ast.AST, modules: set[str] = modules, sessions: set[str] = sessions,
                    factories: set[str] = factories) -> bool:
            if not isinstance(call, ast.Call):
                return False
            f = call.func
            last = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if recipe == "dbapi-connection":
                return (last == "connect" and isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
                        and f.value.id in modules)
            if last.startswith("Async"):  # an AsyncSession needs `async with`: another recipe
                return False
            return last.endswith("SessionLocal") or last in factories or (
                isinstance(f, ast.Name) and f.id in sessions)

        functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        module_level = [n for st in tree.body if not isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                      ast.ClassDef)) for n in ast.walk(st)]
        def local(scope: ast.AST) -> list[ast.AST]:  # the scope's own nodes, not nested scopes
            out, todo = [], list(ast.iter_child_nodes(scope))
            while todo:
                node = todo.pop()
                out.append(node)
                if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                    todo.extend(ast.iter_child_nodes(node))
            return out

        for own in [local(f) for f in functions] + [module_level]:
            closed = {n.func.value.id for n in own if isinstance(n, ast.Call)
                      and isinstance(n.func, ast.Attribute) and n.func.attr == "close"
                      and isinstance(n.func.value, ast.Name)}
            for n in own:
                if isinstance(n, ast.Assign) and len(n.targets) == 1:
                    target = n.targets[0]
                elif isinstance(n, ast.AnnAssign):
                    target = n.target
                else:
                    continue
                if acquire(n.value) and isinstance(target, ast.Name) and target.id in closed:
                    out.add((str(py.relative_to(repo)), n.lineno))
    return out


def rewrite_check(binary: str, repo: Path, recipe: str) -> dict[str, object]:
    """Apply every proposal in place; all files compile; applying again changes nothing."""
    args = [binary, "apply", str(repo), "--in-place", "--min-confidence", "review", "--recipe", recipe]
    if "--all" in subprocess.run([binary, "apply", "--help"], capture_output=True, text=True).stdout:
        args.append("--all")
    first = subprocess.run(args, capture_output=True, text=True)
    broken = []
    for py in sorted(repo.rglob("*.py")):
        if ".git" in py.parts:
            continue
        try:
            compile(py.read_bytes(), str(py), "exec", dont_inherit=True)
        except SyntaxError as exc:
            broken.append(f"{py.relative_to(repo)}:{exc.lineno}")
    snapshot = {p: p.read_bytes() for p in repo.rglob("*.py") if ".git" not in p.parts}
    subprocess.run(args, capture_output=True, text=True)
    changed = [str(p.relative_to(repo)) for p, data in snapshot.items() if p.read_bytes() != data]
    return {"exit": first.returncode, "broken": broken, "not_idempotent": changed}


def compare(rows: list[dict[str, str]], found: dict[tuple[str, int], tuple[str, set[str]]]
            ) -> dict[str, object]:
    per_code: dict[str, Counter[str]] = defaultdict(Counter)
    disagreements = []
    review_total = review_true = 0
    hazards = hazards_flagged = harmless = harmless_safe = 0
    hazardous_safe, wrong_manual, unmatched = [], [], []
    for row in rows:
        key = (row["path"], int(row["line"]))
        if key not in found:
            unmatched.append(f"{row['path']}:{row['line']}")
            continue
        confidence, codes = found[key]
        truth = {c for c in row["codes"].split(",") if c} - INFORMATIONAL
        expected = row["expected"]
        for c in truth & codes:
            per_code[c]["hit"] += 1
        for c in codes - truth:
            per_code[c]["false alarm"] += 1
        for c in truth - codes:
            per_code[c]["miss"] += 1
        if confidence == "review":
            review_total += 1
            review_true += expected != "safe"
        if expected == "safe":
            harmless += 1
            harmless_safe += confidence == "safe"
        else:
            hazards += 1
            hazards_flagged += confidence in ("review", "manual")
            if confidence == "safe":
                hazardous_safe.append(f"{row['path']}:{row['line']}")
        if confidence == "manual" and expected != "manual":
            wrong_manual.append(f"{row['path']}:{row['line']}")
        if confidence != expected or truth != codes:
            disagreements.append(f"{row['path']}:{row['line']} {row['function']}: tool {confidence} "
                                 f"{sorted(codes)} / truth {expected} {sorted(truth)}")

    def ratio(a: int, b: int) -> str:
        return f"{a}/{b} ({100 * a / b:.0f}%)" if b else "n/a"

    return {
        "sites": len(rows) - len(unmatched), "unmatched": unmatched,
        "review precision": ratio(review_true, review_total),
        "hazard recall": ratio(hazards_flagged, hazards),
        "hazardous rated safe": hazardous_safe,
        "harmless rated safe": ratio(harmless_safe, harmless),
        "manual with a correct rewrite": wrong_manual,
        "per code": {c: dict(v) for c, v in sorted(per_code.items())},
        "disagreements": disagreements,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default=str(Path(sys.executable).parent / "migrator-tui"))
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--corpus", action="append", default=[],
                        help="only this corpus of labels.tsv (repeatable; default: every one)")
    args = parser.parse_args(argv)
    if not CORPUS.is_dir():
        print(f"skipped: {CORPUS} is not there")
        return 0
    truth = load_truth()
    groups: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for row in truth:
        if not args.corpus or row["corpus"] in args.corpus:
            groups[(row["corpus"], row["recipe"])].append(row)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for (corpus, recipe), rows in sorted(groups.items()):
            if not (CORPUS / corpus).is_dir():
                print(f"{corpus}: skipped (not in {CORPUS})")
                continue
            repo = git_copy(CORPUS / corpus, Path(tmp) / f"{corpus}-{recipe}")
            found = verdicts(args.bin, repo, RECIPES[recipe])
            result = compare(rows, found)
            result["found"] = len(found)
            counted = independent_count(repo, recipe)
            if counted is not None:
                result["independent count"] = len(counted)
                result["counted, not found"] = sorted(f"{p}:{n}" for p, n in counted - set(found))
            result["confidences"] = dict(Counter(c for c, _ in found.values()))
            result["rewrite"] = rewrite_check(args.bin, repo, RECIPES[recipe])
            results[f"{corpus} / {recipe}"] = result
    for name, r in results.items():
        print(f"## {name}: {r['sites']} labelled sites, {r['found']} found, {r['confidences']}")
        if "independent count" in r:
            print(f"  independent count (stdlib ast): {r['independent count']}, of which not found: "
                  f"{len(r['counted, not found'])} {r['counted, not found'][:10]}")
        for key in ("review precision", "hazard recall", "harmless rated safe"):
            print(f"  {key}: {r[key]}")
        print(f"  hazardous rated safe: {len(r['hazardous rated safe'])} {r['hazardous rated safe']}")
        print(f"  manual with a correct rewrite: {len(r['manual with a correct rewrite'])}")
        print(f"  rewrite: {r['rewrite']}")
        for code, counts in r["per code"].items():
            print(f"    {code}: {counts}")
        for d in r["disagreements"]:
            print(f"    ≠ {d}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
