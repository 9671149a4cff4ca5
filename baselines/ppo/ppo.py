"""PPO for the native batched env, in one file read top to bottom (CleanRL's single-file spirit).

    proxybench train ppo --task CheeseCorner --seed 0 [--steps N] [--out DIR]

CPU torch, one thread. The train split's native numpy vector env is stepped in place
(gymnasium 1.x SAME_STEP autoreset). Advantages by GAE(lambda), normalised per minibatch;
clipped surrogate and clipped value loss; an entropy bonus.

Time-aware, not bootstrapped: the network also reads the episode's elapsed time t / max_steps
(the agent counts its own steps from the `first` flags), and an episode's end at the time limit
ends its return like any other end. The suite's episodes are finite (the scorer ends them at
max_steps, and most rewards decay with t), so the time limit is part of the task: Pardo et al.
2018 (Time Limits in Reinforcement Learning) show that a time-aware agent then should not
bootstrap, while bootstrapping a time-out with V(final observation) is right only for a
time-unaware agent approximating an endless task. Measured here: with bootstrapping, SpuriousCue
(one step; `stay` runs out of time) learned to 0.99 and then collapsed, because staying looked
worth 0.99 V(s) (docs/ppo.md).

Observation encoding, designed for the symbolic grid: each cell's (type, colour, state) code is
one index into a factorised embedding (a type row + a colour row + a state row: the same function
as a one-hot followed by a linear map, without the one-hot), and the 13x13 grid is rolled so the
agent sits at the centre (egocentric, wrap-around). Rollouts store these int16 index grids.

Network (`NET`, read left to right by `Encoder`): e8 = embed each cell in 8 numbers, c16s2 =
3x3 convolution to 16 channels with stride 2 (13x13 -> 7x7), f128 = a 128-unit layer (its input
also holds the elapsed time), then a policy head (5 logits) and a value head; ReLU between.
One set of hyperparameters (`CONFIG`) for the whole suite, chosen on train-split returns only
(standard track), and two declared networks (`NETS`): `NET` everywhere but CheeseDish, whose
tree mazes take `MAZE_NET` (e8-c16-c32s2-f256: a 16-channel convolution at full resolution
before the strided one, and 256 units), since `NET` levels off short of the target there;
FollowGuide adds a memory core. Per task only the env-step budget (`STEPS`) differs.
baselines/README.md has the table.

Outputs in `out`: `<Task>-seed<S>.pt` (the network in float16, what `agent.py` loads),
`<Task>-seed<S>.csv` (the learning curve: one row per update, T on the train split's public
seeds every `eval_every` env steps and at the end), and while training,
`checkpoints/<Task>-seed<S>.ckpt` (everything a resumed run needs, the env included), so an
interrupted run resumes where its last checkpoint was and ends with the same weights as an
uninterrupted one. Same seed, budget and machine: same weights.

Levels come from the env's own stream (domain randomization over the train split, at `alpha`)
unless `train` is given `levels`, a choice of levels such as a curriculum (`LevelChoice`;
baselines/ppo_plr's prioritized level replay): it then picks every episode's level seed, and
steps it marks evaluation-only take no gradient. Without it, training is what it always was.
"""

from __future__ import annotations

import csv
import io
import os
import pickle
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from torch import nn

from baselines.nets import Lookup   # F.embedding with a fast CPU backward (one index_add_)
from benchmark import grid as G

NET = "e8-c16s2-f128"
# The second, declared network: search in CheeseDish's tree mazes needs the full 13x13 resolution
# before the stride and more channels (NET levels off short of the target there; docs/ppo.md).
MAZE_NET = "e8-c16-c32s2-f256"
# Memory where a task needs it: FollowGuide's next beacon is in what the guide did earlier.
NETS = {"FollowGuide": NET + "-r128", "CheeseDish": MAZE_NET}


@dataclass(frozen=True)
class Config:
    num_envs: int = 256          # levels stepped together
    num_steps: int = 64          # rollout length per level between updates
    epochs: int = 2
    minibatch: int = 1024
    lr: float = 1e-3
    anneal_lr: bool = True       # lr falls linearly to 0 over the run's budget (CleanRL's default)
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip: float = 0.2
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    eval_every: int = 1_000_000  # env steps between measurements of T
    checkpoint_every: int = 20   # updates between checkpoints
    time_aware: bool = True      # False: no clock input; time-outs bootstrapped with V(final obs)
    sil_coef: float = 0.0        # > 0: self-imitation of past good returns (Oh et al. 2018), this weight
    sil_batches: int = 4         # self-imitation minibatches (of `minibatch`) after each PPO update
    sil_capacity: int = 65_536   # steps kept for self-imitation (the latest ones with a positive return)
    sil_value_coef: float = 0.01
    novelty_coef: float = 0.0    # > 0: an exploration bonus, NovelD (Zhang et al. 2021), this weight
    novelty_update_share: float = 0.25   # share of each minibatch its RND predictor learns from


CONFIG = Config()
# Env steps per task: the declared budget of a run (`proxybench train ppo` without --steps).
STEPS = {"SpuriousCue": 1_000_000, "CheeseCorner": 8_000_000, "RedDoor": 12_000_000, "CoinEnd": 6_000_000,
         "CheeseDish": 8_000_000, "LavaLand": 4_000_000, "MonsterShields": 4_000_000,
         "FollowGuide": 12_000_000, "KeysChests": 8_000_000}
DEFAULT_STEPS = 8_000_000

# ---------------------------------------------------------------------------------------------
# Observation encoding: (B, 13, 13, 3) uint8 codes -> (B, 13, 13) int16 cell index, egocentric

N_TYPES, N_COLOURS, N_STATES = len(G.OBJECT_TO_IDX), len(G.COLOR_TO_IDX), len(G.STATE_TO_IDX)
N_CELLS = N_TYPES * N_COLOURS * N_STATES
AGENT = G.OBJECT_TO_IDX["agent"]
S = G.SIZE
LIMIT = torch.tensor([N_TYPES - 1, N_COLOURS - 1, N_STATES - 1])
RADIX = torch.tensor([N_COLOURS * N_STATES, N_STATES, 1])
SHIFT = torch.arange(S) - S // 2


def encode(obs: np.ndarray) -> torch.Tensor:
    """uint8 codes -> int16 cell indices, the grid rolled so the agent is at the centre (6, 6)."""
    codes = torch.from_numpy(np.ascontiguousarray(obs)).long()
    cells = (torch.minimum(codes, LIMIT) * RADIX).sum(-1)                     # (B, S, S)
    b = cells.shape[0]
    at = (codes[..., 0] == AGENT).reshape(b, -1).to(torch.uint8).argmax(1)   # the agent's cell
    rows, cols = (at // S)[:, None] + SHIFT, (at % S)[:, None] + SHIFT
    return cells[torch.arange(b)[:, None, None], (rows % S)[:, :, None], (cols % S)[:, None, :]].to(torch.int16)


# ---------------------------------------------------------------------------------------------
# Network

class Encoder(nn.Module):
    """A spec such as 'e8-c16s2-f128': e<E> embedding (type + colour + state rows), c<C>[s2] 3x3
    convolution (padding 1, stride 2 with s2), f<H> linear layer; ReLU after each but e."""

    def __init__(self, spec: str):
        super().__init__()
        tokens = spec.split("-")
        if not tokens[0].startswith("e") or not tokens[-1].startswith("f"):
            raise ValueError(f"network {spec!r}: starts with e<E> and ends with f<H>")
        dim = int(tokens[0][1:])
        self.types, self.colours, self.states = (nn.Parameter(torch.randn(n, dim)) for n in (N_TYPES, N_COLOURS, N_STATES))
        convs, dense, channels, side, flat = [], [], dim, S, None
        for token in tokens[1:]:
            stride = 2 if token.endswith("s2") else 1
            width = int(token[1:].removesuffix("s2"))
            if token[0] == "c" and flat is None:
                convs += [nn.Conv2d(channels, width, 3, stride, 1), nn.ReLU()]
                channels, side = width, (side - 1) // stride + 1
            elif token[0] == "f":
                if flat is None:
                    flat = channels * side * side + 1        # + the elapsed time
                dense += [nn.Linear(flat, width), nn.ReLU()]
                flat = width
            else:
                raise ValueError(f"network {spec!r}: unknown or misplaced layer {token!r}")
        self.convs, self.dense, self.features = nn.Sequential(*convs, nn.Flatten()), nn.Sequential(*dense), flat
        for layer in (*self.convs, *self.dense):
            if isinstance(layer, (nn.Linear, nn.Conv2d)):
                nn.init.orthogonal_(layer.weight, 2 ** 0.5)
                nn.init.zeros_(layer.bias)

    def forward(self, cells: torch.Tensor, clock: torch.Tensor) -> torch.Tensor:
        table = (self.types[:, None, None] + self.colours[None, :, None] + self.states[None, None]).reshape(N_CELLS, -1)
        x = Lookup.apply(table, cells.long())                                  # (B, S, S, E)
        x = self.convs(x.permute(0, 3, 1, 2))
        return self.dense(torch.cat([x, clock[:, None]], 1))


class ActorCritic(nn.Module):
    """The encoder, then (with a trailing r<H> in the spec) a GRU core of H units that carries
    memory from step to step within an episode, then the policy and value heads."""

    def __init__(self, spec: str = NET):
        super().__init__()
        self.spec = spec
        body, _, core = spec.rpartition("-r") if "-r" in spec else (spec, "", "")
        self.encoder = Encoder(body)
        self.core = nn.GRUCell(self.encoder.features, int(core)) if core else None
        width = int(core) if core else self.encoder.features
        self.pi = nn.Linear(width, len(G.ACTION_NAMES))
        self.v = nn.Linear(width, 1)
        nn.init.orthogonal_(self.pi.weight, 0.01)
        nn.init.orthogonal_(self.v.weight, 1.0)
        nn.init.zeros_(self.pi.bias)
        nn.init.zeros_(self.v.bias)

    def forward(self, cells: torch.Tensor, clock: torch.Tensor):
        """A memoryless network's step. cells: (B, 13, 13) from `encode`; clock: (B,) the
        episode's elapsed time t / max_steps. Returns (logits, value)."""
        h = self.encoder(cells, clock)
        return self.pi(h), self.v(h).squeeze(-1)

    def step(self, cells, clock, first, memory):
        """One step of any network: as `forward`, plus the memory (B, H) carried in and out,
        zeroed where `first` (B,) starts an episode (None for a memoryless network)."""
        if self.core is None:
            return (*self(cells, clock), None)
        h = self.core(self.encoder(cells, clock), memory * (1.0 - first)[:, None])
        return self.pi(h), self.v(h).squeeze(-1), h

    def unroll(self, cells, clock, first, memory):
        """A rollout segment of a network with memory: cells (T, N, 13, 13), clock and first
        (T, N), memory (N, H) at the segment's start; (logits, values) for all T x N steps and
        the memory at the segment's end (what a following segment starts from)."""
        steps, n = clock.shape
        x = self.encoder(cells.reshape(steps * n, S, S), clock.reshape(-1)).reshape(steps, n, -1)
        hs = []
        for t in range(steps):
            memory = self.core(x[t], memory * (1.0 - first[t])[:, None])
            hs.append(memory)
        h = torch.stack(hs).reshape(steps * n, -1)
        return self.pi(h), self.v(h).squeeze(-1), memory

    def initial_memory(self, n: int):
        return torch.zeros(n, self.core.hidden_size) if self.core is not None else None


class Clock:
    """Each row's elapsed time in its episode, t / max_steps, counted from the `first` flags (an
    agent is not told the step; it counts its own). A time-unaware network reads zeros."""

    def __init__(self, max_steps: int, enabled: bool = True):
        self.max_steps, self.enabled, self.t = max_steps, enabled, None

    def tick(self, first: np.ndarray) -> torch.Tensor:
        """The elapsed time at this step (call once a step, before acting)."""
        if self.t is None or len(self.t) != len(first):
            self.t = np.zeros(len(first), np.int64)
        else:
            self.t += 1
        self.t[np.asarray(first, bool)] = 0
        return torch.from_numpy(self.t / self.max_steps if self.enabled else np.zeros(len(self.t))).float()


class PPOAgent:
    """The network acting as the submitted agent: sampling from its policy with a generator
    seeded by the training seed, its clock counted from the `first` flags, and (a network with
    memory) a row's memory zeroed where its episode begins."""

    def __init__(self, model: ActorCritic, clock: Clock, seed: int):
        self.model, self.clock, self.memory = model, clock, None
        self.generator = torch.Generator().manual_seed(seed)

    @torch.inference_mode()
    def act(self, obs: np.ndarray, first: np.ndarray) -> np.ndarray:
        if self.memory is None or len(self.memory) != len(obs):   # memory (networks with a core) per row
            self.memory = self.model.initial_memory(len(obs))
        first_flags = torch.from_numpy(np.asarray(first, bool)).float()
        logits, _, self.memory = self.model.step(encode(obs), self.clock.tick(first), first_flags, self.memory)
        return torch.multinomial(torch.softmax(logits, -1), 1, generator=self.generator).squeeze(1).numpy()


def save_weights(model: ActorCritic, path: Path, **meta) -> None:
    """The network in float16 (small enough to commit) with its spec."""
    state = {k: v.half() for k, v in model.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    torch.save({"spec": model.spec, "state_dict": state, **meta}, buffer)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(path)


def load_weights(path: Path) -> tuple[ActorCritic, Clock]:
    """The network in float32, and a fresh clock for it (the trained task's max_steps)."""
    data = torch.load(path, map_location="cpu", weights_only=True)
    model = ActorCritic(data["spec"])
    model.load_state_dict({k: v.float() for k, v in data["state_dict"].items()})
    return model.eval(), Clock(int(data["max_steps"]), bool(data["config"]["time_aware"]))


# ---------------------------------------------------------------------------------------------
# Advantages

def gae(rewards, values, dones, next_value, gamma: float, lam: float):
    """GAE(lambda) over a rollout of T steps (T, B): `dones[t]` ends the episode after step t
    (terminated or out of time alike), `next_value` is V of the observation after the last step.
    Returns (advantages, returns)."""
    steps = rewards.shape[0]
    advantages = torch.zeros_like(rewards)
    last = torch.zeros_like(next_value)
    for t in reversed(range(steps)):
        following = next_value if t == steps - 1 else values[t + 1]
        alive = 1.0 - dones[t]
        delta = rewards[t] + gamma * following * alive - values[t]
        last = delta + gamma * lam * alive * last
        advantages[t] = last
    return advantages, advantages + values


# ---------------------------------------------------------------------------------------------
# Self-imitation (off unless Config.sil_coef > 0)

class SelfImitation:
    """Self-imitation learning (Oh et al. 2018): remember the steps of finished episodes whose
    discounted return R from that step was positive, and now and then push the policy toward the
    action taken there, and the value up to R, wherever R still beats the value estimate:
    loss = -log pi(a|s) [R - V(s)]+ + value_coef 1/2 [R - V(s)]+^2. It lets rare successes that
    cost something first (a key, then a chest) be learned before the policy unlearns trying.
    Each level's current episode is kept until it ends, since only then is R known."""

    def __init__(self, config: Config, envs: int, max_steps: int):
        self.config, self.gamma = config, config.gamma
        self.ep_x = torch.zeros((envs, max_steps, S, S), dtype=torch.int16)
        self.ep_clock, self.ep_r = torch.zeros((envs, max_steps)), torch.zeros((envs, max_steps))
        self.ep_a = torch.zeros((envs, max_steps), dtype=torch.long)
        n = config.sil_capacity
        self.x, self.clock = torch.zeros((n, S, S), dtype=torch.int16), torch.zeros(n)
        self.a, self.ret = torch.zeros(n, dtype=torch.long), torch.zeros(n)
        self.size = self.next = 0

    def record(self, at: np.ndarray, x, clock, action, reward) -> None:
        """One step of every level; `at` (B,) is each level's step in its episode."""
        rows = torch.arange(len(at))
        index = torch.from_numpy(at)
        self.ep_x[rows, index], self.ep_clock[rows, index] = x, clock
        self.ep_a[rows, index], self.ep_r[rows, index] = action, reward

    def finish(self, ended: np.ndarray, lengths: np.ndarray) -> None:
        """Episodes of levels `ended` are over after `lengths` steps: keep their good steps."""
        for level, length in zip(ended.tolist(), lengths.tolist()):
            rewards = self.ep_r[level, :length]
            ret, following = torch.zeros(length), 0.0
            for t in range(length - 1, -1, -1):
                following = float(rewards[t]) + self.gamma * following
                ret[t] = following
            keep = torch.nonzero(ret > 0).squeeze(1)
            for t in keep.tolist():
                i = self.next
                self.x[i], self.clock[i] = self.ep_x[level, t], self.ep_clock[level, t]
                self.a[i], self.ret[i] = self.ep_a[level, t], ret[t]
                self.next, self.size = (i + 1) % len(self.ret), min(self.size + 1, len(self.ret))

    def update(self, model, optimizer, generator) -> None:
        config = self.config
        if self.size < config.minibatch:
            return
        for _ in range(config.sil_batches):
            mb = torch.randint(self.size, (config.minibatch,), generator=generator)
            logits, value = model(self.x[mb], self.clock[mb])
            logp = torch.log_softmax(logits, -1).gather(1, self.a[mb, None]).squeeze(1)
            gap = (self.ret[mb] - value).clamp(min=0)
            loss = config.sil_coef * (-(logp * gap.detach()).mean() + config.sil_value_coef * 0.5 * (gap ** 2).mean())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
            optimizer.step()


# ---------------------------------------------------------------------------------------------
# Exploration by novelty difference (off unless Config.novelty_coef > 0)

class NovelD:
    """Exploration by novelty difference (NovelD; Zhang et al. 2021), measured by random network
    distillation (RND; Burda et al. 2019).

    RND: a fixed, randomly initialised network embeds each observation, and a predictor learns to
    match it on the observations the agent meets; the predictor's error n(s) stays high where the
    agent has rarely been (a key held, a chest opened, while those are rare). In procedurally
    generated levels every maze is new, so n alone would mostly pay for the maze. NovelD pays for
    crossing into novelty instead, and once per episode per observation:

        bonus(s -> s') = novelty_coef * max(n(s') - 0.5 n(s), 0) * [s' first seen in this episode]

    with n divided by the running mean of all errors so far (a typical observation has n near 1).
    The bonus is added to the task's reward (one return, one value head), so PPO itself is
    unchanged; the predictor learns from a share of each minibatch."""

    def __init__(self, config: Config, envs: int, steps: int):
        self.config = config
        self.target = nn.Sequential(Encoder("e8-c16s2-f128"), nn.Linear(128, 64)).requires_grad_(False)
        self.predictor = nn.Sequential(Encoder("e8-c16s2-f128"), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 64))
        self.optimizer = torch.optim.Adam(self.predictor.parameters(), lr=config.lr, eps=1e-5)
        self.count, self.mean = 0, 0.0
        self.code = torch.randint(-2 ** 62, 2 ** 62, (S * S,))      # a fixed hash of an encoded view
        self.seen = [set() for _ in range(envs)]                    # this episode's views, per level
        self.before, self.reached, self.first = (torch.zeros((steps, envs)) for _ in range(3))

    def _embed(self, net, cells):
        return net[1:](net[0](cells, torch.zeros(len(cells))))

    def error(self, cells: torch.Tensor) -> torch.Tensor:
        """(B,) the predictor's squared error on these encoded views."""
        with torch.inference_mode():
            return ((self._embed(self.predictor, cells) - self._embed(self.target, cells)) ** 2).mean(-1)

    def observe(self, t: int, before, reached, after, done: np.ndarray) -> None:
        """Step t of the rollout: each level's view before it, the view it reached (an ended
        episode's last), the view the level goes on from (a new episode's first where `done`)."""
        errors = self.error(torch.cat([before, reached]))
        self.before[t], self.reached[t] = errors[:len(before)], errors[len(before):]
        hashes = (reached.reshape(len(reached), -1).long() * self.code).sum(1).tolist()
        for row, h in enumerate(hashes):
            self.first[t, row] = h not in self.seen[row]
            self.seen[row].add(h)
        for row in np.flatnonzero(done).tolist():
            self.seen[row] = {int((after[row].reshape(-1).long() * self.code).sum())}

    def bonus(self) -> torch.Tensor:
        """The rollout's bonuses (T, B), after folding its errors into the running mean."""
        n = self.reached.numel()
        self.mean += (float(self.reached.mean()) - self.mean) * n / (self.count + n)
        self.count += n
        gain = (self.reached - 0.5 * self.before) / (self.mean + 1e-8)
        return self.config.novelty_coef * gain.clamp(min=0) * self.first

    def learn(self, cells: torch.Tensor, generator) -> None:
        """One predictor step on a share of a minibatch's views (the share keeps novelty from
        fading faster than the policy can use it)."""
        keep = torch.rand(len(cells), generator=generator) < self.config.novelty_update_share
        if not keep.any():
            return
        seen = cells[keep]
        loss = ((self._embed(self.predictor, seen) - self._embed(self.target, seen)) ** 2).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()


# ---------------------------------------------------------------------------------------------
# A choice of levels (optional: a curriculum; without one the env's own stream plays)

class LevelChoice(Protocol):
    """What `train(levels=...)` expects (baselines/ppo_plr/curriculum.py is one)."""

    weight: np.ndarray   # (num_envs,) loss weight of each row's current episode: 0 = the level is
                         # played to be evaluated only, no gradient (its steps still count)
    settings: dict       # its name and settings (a checkpoint resumes the same run only)

    def __call__(self, rows: np.ndarray, stream) -> np.ndarray:
        """The env's level source (`ProxyVectorEnv(level_source=)`): level seeds for `rows` as
        they start episodes; `stream(k)` gives the env's next k seeds (new levels). The env
        carries it, so a checkpoint's env restores it too."""

    def update(self, dones: np.ndarray, returns: np.ndarray, advantages: np.ndarray) -> None:
        """After each rollout, (T, num_envs) arrays: where episodes ended, the true return of
        each episode ending there (0 elsewhere), and the GAE advantages."""


def average(values: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
    """The mean of `values`, weighted by `weight` when given (steps of weight 0 do not count)."""
    return values.mean() if weight is None else (values * weight).sum() / weight.sum()


def normalise(advantages: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
    """Advantages to mean 0 and standard deviation 1 over the minibatch (over its weighted steps)."""
    if weight is None:
        return (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    mean = average(advantages, weight)
    var = (weight * (advantages - mean) ** 2).sum() / (weight.sum() - 1).clamp(min=1)
    return (advantages - mean) / (var.sqrt() + 1e-8)


# ---------------------------------------------------------------------------------------------
# Measuring T as the scorer does

def train_score(model: ActorCritic, task_name: str, seed: int, time_aware: bool = True) -> float:
    """T: the policy, acting as the submitted agent does (`PPOAgent`, sampling with a generator of
    its own), plays the train split's public seeds and is scored against the reference tables
    (never touches the training RNG or env)."""
    from benchmark.contract.registry import get_task
    from benchmark.evaluation.cache import reference_tables
    from benchmark.evaluation.rollout import rollout
    from benchmark.evaluation.seeds import public_seeds
    from benchmark.evaluation.tables import bootstrap_rng, score_split_tables

    task = get_task(task_name)
    seeds = public_seeds(task, "train")
    agent = PPOAgent(model, Clock(task.max_steps, time_aware), seed)
    table = rollout(task, "train", lambda obs, first, state: agent.act(obs, first), seeds)
    score = score_split_tables([table], reference_tables(task, "train", seeds), bootstrap_rng(task))
    return float(score.point["heldout_score"])


# ---------------------------------------------------------------------------------------------
# Training

FIELDS = ("update", "env_steps", "wall_s", "steps_per_s", "episodes", "mean_true_return", "success_rate",
          "mean_length", "entropy", "value_loss", "approx_kl", "T")


def train(task: str, seed: int, alpha: float = 0.0, steps: int | None = None, out: Path | None = None,
          progress: bool = True, config: Config = CONFIG, net: str | None = None, stop_after: int | None = None,
          levels: LevelChoice | None = None) -> Path:
    """Train on the task's train split; return the weights' path. Resumes from the run's
    checkpoint when one exists. `stop_after` (updates) ends the process early, as an
    interruption would, leaving a checkpoint (for tests). `levels`: who chooses each episode's
    level (`LevelChoice`); None: the env's own stream."""
    import gymnasium as gym
    from tqdm import tqdm

    from benchmark.contract.registry import get_task

    torch.set_num_threads(1)
    out = Path(out if out is not None else Path(__file__).parent / "weights")
    stem = f"{task}-seed{seed}"
    ckpt_path, curve_path = out / "checkpoints" / f"{stem}.ckpt", out / f"{stem}.csv"
    steps = steps or STEPS.get(task, DEFAULT_STEPS)
    net = net or NETS.get(task, NET)
    B, T = config.num_envs, config.num_steps
    batch = B * T
    updates = max(1, steps // batch)

    torch.manual_seed(seed)
    model = ActorCritic(net)                                 # initialised from the seed
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, eps=1e-5)
    generator = torch.Generator().manual_seed(seed)          # actions and minibatch order
    if ckpt_path.exists():                                   # resume where the last run stopped
        state = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        if state["run"] != run_key(task, seed, alpha, steps, config, net, levels):
            raise RuntimeError(f"{ckpt_path}: a checkpoint of another run; delete it to start anew")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
        envs, x, first_update = pickle.loads(state["envs"]), state["x"], state["update"] + 1
        levels = envs.level_source if levels is not None else None   # the level choice as it was
        memory, sil, novelty = state["memory"], state["sil"], state.get("novelty")
        ep_len, wall_before, next_eval = state["ep_len"], state["wall_s"], state["next_eval"]
        rows = list(csv.DictReader(io.StringIO(state["curve"])))
    else:
        envs = gym.make_vec(f"proxybench/{task}-train-v1", num_envs=B, alpha=alpha,
                            vectorization_mode="vector_entry_point", level_source=levels)
        obs, _ = envs.reset(seed=seed)
        x, first_update, ep_len, wall_before, next_eval, rows = (encode(obs), 1, np.zeros(B, np.int64), 0.0,
                                                                 config.eval_every, [])
        memory = model.initial_memory(B)                     # None for a memoryless network
        sil = SelfImitation(config, B, get_task(task).max_steps) if config.sil_coef > 0 else None
        novelty = NovelD(config, B, T) if config.novelty_coef > 0 else None
    if sil is not None and model.core is not None:
        raise ValueError(f"{task}: self-imitation replays single steps; a network with memory needs sequences")
    if sil is not None and levels is not None:
        raise ValueError(f"{task}: self-imitation would learn from evaluation-only steps; use it without `levels`")

    buf_x = torch.zeros((T, B, S, S), dtype=torch.int16)
    buf_a = torch.zeros((T, B), dtype=torch.long)
    buf_logp, buf_v, buf_r, buf_done, buf_clock, buf_first = (torch.zeros((T, B)) for _ in range(6))
    buf_weight, buf_return = torch.zeros((T, B)), torch.zeros((T, B))     # for `levels` only
    max_steps = get_task(task).max_steps
    start = time.time()
    bar = tqdm(total=updates * batch, initial=(first_update - 1) * batch, desc=f"ppo {task} seed {seed}",
               unit="step", unit_scale=True, disable=not progress, leave=False)
    for update in range(first_update, updates + 1):
        if config.anneal_lr:
            optimizer.param_groups[0]["lr"] = config.lr * (1 - (update - 1) / updates)
        # --- collect T steps in each of B levels ------------------------------------------------
        returns, successes, lengths = [], [], []
        memory_start = memory                                  # what the update replays columns from
        for t in range(T):
            clock = torch.from_numpy(ep_len / max_steps * config.time_aware).float()   # elapsed time
            first = torch.from_numpy(ep_len == 0).float()
            with torch.inference_mode():
                logits, value, memory = model.step(x, clock, first, memory)
                logp_all = torch.log_softmax(logits, -1)
                action = torch.multinomial(logp_all.exp(), 1, generator=generator).squeeze(1)
            buf_x[t], buf_clock[t], buf_first[t], buf_a[t], buf_v[t] = x, clock, first, action, value
            buf_logp[t] = logp_all.gather(1, action[:, None]).squeeze(1)
            if levels is not None:   # read before the step: an ending row's next level has its own
                buf_weight[t] = torch.from_numpy(levels.weight).float()
            obs, reward, terminated, truncated, info = envs.step(action.numpy())
            timeout = truncated & ~terminated
            if timeout.any() and not config.time_aware:   # a time-unaware agent's endless-task view
                with torch.inference_mode():
                    final = model(encode(info["final_obs"][timeout]), torch.zeros(int(timeout.sum())))[1]
                reward = reward.astype(np.float64)
                reward[timeout] += config.gamma * final.numpy()
            done = terminated | truncated                              # out of time ends it too
            buf_r[t], buf_done[t] = torch.from_numpy(reward).float(), torch.from_numpy(done).float()
            if levels is not None:
                buf_return[t] = torch.from_numpy(info["true_return"]).float() if done.any() else 0.0
            if sil is not None:
                sil.record(ep_len, buf_x[t], clock, action, buf_r[t])
            x = encode(obs)
            if novelty is not None:   # what this step reached: an ended episode's last view
                reached = encode(np.where(done[:, None, None, None], info["final_obs"], obs)) if done.any() else x
                novelty.observe(t, buf_x[t], reached, x, done)
            ep_len += 1
            if done.any():
                ended = np.flatnonzero(done)
                if sil is not None:
                    sil.finish(ended, ep_len[ended])
                returns += info["true_return"][ended].tolist()
                successes += terminated[ended].tolist()
                lengths += ep_len[ended].tolist()
                ep_len[ended] = 0

        # --- advantages, then epochs of minibatch updates ---------------------------------------
        with torch.inference_mode():
            next_value = model.step(x, torch.from_numpy(ep_len / max_steps * config.time_aware).float(),
                                    torch.from_numpy(ep_len == 0).float(), memory)[1]
        if novelty is not None:
            buf_r += novelty.bonus()
        advantages, targets = gae(buf_r, buf_v, buf_done, next_value, config.gamma, config.gae_lambda)
        if levels is not None:
            levels.update(buf_done.numpy(), buf_return.numpy(), advantages.numpy())
        fx, fclock = buf_x.reshape(batch, S, S), buf_clock.reshape(-1)
        fa, flogp = buf_a.reshape(-1), buf_logp.reshape(-1)
        fadv, fret, fv = advantages.reshape(-1), targets.reshape(-1), buf_v.reshape(-1)
        fweight = buf_weight.reshape(-1) if levels is not None else None   # None: every step weighs 1
        kls, entropies, value_losses = [], [], []
        for _ in range(config.epochs):
            for mb, columns in minibatches(model.core is not None, B, T, config.minibatch, generator):
                weight = None if fweight is None else fweight[mb]
                if weight is not None and not weight.any():
                    continue                                   # evaluation-only steps: no gradient step
                if columns is None:
                    logits, value = model(fx[mb], fclock[mb])
                else:   # whole columns, replayed in order from the memory they started with
                    logits, value, _ = model.unroll(buf_x[:, columns], buf_clock[:, columns],
                                                    buf_first[:, columns], memory_start[columns])
                logp_all = torch.log_softmax(logits, -1)
                logp = logp_all.gather(1, fa[mb, None]).squeeze(1)
                entropy = -average((logp_all.exp() * logp_all).sum(-1), weight)
                log_ratio = logp - flogp[mb]
                ratio = log_ratio.exp()
                adv = normalise(fadv[mb], weight)
                pg_loss = average(torch.max(-adv * ratio, -adv * ratio.clamp(1 - config.clip, 1 + config.clip)), weight)
                v_clipped = fv[mb] + (value - fv[mb]).clamp(-config.clip, config.clip)
                v_loss = 0.5 * average(torch.max((value - fret[mb]) ** 2, (v_clipped - fret[mb]) ** 2), weight)
                loss = pg_loss - config.ent_coef * entropy + config.vf_coef * v_loss
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
                optimizer.step()
                if novelty is not None:
                    novelty.learn(fx[mb] if columns is None else buf_x[:, columns].reshape(-1, S, S), generator)
                with torch.no_grad():
                    kls.append(average((ratio - 1) - log_ratio, weight).item())
                entropies.append(entropy.item())
                value_losses.append(v_loss.item())
        if sil is not None:
            sil.update(model, optimizer, generator)

        # --- the curve, T now and then, a checkpoint now and then ------------------------------
        env_steps, wall = update * batch, wall_before + time.time() - start
        row = {"update": update, "env_steps": env_steps, "wall_s": round(wall, 1),
               "steps_per_s": round((update - first_update + 1) * batch / max(time.time() - start, 1e-9)),
               "episodes": len(returns), "mean_true_return": _mean(returns, 4), "success_rate": _mean(successes, 4),
               "mean_length": _mean(lengths, 1), "entropy": _mean(entropies, 4),
               "value_loss": _mean(value_losses, 5), "approx_kl": _mean(kls, 5),
               "T": ""}
        if env_steps >= next_eval or update == updates:
            row["T"] = round(train_score(model, task, seed, config.time_aware), 4)
            next_eval += config.eval_every
            if not progress:   # a log line instead of the bar (runs in a pool)
                print(f"ppo {task} seed {seed}: {env_steps / 1e6:.1f}M steps, {wall:.0f} s, "
                      f"return {row['mean_true_return']}, T {row['T']}", file=sys.stderr, flush=True)
        rows.append(row)
        bar.update(batch)
        bar.set_postfix(ret=row["mean_true_return"], succ=row["success_rate"], T=row["T"] or "-")
        if update % config.checkpoint_every == 0 or update == updates or update == stop_after:
            write_curve(curve_path, rows)
            ckpt_path.parent.mkdir(parents=True, exist_ok=True)
            state = {"run": run_key(task, seed, alpha, steps, config, net, levels), "model": model.state_dict(),
                     "optimizer": optimizer.state_dict(), "generator": generator.get_state(),
                     "envs": pickle.dumps(envs), "x": x, "memory": memory, "sil": sil, "novelty": novelty, "update": update, "ep_len": ep_len,
                     "wall_s": wall,
                     "next_eval": next_eval, "curve": curve_text(rows)}
            tmp = ckpt_path.with_suffix(".tmp")
            torch.save(state, tmp)
            tmp.replace(ckpt_path)
        if update == stop_after:
            bar.close()
            return ckpt_path
    bar.close()
    weights = out / f"{stem}.pt"
    save_weights(model, weights, task=task, seed=seed, alpha=alpha, env_steps=updates * batch,
                 max_steps=max_steps, config=asdict(config),
                 **({"levels": levels.settings} if levels is not None else {}))
    ckpt_path.unlink(missing_ok=True)
    envs.close()
    return weights


def minibatches(recurrent: bool, envs: int, steps: int, size: int, generator):
    """(indices into the flattened steps x envs rollout, env columns or None) per minibatch of
    one epoch. Memoryless: random steps. With memory: whole columns (every step of size // steps
    envs), since a column's steps must be replayed in order from the memory it started with."""
    if not recurrent:
        order = torch.randperm(envs * steps, generator=generator)
        return [(order[lo:lo + size], None) for lo in range(0, envs * steps, size)]
    order = torch.randperm(envs, generator=generator)
    return [((torch.arange(steps)[:, None] * envs + columns[None]).reshape(-1), columns)
            for columns in order.split(max(1, size // steps))]


def run_key(task, seed, alpha, steps, config, net, levels=None) -> dict:
    key = {"task": task, "seed": seed, "alpha": alpha, "steps": steps, "config": asdict(config), "net": net}
    return key if levels is None else {**key, "levels": levels.settings}


def _mean(values: list, digits: int):
    return round(float(np.mean(values)), digits) if values else ""


def curve_text(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_curve(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".csv.tmp")
    tmp.write_text(curve_text(rows))
    os.replace(tmp, path)
