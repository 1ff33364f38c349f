"""Deciding once for a cluster: whom it covers, the sample, its outcome, one undo for all of it
(branches re-committed or removed), and the state's group field (validated, optional on load)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from gitfixtures import branches, git, make_repo

from migrator_tui.errors import StateError
from migrator_tui.recipe import load_recipe
from migrator_tui.review import cluster_decision as cd
from migrator_tui.review.state import HISTORY_LIMIT, DecisionRecord, GroupDecision, ReviewState
from migrator_tui.review.workspace import Workspace
from migrator_tui.rewrite.batch import cluster_members
from migrator_tui.rewrite.clusters import Cluster, clusters
from migrator_tui.scan import scan
from tests.test_review_state import _occ, _state

RECIPE = load_recipe()
A, B = "admin/services/a_service.py", "admin/services/b_service.py"
COUNT = '''

def count_{name}():
    session = db_manager.get_session()
    try:
        return session.query({model}).count()
    finally:
        session.close()
'''


def _cluster(n: int, confidence: str = "review") -> Cluster:
    return Cluster("c0123456789", "unified", confidence, ("implicit-commit",), ("try-finally",), "",
                   tuple(f"m.py::f{i}::0" for i in range(n)))


def _record(occ_id: str, decision: str = "accepted", **kw: object) -> DecisionRecord:
    return DecisionRecord(occ_id, "m.py", decision, fingerprint="fp", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("n", "k"), [(0, 0), (1, 1), (2, 2), (3, 3), (29, 3), (30, 3), (31, 4), (688, 69)])
def test_sample_is_three_or_a_tenth_never_more_than_the_cluster(n: int, k: int) -> None:
    assert cd.sample_size(n) == k


def test_members_decided_individually_are_left_as_they_are() -> None:
    c = _cluster(6)
    m = c.members
    records = {m[0]: _record(m[0]), m[1]: _record(m[1], "rejected"), m[2]: _record(m[2], stale=True),
               m[3]: _record(m[3], "pending", strategy="request_scope"), m[4]: _record(m[4], "pending")}
    sc = cd.scope(c, records)
    # decided, rejected and switched to another strategy: left; stale (code changed) and pending: open
    assert sc.decided == (m[0], m[1], m[3])
    assert sc.open == (m[2], m[4], m[5])


def test_a_review_cluster_is_never_accepted_unsampled_but_a_safe_one_may_be() -> None:
    review, safe = cd.scope(_cluster(5), {}), cd.scope(_cluster(5, "safe"), {})
    with pytest.raises(cd.ClusterDecisionError, match="only with a sample"):
        cd.decide_all(review, "accepted")
    assert {d.decision for d in cd.decide_all(review, "rejected")} == {"rejected"}
    accepted = cd.decide_all(safe, "accepted")
    assert [d.occ_id for d in accepted] == list(safe.open)
    assert all(d.strategy == "unified" and d.warnings == ("implicit-commit",) for d in accepted)


def test_a_confirmed_sample_accepts_the_rest() -> None:
    sc = cd.scope(_cluster(40), {})
    seen = sc.open[0]
    sample = cd.pick_sample(sc, seen, random.Random(1))
    assert len(sample) == 4 and seen not in sample and len(set(sample)) == 4
    out = cd.decide_sampled(sc, seen, sample, [True] * 4)
    assert [d.occ_id for d in out] == list(sc.open) and {d.decision for d in out} == {"accepted"}
    assert {d.occ_id for d in out if d.sampled} == set(sample)
    # cancelled half-way: nothing is decided
    assert cd.decide_sampled(sc, seen, sample, [True, True]) == []


def test_a_rejected_sample_stops_and_leaves_the_rest_undecided() -> None:
    sc = cd.scope(_cluster(10), {})
    sample = cd.pick_sample(sc, sc.open[0], random.Random(2))
    out = cd.decide_sampled(sc, sc.open[0], sample, [True, False])
    assert [(d.occ_id, d.decision, d.sampled) for d in out] == [
        (sample[0], "accepted", True), (sample[1], "rejected", True)]


def test_a_sample_too_small_or_from_elsewhere_is_refused() -> None:
    sc = cd.scope(_cluster(10), {})
    with pytest.raises(cd.ClusterDecisionError):
        cd.decide_sampled(sc, sc.open[0], list(sc.open[1:3]), [True, True])
    with pytest.raises(cd.ClusterDecisionError):
        cd.decide_sampled(sc, sc.open[0], [sc.open[0], *sc.open[1:3]], [True] * 3)  # the seen one


# --- the state: one undo for a group, validated on load, old files still load --------------------


def _group(state: ReviewState, ids: list[str], group: str) -> None:
    with state.batch():
        for i, occ_id in enumerate(ids):
            state.decide(_occ(occ_id, line=5 + i), "accepted", fingerprint="fp", reviewer="r", group=group,
                         sampled=i == 0)


def test_undo_takes_back_a_whole_group_and_only_it(tmp_path: Path) -> None:
    state = _state(tmp_path)
    state.decide(_occ("m.py::a::0"), "rejected", fingerprint="fp", reviewer="r")
    _group(state, ["m.py::b::0", "m.py::c::0", "m.py::a::0"], "c0123456789.ab")
    loaded = ReviewState.load(state.path)
    assert loaded is not None and loaded.history == state.history
    assert loaded.decisions["m.py::b::0"].group == "c0123456789.ab" and loaded.decisions["m.py::b::0"].sampled
    undone = loaded.undo()
    assert [e.id for e in undone] == ["m.py::a::0", "m.py::c::0", "m.py::b::0"]
    assert set(loaded.decisions) == {"m.py::a::0"} and loaded.decisions["m.py::a::0"].decision == "rejected"
    assert len(loaded.undo()) == 1 and loaded.decisions == {}


def test_history_trimming_never_cuts_a_group(tmp_path: Path) -> None:
    state = _state(tmp_path)
    ids = [f"m.py::f{i}::0" for i in range(HISTORY_LIMIT + 5)]
    _group(state, ids, "c0123456789.big")
    assert len(state.history) == len(ids)
    assert len(state.undo()) == len(ids) and state.decisions == {}


def test_a_state_without_groups_loads_and_undoes_one_by_one(tmp_path: Path) -> None:
    state = _state(tmp_path)
    state.decide(_occ("m.py::a::0"), "accepted", fingerprint="fp", reviewer="r")
    state.decide(_occ("m.py::b::0"), "accepted", fingerprint="fp", reviewer="r")
    text = state.path.read_text()
    assert '"group"' not in text and '"sampled"' not in text  # what older versions wrote
    loaded = ReviewState.load(state.path)
    assert loaded is not None and len(loaded.undo()) == 1 and list(loaded.decisions) == ["m.py::a::0"]


@pytest.mark.parametrize("bad", [7, "../x", "a b", "x" * 200, None])
def test_a_bad_group_in_the_state_is_corrupt(tmp_path: Path, bad: object) -> None:
    state = _state(tmp_path)
    _group(state, ["m.py::a::0"], "c0123456789.ab")
    data = json.loads(state.path.read_text())
    data["history"][0]["group"] = bad
    state.path.write_text(json.dumps(data))
    with pytest.raises(StateError, match="corrupt"):
        ReviewState.load(state.path)


def test_a_history_entry_for_another_occurrence_is_corrupt(tmp_path: Path) -> None:
    state = _state(tmp_path)
    _group(state, ["m.py::a::0"], "c0123456789.ab")
    data = json.loads(state.path.read_text())
    data["history"][0]["id"] = "m.py::other::0"
    state.path.write_text(json.dumps(data))
    with pytest.raises(StateError, match="mixes occurrences"):
        ReviewState.load(state.path)


# --- the workspace: a cluster across two committed files, undone in one step ----------------------


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    # `unified` imports its manager from web_app: the repository has one
    files = {"web_app.py": "from flask import Flask\n\napp = Flask(__name__)\n"}
    for path, names in ((A, ("users", "orders", "items")), (B, ("tags", "plans"))):
        files[path] = "from database import db_manager\n" + "".join(
            COUNT.format(name=n, model=n.title()) for n in names)
    return make_repo(tmp_path / "repo", files)


def _open(root: Path) -> Workspace:
    ws = Workspace.open(root, RECIPE)
    ws.load_scan(scan(ws.root, RECIPE))
    return ws


def test_a_cluster_decision_is_undone_at_once_and_its_files_recommitted(repo: Path) -> None:
    with _open(repo) as ws:
        assert ws.scan is not None
        [cluster] = clusters(cluster_members(ws.root, ws.scan.by_path(), RECIPE))
        assert cluster.size == 5
        # a.py is committed with one accepted occurrence (decided alone); b.py with one too
        first_a, first_b = cluster.members[0], cluster.members[3]
        ws.decide(first_a, "accepted", strategy=cluster.strategy)
        ws.decide(first_b, "accepted", strategy=cluster.strategy)
        ws.commit_file(A)
        ws.commit_file(B)
        tips = branches(repo)
        sc = cd.scope(cluster, ws.state.decisions)
        assert first_a in sc.decided and len(sc.open) == 3
        ws.decide_group(cd.new_group_id(cluster), cd.decide_all(sc, "rejected"))
        ws.commit_files([A, B])
        assert {ws.state.decisions[m].decision for m in sc.open} == {"rejected"}
        # one undo: every member of the decision back to undecided, the decided ones untouched
        undone = ws.undo()
        assert undone is not None and {e.id for e in undone.entries} == set(sc.open)
        assert not set(sc.open) & set(ws.state.decisions)
        assert ws.state.decisions[first_a].decision == "accepted"
        assert {c.path for c in undone.commits} == {A, B} and not undone.removed
        # the re-commits hold the same change as before the cluster decision
        after = branches(repo)
        for path in (A, B):
            branch = ws.flow.branch_for(path)
            assert git(repo, "diff", tips[branch], after[branch]) == ""
        # undoing B's own accept removes its branch (nothing accepted is left there)
        undone = ws.undo()
        assert undone is not None and undone.removed == {B: after[ws.flow.branch_for(B)]}
        assert ws.flow.branch_for(B) not in branches(repo)


def test_decide_group_checks_every_member_first(repo: Path) -> None:
    with _open(repo) as ws:
        ids = sorted(ws.occurrences)
        with pytest.raises(StateError):
            ws.decide_group("c0123456789.x", [GroupDecision(ids[0], "accepted"),
                                              GroupDecision("gone.py::f::0", "accepted")])
        assert ws.state.decisions == {} and ws.state.history == []
