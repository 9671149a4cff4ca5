"""Replay pictures: episodes (`benchmark.evaluation.replay`) drawn as an animated GIF or a still.

Every episode is a tile: the level as the agent saw it, the cells each objective's oracle heads
for outlined in the objective's fixed colour (`grid.TARGET_RGB`: the true objective's outside,
the proxy's inset inside it when they share a cell), the agent's path so far, and a caption with
the episode's outcome (the behaviour count it falls in) and its two returns. Several episodes
tile four to a row under a header naming the agent, the task, the split and the legend. The
GIF holds each episode's last frame once it has ended; the still (PNG) is the first frame with
the whole path drawn.

A GIF's palette is exact (the rendered tiles' colours and the few drawn ones), and each frame
after the first stores only the pixels that changed, so eight episodes of 128 steps stay far
below 2 MB. `replay_all` writes every baseline's held-out GIF per task into `REPLAY_DIR`, the
files the leaderboard page links.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

import numpy as np

from benchmark import grid as G
from benchmark.contract.registry import get_task
from benchmark.contract.task import OBJECTIVES
from benchmark.evaluation.replay import Episode, ReplayError

REPLAY_DIR = "docs/replays"
PER_ROW = 4
CAPTION_PX = 28        # two lines of caption under a tile
HEADER_PX = 30         # two lines of header above the tiles
GAP = 4
FRAME_MS = 110
HOLD_MS = 1500         # the last frame, before the GIF loops
BACKGROUND = (24, 24, 24)
TEXT = (235, 235, 235)
DIM = (150, 150, 150)
OUTCOME_TEXT = {"true_only": ("reached the true goal", G.TARGET_RGB["true"]),
                "proxy_only": ("reached the proxy", G.TARGET_RGB["proxy"]),
                "both": ("reached both", TEXT), "neither": ("reached neither", DIM)}
FORMATS = ("gif", "png")


def replay_path(root: Path, agent: str, task: str) -> Path:
    """Where `replay_all` writes an agent's held-out replay of a task."""
    return Path(root) / REPLAY_DIR / agent / f"{task}.gif"


@lru_cache(maxsize=None)
def _font():
    from PIL import ImageFont
    return ImageFont.load_default(size=11)


def _scale(count: int) -> int:
    """Pixels per tile pixel: one or two episodes are drawn twice as large."""
    return 2 if count <= 2 else 1


def _tile(episode: Episode, k: int, scale: int, whole_path: bool = False) -> np.ndarray:
    """Frame k of an episode (its last once it has ended) with the targets outlined and the path
    drawn (up to frame k, or whole)."""
    k = min(k, episode.length)
    cell = G.TILE * scale
    image = G.enlarge(G.render_rgb(episode.frames[k]), scale)
    path = episode.path if whole_path else episode.path[:k + 1]
    if len(path) > 1:
        G.draw_path(image, path, G.AGENT_PATH_RGB, cell, offset=0, width=scale)
    for j, objective in enumerate(OBJECTIVES):
        G.outline_cells(image, episode.targets[k, j], G.TARGET_RGB[objective], cell,
                        inset=j * G.OUTLINE * scale, width=G.OUTLINE * scale)
    return image


def _layout(count: int, scale: int) -> tuple[int, int, int, int]:
    """(columns, rows, tile side, (canvas width, canvas height)) in pixels."""
    side = G.SIZE * G.TILE * scale
    cols = min(count, PER_ROW)
    rows = -(-count // cols)
    return cols, rows, side, (GAP + cols * (side + GAP), HEADER_PX + rows * (side + CAPTION_PX + GAP))


def _canvas(episodes: list[Episode], title: str, scale: int):
    """The frame without tiles: background, header and captions (PIL image, tile positions)."""
    from PIL import Image, ImageDraw

    task = get_task(episodes[0].task)
    cols, _, side, (width, height) = _layout(len(episodes), scale)
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    draw.fontmode = "1"                    # no antialiasing: the palette stays exact
    draw.text((GAP, 2), title, font=_font(), fill=TEXT)
    x = GAP
    for objective, goal in zip(OBJECTIVES, (task.true_objective, task.proxy_objective)):
        draw.rectangle((x, 17, x + 9, 26), outline=G.TARGET_RGB[objective], width=2)
        label = f"{objective}: {goal}"
        draw.text((x + 14, 16), label, font=_font(), fill=TEXT)
        x += 14 + int(draw.textlength(label, font=_font())) + 14
    places = []
    for i, ep in enumerate(episodes):
        left, top = GAP + (i % cols) * (side + GAP), HEADER_PX + (i // cols) * (side + CAPTION_PX + GAP)
        places.append((top, left))
        words, colour = OUTCOME_TEXT[ep.outcome]
        draw.text((left, top + side + 1), f"level {ep.seed}: {words}", font=_font(), fill=colour)
        draw.text((left, top + side + 14), f"true {ep.true_return:+.2f}, proxy {ep.proxy_return:+.2f}, "
                                           f"{ep.length} steps", font=_font(), fill=DIM)
    return canvas, places, side


def frames(episodes: list[Episode], title: str) -> list[np.ndarray]:
    """The GIF's frames (RGB arrays): one per step of the longest episode, and its end."""
    scale = _scale(len(episodes))
    canvas, places, side = _canvas(episodes, title, scale)
    base = np.asarray(canvas).copy()
    out = []
    for k in range(max(ep.length for ep in episodes) + 1):
        image = base.copy()
        for (top, left), ep in zip(places, episodes):
            image[top:top + side, left:left + side] = _tile(ep, k, scale)
        out.append(image)
    return out


def still(episodes: list[Episode], title: str) -> np.ndarray:
    """The still: every episode's level as it began, with its whole path."""
    scale = _scale(len(episodes))
    canvas, places, side = _canvas(episodes, title, scale)
    image = np.asarray(canvas).copy()
    for (top, left), ep in zip(places, episodes):
        image[top:top + side, left:left + side] = _tile(ep, 0, scale, whole_path=True)
    return image


@lru_cache(maxsize=1)
def _palette_keys() -> np.ndarray:
    """Every colour a replay frame can hold, as sorted 24-bit keys: the rendered tiles' colours,
    the drawn ones and the caption colours."""
    tiles = G.tile_table().reshape(-1, 3)
    drawn = np.array([*G.TARGET_RGB.values(), G.AGENT_PATH_RGB, BACKGROUND, TEXT, DIM], np.uint8)
    return np.unique(_keys(np.concatenate([tiles, drawn])))


def _keys(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.uint32)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def _indexed(image: np.ndarray) -> np.ndarray:
    keys = _palette_keys()
    flat = _keys(image)
    index = np.minimum(np.searchsorted(keys, flat), len(keys) - 1)
    if not (keys[index] == flat).all():
        raise RuntimeError("a replay frame holds a colour outside the replay palette")
    return index.astype(np.uint8)


def write_gif(path: Path, images: list[np.ndarray]) -> None:
    """An animated GIF of RGB frames, exact colours, each frame after the first storing only what
    changed (the rest transparent over the frame before), looping, the last frame held."""
    from PIL import Image

    keys = _palette_keys()
    if len(keys) > 255:
        raise RuntimeError(f"the replay palette has {len(keys)} colours; a GIF holds 255 and a transparent one")
    clear = len(keys)
    palette = np.zeros((256, 3), np.uint8)
    palette[:len(keys)] = np.stack([(keys >> 16) & 255, (keys >> 8) & 255, keys & 255], axis=1)
    indexed = [_indexed(im) for im in images]
    pictures = []
    for k, index in enumerate(indexed):
        if k:
            index = np.where(index == indexed[k - 1], clear, index).astype(np.uint8)
        picture = Image.fromarray(index, "P")
        picture.putpalette(palette.reshape(-1).tolist())
        pictures.append(picture)
    durations = [FRAME_MS] * (len(pictures) - 1) + [HOLD_MS]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    pictures[0].save(path, format="GIF", save_all=True, append_images=pictures[1:], duration=durations,
                     loop=0, disposal=1, transparency=clear, optimize=False)


def write_png(path: Path, image: np.ndarray) -> None:
    from PIL import Image

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path, format="PNG")


def write_replay(path: Path, episodes: list[Episode], title: str, fmt: str = "gif") -> None:
    """The episodes as a GIF (`fmt` 'gif') or a still ('png') at `path`."""
    if fmt == "gif":
        write_gif(path, frames(episodes, title))
    elif fmt == "png":
        write_png(path, still(episodes, title))
    else:
        raise ValueError(f"unknown replay format {fmt!r}; expected one of {', '.join(FORMATS)}")


def title_of(agent: str, episodes: list[Episode], run: int | None) -> str:
    ep = episodes[0]
    split = "held-out" if ep.split == "heldout" else ep.split
    return f"{agent} on {ep.task}, {split} levels" + ("" if run is None else f", run {run}")


def replay_all(root: Path, baselines: list[str], count: int = 8, say=print, warn=None, limits=None,
               sandbox_user: str | None = None) -> list[str]:
    """Every baseline's replay on the first `count` public held-out levels of each task it
    covers (its first training run), at `replay_path`; `say` is told each file written, `warn`
    the sandbox's warnings. Returns one line per replay that could not be made (the agent
    failed, or the baseline has no weights yet); the others are written."""
    from benchmark.submission.manifest import ManifestError
    from benchmark.submission.replay import SubmissionReplays
    from benchmark.submission.sandbox import DEFAULT_USER, SandboxError

    warn = warn or (lambda message: print(f"warning: {message}", file=sys.stderr))
    problems = []
    for folder in baselines:
        try:
            with SubmissionReplays(folder, limits, sandbox_user or DEFAULT_USER, warn) as replays:
                name, run = replays.manifest.name, replays.manifest.seeds[0]
                for task in replays.covers():
                    try:
                        episodes = replays.episodes(task, "heldout", count)
                    except ReplayError as exc:
                        problems.append(str(exc))
                        continue
                    out = replay_path(root, name, task)
                    write_replay(out, episodes, title_of(name, episodes, run))
                    say(f"wrote {out}")
        except (ManifestError, SandboxError) as exc:
            problems.append(str(exc))
    return problems
