"""Breadth-first search on a batch of grids, on bit-packed rows; region growing."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .codes import MOVES, SIZE, STAY, UNREACHABLE, passable_table
from .layout import cell_index

def pack_rows(mask: np.ndarray) -> np.ndarray:
    """(B, H, W<=16) bool -> (B, H) uint16; bit c of a row is column c. The rows are padded to
    16 columns and packed as one flat array: packbits along a 13-wide last axis is slower."""
    *lead, w = mask.shape
    padded = np.zeros((*lead, 16), bool)
    if padded.size >= 4096:
        # Each row of w bools copied as one w-byte item: cheaper than a bool copy of w per row
        # (dearer on a few rows).
        padded.reshape(-1, 16)[:, :w].view(f"V{w}")[...] = np.ascontiguousarray(mask).reshape(-1, w).view(f"V{w}")
    else:
        padded[..., :w] = mask
    return np.packbits(padded.reshape(-1), bitorder="little").view("<u2").reshape(lead)


def unpack_rows(rows: np.ndarray, width: int = SIZE) -> np.ndarray:
    """Inverse of `pack_rows`: (B, H) uint16 -> (B, H, width) bool (a view of the 16 unpacked
    bits per row; unpacking the flat array is much faster than along a short axis)."""
    bits = np.unpackbits(np.ascontiguousarray(rows, "<u2").view(np.uint8), bitorder="little").view(bool)
    return bits.reshape(*rows.shape, 16)[..., :width]


@lru_cache(maxsize=16)
def _row_neighbours(length: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """For a flattened (..., h) array of packed rows: all-ones uint16 where row j may pass its
    cells to row j+1 (it is not a last row), and where row j+1 may pass them to row j."""
    row = np.tile(np.arange(h), length // h)
    ones = np.uint16(0xFFFF)
    return np.where(row[:-1] < h - 1, ones, 0).astype(np.uint16), np.where(row[1:] > 0, ones, 0).astype(np.uint16)


def spread(rows: np.ndarray) -> np.ndarray:
    """Packed cells (..., H) uint16 -> their packed 4-neighbours (one BFS layer, unmasked).
    Rows of the flattened batch, masked at each level's first and last row: long contiguous
    loops rather than one short loop per level."""
    flat = rows.reshape(-1)
    to_next, to_previous = _row_neighbours(len(flat), rows.shape[-1])
    out = flat + flat                # flat << 1: numpy adds uint16 in SIMD, it does not shift
    out |= flat >> 1
    out[1:] |= flat[:-1] & to_next
    out[:-1] |= flat[1:] & to_previous
    return out.reshape(rows.shape)


def distances(passable: np.ndarray, sources: np.ndarray, limit: int | None = None) -> np.ndarray:
    """Shortest 4-connected path lengths from the nearest source to every cell, for a batch.

    passable, sources: (B, H, W) bool. Returns (B, H, W) int32; UNREACHABLE where no path, and,
    given `limit`, where the path is longer than `limit` (a caller that only compares distances
    with a bound stops the search there, where a maze's farthest cells lie dozens of steps out).
    Breadth-first frontier expansion on bit-packed rows ((B, H) uint16), all levels at once;
    each cell's distance is recorded bit by bit in packed bit-planes, unpacked once at the end.
    """
    width = passable.shape[-1]
    frontier = pack_rows(sources & passable)
    open_rows = pack_rows(passable)
    unseen = open_rows & ~frontier             # passable cells not reached yet
    planes: list[np.ndarray] = []
    d = 0
    while frontier.any():
        if limit is not None and d > limit:
            unseen |= frontier                  # found, but farther than the limit
            break
        for k in range(d.bit_length()):
            if len(planes) <= k:
                planes.append(np.zeros_like(frontier))
            if (d >> k) & 1:
                planes[k] |= frontier
        frontier = spread(frontier)
        frontier &= unseen
        unseen ^= frontier
        d += 1
    seen = open_rows & ~unseen             # reached
    # Assemble the distances in the unpacked 16-bit rows, in the smallest integer that holds them
    # (uint8 on a 13x13 grid), then widen once: per-plane int32 arithmetic on strided views of
    # the grid took most of the time.
    rows = (*seen.shape, 16)
    value = np.zeros(rows, np.uint8 if len(planes) <= 8 else np.uint16).reshape(-1)
    for k, plane in enumerate(planes):
        bits = np.unpackbits(np.ascontiguousarray(plane, "<u2").view(np.uint8), bitorder="little")
        if value.dtype != bits.dtype:
            bits = bits.astype(value.dtype)
        np.left_shift(bits, k, out=bits)
        value |= bits
    # Widen, and OR UNREACHABLE into the cells never reached (their value is 0): a `where`
    # mixing uint8 and int32 took twice as long.
    dist = value.reshape(rows)[..., :width].astype(np.int32)
    unreached = np.unpackbits(np.ascontiguousarray(~seen, "<u2").view(np.uint8), bitorder="little")
    unreached = unreached.reshape(rows)[..., :width].astype(np.int32)
    unreached *= UNREACHABLE
    dist |= unreached
    return dist


def within(passable: np.ndarray, sources: np.ndarray, steps: int) -> np.ndarray:
    """(B, H, W) bool: the cells at most `steps` 4-connected steps from a source, through
    `passable` (what `distances(...) <= steps` says, without recording any distance)."""
    frontier = pack_rows(sources & passable)
    unseen = pack_rows(passable) & ~frontier
    seen = frontier.copy()
    for _ in range(steps):
        frontier = spread(frontier)
        frontier &= unseen
        if not frontier.any():
            break
        unseen ^= frontier
        seen |= frontier
    return unpack_rows(seen, passable.shape[-1])


def passable(grid: np.ndarray, blocking: tuple[str, ...] = ("wall",)) -> np.ndarray:
    return passable_table(blocking)[grid[..., 0]]


def on_a_shortest_path(dist_from_a: np.ndarray, dist_from_b: np.ndarray, a_to_b: np.ndarray) -> np.ndarray:
    """(B, H, W) bool: cells lying on some shortest path between a and b (given both BFS maps)."""
    return (dist_from_a.astype(np.int64) + dist_from_b) == np.asarray(a_to_b)[:, None, None]


def apart_from_both(dist_a: np.ndarray, dist_b: np.ndarray, a_to_b: np.ndarray) -> np.ndarray:
    """(B, H, W) bool: start cells from which no shortest path to a passes b and no shortest path
    to b passes a. Interior cells of a shortest a-b path always qualify, so for goals at least two
    steps apart the set is never empty: held-out generators place both goals, then the agent."""
    a_to_b = np.asarray(a_to_b, np.int64)[:, None, None]
    reach = (dist_a < UNREACHABLE) & (dist_b < UNREACHABLE)
    return reach & (dist_a + a_to_b != dist_b) & (dist_b + a_to_b != dist_a)


def descend(dist: np.ndarray, agent: np.ndarray, which: np.ndarray | None = None) -> np.ndarray:
    """The action that moves each agent to the neighbour with the smallest distance (ties: lowest
    action index); STAY on a source or where no neighbour is closer. An agent standing on a cell
    that is impassable in `dist` (an object the path routes around) still steps off it.
    `dist` (n, H, W); or (n, k, H, W) with `which` (n,) choosing each level's map, which reads
    the five cells needed instead of copying whole maps."""
    n = len(agent)
    h, w = dist.shape[-2:]
    if n == 1:  # a plain env: a dozen numpy calls cost more than this arithmetic
        row, col = agent[0].tolist()
        values, base = dist.reshape(-1), (0 if which is None else int(which[0])) * h * w
        here = values.item(base + row * w + col)
        around = [values.item(base + cell) for cell in _neighbour_lists(h, w)[row * w + col]]
        best = min(around)
        stay = here == 0 or best >= min(here, UNREACHABLE)
        return np.array([STAY if stay else around.index(best)])
    level = (np.arange(n) if which is None else np.arange(n) * dist.shape[1] + which) * (h * w)
    cell_here = cell_index(agent, w)
    values = dist.reshape(-1)
    around = _neighbour_cells(h, w).take(cell_here, axis=1)                        # (4, n)
    around += level
    d = values.take(around)
    here = values.take(level + cell_here)
    if n < 256:
        best, action = d.min(axis=0), d.argmin(axis=0)
    else:  # the first smallest of the four by nine operations along the batch: a min and an
        # argmin over the four cost more on a large batch
        best, action = d[0], np.zeros(n, np.int64)
        for a in range(1, 4):
            closer = d[a] < best
            action[closer] = a
            best = np.minimum(best, d[a])
    stay = (here == 0) | (best >= np.minimum(here, UNREACHABLE))
    return np.where(stay, STAY, action)


@lru_cache(maxsize=8)
def _neighbour_cells(h: int, w: int) -> np.ndarray:
    """(4, h*w): the flat index of each cell's up, right, down and left neighbour, clipped at the
    grid's edge (a table read instead of computing and clipping neighbours every call)."""
    rows, cols = np.divmod(np.arange(h * w), w)
    up_right_down_left = MOVES[:4, :, None]
    r = np.clip(rows + up_right_down_left[:, 0], 0, h - 1)
    c = np.clip(cols + up_right_down_left[:, 1], 0, w - 1)
    return r * w + c


@lru_cache(maxsize=8)
def _neighbour_lists(h: int, w: int) -> list[list[int]]:
    """`_neighbour_cells` as a list per cell, for plain Python reads."""
    return _neighbour_cells(h, w).T.tolist()


@lru_cache(maxsize=8)
def _may_spread(n: int, h: int, w: int) -> tuple[np.ndarray, ...]:
    """Flat (n*h*w,) masks of the cells that have a neighbour down, up, right, left in their level."""
    rows = np.tile(np.repeat(np.arange(h), w), n)
    cols = np.tile(np.arange(w), n * h)
    return rows < h - 1, rows > 0, cols < w - 1, cols > 0


def grow(mask: np.ndarray, diagonal: bool = False) -> np.ndarray:
    """(n, H, W) bool: the cells of `mask` and their 4 neighbours (8 with `diagonal`).
    Shifts of the flattened batch (long contiguous loops, cheaper than shifting (n, H, W)
    slices), masked so that nothing spreads across a row or level boundary."""
    n, h, w = mask.shape
    down, up, right, left = _may_spread(n, h, w)
    flat = mask.reshape(-1)
    out = flat.copy()
    out[w:] |= flat[:-w] & down[:-w]
    out[:-w] |= flat[w:] & up[w:]
    source = out.copy() if diagonal else flat
    out[1:] |= source[:-1] & right[:-1]
    out[:-1] |= source[1:] & left[1:]
    return out.reshape(n, h, w)


def neighbour_counts(mask: np.ndarray) -> np.ndarray:
    """(n, H, W) int8: how many of each cell's 4 neighbours are in `mask`. Flat shifts masked at
    row and level boundaries, as `grow` (cheaper than adding shifted (n, H, W) slices)."""
    n, h, w = mask.shape
    down, up, right, left = _may_spread(n, h, w)
    flat = np.ascontiguousarray(mask).reshape(-1)
    out = np.zeros(flat.size, np.int8)
    passed = np.empty(flat.size, bool)
    passed_int = passed.view(np.int8)
    shifts = ((w, down), (-w, up), (1, right), (-1, left))   # cell i counts cell i - k if allowed
    for k, allowed in shifts:
        here, there = (slice(k, None), slice(None, -k)) if k > 0 else (slice(None, k), slice(-k, None))
        np.logical_and(flat[there], allowed[there], out=passed[here])
        out[here] += passed_int[here]
    return out.reshape(n, h, w)

