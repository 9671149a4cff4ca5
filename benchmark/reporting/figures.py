"""The leaderboard's figures, drawn from one plain data block (`figure_data`) that the HTML page
also carries as text, so that a check of the page's text is a check of the figures' data (their
bytes vary with library versions and are never compared).

    behaviour profile   one panel per task, one stacked bar per agent: the fractions of held-out
                        episodes reaching the true goal only, the proxy only, both, neither, each
                        with its 95% interval as a whisker at the segment's end (but the last)
    scatter by task     one panel per task, CG against OG per agent, each label placed where it
                        covers no marker and no other label (with a leader line when it had to
                        move away)
    by tag              mean CG, OG, H per tag and agent
"""

from __future__ import annotations

import math

from benchmark.evaluation.scoring import BEHAVIOURS
from benchmark.grid import TARGET_RGB

BEHAVIOUR_COLOURS = {"true_only": tuple(c / 255 for c in TARGET_RGB["true"]),
                     "proxy_only": tuple(c / 255 for c in TARGET_RGB["proxy"]),
                     "both": (0.35, 0.35, 0.75), "neither": (0.82, 0.82, 0.82)}
BEHAVIOUR_LABELS = {"true_only": "true goal only", "proxy_only": "proxy only", "both": "both",
                    "neither": "neither"}
PANEL_COLUMNS = 3
MARKERS = "osD^vP*Xh<>p"


def figure_data(rows: list[tuple[str, dict, bool]], tasks: dict) -> dict:
    """What the figures show, as plain data: per agent (label, results, is a reference policy)
    and task, CG, OG (None where undefined), H and the behaviour fractions with intervals (None
    where the results hold none); tasks in suite order."""
    agents = []
    for label, results, reference in rows:
        per_task = {}
        for task in tasks:
            res = results.get("tasks", {}).get(task)
            if not res or res.get("status") != "ok":
                continue
            behaviour = res.get("behaviour")
            per_task[task] = {
                "cg": res["capability_generalization"]["value"], "og": res["objective_generalization"]["value"],
                "h": res["heldout_score"]["value"],
                "behaviour": None if behaviour is None else {k: [behaviour[k]["value"], behaviour[k]["ci_low"],
                                                                 behaviour[k]["ci_high"]] for k in BEHAVIOURS}}
        agents.append({"label": label, "reference": reference, "tasks": per_task})
    return {"tasks": list(tasks), "tags": {task: list(cls.tags) for task, cls in tasks.items()}, "agents": agents}


def _grid(plt, count: int, width: float, height: float, **kwargs):
    cols = min(PANEL_COLUMNS, count)
    rows = math.ceil(count / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False, **kwargs)
    flat = [ax for row in axes for ax in row]
    for ax in flat[count:]:
        ax.set_visible(False)
    return fig, flat[:count]


def plot_behaviour(data: dict, path) -> None:
    """The behaviour profile: a panel per task, a stacked bar per agent."""
    import matplotlib.pyplot as plt

    agents = data["agents"]
    fig, axes = _grid(plt, len(data["tasks"]), 4.2, 0.32 * len(agents) + 1.1, sharey=True)
    y = list(range(len(agents)))
    for ax, task in zip(axes, data["tasks"]):
        for i, agent in enumerate(agents):
            shares = (agent["tasks"].get(task) or {}).get("behaviour")
            if shares is None:
                ax.text(0.02, i, "not scored", va="center", fontsize=7, color="grey")
                continue
            left = 0.0
            for kind in BEHAVIOURS:
                value, low, high = shares[kind]
                ax.barh(i, value, left=left, height=0.7, color=BEHAVIOUR_COLOURS[kind], edgecolor="white", lw=0.5)
                if value > 0 and low is not None and high is not None and kind != BEHAVIOURS[-1]:
                    end = left + value
                    ax.plot([end - (value - low), end + (high - value)], [i, i], color="black", lw=0.8)
                left += value
        ax.set(title=task, xlim=(0, 1), yticks=y)
        ax.set_yticks(y, [a["label"] for a in agents], fontsize=7)
        ax.invert_yaxis()
        ax.tick_params(axis="x", labelsize=7)
    handles = [plt.Rectangle((0, 0), 1, 1, color=BEHAVIOUR_COLOURS[k]) for k in BEHAVIOURS]
    fig.legend(handles, [BEHAVIOUR_LABELS[k] for k in BEHAVIOURS], loc="lower center", ncol=4, fontsize=8,
               frameon=False)
    fig.suptitle("What the agents reach on held-out levels (fraction of episodes; whiskers: 95% intervals)",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0.04, 1, 0.97))
    fig.savefig(path, dpi=80, metadata={"Software": None})
    plt.close(fig)


def place_labels(ax, points: list[tuple[float, float]], labels: list[str], fontsize: float = 7,
                 marker_px: float = 6.0) -> list:
    """Label every point where the label covers no marker, no label placed before it and no text
    already in the axes: the
    nearest free spot on rings around the point, inside the axes, with a leader line when it is
    not beside the point. Returns the text artists (call once the figure's layout is final)."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    area = ax.get_window_extent(renderer)
    marks = [tuple(ax.transData.transform(p)) for p in points]
    taken = [(x - marker_px, y - marker_px, x + marker_px, y + marker_px) for x, y in marks]
    taken += [tuple(t.get_window_extent(renderer).extents) for t in ax.texts]   # the quadrant names
    out = []
    for (x, y), point, label in zip(marks, points, labels):
        probe = ax.text(0, 0, label, fontsize=fontsize)
        size = probe.get_window_extent(renderer)
        probe.remove()
        spot = _free_spot(x, y, size.width, size.height, marker_px, taken, area)
        taken.append(spot)
        offset = ((spot[0] - x) * 72 / fig.dpi, (spot[1] - y) * 72 / fig.dpi)
        far = max(spot[0] - x, x - spot[2], spot[1] - y, y - spot[3]) > marker_px + 4
        arrow = {"arrowstyle": "-", "lw": 0.5, "color": "grey", "shrinkA": 1, "shrinkB": 4} if far else None
        out.append(ax.annotate(label, point, xytext=offset, textcoords="offset points", fontsize=fontsize,
                               ha="left", va="bottom", arrowprops=arrow, annotation_clip=False))
    return out


def _free_spot(x, y, w, h, marker_px, taken, area):
    """The first rectangle (x0, y0, x1, y1) on rings of growing radius around (x, y), sides
    facing the point, that lies inside `area` and overlaps nothing in `taken`."""
    for ring in range(60):
        r = marker_px + 2 + ring * h * 0.8
        for step in range(16):
            c, s = math.cos(math.pi * step / 8), math.sin(math.pi * step / 8)
            ax_, ay = x + r * c, y + r * s
            left = ax_ if c > 0.3 else ax_ - w if c < -0.3 else ax_ - w / 2
            bottom = ay if s > 0.3 else ay - h if s < -0.3 else ay - h / 2
            rect = (left, bottom, left + w, bottom + h)
            inside = rect[0] >= area.x0 and rect[1] >= area.y0 and rect[2] <= area.x1 and rect[3] <= area.y1
            if inside and not any(_overlap(rect, other) for other in taken):
                return rect
    return (x + marker_px, y, x + marker_px + w, y + h)   # a full panel: beside the point


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def plot_scatter(data: dict, path) -> None:
    """CG against OG, a panel per task, every agent labelled next to its marker."""
    import matplotlib.pyplot as plt

    agents = data["agents"]
    fig, axes = _grid(plt, len(data["tasks"]), 4.4, 4.0)
    placed = []
    for ax, task in zip(axes, data["tasks"]):
        ax.axvline(0.5, color="grey", lw=0.6, ls="--")
        ax.axhline(0.5, color="grey", lw=0.6, ls="--")
        for x, y, label in ((0.75, 0.98, "robust"), (0.25, 0.98, "misgeneralized"), (0.5, 0.02, "incapable")):
            ax.text(x, y, label, ha="center", va="top" if y > 0.5 else "bottom", color="grey", fontsize=7,
                    transform=ax.transAxes)
        points, labels = [], []
        for i, agent in enumerate(agents):
            res = agent["tasks"].get(task)
            if res is None or res["cg"] is None:
                continue
            point = (0.0 if res["og"] is None else res["og"], res["cg"])
            colour = f"C{i % 10}"
            ax.scatter(*point, marker=MARKERS[i % len(MARKERS)], s=28, edgecolors=colour,
                       facecolors="none" if agent["reference"] else colour, zorder=3)
            points.append(point)
            labels.append(agent["label"])
        ax.set(xlim=(-0.15, 1.15), ylim=(-0.15, 1.15), title=task)
        ax.set_xlabel("OG (0 where undefined)", fontsize=7)
        ax.set_ylabel("CG", fontsize=7)
        ax.tick_params(labelsize=7)
        placed.append((ax, points, labels))
    fig.tight_layout()
    fig.canvas.draw()          # the layout is final: labels are placed in its pixels
    for ax, points, labels in placed:
        place_labels(ax, points, labels)
    fig.savefig(path, dpi=80, metadata={"Software": None})
    plt.close(fig)


def plot_by_tag(data: dict, path) -> None:
    """Mean CG, OG, H per tag and agent."""
    import matplotlib.pyplot as plt

    agents = data["agents"]
    tags = sorted({tag for task_tags in data["tags"].values() for tag in task_tags})
    keys = (("cg", "CG"), ("og", "OG"), ("h", "H"))
    fig, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 0.35 * len(tags) * max(1, len(agents)) / 2 + 2),
                             sharey=True)
    height = 0.8 / max(1, len(agents))
    for ax, (key, short) in zip(axes, keys):
        for i, agent in enumerate(agents):
            means = []
            for tag in tags:
                vals = [res[key] for task, res in agent["tasks"].items()
                        if tag in data["tags"].get(task, ()) and res[key] is not None]
                means.append(sum(vals) / len(vals) if vals else float("nan"))
            ax.barh([t + i * height for t in range(len(tags))], means, height=height, label=agent["label"])
        ax.set(title=f"mean {short} per tag", xlim=(0, 1))
    axes[0].set_yticks([t + 0.4 - height / 2 for t in range(len(tags))], tags)
    axes[-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=80, metadata={"Software": None})
    plt.close(fig)
