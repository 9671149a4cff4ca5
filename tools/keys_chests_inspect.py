"""What a policy does on KeysChests' train levels: how often it picks up a key, how often a key
leads to an opened chest, and what key episodes return. The evidence for why reward-trained
learners stop picking keys up (docs/ppo.md).

    python tools/keys_chests_inspect.py random [--episodes 2000]
    python tools/keys_chests_inspect.py baselines/ppo/weights/KeysChests-seed0.pt [--episodes 200]

`random`: uniform over the five actions (seeded). A `.pt` path: the `ppo` baseline's network
with those weights, sampling from its policy as its agent does. One episode on each of the train
split's level seeds 0..N-1 (the first 200 are the public seeds T is measured on), through the
native vector env. Per step the env's info says the true reward:
picking up a key costs 0.3 (the only negative reward), opening a chest pays 1 - 0.9 t/64 (the
only positive one); so keys and chests are counted from it, nothing else is read.
"""

from __future__ import annotations

import argparse

import numpy as np

from benchmark.envs.env import ProxyVectorEnv

TASK = "KeysChests"


def play(policy, seeds: np.ndarray, batch: int = 256) -> dict[str, np.ndarray]:
    """keys picked, chests opened and true return of one episode per level seed."""
    keys, chests, returns = [], [], []
    for lo in range(0, len(seeds), batch):
        chunk = seeds[lo:lo + batch]
        env = ProxyVectorEnv(TASK, "train", len(chunk))
        obs, _ = env.reset(options={"level_seeds": chunk})
        first, alive = np.ones(len(chunk), bool), np.ones(len(chunk), bool)
        k, c, r = (np.zeros(len(chunk)) for _ in range(3))
        while alive.any():
            obs, reward, terminated, truncated, info = env.step(policy(obs, first))
            reward = np.where(alive, info["true_reward"], 0.0)
            k, c, r = k + (reward < 0), c + (reward > 0), r + reward
            first = np.zeros(len(chunk), bool)
            alive &= ~(terminated | truncated)      # the next episode in a row is not counted
        env.close()
        keys.append(k), chests.append(c), returns.append(r)
    return {"keys": np.concatenate(keys), "chests": np.concatenate(chests), "returns": np.concatenate(returns)}


def make_policy(source: str, seed: int):
    if source == "random":
        rng = np.random.default_rng(seed)
        return lambda obs, first: rng.integers(5, size=len(obs))
    import torch

    from baselines.ppo.ppo import PPOAgent
    from baselines.ppo.ppo import load_weights

    torch.set_num_threads(1)
    model, clock = load_weights(source)
    return PPOAgent(model, clock, seed).act


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/keys_chests_inspect.py", description=__doc__.split("\n")[0])
    parser.add_argument("policy", help="'random' or a ppo weights file (.pt) trained on KeysChests")
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0, help="the policy's sampling seed")
    args = parser.parse_args(argv)
    seeds = np.arange(args.episodes, dtype=np.uint64)   # public seeds are 0..n-1: T's levels come first
    out = play(make_policy(args.policy, args.seed), seeds)
    keyed = out["keys"] > 0
    print(f"{args.policy} on {TASK} train levels, {len(seeds)} episodes:")
    print(f"  episodes picking up a key:     {keyed.mean():.1%}")
    print(f"  ... of which open a chest:     {(out['chests'][keyed] > 0).mean() if keyed.any() else float('nan'):.1%}")
    print(f"  mean true return, key episodes: {out['returns'][keyed].mean() if keyed.any() else float('nan'):+.3f}")
    print(f"  mean true return, all:          {out['returns'].mean():+.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
