"""FollowGuide's observation-only bound (issue #19): the T that a hand-written policy which sees
only the observation, and remembers, reaches on the train split, beside the memoryless walk to
the guide.

    python tools/followguide_bound.py [--policies memory,walk-to-guide] [--split train]

`memory` (the bound). At its episode's first observation the policy notes the four beacons'
cells (neither the guide nor the agent starts on one) and, as the guide does, each beacon's
distances around the other beacons. Every step it then:
  * finds the guide (not drawn: it is under the agent) and records the beacons the guide steps
    onto, in order: the guide's order from t=0. It also reads the guide's current leg early: of
    the beacons the guide may be heading to, it keeps those toward which the guide's rule (one
    step down its distance map, ties up, right, down, left) makes the moves it just made, so a
    leg's beacon is often known a few steps after the guide sets out, not when it arrives;
  * keeps its own progress from the lit beacons (a beacon it steps onto counts as lit until a
    visible beacon shows otherwise, which it must when the step was wrong: all go dark); after
    a reset it notes that beacon as wrong at that progress, so it never repeats a mistake;
  * heads for the first beacon of the recorded order that is neither lit nor ruled out, along
    its distances around the other beacons (it never steps onto a wrong one); standing on it
    unlit, it steps off to step back on. While the next beacon is not yet known it moves to
    bring the remaining candidates closest in sum (around every beacon), waiting where it is
    when no move does.
It never reads `state` (the level's hidden state). On train it makes no mistake: what it loses
to the true-oracle is the wait until the guide shows each beacon. On held-out it starts with
the guide's (wrong) order and finds the hidden one by trial and error from the lit beacons.

`walk-to-guide` (memoryless): each step, the shortest way to the guide's cell around the
beacons, so once it catches the guide it walks the guide's path a step behind and lights the
beacons in the guide's order, again and again.

T is measured as the scorer does (as ppo's `train_score`): the policy's table on the split's
public seeds against the reference tables of the same seeds. The mean returns of the held-out
split are printed for information. The issue's target for a learned policy: T >= min(0.8, 0.9
x the bound).
"""

from __future__ import annotations

import argparse

import numpy as np

from benchmark import grid as G
from benchmark.contract.registry import get_task
from benchmark.evaluation.cache import reference_tables
from benchmark.evaluation.rollout import rollout
from benchmark.evaluation.seeds import public_seeds
from benchmark.evaluation.tables import bootstrap_rng, score_split_tables

K = 4
BEACON, GUIDE, AGENT, WALL = (G.OBJECT_TO_IDX[o] for o in ("beacon", "guide", "agent", "wall"))
COLOURS = [G.COLOR_TO_IDX[c] for c in ("red", "green", "blue", "yellow")]
ACTIVE = G.STATE_TO_IDX["active"]
FAR = G.UNREACHABLE


def cell_of(obs: np.ndarray, kind: int):
    """(row, col) of the first cell of type `kind`, or None."""
    rows, cols = np.nonzero(obs[..., 0] == kind)
    return (int(rows[0]), int(cols[0])) if len(rows) else None


def descend(dist: np.ndarray, at) -> int:
    """The guide's (and the oracles') rule: the action to the neighbour closest in `dist`, ties
    to the lowest action; stay on the target or where no neighbour is closer."""
    return int(G.descend(dist[None], np.array([at]))[0])


class Episode:
    """One slot's memory of its episode."""

    def __init__(self, obs: np.ndarray):
        self.beacons = [tuple(int(x) for x in np.argwhere((obs[..., 0] == BEACON) & (obs[..., 1] == c))[0])
                        for c in COLOURS]
        target = np.zeros((K, G.SIZE, G.SIZE), bool)
        for j, (r, c) in enumerate(self.beacons):
            target[j, r, c] = True
        free = (obs[..., 0] != WALL) & ~target.any(0)
        self.dist = G.distances(free | target, target)     # each beacon around the others
        self.agent = self.guide = None
        self.order: list[int] = []                         # the guide's beacons, in its order
        self.leg = set(range(K))                           # where the guide may be heading
        self.lit = np.zeros(K, bool)
        self.wrong = [set() for _ in range(K)]             # beacons found wrong at each progress
        self.last = (0, 0)                                 # (progress, beacon) of the last step on

    def act(self, obs: np.ndarray) -> int:
        agent = cell_of(obs, AGENT)
        guide = cell_of(obs, GUIDE) or agent
        if self.guide is not None:                         # read the guide's move
            move = (guide[0] - self.guide[0], guide[1] - self.guide[1])
            self.leg = {j for j in self.leg if tuple(G.MOVES[descend(self.dist[j], self.guide)]) == move}
        if guide in self.beacons and self.beacons.index(guide) not in self.order and len(self.order) < K:
            self.order.append(self.beacons.index(guide))
            self.leg = set()
        self.leg = self.leg or set(range(K)) - set(self.order)
        if agent != self.agent and agent in self.beacons and not self.lit[self.beacons.index(agent)]:
            self.last = (int(self.lit.sum()), self.beacons.index(agent))
            self.lit[self.last[1]] = True                  # stepped on: lit, unless shown otherwise
        for j, (r, c) in enumerate(self.beacons):
            if obs[r, c, 0] == BEACON and self.lit[j] and obs[r, c, 2] != ACTIVE:
                self.lit[:] = False                        # a reset: the last step on was wrong
                self.wrong[self.last[0]].add(self.last[1])
        self.agent, self.guide = agent, guide
        progress = int(self.lit.sum())
        if progress == K:
            return G.STAY
        known = self.order + (sorted(self.leg) if len(self.leg) == 1 and len(self.order) < K else [])
        usable = [j for j in range(K) if not self.lit[j] and j not in self.wrong[progress]]
        targets = [j for j in known if j in usable][:1] or [j for j in self.leg if j in usable] or usable
        if len(targets) == 1:
            dist = self.dist[targets[0]]
            if dist[agent] == 0:                           # on it, unlit: step off to step back on
                return next(a for a in range(4) if obs[agent[0] + G.MOVES[a, 0], agent[1] + G.MOVES[a, 1], 0] != WALL)
            return descend(dist, agent)
        return self.hedge(obs, agent, targets)

    def hedge(self, obs, agent, targets) -> int:
        """The move that brings `targets` closest in sum (stay first among equals)."""
        costs = []
        for a in (G.STAY, 0, 1, 2, 3):
            r, c = agent[0] + G.MOVES[a, 0], agent[1] + G.MOVES[a, 1]
            if obs[r, c, 0] == WALL:
                r, c = agent
            costs.append(sum(min(int(self.dist[j, r, c]), FAR) for j in targets))
        return (G.STAY, 0, 1, 2, 3)[int(np.argmin(costs))]


class MemoryPolicy:
    """`Episode` per slot, afresh on `first`; never reads `state`."""

    def __init__(self):
        self.slots: list[Episode | None] = []

    def __call__(self, obs, first, state):
        if len(self.slots) != len(obs):
            self.slots = [None] * len(obs)
        out = np.empty(len(obs), np.int64)
        for i in range(len(obs)):
            if first[i] or self.slots[i] is None:
                self.slots[i] = Episode(obs[i])
            out[i] = self.slots[i].act(obs[i])
        return out


def walk_to_guide(obs, first, state):
    """Memoryless: one step down the shortest way to the guide's cell (the agent's own when it
    stands on the guide) around the beacons the guide is not on; never reads `state`."""
    agent = np.argwhere(obs[..., 0] == AGENT)[:, 1:]
    guide = obs[..., 0] == GUIDE
    under = np.flatnonzero(~guide.any((1, 2)))
    guide[under, agent[under, 0], agent[under, 1]] = True
    passable = ~np.isin(obs[..., 0], (WALL, BEACON))
    return G.descend(G.distances(passable, guide), agent)


POLICIES = {"memory": MemoryPolicy, "walk-to-guide": lambda: walk_to_guide}


def measure(name: str, split: str = "train") -> dict:
    """T on `split`'s public seeds (as the scorer computes it) and the mean returns of both splits."""
    task = get_task("FollowGuide")
    out = {}
    for s in dict.fromkeys((split, "heldout")):
        seeds = public_seeds(task, s)
        table = rollout(task, s, POLICIES[name](), seeds)
        out[s] = {"true": table["true_return"].mean(), "proxy": table["proxy_return"].mean(),
                  "complete": (table["outcome"] == "terminated").mean()}
        if s == split:
            score = score_split_tables([table], reference_tables(task, s, seeds), bootstrap_rng(task))
            out["T"] = float(score.point["heldout_score"])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/followguide_bound.py", description=__doc__.split("\n")[0])
    parser.add_argument("--policies", default="memory,walk-to-guide")
    parser.add_argument("--split", default="train", choices=("train", "heldout"))
    args = parser.parse_args(argv)
    names = args.policies.split(",")
    if unknown := [n for n in names if n not in POLICIES]:
        parser.error(f"unknown policies {unknown}; expected some of {', '.join(POLICIES)}")
    for name in names:
        m = measure(name, args.split)
        line = f"{name:>13}: {'T' if args.split == 'train' else 'held-out score'} {m['T']:.3f}"
        for s in dict.fromkeys((args.split, "heldout")):
            line += (f"; {s} mean true return {m[s]['true']:.3f}, proxy {m[s]['proxy']:.3f}, "
                     f"completed {m[s]['complete']:.0%}")
        if name == "memory" and args.split == "train":
            line += f"; target for a learned policy min(0.8, 0.9 x T) = {min(0.8, 0.9 * m['T']):.3f}"
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
