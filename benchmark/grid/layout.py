"""Layouts: rooms and mazes, and where cells sit in a batch of grids (indices, masks, writes)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .codes import OBJECT_TO_IDX, SIZE, cell
from .jit import jit
from .rng import LevelRNG

def batch_index(n: int) -> np.ndarray:
    return np.arange(n)


@lru_cache(maxsize=1)
def _room() -> np.ndarray:
    room = np.zeros((SIZE, SIZE, 3), np.uint8)
    room[[0, -1], :] = cell("wall", "grey")
    room[:, [0, -1]] = cell("wall", "grey")
    return room


def empty_room(n: int) -> np.ndarray:
    """(n, SIZE, SIZE, 3) grids with a wall border and an empty interior."""
    return np.broadcast_to(_room(), (n, SIZE, SIZE, 3)).copy()


@lru_cache(maxsize=None)
def _maze_edges(cell_rows: int, cell_cols: int):
    """Edges between neighbouring maze cells: endpoints (cell ids) and the wall cell between."""
    ids = np.arange(cell_rows * cell_cols).reshape(cell_rows, cell_cols)
    u = np.concatenate([ids[:, :-1].ravel(), ids[:-1, :].ravel()])
    v = np.concatenate([ids[:, 1:].ravel(), ids[1:, :].ravel()])
    r, c = np.divmod(u, cell_cols)
    vertical = np.arange(len(u)) >= cell_rows * (cell_cols - 1)       # edge to the cell below
    return u, v, 2 * r + 1 + vertical, 2 * c + 1 + ~vertical


def maze_walls(rng: LevelRNG, cell_rows: int = 6, cell_cols: int = 6, loops: int = 0) -> np.ndarray:
    """Random mazes by Kruskal's algorithm (as procgen's maze generator).

    Returns (n, 2*cell_rows+1, 2*cell_cols+1) bool, True = wall; maze cells sit at odd indices.
    Edges are visited in a random order per level (`LevelRNG.permutations`); an edge joining
    two different components is opened (`_kruskal`, a kernel). Then `loops` more closed walls
    between cells are knocked out, giving a maze with cycles.
    """
    n = rng.n
    u, v, wall_r, wall_c = _maze_edges(cell_rows, cell_cols)
    opened = np.zeros((n, len(u)), bool)
    _kruskal(rng.permutations(len(u)), u, v, cell_rows * cell_cols, opened)
    if loops:
        keys = np.where(opened, -1.0, rng.random((len(u),)))
        knock = np.argpartition(-keys, loops - 1, axis=1)[:, :loops]
        opened[np.arange(n)[:, None], knock] |= np.take_along_axis(keys, knock, axis=1) >= 0
    walls = np.ones((n, 2 * cell_rows + 1, 2 * cell_cols + 1), bool)
    walls[:, 1::2, 1::2] = False
    walls[:, wall_r, wall_c] = ~opened
    return walls


@jit
def _kruskal(order, u, v, n_cells, opened):
    """opened[i, e] = True for each edge e (between cells u[e] and v[e]) that joins two
    components when level i visits its edges in the order order[i] (union-find with path
    halving; which edges open depends on the order alone)."""
    parent = np.empty(n_cells, np.int64)
    for i in range(order.shape[0]):
        for c in range(n_cells):
            parent[c] = c
        for k in range(order.shape[1]):
            edge = order[i, k]
            a, b = u[edge], v[edge]
            while parent[a] != a:
                parent[a] = parent[parent[a]]
                a = parent[a]
            while parent[b] != b:
                parent[b] = parent[parent[b]]
                b = parent[b]
            if a != b:
                parent[b] = a
                opened[i, edge] = True


def maze_grid(rng: LevelRNG, loops: int = 0) -> np.ndarray:
    """(n, SIZE, SIZE, 3) Kruskal maze grids filling the whole interior (6x6 maze cells)."""
    walls = maze_walls(rng, (SIZE - 1) // 2, (SIZE - 1) // 2, loops)
    return walls_to_grid(walls)


def walls_to_grid(walls: np.ndarray) -> np.ndarray:
    """Bool (n, SIZE, SIZE) wall map -> grid with grey walls."""
    grid = np.zeros((*walls.shape, 3), np.uint8)
    wall = cell("wall", "grey")
    for channel in range(3):          # channel by channel: much cheaper than a broadcast multiply
        if wall[channel]:
            np.multiply(walls, wall[channel], out=grid[..., channel], casting="unsafe")
    return grid


def place(grid: np.ndarray, pos: np.ndarray, code: np.ndarray, where: np.ndarray | None = None) -> None:
    """Write one cell code at pos (n, 2) in each level (only where `where` is True)."""
    cells = flat_index(grid.shape, pos)
    put_flat(grid, cells if where is None else cells[where], code)


def is_type(grid: np.ndarray, obj: str) -> np.ndarray:
    """(…, H, W) bool mask of cells holding `obj`."""
    return grid[..., 0] == OBJECT_TO_IDX[obj]


@lru_cache(maxsize=64)
def level_offsets(n: int, cells: int) -> np.ndarray:
    """(n,) where each of n levels of `cells` items starts in their flat array (cached: read only)."""
    offsets = np.arange(n) * cells
    offsets.flags.writeable = False
    return offsets


def cell_index(pos: np.ndarray, w: int = SIZE) -> np.ndarray:
    """Index of each cell pos (..., 2) among its level's cells, row-major (W columns)."""
    return pos[..., 0] * w + pos[..., 1]


def flat_index(shape: tuple, pos: np.ndarray) -> np.ndarray:
    """Index of each level's cell `pos` (n, 2), or cells (n, k, 2), into grid.reshape(-1, 3) of a
    (n, H, W, 3) grid."""
    n, h, w = shape[:3]
    offsets = level_offsets(n, h * w)
    if pos.ndim > 2:
        offsets = offsets.reshape(n, *(1,) * (pos.ndim - 2))
    return offsets + cell_index(pos, w)


def same_cell(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n,) bool: positions a and b (n, 2) are the same cell (faster than .all(axis=1))."""
    return (a[:, 0] == b[:, 0]) & (a[:, 1] == b[:, 1])


def one_hot_cells(shape: tuple, pos: np.ndarray) -> np.ndarray:
    """(n, H, W) bool with one True at pos (n, 2) per level."""
    mask = np.zeros(shape, bool)
    mask[np.arange(shape[0]), pos[:, 0], pos[:, 1]] = True
    return mask


@lru_cache(maxsize=4)
def _boxes(h: int, w: int) -> np.ndarray:
    """(h, w, h, w) bool: for each cell, the 3x3 box around it (clipped at the grid's edge)."""
    r, c = np.indices((h, w))
    return (np.abs(r[:, :, None, None] - r) <= 1) & (np.abs(c[:, :, None, None] - c) <= 1)


def box_around(shape: tuple, pos: np.ndarray) -> np.ndarray:
    """(n, H, W) bool: the cell pos (n, 2) and its 8 neighbours in each level, i.e.
    grow(one_hot_cells(shape, pos), diagonal=True), read from a table."""
    return _boxes(*shape[1:3])[pos[:, 0], pos[:, 1]]


def region_mask(rows: slice, cols: slice) -> np.ndarray:
    """(SIZE, SIZE) bool mask of a rectangular region."""
    mask = np.zeros((SIZE, SIZE), bool)
    mask[rows, cols] = True
    return mask



_CELL = np.dtype("V3")


def put_cells(grid: np.ndarray, pos: np.ndarray, code: np.ndarray) -> None:
    """Write the cell code (3,) at pos (n, 2) in each level of a C-contiguous grid (n, H, W, 3)."""
    put_flat(grid, flat_index(grid.shape, pos), code)


def put_flat(grid: np.ndarray, cells: np.ndarray, code: np.ndarray) -> None:
    """Write the cell code (3,) at flat cell indices (into grid.reshape(-1, 3)) of a C-contiguous
    grid (n, H, W, 3), with one scatter; or, given codes of shape (*cells.shape, 3), each cell
    its own code."""
    if code.ndim == 1:
        items = _cell_item(bytes(code))
    else:
        items = np.ascontiguousarray(code, np.uint8).view(_CELL)
    _cells_of(grid, "put_flat").put(cells, items)


def put_from_table(grid: np.ndarray, cells: np.ndarray, table: np.ndarray, which: np.ndarray) -> None:
    """Write the cell codes table[which] at flat cell indices `cells` (of which's shape) of a
    C-contiguous grid (n, H, W, 3); `table` (k, 3) uint8. Gathered and scattered as 3-byte items:
    indexing the table's rows would cost more than the whole write (SpuriousCue's objects)."""
    items = np.ascontiguousarray(table, np.uint8).view(_CELL).reshape(-1).take(which)
    _cells_of(grid, "put_from_table").put(cells, items)


def _cells_of(grid: np.ndarray, caller: str) -> np.ndarray:
    """A C-contiguous grid (n, H, W, 3) seen as a flat array of 3-byte cells (a view)."""
    if not grid.flags.c_contiguous:
        raise ValueError(f"{caller} needs a C-contiguous grid")
    return grid.reshape(-1).view(_CELL)


@lru_cache(maxsize=256)
def _cell_item(code: bytes) -> np.ndarray:
    return np.frombuffer(code, _CELL)

