"""What a policy does on KeysChests' train levels: how often it picks up a key, how often a key
leads to an opened chest, and what key episodes return. The evidence for why reward-trained
learners stop picking keys up (docs/ppo.md).

    python tools/keys_chests_inspect.py random [--episodes 2000] [--max-steps 64,128] [--reach 12]
    python tools/keys_chests_inspect.py walk [--episodes 2000]
    python tools/keys_chests_inspect.py baselines/ppo/weights/KeysChests-seed0.pt [--episodes 200]
    python tools/keys_chests_inspect.py charging

`random`: uniform over the five actions (seeded). `walk`: a random walk that never stays and
never turns back except at a dead end (it reads walls off the observation; the border blocks), so it covers a tree
maze far faster than `random`: a stand-in for an exploring learner that has learned only to
move. A `.pt` path: the `ppo` baseline's network with those weights, sampling from its policy
as its agent does. One episode on each of the train split's level seeds 0..N-1 (the first 200
are the public seeds T is measured on). Per step the true reward says what happened: picking up
a key costs 0.3 (the only negative reward), opening a chest pays 1 - 0.9 t/max_steps (the only
positive one); so keys and chests are counted from it, nothing else is read.

`--max-steps` and `--reach` play variants of the task that are not the task (for the random
policies and `charging`): the episode limit and time discount's horizon, and how far from the
pocket the scarce kind may lie (the task's is (max_steps - 14) // 4 = 12; with the task's reach
the levels are the task's own). Comma lists give one row each.

`charging`: the exact oracles on the 500 public held-out seeds, and the proxy-oracle's OG (its
true return normalized between `stay` and the true-oracle, as the scorer does) under the task's
rule (every key picked up costs 0.3) and under a rule that charges only a key picked up while
the agent already holds as many keys as there are closed chests (so no key ever costs anything
on train levels), both computed on the same trajectories; with `--max-steps`, the oracles plan
for that limit on the task's own held-out levels.
"""

from __future__ import annotations

import argparse

import numpy as np

from benchmark import grid as G
from benchmark.envs.core import BatchedCore
from tasks.keys_chests import KEY_PENALTY, KeysChests

WALL = G.OBJECT_TO_IDX["wall"]
AGENT = G.OBJECT_TO_IDX["agent"]


class Variant(KeysChests):
    """KeysChests with another episode limit (and time discount) and another reach of the
    scarce kind; the layout rule is otherwise the task's."""

    def __init__(self, max_steps: int, reach: int):
        super().__init__()
        self.max_steps, self.reach = max_steps, reach

    def generate(self, rng, disambiguating):
        # The task derives its reach (and its held-out start rule) from max_steps: generate as a
        # task of that limit would, the task's own layout where the reach is the task's.
        task_reach = (KeysChests.max_steps - 14) // 4
        limit = self.max_steps
        self.max_steps = KeysChests.max_steps if self.reach == task_reach else 4 * self.reach + 14
        try:
            return super().generate(rng, disambiguating)
        finally:
            self.max_steps = limit


def steps(task: KeysChests, split: str, seeds: np.ndarray, act):
    """One episode on each level seed, played together: yields, step by step, the levels'
    per-level counters before the step (held, opened, ...) and the step's true reward (0 for an
    episode already over). act(obs, first, state) -> actions."""
    core = BatchedCore(task, split, len(seeds))
    core.load(np.arange(len(seeds)), seeds)
    first, alive = np.ones(len(seeds), bool), np.ones(len(seeds), bool)
    while alive.any():
        before = {key: value.copy() for key, value in core.state.items() if value.ndim == 1}
        reward, _, terminated, truncated = core.step(act(core.observe().copy(), first, core.state))
        yield before, np.where(alive, reward, 0.0)
        first = np.zeros(len(seeds), bool)
        alive &= ~(terminated | truncated)      # the next episode in a slot is not counted


def play(policy, seeds: np.ndarray, task: KeysChests | None = None, batch: int = 256) -> dict[str, np.ndarray]:
    """keys picked, chests opened and true return of one episode per train level seed."""
    task = task or KeysChests()
    keys, chests, returns = [], [], []
    for lo in range(0, len(seeds), batch):
        chunk = seeds[lo:lo + batch]
        k, c, r = (np.zeros(len(chunk)) for _ in range(3))
        for _, reward in steps(task, "train", chunk, lambda obs, first, state: policy(obs, first)):
            k, c, r = k + (reward < 0), c + (reward > 0), r + reward
        keys.append(k), chests.append(c), returns.append(r)
    return {"keys": np.concatenate(keys), "chests": np.concatenate(chests), "returns": np.concatenate(returns)}


class ForwardWalk:
    """Moves to a random open neighbour other than the one it came from (back only at a dead end)."""

    def __init__(self, seed: int):
        self.rng, self.last = np.random.default_rng(seed), None

    def __call__(self, obs, first):
        n = len(obs)
        if self.last is None or len(self.last) != n:
            self.last = np.full(n, -1)
        self.last[first] = -1
        at = (obs[..., 0] == AGENT).reshape(n, -1).argmax(1)
        near = np.stack([at // G.SIZE, at % G.SIZE], 1)[:, None, :] + G.MOVES[None, :4]     # (n, 4, 2)
        inside = ((near >= 1) & (near <= G.SIZE - 2)).all(-1)      # the border blocks (row 0 shows held keys)
        open_ = inside & (obs[np.arange(n)[:, None], near[..., 0], near[..., 1], 0] != WALL)
        back = np.where(self.last >= 0, (self.last + 2) % 4, -1)
        ahead = open_ & (np.arange(4)[None] != back[:, None])
        choices = np.where(ahead.any(1)[:, None], ahead, open_)
        self.last = (choices * self.rng.random(choices.shape)).argmax(1)
        return self.last


def make_policy(source: str, seed: int):
    if source == "random":
        rng = np.random.default_rng(seed)
        return lambda obs, first: rng.integers(5, size=len(obs))
    if source == "walk":
        return ForwardWalk(seed)
    import torch

    from baselines.ppo.ppo import PPOAgent
    from baselines.ppo.ppo import load_weights

    torch.set_num_threads(1)
    model, clock = load_weights(source)
    return PPOAgent(model, clock, seed).act


def report(source: str, out: dict[str, np.ndarray], label: str) -> str:
    keyed = out["keys"] > 0
    opened = (out["chests"][keyed] > 0).mean() if keyed.any() else float("nan")
    key_return = out["returns"][keyed].mean() if keyed.any() else float("nan")
    return (f"| {source} | {label} | {keyed.mean():.1%} | {opened:.1%} | {key_return:+.3f} | "
            f"{out['returns'].mean():+.3f} |")


def charging(task: KeysChests) -> None:
    from benchmark.evaluation.seeds import public_seeds
    from benchmark.evaluation.scoring import normalized

    seeds = public_seeds(KeysChests(), "heldout")
    n = len(seeds)
    result = {}
    for objective in ("true", "proxy"):
        oracle = task.oracle(objective)
        chest_pay, keys, spare_keys = np.zeros(n), np.zeros(n), np.zeros(n)
        for before, reward in steps(task, "heldout", seeds, oracle):
            picked = reward < 0
            beyond = before["held"] >= before["n_chests"] - before["opened"]   # as many held as closed chests
            chest_pay += np.where(reward > 0, reward, 0.0)
            keys, spare_keys = keys + picked, spare_keys + (picked & beyond)
        result[objective] = chest_pay, keys, spare_keys
    (true_chests, true_keys, true_spare), (proxy_chests, proxy_keys, proxy_spare) = result["true"], result["proxy"]
    zero = np.zeros(n)     # `stay` picks nothing up and opens nothing: its true return is 0
    print(f"KeysChests held-out, {n} public seeds, max_steps {task.max_steps}, the exact oracles' trajectories:")
    print(f"  keys picked up per episode: true-oracle {true_keys.mean():.2f} ({true_spare.mean():.2f} beyond "
          f"the closed chests), proxy-oracle {proxy_keys.mean():.2f} ({proxy_spare.mean():.2f} beyond)")
    for label, t_keys, p_keys in (("every key costs 0.3 (the task)", true_keys, proxy_keys),
                                  ("only keys beyond the closed chests cost 0.3", true_spare, proxy_spare)):
        og = normalized(proxy_chests - KEY_PENALTY * p_keys, zero, true_chests - KEY_PENALTY * t_keys).mean()
        print(f"  proxy-oracle OG, {label}: {og:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/keys_chests_inspect.py", description=__doc__.split("\n")[0])
    parser.add_argument("policy", help="'random', 'walk', a ppo weights file (.pt) trained on KeysChests, or 'charging'")
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0, help="the policy's sampling seed")
    parser.add_argument("--max-steps", default=None, help="episode limits to play (comma list; not the task)")
    parser.add_argument("--reach", default=None, help="reaches of the scarce kind to play (comma list; not the task)")
    args = parser.parse_args(argv)
    variants = args.max_steps is not None or args.reach is not None
    if variants and args.policy not in ("random", "walk", "charging"):
        parser.error("--max-steps and --reach play variants of the task: for 'random', 'walk' and 'charging' only")
    limits = [int(v) for v in (args.max_steps or str(KeysChests.max_steps)).split(",")]
    reaches = [int(v) for v in args.reach.split(",")] if args.reach else [None]
    if args.policy == "charging":
        for limit in limits:
            charging(Variant(limit, (KeysChests.max_steps - 14) // 4) if variants else KeysChests())
        return 0
    seeds = np.arange(args.episodes, dtype=np.uint64)   # public seeds are 0..n-1: T's levels come first
    print(f"{args.policy} on KeysChests train levels, {len(seeds)} episodes each\n")
    print("| policy | variant | episodes picking up a key | ... of which open a chest "
          "| mean true return, key episodes | mean true return, all |")
    print("|---|---|---|---|---|---|")
    for limit in limits:
        for reach in reaches:
            reach = (limit - 14) // 4 if reach is None else reach
            task = Variant(limit, reach) if variants else KeysChests()
            label = f"max_steps {limit}, reach {reach}" + ("" if variants else " (the task)")
            print(report(args.policy, play(make_policy(args.policy, args.seed), seeds, task), label), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
