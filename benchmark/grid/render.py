"""Rendering: every cell code drawn as a 16x16 tile, so shapes differ as well as colours."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .codes import COLOR_TO_IDX, IDX_TO_COLOR, IDX_TO_OBJECT, OBJECT_TO_IDX, STATE_TO_IDX

TILE = 16
_RGB = {
    "black": (0, 0, 0), "red": (230, 40, 40), "green": (40, 200, 60), "blue": (50, 100, 240),
    "purple": (160, 60, 220), "yellow": (245, 215, 30), "grey": (120, 120, 120),
    "orange": (255, 140, 0), "white": (245, 245, 245), "brown": (140, 90, 40),
}


def _shape_mask(obj: str) -> np.ndarray:
    """A TILE x TILE bool silhouette per object type, so shapes differ as well as colours."""
    y, x = (np.mgrid[0:TILE, 0:TILE] + 0.5) / TILE - 0.5                # centred, in [-0.5, 0.5]
    r = np.hypot(x, y)
    box = lambda a: (np.abs(x) <= a) & (np.abs(y) <= a)                  # noqa: E731
    shapes = {
        "empty": np.zeros_like(r, bool),
        "wall": np.ones_like(r, bool),
        "agent": (y <= 0.38) & (np.abs(x) <= (0.38 - y) * 0.55) & (y >= -0.38),  # triangle
        "door": box(0.44) & ~((np.abs(x) <= 0.3) & (y >= -0.3)) | ((np.abs(x - 0.18) < 0.06) & (np.abs(y) < 0.06)),
        "ball": r <= 0.32,
        "box": box(0.36) & ~box(0.24),
        "coin": (r <= 0.26) & ~((np.abs(x) < 0.05) & (np.abs(y) < 0.16)),
        "cheese": (y >= -0.3) & (y <= 0.3) & (x >= -0.35) & (x <= 0.35) & (y >= x * 0.85 - 0.3) & ~((np.hypot(x - 0.1, y - 0.12) < 0.07)),
        "dish": (np.abs(y - 0.1) <= 0.1) & (np.abs(x) <= 0.42) | ((np.abs(y - 0.22) <= 0.04) & (np.abs(x) <= 0.2)),
        "key": (np.hypot(x + 0.22, y) <= 0.16) & (np.hypot(x + 0.22, y) >= 0.07) | ((np.abs(y) <= 0.05) & (x >= -0.08) & (x <= 0.38)) | ((x >= 0.22) & (x <= 0.3) & (y >= 0) & (y <= 0.16)),
        "chest": (box(0.38) & (np.abs(y) <= 0.28)) & ~((np.abs(y + 0.02) < 0.03) & (np.abs(x) < 0.36)) | ((np.abs(x) < 0.06) & (np.abs(y) < 0.08)),
        "apple": (np.hypot(x, y - 0.06) <= 0.3) | ((np.abs(x - 0.04) <= 0.03) & (y >= -0.42) & (y <= -0.2)),
        "shield": (np.abs(x) <= 0.32) & (y >= -0.36) & (y <= 0.36 - np.abs(x) * 0.9) & ~((np.abs(x) <= 0.18) & (y >= -0.22) & (y <= 0.2 - np.abs(x))),
        "monster": ((r <= 0.36) & ~(((np.hypot(x + 0.13, y + 0.08)) < 0.07) | (np.hypot(x - 0.13, y + 0.08) < 0.07))) & ~((y > 0.12) & (np.abs(x) < 0.2) & (y < 0.2)),
        "guide": (np.hypot(x, y + 0.22) <= 0.14) | ((np.abs(x) <= 0.28 - (y + 0.05) * 0.0) & (y >= -0.04) & (y <= 0.4) & (np.abs(x) <= 0.08 + (y + 0.04) * 0.6)),
        "beacon": ((np.abs(x) + np.abs(y)) <= 0.4) & ~((np.abs(x) + np.abs(y)) <= 0.2),
        "lava": ((np.sin((x + 0.5) * 4 * np.pi) * 0.12 + y) % 0.33) < 0.2,
        "cue": (r >= 0.3) & (r <= 0.42),
    }
    return shapes[obj]


def _tile(obj_idx: int, color_idx: int, state_idx: int) -> np.ndarray:
    tile = np.zeros((TILE, TILE, 3), np.uint8)
    if state_idx == STATE_TO_IDX["marked"]:
        tile[:] = (70, 70, 10)                                          # a lit floor tile
    obj = IDX_TO_OBJECT.get(obj_idx)
    if obj is None:
        return tile
    rgb = np.array(_RGB[IDX_TO_COLOR.get(color_idx, "white")], np.uint8)
    if obj == "agent":
        rgb = np.array((255, 255, 255), np.uint8)
    tile[_shape_mask(obj)] = rgb
    if state_idx == STATE_TO_IDX["active"]:
        tile[[0, 1, -2, -1], :] = (255, 255, 255)                       # a white frame
        tile[:, [0, 1, -2, -1]] = (255, 255, 255)
    elif state_idx == STATE_TO_IDX["used"]:
        tile[::3, ::3] = (0, 0, 0)                                      # dimmed
    if obj != "wall":                                                   # grid lines
        tile[0, :] = np.maximum(tile[0, :], 30)
        tile[:, 0] = np.maximum(tile[:, 0], 30)
    return tile


@lru_cache(maxsize=1)
def tile_table() -> np.ndarray:
    """(n_objects, n_colours, n_states, TILE, TILE, 3) uint8, every cell code pre-rendered."""
    shape = (len(OBJECT_TO_IDX), len(COLOR_TO_IDX), len(STATE_TO_IDX))
    table = np.zeros((*shape, TILE, TILE, 3), np.uint8)
    for o, c, s in np.ndindex(*shape):
        table[o, c, s] = _tile(o, c, s)
    return table


def render_rgb(obs: np.ndarray) -> np.ndarray:
    """Symbolic observation(s) (…, H, W, 3) -> RGB image(s) (…, H*TILE, W*TILE, 3) uint8."""
    table = tile_table()
    o = np.minimum(obs[..., 0], table.shape[0] - 1)
    c = np.minimum(obs[..., 1], table.shape[1] - 1)
    s = np.minimum(obs[..., 2], table.shape[2] - 1)
    tiles = table[o, c, s]                                              # (…, H, W, T, T, 3)
    *lead, h, w = obs.shape[:-1]
    return tiles.swapaxes(-4, -3).reshape(*lead, h * TILE, w * TILE, 3)


# --- what the harness draws over a level: never part of an observation --------------------------

# The fixed colours of the two objectives in replays and task pictures: the outline of the cells
# an objective's oracle heads for, and that oracle's path. Neither is the colour of any cell.
TARGET_RGB = {"true": (0, 230, 255), "proxy": (255, 0, 200)}
AGENT_PATH_RGB = (255, 255, 255)
OUTLINE = 2          # px, at one pixel per TILE pixel; scaled with the picture


def enlarge(image: np.ndarray, factor: int) -> np.ndarray:
    """An image (H, W, 3) with every pixel repeated `factor` times along both axes."""
    return image if factor == 1 else image.repeat(factor, axis=0).repeat(factor, axis=1)


def outline_cells(image: np.ndarray, cells: np.ndarray, rgb, cell_px: int, inset: int = 0,
                  width: int = OUTLINE) -> None:
    """Draw, in place, a `width`-pixel frame `inset` pixels inside every cell of `cells` (H, W) bool
    on `image` (H * cell_px, W * cell_px, 3). Two objectives on one cell nest, one inset by the
    other's width."""
    for row, col in zip(*np.nonzero(cells)):
        top, left = row * cell_px + inset, col * cell_px + inset
        bottom, right = (row + 1) * cell_px - inset, (col + 1) * cell_px - inset
        image[top:top + width, left:right] = rgb
        image[bottom - width:bottom, left:right] = rgb
        image[top:bottom, left:left + width] = rgb
        image[top:bottom, right - width:right] = rgb


def draw_path(image: np.ndarray, path: np.ndarray, rgb, cell_px: int, offset: int = 0,
              width: int = OUTLINE) -> None:
    """Draw, in place, a path of cells (L + 1, 2) as a `width`-pixel line through their centres,
    shifted `offset` pixels down and right (so that two paths along one corridor stay apart),
    ending in a square dot."""
    h, w = image.shape[:2]
    centre = np.asarray(path, np.int64) * cell_px + cell_px // 2 + offset
    before, after = width // 2, width - width // 2

    def box(top, bottom, left, right):
        image[max(top, 0):min(bottom, h), max(left, 0):min(right, w)] = rgb

    for (r0, c0), (r1, c1) in zip(centre[:-1], centre[1:]):
        box(min(r0, r1) - before, max(r0, r1) + after, min(c0, c1) - before, max(c0, c1) + after)
    r, c = centre[-1]
    box(r - 2 * before - 1, r + 2 * after + 1, c - 2 * before - 1, c + 2 * after + 1)
