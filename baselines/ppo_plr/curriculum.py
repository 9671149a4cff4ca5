"""Robust prioritized level replay over level seeds (Jiang, Dennis, Parker-Holder, Foerster,
Grefenstette and Rocktaschel 2021, "Replay-Guided Adversarial Environment Design"; PLR: Jiang,
Grefenstette and Rocktaschel 2021), as a level choice for `baselines.ppo.ppo.train(levels=...)`.

A level is a seed s of the training block; the env makes it as `task.levels("train", [s])`, over
the same alpha-mixed generator as domain randomization: the curriculum chooses seeds and never
edits a level, so every level it plays is a pure function of (task, split, seed). It sees only
seeds and returns (and, for one estimator, the true-oracle's return), never whether a level is
disambiguating.

The buffer holds up to K seeds s_1..s_n, each with a score S_i (its regret estimate) and c_i,
the episode clock when it was last started. The clock c counts the episodes started.

Replay distribution (rank prioritization with temperature beta, mixed with staleness by rho):

    h_i = 1 / rank(S_i)                  rank 1 = the highest score; ties by buffer slot
    P_S(i) = h_i^(1/beta) / sum_j h_j^(1/beta)
    P_C(i) = (c - c_i) / sum_j (c - c_j)     (uniform 1/n if every level was just started)
    P(i) = (1 - rho) P_S(i) + rho P_C(i)

Each episode start (a row of the vector env whose episode ended, or every row at the reset):
with probability p, once the buffer holds at least f K seeds, the row replays a level drawn from
P (rows starting at the same step draw distinct levels, as jaxgmg's `sample_replay` does), and
that level's c_i becomes the clock; otherwise it plays a new level, the next seed of the env's
own stream. Robust PLR: gradient only on replayed levels. A new level is played to be scored
(loss weight 0), its steps counted against the budget like any other.

Score of a finished episode on level s with return G (undiscounted true return) and GAE
advantages A_1..A_L over its L steps:

    regret "oracle":  S = G*(s) - G          G*(s): the benchmark's true-oracle's return on s
                                             (exact regret; the oracle reads the level state:
                                             privileged knowledge, declared in the manifest)
    regret "pvl":     S = (1/L) sum_t max(A_t, 0)      positive value loss, as the papers use

(An episode running over several rollouts takes its advantages from each, the earlier ones
bootstrapped at the rollout's end as PPO's own are.) A finished level still in the buffer gets
S as its new score; any other enters the buffer if n < K, else replaces the level of lowest
P(i) if that level's score is below S (jaxued's rule), with c_i = c.

Settings: K = 4096, beta = 0.1, rho = 0.1, p = 0.5 are jaxgmg's defaults (its training script,
`plr_buffer_size`, `plr_temperature`, `plr_staleness_coeff`, `plr_prob_replay`; its paper's
robust-PLR runs sweep p in {0.5, 0.33}). f = 0.5 is jaxued's `minimum_fill_ratio` (maze_plr):
jaxgmg instead starts from a buffer of placeholder levels of score 0. Two departures from both,
owing to the native env's per-row autoreset: the replay decision is made per episode start
rather than per batch of levels (as in the original PLR code, facebookresearch/level-replay,
which samples at each reset), and staleness counts episodes started (jaxued's episode count)."""

from __future__ import annotations

from collections import deque

import numpy as np

REGRETS = ("oracle", "pvl")
SETTINGS = {"capacity": 4096, "temperature": 0.1, "staleness": 0.1, "replay_prob": 0.5, "min_fill": 0.5}


class OracleReturns:
    """G*(s): the true-oracle's return on train-split levels of `task` at `alpha`, played by
    the benchmark's rollout (the scorer's reference planner; it reads the level state)."""

    def __init__(self, task: str, alpha: float):
        self.task, self.alpha = task, alpha

    def __call__(self, seeds: np.ndarray) -> np.ndarray:
        from benchmark.contract.registry import get_task
        from benchmark.evaluation.rollout import rollout

        task = get_task(self.task, alpha=self.alpha)
        return rollout(task, "train", task.oracle("true"), np.asarray(seeds, np.uint64))["true_return"].to_numpy()


class PLR:
    """Robust PLR over level seeds (the module docstring is its math). `oracle`: G*(seeds) for
    regret "oracle" (`OracleReturns`), None for "pvl"."""

    def __init__(self, num_envs: int, seed: int, regret: str = "pvl", oracle=None, capacity: int = SETTINGS["capacity"],
                 temperature: float = SETTINGS["temperature"], staleness: float = SETTINGS["staleness"],
                 replay_prob: float = SETTINGS["replay_prob"], min_fill: float = SETTINGS["min_fill"]):
        if regret not in REGRETS:
            raise ValueError(f"regret must be one of {', '.join(REGRETS)}, got {regret!r}")
        if (regret == "oracle") != (oracle is not None):
            raise ValueError("regret 'oracle' needs the oracle's returns (`oracle`); 'pvl' uses none")
        self.regret, self.oracle = regret, oracle
        self.capacity, self.temperature, self.staleness = capacity, temperature, staleness
        self.replay_prob, self.min_fill = replay_prob, min_fill
        self.rng = np.random.default_rng(seed)
        # The buffer: slots 0..size-1 hold seed, score, last start (clock) and, for exact regret, G*.
        self.seeds = np.zeros(capacity, np.uint64)
        self.scores, self.best = np.zeros(capacity), np.zeros(capacity)
        self.last = np.zeros(capacity, np.int64)
        self.size, self.clock, self.slot = 0, 0, {}      # slot: seed -> buffer slot
        self.replayed = self.new = 0                     # episodes started of each kind
        # Per row: the episodes begun and not yet scored, oldest first, as (seed, replayed); the
        # loss weight of its current episode; the running positive-advantage sum and length of
        # its current episode over earlier rollouts.
        self.playing = [deque() for _ in range(num_envs)]
        self.weight = np.zeros(num_envs)
        self.carry_sum, self.carry_len = np.zeros(num_envs), np.zeros(num_envs, np.int64)

    @property
    def settings(self) -> dict:
        return {"method": "robust PLR", "regret": self.regret, "capacity": self.capacity,
                "temperature": self.temperature, "staleness": self.staleness,
                "replay_prob": self.replay_prob, "min_fill": self.min_fill}

    # --- the replay distribution -------------------------------------------------------------
    def probabilities(self) -> np.ndarray:
        """P over the buffer's slots 0..size-1."""
        n = self.size
        ranks = np.empty(n)
        ranks[np.argsort(-self.scores[:n], kind="stable")] = np.arange(1, n + 1)
        h = (1.0 / ranks) ** (1.0 / self.temperature)
        stale = (self.clock - self.last[:n]).astype(np.float64)
        p_c = stale / stale.sum() if stale.sum() > 0 else np.full(n, 1.0 / n)
        return (1 - self.staleness) * h / h.sum() + self.staleness * p_c

    # --- the env's level source ----------------------------------------------------------------
    def __call__(self, rows: np.ndarray, stream) -> np.ndarray:
        rows = np.asarray(rows, np.int64)
        k = len(rows)
        replay = np.zeros(k, bool)
        if self.size >= self.min_fill * self.capacity:
            replay = self.rng.random(k) < self.replay_prob
        seeds = np.zeros(k, np.uint64)
        m = int(replay.sum())
        seeds[~replay] = stream(k - m)
        self.clock += k
        if m:
            p = self.probabilities()
            slots = self.rng.choice(self.size, size=m, replace=m > np.count_nonzero(p), p=p / p.sum())
            seeds[replay] = self.seeds[slots]
            self.last[slots] = self.clock
        for row, seed, again in zip(rows.tolist(), seeds.tolist(), replay.tolist()):
            self.playing[row].append((seed, again))
        self.weight[rows] = replay
        self.replayed += m
        self.new += k - m
        return seeds

    # --- scores, after each rollout ------------------------------------------------------------
    def update(self, dones: np.ndarray, returns: np.ndarray, advantages: np.ndarray) -> None:
        steps, num_envs = dones.shape
        cum = np.cumsum(np.maximum(np.asarray(advantages, np.float64), 0.0), axis=0)
        last_end = np.full(num_envs, -1)
        finished = []                                    # (seed, return, positive value loss)
        for t, row in zip(*np.nonzero(dones)):           # in time order, so per row in episode order
            before = last_end[row]
            total, length = cum[t, row] - (cum[before, row] if before >= 0 else 0.0), t - before
            if before < 0:
                total, length = total + self.carry_sum[row], length + self.carry_len[row]
            seed, _ = self.playing[row].popleft()
            finished.append((seed, float(returns[t, row]), total / length))
            last_end[row] = t
        ended = last_end >= 0
        tail = cum[-1] - cum[np.maximum(last_end, 0), np.arange(num_envs)]
        self.carry_sum = np.where(ended, tail, self.carry_sum + cum[-1])
        self.carry_len = np.where(ended, steps - 1 - last_end, self.carry_len + steps)
        if not finished:
            return
        seeds = [seed for seed, _, _ in finished]
        if self.regret == "oracle":
            best = self._oracle_returns(seeds)
            scores = best - np.array([g for _, g, _ in finished])
        else:
            best, scores = np.zeros(len(seeds)), np.array([pvl for _, _, pvl in finished])
        for seed, score, g_star in zip(seeds, scores.tolist(), best.tolist()):
            self._record(seed, score, g_star)

    def _oracle_returns(self, seeds: list[int]) -> np.ndarray:
        """G* of each seed: kept in the buffer for its levels, played by the oracle for the rest."""
        best = np.array([self.best[self.slot[s]] if s in self.slot else np.nan for s in seeds])
        missing = np.flatnonzero(np.isnan(best))
        if len(missing):
            unique, back = np.unique(np.array(seeds, np.uint64)[missing], return_inverse=True)
            best[missing] = np.asarray(self.oracle(unique), np.float64)[back]
        return best

    def _record(self, seed: int, score: float, g_star: float) -> None:
        if seed in self.slot:                            # a level of the buffer: its new score
            self.scores[self.slot[seed]] = score
            return
        if self.size < self.capacity:
            slot = self.size
            self.size += 1
        else:
            slot = int(np.argmin(self.probabilities()))
            if not self.scores[slot] < score:
                return
            del self.slot[int(self.seeds[slot])]
        self.seeds[slot], self.scores[slot], self.best[slot], self.last[slot] = seed, score, g_star, self.clock
        self.slot[seed] = slot
