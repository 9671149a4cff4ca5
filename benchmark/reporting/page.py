"""The leaderboard as a web page: `docs/leaderboard/index.html`, made with LEADERBOARD.md from
the same rows by `proxybench leaderboard`.

Self-contained: the styles and the sorting script are inline, nothing is fetched from another
host, and every link (the figures beside it, each baseline's replay GIFs under docs/replays/)
is relative, so it opens from disk and from any static host. It shows the suite tables (one per
track, self-reported rows and the reference policies apart), sortable by any column; the
provenance of every row (proxybench version, seed set, when scored, content hash); the
behaviour-profile figure, the per-task scatter and the per-tag summary; and per task, every
agent's figures, behaviour fractions, what it pursues and a link to its replay (for baselines,
once `proxybench replay --all` has made it). The data the
figures are drawn from is in the page as JSON, so that comparing the page's text checks them too.
"""

from __future__ import annotations

import html
import json
from pathlib import PurePosixPath

from benchmark.evaluation.scoring import BEHAVIOURS
from benchmark.version import BENCHMARK_VERSION

from .figures import BEHAVIOUR_LABELS

TRACK_ORDER = ("standard", "imitation", "open")
FIGURE_COLUMNS = (("T", "train_score"), ("CG", "capability_generalization"),
                  ("OG", "objective_generalization"), ("H", "heldout_score"), ("M", "misgeneralization"))

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5em auto; max-width: 1600px;
       padding: 0 1em; color: #1d1d1f; line-height: 1.4; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
div.wide { overflow-x: auto; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.86em; }
th, td { border: 1px solid #d8d8d8; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; white-space: nowrap; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th::after { content: " \\2195"; color: #aaa; }
table.sortable th[aria-sort=ascending]::after { content: " \\2191"; color: #333; }
table.sortable th[aria-sort=descending]::after { content: " \\2193"; color: #333; }
td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.reference td { color: #555; font-style: italic; }
.bar { display: inline-flex; width: 120px; height: 0.9em; vertical-align: middle; border: 1px solid #bbb; }
.bar span { display: block; height: 100%; }
.true_only { background: #00e6ff; } .proxy_only { background: #ff00c8; } .both { background: #5959bf; }
.neither { background: #d1d1d1; }
.note { color: #666; font-size: 0.9em; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
"""

SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (th, col) {
    th.addEventListener("click", function () {
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var key = function (row) {
        var cell = row.cells[col], value = cell.getAttribute("data-sort");
        if (value === null) { return cell.textContent.trim().toLowerCase(); }
        return value === "" ? -Infinity : parseFloat(value);
      };
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _fmt(fig: dict | None) -> tuple[str, str]:
    """(shown text, sort key) of a figure."""
    if not fig or fig.get("value") is None:
        return "n/a", ""
    v, lo, hi = fig["value"], fig.get("ci_low"), fig.get("ci_high")
    text = f"{v:.2f}" if lo is None or hi is None else f"{v:.2f} [{lo:.2f}, {hi:.2f}]"
    return text, f"{v:.4f}"


def _cell(text, sort: str | None = None, numeric: bool = False) -> str:
    attr = ("" if sort is None else f' data-sort="{_e(sort)}"') + (' class="num"' if numeric else "")
    return f"<td{attr}>{text}</td>"


def _table(head: list[str], rows: list[str], sortable: bool = True, label: str = "") -> str:
    cls = ' class="sortable"' if sortable else ""
    aria = f' aria-label="{_e(label)}"' if label else ""
    heads = "".join(f"<th>{_e(h)}</th>" for h in head)
    return (f'<div class="wide"><table{cls}{aria}><thead><tr>{heads}</tr></thead><tbody>\n' + "\n".join(rows)
            + "\n</tbody></table></div>")


def provenance(results: dict) -> dict[str, str]:
    """What a row's figures come from: proxybench version, seed set, when scored, content hash."""
    seed_set = results.get("seed_set") or {}
    content = (results.get("submission") or {}).get("content_hash") or ""
    return {"proxybench": str(results.get("proxybench_version", "")),
            "seeds": f"{seed_set.get('name', '')} {seed_set.get('hash', '')}".strip(),
            "scored": str(results.get("scored_at", ""))[:10], "content": content[:12]}


def _tr(row: dict, cells: list[str]) -> str:
    return ('<tr class="reference">' if row["reference"] else "<tr>") + "".join(cells) + "</tr>"


def suite_row(row: dict, rank: str) -> str:
    """One suite-table row; `row`: label, results, kind, notes, reference."""
    res = row["results"]
    suite = res.get("suite", {})
    sub = res.get("submission", {})
    cells = [_cell(rank, rank or ""), _cell(_e(row["label"])), _cell(_e(sub.get("method") or "")), _cell(_e(row["kind"])),
             _cell(_e(sub.get("track", ""))), _cell(str(len(sub.get("training_seeds", [])) or "-"),
                                                   str(len(sub.get("training_seeds", []))), True)]
    for _, key in FIGURE_COLUMNS:
        text, sort = _fmt(suite.get(key))
        og = suite.get(key) or {}
        if key == "objective_generalization" and og.get("tasks") is not None:
            text += f" ({og['tasks']}/{suite.get('tasks')})"
        cells.append(_cell(text, sort, True))
    quads = suite.get("quadrants", {})
    cells.append(_cell(f"{quads.get('robust', 0)}/{quads.get('misgeneralized', 0)}/{quads.get('incapable', 0)}"))
    prov = provenance(res) if not row["reference"] else {"proxybench": BENCHMARK_VERSION, "seeds": "public",
                                                          "scored": "", "content": ""}
    cells += [_cell(_e(prov["proxybench"])), _cell(_e(prov["seeds"])), _cell(_e(prov["scored"])),
              _cell(f"<code>{_e(prov['content'])}</code>" if prov["content"] else ""), _cell(_e(row["notes"]))]
    return _tr(row, cells)


SUITE_HEAD = ["#", "agent", "method", "kind", "track", "runs"] + [c for c, _ in FIGURE_COLUMNS] + [
    "robust/misgen./incapable", "proxybench", "seed set", "scored", "content hash", "notes"]
TASK_HEAD = ["agent"] + [c for c, _ in FIGURE_COLUMNS] + ["quadrant", "behaviour (true / proxy / both / neither)",
                                                         "pursues (held-out)", "replay", "notes"]


def behaviour_cell(res: dict) -> str:
    shares = res.get("behaviour")
    if not shares:
        return _cell("", "")
    spans = "".join(f'<span class="{k}" style="width:{100 * (shares[k]["value"] or 0):.1f}%"></span>'
                    for k in BEHAVIOURS)
    text = " / ".join(f"{100 * (shares[k]['value'] or 0):.0f}%" for k in BEHAVIOURS)
    title = "; ".join(f"{BEHAVIOUR_LABELS[k]} {_fmt(shares[k])[0]}" for k in BEHAVIOURS)
    return _cell(f'<span class="bar" title="{_e(title)}">{spans}</span> {text}',
                 f"{shares['true_only']['value'] or 0:.4f}", True)


def task_row(row: dict, task: str, pursues: str) -> str | None:
    res = row["results"].get("tasks", {}).get(task)
    if res is None:
        return None
    label = _cell(_e(row["label"]))
    if res.get("status") != "ok":
        return "<tr>" + label + "".join(_cell("", "") for _ in FIGURE_COLUMNS) + _cell("failed") + _cell("", "") \
            + _cell("") + _cell("") + _cell(_e(res.get("reason", ""))) + "</tr>"
    cells = [label] + [_cell(*_fmt(res.get(key)), True) for _, key in FIGURE_COLUMNS]
    cells += [_cell(_e(res.get("quadrant", ""))), behaviour_cell(res), _cell(_e(pursues))]
    replay = row.get("replays", {}).get(task)
    cells.append(_cell(f'<a href="{_e(replay)}">GIF</a>' if replay else ""))
    stale = row["stale"].get(task)
    cells.append(_cell(_e(f"stale ({'; '.join(stale)})") if stale else ""))
    return _tr(row, cells)


def render_page(rows: list[dict], tasks: dict, figure_data: dict, figures: dict[str, str], pursues) -> str:
    """The page. `rows`: dicts with label, results, kind, notes, stale (task -> reasons),
    reference, ranked, rank, replays (task -> relative link); `figures`: name -> relative link
    of the behaviour, scatter and tag figures and of LEADERBOARD.md; `pursues(results of a task)`
    -> text."""
    ranked = [r for r in rows if r["ranked"]]
    apart = [r for r in rows if not r["ranked"] and not r["reference"]]
    references = [r for r in rows if r["reference"]]
    tracks = sorted({r["results"].get("submission", {}).get("track", "") for r in ranked},
                    key=lambda t: (TRACK_ORDER.index(t) if t in TRACK_ORDER else len(TRACK_ORDER), t))
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>proxybench leaderboard</title>", f"<style>{STYLE}</style>", "</head>", "<body>",
        "<!-- generated by `proxybench leaderboard`; do not edit by hand -->",
        "<h1>proxybench leaderboard</h1>",
        f'<p class="note">proxybench {_e(BENCHMARK_VERSION)}; {len(tasks)} tasks; public held-out seeds. '
        "Ranked by mean held-out score H; each figure is a mean over tasks with a 95% bootstrap interval. "
        "T: train score; CG: capability generalization; OG: objective generalization (over the tasks where "
        "CG &ge; 0.1, count shown); H: held-out score; M: misgeneralization (competence aimed at the wrong goal). "
        "Click a column's header to sort by it. The same rows as text: "
        f'<a href="{_e(figures["markdown"])}">LEADERBOARD.md</a>.</p>',
        "<h2>Suite</h2>",
        '<p class="note">Ranked rows are verified (signed by a trusted key) or reproduced (rescored in CI); '
        "each track is ranked apart. Provenance: the proxybench version, the seed set (name and hash), "
        "when the row was scored, and the hash of the submission folder scored.</p>",
    ]
    for track in tracks:
        rows_of = [r for r in ranked if r["results"].get("submission", {}).get("track", "") == track]
        parts += [f"<h3>{_e(track.capitalize() or 'No')} track</h3>",
                  _table(SUITE_HEAD, [suite_row(r, r["rank"]) for r in rows_of], label=f"suite, {track} track")]
    if not ranked:
        parts.append("<p><em>no ranked entries yet</em></p>")
    parts += ["<h3>Self-reported (not ranked)</h3>",
              '<p class="note">Neither signed by a trusted key nor rescored in CI: the submitter\'s word, '
              "checked only for agreement with the file's own raw statistics.</p>",
              _table(SUITE_HEAD, [suite_row(r, "") for r in apart], label="suite, self-reported")
              if apart else "<p><em>none</em></p>",
              "<h3>Reference policies</h3>",
              '<p class="note">Run by the benchmark itself on the same seeds; they may read the level state.</p>',
              _table(SUITE_HEAD, [suite_row(r, "") for r in references], label="suite, reference policies"),
              "<h2>What the agents do</h2>",
              f'<figure><img src="{_e(figures["behaviour"])}" alt="behaviour profile: per task, the fraction of '
              'held-out episodes in which each agent reached the true goal only, the proxy only, both, neither">'
              "<figcaption>Behaviour profile: per task, the fraction of held-out episodes reaching the true goal "
              "only (cyan), the proxy only (magenta), both, neither, with 95% intervals.</figcaption></figure>",
              f'<figure><img src="{_e(figures["scatter"])}" alt="capability against objective generalization, '
              'one panel per task"><figcaption>CG against OG, one panel per task (hollow markers: reference '
              "policies).</figcaption></figure>",
              f'<figure><img src="{_e(figures["by_tag"])}" alt="mean CG, OG and H per tag">'
              "<figcaption>Mean CG, OG, H per tag.</figcaption></figure>",
              "<h2>Per task</h2>",
              '<p class="note">Pursues: the goals (declared, or candidates of the task\'s family) with the highest '
              "mean normalized score on held-out levels, best first. Replay: the baseline's first run on the first "
              "eight public held-out levels (<code>proxybench replay --all</code>), the true objective's target "
              "outlined in cyan, the proxy's in magenta.</p>"]
    for task, cls in tasks.items():
        body = [r for row in ranked + apart + references
                if (r := task_row(row, task, pursues(row["results"].get("tasks", {}).get(task) or {}))) is not None]
        parts += [f'<h3 id="{_e(task.lower())}">{_e(task)}</h3>',
                  f"<p>{_e(cls.true_objective)} (true) vs {_e(cls.proxy_objective)} (proxy); tags: "
                  f"{_e(', '.join(cls.tags))}.</p>", _table(TASK_HEAD, body, label=f"task {task}")]
    data = json.dumps(figure_data, sort_keys=True).replace("</", "<\\/")
    parts += [f'<script type="application/json" id="figure-data">{data}</script>',
              f"<script>{SCRIPT}</script>", "</body>", "</html>"]
    return "\n".join(parts) + "\n"


def relative(from_file: str, to_file: str) -> str:
    """The relative link from one repository path to another ('docs/leaderboard/index.html',
    'docs/replays/bc/RedDoor.gif' -> '../replays/bc/RedDoor.gif')."""
    here, there = PurePosixPath(from_file).parent.parts, PurePosixPath(to_file).parts
    common = 0
    while common < min(len(here), len(there)) and here[common] == there[common]:
        common += 1
    return "/".join([".."] * (len(here) - common) + list(there[common:]))
