"""Deciding once for a cluster of alike proposals: who the decision covers, the sample, the outcome.

A cluster decision covers the cluster's *open* members: those nobody decided individually (no
decision, a pending one under the cluster's strategy without an edit, or a stale one, whose code
changed since). Members decided one by one, switched to another strategy, edited or rolled back
are left as they are.

Three decisions: reject all; accept all (a `safe` cluster only: no `review` proposal is accepted
unseen); accept with a sample: `sample_size` members picked at random among the open ones other
than the one the reviewer read are confirmed one by one, then the rest are accepted. A rejected
sample member stops it: the members confirmed before it are accepted, it is rejected, the rest
stay undecided. Pure values: the workspace records the `GroupDecision`s as one group.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from migrator_tui.errors import MigratorError
from migrator_tui.review.state import DecisionRecord, GroupDecision
from migrator_tui.rewrite.clusters import Cluster, sample_size

__all__ = ["ClusterDecisionError", "ClusterScope", "candidates", "decide_all", "decide_sampled", "is_open",
           "new_group_id", "pick_sample", "sample_size", "scope"]


class ClusterDecisionError(MigratorError):
    def __init__(self, message: str) -> None:
        super().__init__(message, title="Cluster decision")


def new_group_id(cluster: Cluster) -> str:
    """A fresh id for one decision on `cluster` (the same cluster may be decided again after an undo)."""
    return f"{cluster.id}.{secrets.token_hex(4)}"


@dataclass(frozen=True, slots=True)
class ClusterScope:
    """Whom a decision on a cluster covers."""

    cluster: Cluster
    #: Members the decision covers, in the cluster's order.
    open: tuple[str, ...]
    #: Members decided individually (left as they are).
    decided: tuple[str, ...]


def is_open(record: DecisionRecord | None, strategy: str) -> bool:
    """True when nobody decided this member individually (see the module's docstring)."""
    if record is None or record.stale:
        return True
    if record.decision != "pending" or record.rolled_back or record.edited is not None:
        return False
    return record.strategy in (None, strategy)


def scope(cluster: Cluster, records: Mapping[str, DecisionRecord]) -> ClusterScope:
    open_ = tuple(m for m in cluster.members if is_open(records.get(m), cluster.strategy))
    decided = tuple(m for m in cluster.members if m not in set(open_))
    return ClusterScope(cluster, open_, decided)


def candidates(sc: ClusterScope, seen: str | None) -> list[str]:
    """The open members a sample is drawn from: all but the one the reviewer read."""
    return [m for m in sc.open if m != seen]


def pick_sample(sc: ClusterScope, seen: str | None, rng: random.Random | None = None) -> list[str]:
    """`sample_size` members at random among the candidates, in the cluster's order."""
    pool = candidates(sc, seen)
    picked = set((rng or random.SystemRandom()).sample(pool, sample_size(len(pool))))
    return [m for m in pool if m in picked]


def _decision(sc: ClusterScope, occ_id: str, decision: str, sampled: bool = False) -> GroupDecision:
    c = sc.cluster
    warnings = c.codes if decision == "accepted" else ()
    return GroupDecision(occ_id, decision, strategy=c.strategy, warnings=warnings, sampled=sampled)


def decide_all(sc: ClusterScope, decision: str) -> list[GroupDecision]:
    """Every open member accepted or rejected. Accepting a `review` cluster unsampled is refused."""
    if decision not in ("accepted", "rejected"):
        raise ValueError(f"unknown cluster decision {decision!r}")
    if decision == "accepted" and sc.cluster.confidence != "safe":
        raise ClusterDecisionError(f"A {sc.cluster.confidence} cluster is accepted only with a sample: "
                                   "no review proposal is accepted unseen.")
    return [_decision(sc, m, decision) for m in sc.open]


def decide_sampled(sc: ClusterScope, seen: str | None, sample: Sequence[str],
                   answers: Sequence[bool]) -> list[GroupDecision]:
    """The outcome of a sample: `answers[i]` is the reviewer's accept (True) or reject (False) of
    `sample[i]`, in order. All confirmed: every open member accepted. A reject stops it there: the
    members confirmed before it accepted, it rejected, the rest undecided. Answers that stop short
    of the sample without a reject (cancelled) decide nothing."""
    pool = set(candidates(sc, seen))
    if len(sample) < sample_size(len(pool)) or not set(sample) <= pool or len(set(sample)) != len(sample):
        raise ClusterDecisionError("The sample is not one of this cluster's: pick it again.")
    out = []
    for occ_id, accepted in zip(sample, answers, strict=False):
        out.append(_decision(sc, occ_id, "accepted" if accepted else "rejected", sampled=True))
        if not accepted:
            return out
    if len(answers) < len(sample):
        return []
    confirmed = set(sample)
    return [_decision(sc, m, "accepted", sampled=m in confirmed) for m in sc.open]
