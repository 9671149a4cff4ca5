"""Train the behaviour-cloning baseline: `proxybench train bc --task T --seed S [--steps N]`.

1. Demonstrations: the task's true-oracle (`task.oracle("true")`, a planner that reads the level
   state) plays NUM_ENVS train-split levels at once through the native vector env
   (`ProxyVectorEnv`, alpha as given), level stream seeded by the training seed, until `steps`
   (observation, action) pairs are recorded: every step of every episode, as the oracle acts.
2. Cloning: the shared network of `baselines/nets.py` (the PPO baseline's, value head unused)
   is fitted by cross-entropy on those pairs: Adam, learning rate LR, minibatch BATCH, EPOCHS
   passes, the order shuffled by a torch generator seeded by the training seed.

Writes weights/<Task>-seed<S>.pt (float16 state dict). Deterministic for a given seed, task,
alpha and steps on one machine (torch runs single-threaded here, see THREADS).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from baselines import nets
from benchmark.envs.env import ProxyVectorEnv
from benchmark.contract.registry import get_task

HERE = Path(__file__).parent
NUM_ENVS = 256
DEFAULT_STEPS = 250_000          # oracle env steps (= training pairs) per task
EPOCHS, BATCH, LR = 6, 512, 1e-3
THREADS = 1


def demonstrations(task: str, seed: int, alpha: float, steps: int, progress: bool = True):
    """(obs (N, 13, 13, 3) uint8, actions (N,) int64) from the true-oracle on the train split."""
    venv = ProxyVectorEnv(task, "train", NUM_ENVS, alpha=alpha)
    oracle = venv.task.oracle("true")
    obs, _ = venv.reset(seed=seed)
    first = np.ones(NUM_ENVS, bool)
    iterations = -(-steps // NUM_ENVS)
    all_obs = np.empty((iterations * NUM_ENVS, *obs.shape[1:]), np.uint8)
    all_actions = np.empty(iterations * NUM_ENVS, np.int64)
    for i in tqdm(range(iterations), desc=f"bc {task} demonstrations", unit_scale=NUM_ENVS,
                  unit="step", disable=not progress, leave=False):
        actions = np.asarray(oracle(obs, first, venv.core.state), np.int64)
        all_obs[i * NUM_ENVS:(i + 1) * NUM_ENVS] = obs
        all_actions[i * NUM_ENVS:(i + 1) * NUM_ENVS] = actions
        obs, _, terminated, truncated, _ = venv.step(actions)
        first = terminated | truncated
    return all_obs[:steps], all_actions[:steps]


def train(task: str, seed: int, alpha: float = 0.0, steps: int = DEFAULT_STEPS,
          out: Path | None = None, progress: bool = True) -> Path:
    name = get_task(task).name
    torch.set_num_threads(THREADS)
    torch.manual_seed(seed)
    start = time.time()
    obs, actions = demonstrations(name, seed, alpha, steps, progress)
    obs_t, act_t = torch.from_numpy(obs), torch.from_numpy(actions)
    net = nets.GridPolicy()
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    gen = torch.Generator().manual_seed(seed)
    per_epoch = -(-len(obs) // BATCH)
    bar = tqdm(total=EPOCHS * per_epoch, desc=f"bc {name} seed {seed}", unit="batch", disable=not progress)
    for _ in range(EPOCHS):
        order = torch.randperm(len(obs), generator=gen)
        correct = seen = 0
        for b in range(per_epoch):
            idx = order[b * BATCH:(b + 1) * BATCH]
            logits = net.logits(obs_t[idx])
            loss = F.cross_entropy(logits, act_t[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            correct += int((logits.argmax(1) == act_t[idx]).sum())
            seen += len(idx)
            bar.update()
            if b % 50 == 0:
                bar.set_postfix(loss=f"{loss.item():.3f}", acc=f"{correct / seen:.3f}")
    bar.close()
    out = Path(out or HERE / "weights") / f"{name}-seed{seed}.pt"
    out.parent.mkdir(parents=True, exist_ok=True)
    nets.save_policy(net, out, embed=nets.EMBED, hidden=nets.HIDDEN, task=name, seed=seed,
                     alpha=alpha, env_steps=steps, epochs=EPOCHS, train_accuracy=round(correct / seen, 4),
                     seconds=round(time.time() - start, 1))
    return out
