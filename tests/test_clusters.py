"""Clusters of alike proposals: who is in one, who never is, and `scan --clusters`."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from gitfixtures import make_repo

from migrator_tui import cli
from migrator_tui.rewrite.clusters import Member, clusters, normalised_diff, review_effort

BEFORE = "    {v} = {f}()\n    try:\n        return {v}.query({m}).all()\n    finally:\n        {v}.close()\n"
AFTER = "    with {f}() as {v}:\n        return {v}.query({m}).all()\n"


def member(i: int, *, v: str = "db", f: str = "SessionLocal", m: str = "User", confidence: str = "safe",
           codes: tuple[str, ...] = (), shapes: tuple[str, ...] = ("try-finally",),
           strategy: str = "session_with", before: str = BEFORE, after: str = AFTER) -> Member:
    return Member(f"m.py::f{i}::0", "m.py", 10 * i, strategy, confidence, codes, shapes,
                  before.format(v=v, f=f, m=m), after.format(v=v, f=f, m=m))


def test_names_strings_and_numbers_are_abstracted_consistently() -> None:
    a, b = member(1), member(2, v="session", f="Session", m="Order")
    assert normalised_diff(a.before, a.after) == normalised_diff(b.before, b.after)
    # the body only moved into the `with`: it is not part of the diff
    assert "query" not in normalised_diff(a.before, a.after)
    # a rewrite of another form is another diff
    other = member(3, after="    with {f}() as {v}, {v}.begin():\n        return {v}.query({m}).all()\n")
    assert normalised_diff(other.before, other.after) != normalised_diff(a.before, a.after)
    # names are numbered within the diff, so swapping the roles of two names is another diff
    swapped = Member("x", "m.py", 1, "s", "safe", (), (), "    a = b()\n", "    b = a()\n")
    same = Member("y", "m.py", 2, "s", "safe", (), (), "    a = b()\n", "    a = b()\n")
    assert normalised_diff(swapped.before, swapped.after) != normalised_diff(same.before, same.after)


def test_alike_proposals_form_one_cluster_largest_first() -> None:
    found = clusters([member(1), member(2, v="s"), member(3, f="Session"),
                      member(4, strategy="begin"), member(5, strategy="begin")])
    assert [c.size for c in found] == [3, 2]
    assert found[0].representative == "m.py::f1::0" and found[0].strategy == "session_with"
    assert {m for c in found for m in c.members} == {f"m.py::f{i}::0" for i in range(1, 6)}


def test_a_review_member_with_a_warning_the_representative_lacks_is_never_in_its_cluster() -> None:
    base = member(1, confidence="review", codes=("no-release",))
    more = member(2, confidence="review", codes=("no-release", "finally-reordered"))
    same = member(3, confidence="review", codes=("no-release",))
    found = clusters([base, more, same])
    by_member = {m: c for c in found for m in c.members}
    assert by_member[base.id] is by_member[same.id]
    assert by_member[more.id] is not by_member[base.id]
    assert by_member[more.id].codes == ("finally-reordered", "no-release")


def test_other_shapes_or_confidence_split_and_manual_is_never_clustered() -> None:
    found = clusters([member(1), member(2, shapes=("try-finally", "early-return")),
                      member(3, confidence="review", codes=("no-release",)),
                      member(4, confidence="manual")])
    assert sorted(c.size for c in found) == [1, 1, 1]
    assert "m.py::f4::0" not in {m for c in found for m in c.members}
    effort = review_effort(found, manual=1, safe_scopes=1)
    # accepting the safe ones at once: 1 (their phase) + 1 review cluster + 1 manual
    assert effort == {"clusters": 3, "decisions": 4, "decisions_accepting_safe": 3, "confirmations": 0,
                      "largest": 1}


def test_review_effort_counts_a_sample_for_review_clusters() -> None:
    found = clusters([member(i, confidence="review", codes=("no-release",)) for i in range(10)]
                     + [member(20 + i) for i in range(5)])
    assert review_effort(found, manual=0, safe_scopes=1) == {
        "clusters": 2, "decisions": 2, "decisions_accepting_safe": 2, "confirmations": 3, "largest": 10}
    # a large review cluster: a tenth of the members besides the representative, when that is more
    big = clusters([member(i, confidence="review", codes=("no-release",)) for i in range(61)])
    assert review_effort(big, manual=0)["confirmations"] == 6


SERVICE = '''\
from flask import Flask
from web_app import unified_session_manager


def one(db_manager):
    session = db_manager.get_session()
    try:
        return session.query(A).all()
    finally:
        session.close()


def two(db_manager):
    s = db_manager.get_session()
    try:
        return s.query(B).filter_by(x=1).all()
    finally:
        s.close()


def three(db_manager):
    session = db_manager.get_session()
    try:
        session.add(C())
    finally:
        session.close()
'''


def test_scan_clusters_json_validates_and_covers_every_rewritable_occurrence(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_repo(tmp_path / "repo", {"jobs.py": SERVICE})
    assert cli.main(["scan", str(root), "--json", "--clusters"]) == 0
    doc = json.loads(capsys.readouterr().out)
    schema = json.loads((Path(cli.__file__).parent / "schemas" / "scan.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(doc)
    occs = {o["id"]: o for ph in doc["phases"] for f in ph["files"] for o in f["occurrences"]}
    members = [m for c in doc["clusters"] for m in c["members"]]
    assert sorted(members) == sorted(i for i, o in occs.items() if o["confidence"] != "manual")
    for c in doc["clusters"]:
        for m in c["members"]:
            assert occs[m]["strategy"] == c["strategy"] and occs[m]["confidence"] == c["confidence"]
            assert sorted({w["code"] for w in occs[m]["warnings"]}) == c["codes"]
    # one and two differ only in names and the query: one cluster; three leaves a change pending
    by_member = {m: c["id"] for c in doc["clusters"] for m in c["members"]}
    assert by_member["jobs.py::one::0"] == by_member["jobs.py::two::0"] != by_member["jobs.py::three::0"]
    assert doc["review_effort"]["decisions"] == len(doc["clusters"])


def test_scan_clusters_in_the_human_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_repo(tmp_path / "repo", {"jobs.py": SERVICE})
    assert cli.main(["scan", str(root), "--clusters"]) == 0
    out = capsys.readouterr().out
    assert "Clusters: 2 groups of alike proposals (largest 2)" in out
    assert "2 × " in out and "e.g. jobs.py::one::0" in out
