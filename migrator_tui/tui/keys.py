"""The review keys: one list, used by the main screen's bindings, the footer and the help screen."""

from __future__ import annotations

from textual.binding import Binding

#: (section, binding) in help order; `show=False` keeps the footer short at 80 columns.
REVIEW_KEYS: list[tuple[str, Binding]] = [
    ("Decide", Binding("a", "accept", "Accept", id="review.accept", tooltip="Accept this proposal")),
    ("Decide", Binding("r", "reject", "Reject", id="review.reject",
                       tooltip="Reject: leave the code as it is")),
    ("Decide", Binding("u", "undo", "Undo", id="review.undo",
                       tooltip="Undo the last decision (all of a cluster decision at once)")),
    ("Decide", Binding("t", "cycle_strategy", "Strategy", id="review.strategy", show=False,
                       tooltip="Switch to the next target strategy (in a fixed order)")),
    ("Decide", Binding("T", "pick_strategy", "Pick strategy", id="review.pick_strategy", show=False,
                       tooltip="Pick a strategy from a list with each one's description")),
    ("Decide", Binding("e", "edit", "Edit", id="review.edit",
                       tooltip="Edit the proposed code (validated on save)")),
    ("Decide", Binding("m", "note", "Note", id="review.note", show=False, tooltip="Attach a note")),
    ("Decide", Binding("A", "accept_all_safe", "Accept safe", id="review.accept_safe", show=False,
                       tooltip="Accept every safe proposal in the current file or phase")),
    ("Clusters", Binding("g", "toggle_clusters", "Clusters", id="review.clusters", show=False,
                         tooltip="Group the list by cluster of alike proposals (largest first) / by phase")),
    ("Clusters", Binding("D", "decide_cluster", "Decide cluster", id="review.decide_cluster", show=False,
                         tooltip="Decide for the whole cluster: accept all (safe), accept with a sample, "
                                 "or reject all")),
    ("Move", Binding("n", "next_pending", "Next", id="review.next", tooltip="Next pending occurrence")),
    ("Move", Binding("p", "previous_pending", "Prev", id="review.previous", show=False,
                     tooltip="Previous pending occurrence")),
    ("Move", Binding("slash", "filter", "Filter", id="review.filter", key_display="/", show=False,
                     tooltip="Filter by path, function, shape, warning, decision, confidence")),
    ("Move", Binding("R", "rescan", "Rescan", id="review.rescan", show=False,
                     tooltip="Scan the repository again, keeping the decisions whose code is unchanged")),
    ("Diff", Binding("plus,equals_sign", "widen", "More context", id="review.widen", show=False,
                     key_display="+",
                     tooltip="Widen the diff: changes, 3 lines, the function, then ±10 lines")),
    ("Diff", Binding("minus", "narrow", "Less context", id="review.narrow", show=False, key_display="-",
                     tooltip="Narrow the diff")),
    ("Diff", Binding("f", "whole_file", "Whole file", id="review.whole_file", show=False,
                     tooltip="Show the whole file / back to the function")),
    ("Diff", Binding("s", "side_by_side", "Side by side", id="review.split", show=False,
                     tooltip="Toggle unified / side by side")),
    ("Git", Binding("c", "commit_file", "Commit", id="review.commit",
                    tooltip="Commit this file's accepted proposals to its branch")),
    ("Git", Binding("b", "branches", "Branches", id="review.branches", tooltip="Per-file branches")),
    ("App", Binding("question_mark", "help", "Help", id="review.help", key_display="?",
                    tooltip="Every key, and what the marks mean")),
    ("App", Binding("q", "quit", "Quit", id="review.quit", tooltip="Quit (decisions are already saved)")),
]

#: Keys of the branches screen, for its bindings and the help screen.
BRANCH_KEYS: list[tuple[str, Binding]] = [
    ("Branches", Binding("enter,d", "view_diff", "Diff", id="branches.diff", key_display="⏎/d",
                         tooltip="Scroll the selected branch's diff (it follows the cursor)")),
    ("Branches", Binding("x", "rollback", "Roll back", id="branches.rollback",
                         tooltip="Delete the branch (or revert it if integrated)")),
    ("Branches", Binding("i", "integrate", "Integrate", id="branches.integrate",
                         tooltip="Merge every per-file branch into one branch")),
    ("Branches", Binding("escape,b", "close", "Back", id="branches.close")),
]
