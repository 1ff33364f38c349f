"""Review TUI responsiveness on a generated repository with 10,000 occurrences.

    .venv/bin/python benchmarks/bench_tui.py [--files 200] [--per-file 50] [--presses 40]
    .venv/bin/python benchmarks/bench_tui.py --files 1 --per-file 2500   # one 35,000-line file

Builds a git repository of `files` modules with `per-file` hand-closed sessions each, opens the app
headless (Textual's Pilot, 120×36) and measures:
- scan: from launch until the scan worker has loaded the result;
- first diff: from the end of the scan until the first proposal's diff is on screen (goal ≤ 1.5 s);
- context: `+` (more context) pressed as soon as the first diff is there, until the frame shows
  the wider diff (the workers are still preparing the next proposals meanwhile);
- next: median time from pressing `n` to the frame that shows the next pending diff (goal ≤ 50 ms):
  the key goes in as a terminal delivers it, the diff is in its widget, and the screen's own
  update renders the frame (Textual's refresh timer would run it at most 1/60 s later). Both back
  to back and with a 0.3 s pause between presses (a reviewer reading; the app precomputes the
  next proposals meanwhile). Pilot's `press()` is not used for the timing: it waits until the
  whole app is idle (sleeping 20 ms at a time), background precomputation included, which no
  reviewer waits for.
Results are printed as times and as ratios to the goals (< 1.0 meets the goal).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FUNCTION = '''

def handler_{n}(item_id):
    session = db_manager.get_session()
    try:
        row = session.query(Item).get(item_id)
        row.count = (row.count or 0) + {n}
        session.commit()
        return row.count
    except ValueError:
        session.rollback()
        raise
    finally:
        session.close()
'''


def build_repo(root: Path, files: int, per_file: int) -> int:
    (root / "admin" / "services").mkdir(parents=True)
    for f in range(files):
        body = "from app import db_manager, Item\n" + "".join(FUNCTION.format(n=n) for n in range(per_file))
        where = root / "admin" / "services" / f"service_{f:04d}.py" if f % 2 else root / f"module_{f:04d}.py"
        where.write_text(body, encoding="utf-8")
    env = {"GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com", "HOME": str(root)}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "generated"]):
        subprocess.run(["git", *args], cwd=root, check=True, env=env)
    return files * per_file


async def until(condition, what: str, timeout: float = 300.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(0.001)


def press_n(app, key: str = "n") -> None:  # type: ignore[no-untyped-def]
    """Deliver a key press the way the terminal driver does (Pilot's press() and the app's own key
    helper then wait until the whole app is idle, which no reviewer waits for)."""
    from textual import events

    event = events.Key(key, key if len(key) == 1 else None)
    event.set_sender(app)
    app._driver.send_message(event)


async def measure(root: Path, presses: int, pause: float) -> dict[str, object]:
    from migrator_tui.tui.app import make_app

    app = make_app(root)
    ctl = app.controller
    out: dict[str, object] = {}
    start = time.perf_counter()
    async with app.run_test(size=(120, 36)) as pilot:
        await until(lambda: ctl.result is not None, "the scan")
        scanned = time.perf_counter()
        await until(lambda: app.review_screen.shown_count > 0, "the first diff")
        await pilot.pause()
        first = time.perf_counter()
        out["occurrences"] = len(ctl.occurrences)
        out["scan"] = scanned - start
        out["first"] = first - scanned
        screen = app.review_screen
        # more context at once, while the workers still prepare what comes next
        before, t0 = screen.shown_count, time.perf_counter()
        press_n(app, "plus")
        await until(lambda: screen.shown_count > before, "the wider diff")
        app.screen._on_timer_update()
        out["context"] = time.perf_counter() - t0
        await pilot.pause()
        press_n(app, "minus")
        await pilot.pause()
        timings: list[float] = []
        for _ in range(presses):
            before = screen.shown_count
            target = ctl.next_pending(screen.current)
            t0 = time.perf_counter()
            press_n(app)  # the key, as a terminal delivers it (no wait for idle)
            await until(lambda: screen.shown_count > before  # noqa: B023
                        and screen.current == (target.id if target else None), "the next diff")  # noqa: B023
            # the frame that shows it: what Textual's refresh timer does next (at most 1/60 s later)
            app.screen._on_timer_update()
            timings.append(time.perf_counter() - t0)
            await pilot.pause()  # let the app settle before the next press (not measured)
            # decide it, so `n` keeps moving forward through pending occurrences
            ctl.workspace.decide(screen.current, "rejected")  # type: ignore[arg-type]
            if pause:
                await asyncio.sleep(pause)
        out["next"] = timings
        app.exit()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--per-file", type=int, default=50)
    parser.add_argument("--presses", type=int, default=40)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-tui-") as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        total = build_repo(root, args.files, args.per_file)
        print(f"generated {total} occurrences in {args.files} files")
        for pause in (0.0, 0.3):
            state = root / ".git" / "migrator"
            if state.exists():
                import shutil

                shutil.rmtree(state)
            result = asyncio.run(measure(root, args.presses, pause))
            nxt = result["next"]
            assert isinstance(nxt, list)
            med = statistics.median(nxt)
            label = "back to back" if not pause else f"{pause:.1f} s apart"
            print(f"\n[{label}] occurrences in review: {result['occurrences']}")
            print(f"  scan (in the app's worker):   {result['scan']:.2f} s")
            print(f"  first diff after scan:        {result['first']:.3f} s   ratio to 1.5 s goal: "
                  f"{result['first'] / 1.5:.2f}")  # type: ignore[operator]
            print(f"  + (more context) right after:  {result['context'] * 1000:.1f} ms")  # type: ignore[operator]
            print(f"  n → next diff, median of {len(nxt)}: {med * 1000:.1f} ms   ratio to 50 ms goal: "
                  f"{med / 0.05:.2f}   (p90 {sorted(nxt)[int(len(nxt) * 0.9) - 1] * 1000:.1f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
