"""The cluster view on the demo: `g` groups the list by cluster, `D` decides for a whole cluster
(accept all, accept after a sample, reject all), `u` undoes all of it, branches included."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitfixtures import branches, git

from migrator_tui.demo import build_demo
from migrator_tui.tui.app import MigratorApp, make_app
from migrator_tui.tui.screens.cluster_decide import ClusterDecisionScreen, SampleScreen
from migrator_tui.tui.screenshots import ready, settle, show, wait_until
from tests.test_tui_flow import SIZE, sync


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    build_demo(root)
    return root


async def _cluster_view(pilot, app: MigratorApp) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("g")
    await wait_until(pilot, lambda: app.review_screen.cluster_view)
    await settle(pilot)


def _largest(app: MigratorApp, confidence: str):  # type: ignore[no-untyped-def]
    return next(c for c in app.controller.clusters or () if c.confidence == confidence)


async def _open_dialog(pilot, app: MigratorApp, occ_id: str) -> ClusterDecisionScreen:  # type: ignore[no-untyped-def]
    await show(pilot, occ_id)
    await pilot.press("D")
    await wait_until(pilot, lambda: isinstance(app.screen, ClusterDecisionScreen))
    return app.screen  # type: ignore[return-value]


@sync
async def test_g_shows_clusters_largest_first_and_back(demo: Path) -> None:
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        ctl, screen = app.controller, app.review_screen
        assert ctl.clusters is None, "computed only when asked for"
        await _cluster_view(pilot, app)
        found = ctl.clusters
        assert found is not None and [c.size for c in found] == sorted((c.size for c in found), reverse=True)
        tree = screen.tree
        tops = [n.data for n in tree.root.children]
        assert [r.key for r in tops if r.kind == "cluster"] == [c.id for c in found]
        assert tops[-1].kind == "singles"  # the manual ones, decided one by one
        first = tree.root.children[0]
        assert str(first.label).startswith(f"{found[0].size:>3}× ") and found[0].strategy in str(first.label)
        # members are listed in the cluster's order, each occurrence once in the whole list
        assert [o.id for o in screen.shown_occs][: found[0].size] == list(found[0].members)
        assert sorted(o.id for o in screen.shown_occs) == sorted(o.id for o in ctl.occurrences)
        # Enter opens and closes a cluster, as Space does
        tree.focus()
        tree.move_cursor(first)
        await settle(pilot)
        was = first.is_expanded
        await pilot.press("enter")
        await settle(pilot)
        assert first.is_expanded is not was
        await pilot.press("enter")
        await settle(pilot)
        assert first.is_expanded is was
        await pilot.press("g")
        await settle(pilot)
        assert not screen.cluster_view and tree.root.children[0].data.kind == "phase"


@sync
async def test_accept_all_of_a_safe_cluster_keeps_individual_decisions_and_undoes_at_once(demo: Path) -> None:
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await _cluster_view(pilot, app)
        ctl = app.controller
        cluster = _largest(app, "safe")
        alone = cluster.members[1]
        await show(pilot, alone)
        await pilot.press("r")  # decided individually first
        dialog = await _open_dialog(pilot, app, cluster.members[0])
        assert dialog.safe and dialog.open_count == cluster.size - 1
        assert "1 already decided is left as it is" in dialog.question.plain
        await pilot.press("y")
        await wait_until(pilot, lambda: ctl.decision(cluster.members[0]).status == "accepted")
        state = ctl.workspace.state
        others = [m for m in cluster.members if m != alone]
        assert all(ctl.decision(m).status == "accepted" for m in others)
        assert ctl.decision(alone).status == "rejected"
        groups = {state.decisions[m].group for m in others}
        assert len(groups) == 1 and groups != {""} and state.decisions[alone].group == ""
        await settle(pilot)
        await pilot.press("u")
        await wait_until(pilot, lambda: ctl.decision(cluster.members[0]).status == "pending")
        assert all(ctl.decision(m).status == "pending" for m in others)
        assert ctl.decision(alone).status == "rejected", "one undo: the cluster decision only"
        assert all(m not in state.decisions for m in others)


@sync
async def test_a_review_cluster_is_accepted_only_after_its_sample(demo: Path) -> None:
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await _cluster_view(pilot, app)
        ctl = app.controller
        cluster = _largest(app, "review")
        dialog = await _open_dialog(pilot, app, cluster.representative)
        assert not dialog.safe and not dialog.query("#accept"), "no accept-all for a review cluster"
        await pilot.press("y")  # refused: the dialog stays (its worker waits for it: no settle here)
        await pilot.pause(0.3)
        assert isinstance(app.screen, ClusterDecisionScreen)
        assert all(ctl.decision(m).status == "pending" for m in cluster.members)
        await pilot.press("s")
        screen = app.review_screen
        await wait_until(pilot, lambda: isinstance(app.screen, SampleScreen))
        sample = screen.last_sample
        assert len(sample) == min(3, cluster.size - 1) and cluster.representative not in sample
        for i, occ_id in enumerate(sample):
            await wait_until(pilot, lambda i=i: isinstance(app.screen, SampleScreen)
                             and app.screen.index == i + 1)
            shown = app.screen
            assert shown.occ.id == occ_id and shown.query_one("#sample-diff").hunks, "each is shown"  # type: ignore[attr-defined]
            assert not any(ctl.decision(m).status == "accepted" for m in cluster.members), "not yet"
            await pilot.press("a")
        await wait_until(pilot, lambda: ctl.decision(cluster.representative).status == "accepted")
        state = ctl.workspace.state
        assert all(ctl.decision(m).status == "accepted" for m in cluster.members)
        assert {m for m in cluster.members if state.decisions[m].sampled} == set(sample)
        assert all(set(state.decisions[m].warnings) == set(cluster.codes) for m in cluster.members)


@sync
async def test_a_rejected_sample_stops_the_decision_and_undo_takes_it_back(demo: Path) -> None:
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await _cluster_view(pilot, app)
        ctl = app.controller
        cluster = _largest(app, "review")
        await _open_dialog(pilot, app, cluster.representative)
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SampleScreen))
        first, second = app.review_screen.last_sample[:2]
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, SampleScreen) and app.screen.index == 2)
        await pilot.press("r")
        await wait_until(pilot, lambda: ctl.decision(second).status == "rejected")
        assert ctl.decision(first).status == "accepted"
        rest = [m for m in cluster.members if m not in (first, second)]
        assert rest and all(ctl.decision(m).status == "pending" for m in rest), "the rest stays undecided"
        await settle(pilot)
        await pilot.press("u")
        await wait_until(pilot, lambda: ctl.decision(second).status == "pending")
        assert ctl.decision(first).status == "pending"
        # Esc in a sample cancels: nothing is decided
        await _open_dialog(pilot, app, cluster.representative)
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SampleScreen))
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, SampleScreen) and app.screen.index == 2)
        await pilot.press("escape")
        await settle(pilot)
        assert all(ctl.decision(m).status == "pending" for m in cluster.members)


@sync
async def test_undo_of_a_cluster_decision_recommits_its_files(demo: Path) -> None:
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await _cluster_view(pilot, app)
        ctl = app.controller
        cluster = _largest(app, "safe")
        path = ctl.occurrence(cluster.representative).path
        # one other occurrence of the same file accepted alone, and the file committed
        other = next(o for o in ctl.occurrences if o.path == path and o.id not in cluster.members
                     and not ctl.summary(o).is_manual)
        await show(pilot, other.id)
        await pilot.press("a")
        await wait_until(pilot, lambda: ctl.decision(other.id).status == "accepted")
        await show(pilot, other.id)
        await pilot.press("c")
        await wait_until(pilot, lambda: ctl.committed(path))
        branch = ctl.branch_name(path)
        before = branches(demo)[branch]
        await _open_dialog(pilot, app, cluster.representative)
        await pilot.press("y")
        await wait_until(pilot, lambda: ctl.decision(cluster.representative).status == "accepted")
        await show(pilot, cluster.representative)
        await pilot.press("c")
        await wait_until(pilot, lambda: branches(demo)[branch] != before)
        with_cluster = branches(demo)[branch]
        assert git(demo, "show", f"{with_cluster}:{path}").count("get_session()") < \
            git(demo, "show", f"{before}:{path}").count("get_session()")
        await settle(pilot)
        await pilot.press("u")
        await wait_until(pilot, lambda: branches(demo)[branch] != with_cluster)
        assert all(ctl.decision(m).status == "pending" for m in cluster.members)
        assert ctl.decision(other.id).status == "accepted"
        assert git(demo, "diff", before, branches(demo)[branch]) == "", "the branch is as before the decision"
        assert not ctl.uncommitted(path)


@sync
async def test_at_80x24_the_cluster_list_keeps_its_rows_and_dialogs_name_their_keys(demo: Path) -> None:
    from textual.widgets import Footer

    app = make_app(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await _cluster_view(pilot, app)
        tree = app.review_screen.tree
        assert tree.scrollable_content_region.height >= 3, "no sideways scrollbar eats a row of the list"
        cluster = _largest(app, "safe")
        dialog = await _open_dialog(pilot, app, cluster.members[0])
        assert dialog.query(Footer), "the footer names the dialog's keys, not the review's"
        await pilot.press("escape")
        await pilot.press("m")
        await wait_until(pilot, lambda: app.screen is not app.review_screen)
        assert app.screen.query(Footer)
        assert "Enter saves" in str(app.screen.query_one(".dialog-help").render())
        await pilot.press("escape")
