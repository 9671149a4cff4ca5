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
