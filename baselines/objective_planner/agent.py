"""The learned-objective planner: a reward model over cell features plus BFS search.

Reward model: r(cell) = b + w_type[type] + w_colour[colour] + w_state[state] + w_pos[row, col],
a ridge regression fitted in train.py. Acting: cells predicted to pay more than THRESHOLD are goals;
the agent walks the shortest path (BFS on the observed grid, walls and cells predicted to cost
more than THRESHOLD avoided) to the goal with the best r * GAMMA**distance, and stays when it
sees none. It re-plans every step, so consumed objects drop out of its goals.

The cell's code is encoded by one of FEATURES (train.py's `features`; tools/planner_features.py
compares them): "separate", the default and the committed weights', one one-hot each for type,
colour and state, as above; "no-colour", type and state only; "joint", one one-hot of the
(type, colour, state) combination. Every encoding adds the bias and the position one-hot. A
weights file names its encoding in `features`; a file without it (the committed ones) is "separate".
"""

from pathlib import Path

import numpy as np

from benchmark import grid as G

WEIGHTS = Path(__file__).parent / "weights"
THRESHOLD, GAMMA = 0.05, 0.95
N_TYPES, N_COLOURS, N_STATES = 32, 16, 8    # feature slots (more than the suite uses)
# Encoding -> its one-hot groups over the cell's code, in the order of the weight vector.
FEATURES = {"separate": ("type", "colour", "state"), "no-colour": ("type", "state"),
            "joint": ("type-colour-state",)}
DEFAULT_FEATURES = "separate"
SLOTS = {"type": N_TYPES, "colour": N_COLOURS, "state": N_STATES,
         "type-colour-state": N_TYPES * N_COLOURS * N_STATES}


def groups(features: str) -> tuple[str, ...]:
    if features not in FEATURES:
        raise ValueError(f"unknown features {features!r}; known: {', '.join(FEATURES)}")
    return FEATURES[features]


def n_features(features: str = DEFAULT_FEATURES) -> int:
    """Length of the weight vector: bias, the encoding's groups, then the cell position."""
    return 1 + sum(SLOTS[group] for group in groups(features)) + G.SIZE * G.SIZE


N_FEATURES = n_features()


def feature_index(codes: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                  features: str = DEFAULT_FEATURES) -> np.ndarray:
    """(..., 3) cell codes and positions -> (..., k) indices of the active one-hot features
    (k = 5 for "separate": bias, type, colour, state, position)."""
    encoding = groups(features)
    t = np.minimum(codes[..., 0], N_TYPES - 1).astype(np.int64)
    c = np.minimum(codes[..., 1], N_COLOURS - 1).astype(np.int64)
    s = np.minimum(codes[..., 2], N_STATES - 1).astype(np.int64)
    value = {"type": t, "colour": c, "state": s, "type-colour-state": (t * N_COLOURS + c) * N_STATES + s}
    active, offset = [np.zeros_like(t)], 1
    for group in encoding:
        active.append(offset + value[group])
        offset += SLOTS[group]
    active.append(offset + rows * G.SIZE + cols)
    return np.stack(np.broadcast_arrays(*active), axis=-1)


def agent_positions(obs: np.ndarray) -> np.ndarray:
    flat = (obs[..., 0] == G.OBJECT_TO_IDX["agent"]).reshape(len(obs), -1).argmax(axis=1)
    return np.stack(np.divmod(flat, obs.shape[2]), axis=1)


class PlannerAgent:
    def __init__(self, weights: np.ndarray, features: str = DEFAULT_FEATURES):
        if len(weights) != n_features(features):
            raise ValueError(f"{len(weights)} weights, but features {features!r} have {n_features(features)}")
        self.w, self.features = weights, features

    def predicted_rewards(self, obs: np.ndarray) -> np.ndarray:
        rows, cols = np.indices(obs.shape[1:3])
        return self.w[feature_index(obs, rows, cols, self.features)].sum(axis=-1)   # (B, H, W)

    def act(self, obs: np.ndarray, first: np.ndarray) -> np.ndarray:
        reward = self.predicted_rewards(obs)
        agent = agent_positions(obs)
        walls = obs[..., 0] == G.OBJECT_TO_IDX["wall"]
        here = G.one_hot_cells(walls.shape, agent)
        goals = (reward > THRESHOLD) & ~walls & ~here
        walkable = ~walls & ((reward > -THRESHOLD) | goals | here)
        from_agent = G.distances(walkable, here)
        value = np.where(goals & (from_agent < G.UNREACHABLE), reward * GAMMA ** np.minimum(from_agent, 200), -np.inf)
        best = value.reshape(len(obs), -1).argmax(axis=1)
        has_goal = np.isfinite(value.reshape(len(obs), -1).max(axis=1))
        target = np.zeros_like(walls)
        target.reshape(len(obs), -1)[np.arange(len(obs)), best] = has_goal
        actions = G.descend(G.distances(walkable, target), agent)
        return np.where(has_goal, actions, G.STAY).astype(np.int64)


def make_agent(task_id: str, seed: int, weights: Path = WEIGHTS) -> PlannerAgent:
    with np.load(Path(weights) / f"{task_id}-seed{seed}.npz") as data:
        features = str(data["features"]) if "features" in data.files else DEFAULT_FEATURES
        return PlannerAgent(data["weights"], features)
