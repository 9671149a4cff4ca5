"""Step helpers for task kernels: moves, cell writes, the inventory row, the observation."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .codes import AGENT_CODE, MOVES, OBJECT_TO_IDX, SIZE, cell
from .jit import jit

_WALL_TYPE = OBJECT_TO_IDX["wall"]
ANYWHERE = np.ones((SIZE, SIZE), bool)   # the region of a move that only walls block


@jit
def moved(grid, row, col, action, region):
    """One agent's move inside a kernel: the cell (row, col) reaches with `action` in its level's
    grid (H, W, 3), or (row, col) itself where that cell is a wall or outside `region` (H, W)
    bool."""
    to_row, to_col = row + MOVES[action, 0], col + MOVES[action, 1]
    if grid[to_row, to_col, 0] != _WALL_TYPE and region[to_row, to_col]:
        return to_row, to_col
    return row, col


@jit
def move_agent(grid, agent, action, region):
    """`moved` for one level's agent (2,), which it updates; returns its new (row, col)."""
    agent[0], agent[1] = moved(grid, agent[0], agent[1], action, region)
    return agent[0], agent[1]


def run_step(kernel, n: int, *args):
    """Run a task's step kernel over n levels; it writes each level's true reward, proxy reward
    and termination into the three arrays passed after `args`, which this returns."""
    true_r, proxy_r, done = np.empty(n), np.empty(n), np.empty(n, bool)
    kernel(*args, true_r, proxy_r, done)
    return true_r, proxy_r, done


@jit
def put_cell(grid, row, col, code):
    """Write the cell code (3,) at (row, col) of one level's grid (H, W, 3), inside a kernel."""
    for channel in range(3):
        grid[row, col, channel] = code[channel]


@jit
def copy_cell(grid, source, row, col):
    """Copy the code at (row, col) from one level's `source` into its `grid`, inside a kernel."""
    for channel in range(3):
        grid[row, col, channel] = source[row, col, channel]



@lru_cache(maxsize=8)
def inventory_rows(item: bytes) -> np.ndarray:
    """(SIZE - 1, SIZE - 2, 3): row k is the top wall's inner cells showing k items."""
    shown = np.arange(SIZE - 1)[:, None] > np.arange(SIZE - 2)[None, :]
    return np.where(shown[..., None], np.frombuffer(item, np.uint8), cell("wall", "grey")).astype(np.uint8)


@jit
def draw_inventory_row(grid, rows, count):
    """Row 0 (the top wall) of one level's grid (H, W, 3) shows what its agent carries, inside a
    kernel: `rows` is `inventory_rows(item)`, and cells (0, 1), (0, 2), ... show one item per
    `count` (up to SIZE - 2), a grey wall elsewhere, so a level carrying nothing shows a plain
    wall."""
    shown = rows[min(count, SIZE - 2)]
    for col in range(1, SIZE - 1):
        put_cell(grid, 0, col, shown[col - 1])



def observe(state: dict, out: np.ndarray | None = None, rows: np.ndarray | None = None) -> np.ndarray:
    """The symbolic observation: the grid with the agent drawn on top (written into `out` if
    given); `rows`, an index array, restricts it to those levels."""
    grid, agent = state["grid"], state["agent"]
    if rows is not None:
        grid, agent = grid[rows], agent[rows]
    if out is None:
        out = grid if rows is not None else grid.copy()   # indexing by rows made a copy already
    else:
        np.copyto(out, grid)
    return draw_agents(out, agent)


def draw_agents(grid: np.ndarray, agent: np.ndarray) -> np.ndarray:
    """Draw each level's agent (n, 2) on its grid (n, H, W, 3), in place; returns the grid."""
    _draw_agents(grid, agent)
    return grid


@jit
def _draw_agents(grid, agent):
    for i in range(len(agent)):
        put_cell(grid[i], agent[i, 0], agent[i, 1], AGENT_CODE)
