"""Cell codes: what the three channels of a cell mean, the actions, and tables over codes."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

SIZE = 13  # suite-wide grid side: one observation shape for every task, as in jaxgmg's 13x13

OBJECT_TO_IDX = {
    "empty": 0, "wall": 1, "agent": 2, "door": 3, "ball": 4, "box": 5, "coin": 6,
    "cheese": 7, "dish": 8, "key": 9, "chest": 10, "apple": 11, "shield": 12,
    "monster": 13, "guide": 14, "beacon": 15, "lava": 16, "cue": 17,
}
COLOR_TO_IDX = {
    "black": 0, "red": 1, "green": 2, "blue": 3, "purple": 4, "yellow": 5,
    "grey": 6, "orange": 7, "white": 8, "brown": 9,
}
# Third channel. `marked` is a floor marking under an object (SpuriousCue's cue tile);
# `active` and `used` are for objects a task switches (beacons lit, chests opened).
STATE_TO_IDX = {"none": 0, "marked": 1, "active": 2, "used": 3}

IDX_TO_OBJECT = {v: k for k, v in OBJECT_TO_IDX.items()}
IDX_TO_COLOR = {v: k for k, v in COLOR_TO_IDX.items()}

# Action index -> (d_row, d_col): 0 up, 1 right, 2 down, 3 left, 4 stay.
ACTION_NAMES = ("up", "right", "down", "left", "stay")
MOVES = np.array([[-1, 0], [0, 1], [1, 0], [0, -1], [0, 0]], dtype=np.int64)
STAY = 4

UNREACHABLE = np.iinfo(np.int32).max // 2


def cell(obj: str, color: str = "black", state: str = "none") -> np.ndarray:
    """One cell's (type, colour, state) code."""
    return np.array([OBJECT_TO_IDX[obj], COLOR_TO_IDX[color], STATE_TO_IDX[state]], np.uint8)


AGENT_CODE = cell("agent", "white")


@lru_cache(maxsize=None)
def blocking_table(blocking: tuple[str, ...]) -> np.ndarray:
    table = np.zeros(256, bool)
    table[[OBJECT_TO_IDX[o] for o in blocking]] = True
    return table


@lru_cache(maxsize=None)
def passable_table(blocking: tuple[str, ...]) -> np.ndarray:
    return ~blocking_table(blocking)

