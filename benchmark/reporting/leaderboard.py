"""The leaderboard: every results.json under baselines/ and submissions/ -> LEADERBOARD.md.

No results file is taken at its word. Each is checked against itself (every figure derivable
from its raw statistics is recomputed: `benchmark.evaluation.consistency`) and given a kind
(`benchmark.submission.provenance`): verified (signed by a trusted key, on the code now in the
folder) and reproduced (rescored in CI) rows are ranked by mean held-out score H; self-reported
rows are listed apart, unranked. A file that does not parse, is inconsistent, or claims a
signature or a reproduction it cannot show is an error naming the file, never skipped. The
reference policies (random, true-oracle, proxy-oracle) are scored by the benchmark itself on
the public seeds and drawn apart from the entries.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from tabulate import tabulate

from benchmark.version import BENCHMARK_VERSION
from benchmark.evaluation.consistency import inconsistencies
from benchmark.evaluation.results import entry_files
from benchmark.contract.registry import registry
from benchmark.submission.provenance import (REPRODUCED, SELF_REPORTED, VERIFIED, ProvenanceError,
                                             reproduced_entries, row_kind)
from benchmark.submission.manifest import TRACKS
from benchmark.submission.signing import KEYS_DIR, SigningError, load_trusted_keys

from .figures import figure_data, plot_behaviour, plot_by_tag, plot_scatter
from .page import relative, render_page
from .replays import REPLAY_DIR
from .staleness import current_fingerprints, results_staleness

FIGURE_DIR = "docs/leaderboard"
SCATTER, BY_TAG = f"{FIGURE_DIR}/cg_vs_og.png", f"{FIGURE_DIR}/by_tag.png"
BEHAVIOUR = f"{FIGURE_DIR}/behaviour.png"
FIGURES = (BEHAVIOUR, SCATTER, BY_TAG)
MARKDOWN, PAGE = "LEADERBOARD.md", f"{FIGURE_DIR}/index.html"
REFERENCE_ROWS = ("random", "true-oracle", "proxy-oracle")
COLUMNS = (("T", "train_score"), ("CG", "capability_generalization"),
           ("OG", "objective_generalization"), ("H", "heldout_score"), ("M", "misgeneralization"))


class LeaderboardError(ValueError):
    pass


@dataclass
class Entry:
    label: str
    results: dict
    source: str
    kind: str = SELF_REPORTED   # VERIFIED, REPRODUCED or SELF_REPORTED
    backing: str = ""           # what makes it so: the signer, or the tasks CI rescores


def collect(root: Path) -> list[Entry]:
    """Every results.json under root/baselines and root/submissions, checked for consistency and
    given its kind against the keys in root/keys and the list in root/baselines/reproduced.yaml.
    Every problem is one line naming the file (the first mismatch of an inconsistent file, with
    the count of the others); all of them are raised together."""
    root = Path(root)
    try:
        trusted = load_trusted_keys(root / KEYS_DIR)
        reproduced = reproduced_entries(root)
    except (SigningError, ProvenanceError) as exc:
        raise LeaderboardError(str(exc)) from None
    entries, problems = [], []
    for path in entry_files(root):
        rel = path.relative_to(root).as_posix()
        try:
            data = json.loads(path.read_text())
            name = data["submission"]["name"]
            data["tasks"], data["suite"]  # noqa: B018  (required keys)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problems.append(f"{rel}: cannot read results ({type(exc).__name__}: {exc})")
            continue
        mismatches = inconsistencies(data)
        if mismatches:
            more = f" (and {len(mismatches) - 1} more)" if len(mismatches) > 1 else ""
            problems.append(f"{rel}: {mismatches[0]}{more}")
            continue
        try:
            kind, backing = row_kind(root, rel, data, trusted, reproduced)
        except ProvenanceError as exc:
            problems.append(str(exc))
            continue
        entries.append(Entry(name, data, rel, kind, backing))
    names = [e.label for e in entries]
    for name in sorted(set(names)):
        if names.count(name) > 1:
            problems.append(f"two results files name the submission {name!r}: "
                            + ", ".join(e.source for e in entries if e.label == name))
    if problems:
        raise LeaderboardError("\n".join(problems))
    return entries


def ranked(entry: Entry) -> bool:
    """Only rows whose figures someone other than the submitter stands behind are ranked."""
    return entry.kind in (VERIFIED, REPRODUCED)


def shown_label(entry: Entry) -> str:
    return entry.label if ranked(entry) else f"{entry.label} ({SELF_REPORTED})"


def fmt(fig: dict | None) -> str:
    """'0.52 [0.48, 0.56]', or 'n/a' where undefined."""
    if not fig or fig.get("value") is None:
        return "n/a"
    v, lo, hi = fig["value"], fig.get("ci_low"), fig.get("ci_high")
    if lo is None or hi is None:
        return f"{v:.2f}"
    return f"{v:.2f} [{lo:.2f}, {hi:.2f}]"


def _h(results: dict) -> float:
    value = (results.get("suite", {}).get("heldout_score") or {}).get("value")
    return -math.inf if value is None else value


def stale_reasons(results: dict, tasks: dict, fingerprints: dict | None) -> dict[str, list[str]]:
    """Task -> why its figures are stale: by fingerprint where the current ones are given, else
    by task version alone."""
    if fingerprints is not None:
        return results_staleness(results, fingerprints)
    return {name: [f"version {res.get('version')} -> {tasks[name].version}"]
            for name, res in results.get("tasks", {}).items()
            if name in tasks and res.get("version") != tasks[name].version}


def _suite_row(label: str, results: dict, tasks: dict, rank: str = "", stale: dict | None = None,
               kind: str = "", backing: str = "") -> list[str]:
    suite = results.get("suite", {})
    og = suite.get("objective_generalization") or {}
    og_text = fmt(og) + (f" ({og['tasks']}/{suite.get('tasks')})" if og.get("tasks") is not None else "")
    quads = suite.get("quadrants", {})
    failed = [n for n, r in results.get("tasks", {}).items() if r.get("status") != "ok"]
    notes = [backing] if backing else []
    if (results.get("seed_set") or {}).get("name") == "private":
        notes.append("private held-out seeds")
    if stale:
        notes.append("stale: " + ", ".join(sorted(stale)))
    if failed:
        notes.append("failed: " + ", ".join(sorted(failed)))
    missing = sorted(set(tasks) - set(results.get("tasks", {})))
    if missing:
        notes.append("not scored: " + ", ".join(missing))
    sub = results.get("submission", {})
    row = [rank, label, sub.get("method") or "", kind, sub.get("track", ""), len(sub.get("training_seeds", [])) or "-"]
    row += [fmt(suite.get(key)) if key != "objective_generalization" else og_text for _, key in COLUMNS]
    row += [f"{quads.get('robust', 0)}/{quads.get('misgeneralized', 0)}/{quads.get('incapable', 0)}",
            "; ".join(notes)]
    return row


def track_of(entry: Entry) -> str:
    return entry.results.get("submission", {}).get("track", "")


def ranks(entries: list[Entry]) -> dict[str, str]:
    """Label -> rank of each ranked entry within its track, by mean H (then label)."""
    ordered = sorted((e for e in entries if ranked(e)), key=lambda e: (-_h(e.results), e.label))
    return {e.label: str(i + 1) for track in {track_of(e) for e in ordered}
            for i, e in enumerate(e for e in ordered if track_of(e) == track)}


def _track_table(track: str, top: list, tasks: dict, stale: dict, head: list[str], rank: dict) -> list[str]:
    """The ranked rows of one track ([] when the track has none)."""
    rows = [e for e in top if track_of(e) == track]
    if not rows:
        return []
    return ["", f"### {track.capitalize()} track", "",
            tabulate([_suite_row(e.label, e.results, tasks, rank[e.label], stale[e.label], e.kind, e.backing)
                      for e in rows], headers=head, tablefmt="github", disable_numparse=True)]


def pursues(res: dict) -> str:
    """What the agent pursues on held-out levels: 'a red object 0.93 (then the door 0.12, a box
    0.05)'; '' for results without it."""
    goals = res.get("pursues") or []
    if not goals:
        return ""
    text = [f"{g['goal']} {g['score']:.2f}" for g in goals]
    return text[0] + (f" (then {', '.join(text[1:])})" if len(text) > 1 else "")


def _task_row(label: str, results: dict, task: str, stale: list[str] | None = None) -> list[str] | None:
    res = results.get("tasks", {}).get(task)
    if res is None:
        return None
    if res.get("status") != "ok":
        return [label, "failed", "", "", "", "", "", "", res.get("reason", "")]
    note = f"stale ({'; '.join(stale)})" if stale else ""
    return [label] + [fmt(res.get(key)) for _, key in COLUMNS] + [res.get("quadrant", ""), pursues(res), note]


def render(entries: list[Entry], references: dict[str, dict], tasks: dict | None = None,
           fingerprints: dict | None = None) -> str:
    """The page. `tasks` (name -> Task class) defaults to the registry; `fingerprints` (name ->
    the task's current fingerprint) judge staleness, else task versions alone do."""
    tasks = tasks or registry()
    entries = sorted(entries, key=lambda e: (-_h(e.results), e.label))
    top, apart = [e for e in entries if ranked(e)], [e for e in entries if not ranked(e)]
    stale = {e.label: stale_reasons(e.results, tasks, fingerprints) for e in entries}
    rank = ranks(entries)
    head = ["#", "agent", "method", "kind", "track", "runs"] + [c for c, _ in COLUMNS] + ["robust/misgen./incapable", "notes"]
    lines = [
        "# proxybench leaderboard",
        "",
        "<!-- generated by `proxybench leaderboard`; do not edit by hand -->",
        "",
        f"proxybench {BENCHMARK_VERSION}; {len(tasks)} tasks; public held-out seeds. "
        "Ranked by mean held-out score H. Each figure is a mean over tasks with a 95% bootstrap "
        "interval. T: train score; CG: capability generalization; OG: objective generalization "
        "(over the tasks where CG >= 0.1, count shown); H: held-out score; M: misgeneralization "
        "(competence aimed at the wrong goal). Definitions: README, section *What it measures*.",
        "",
        f"Ranked rows are *{VERIFIED}* (signed by a key listed in `{KEYS_DIR}/`, on the code now in the "
        f"submission folder) or *{REPRODUCED}* (rescored in CI from the committed code; the notes name the "
        f"tasks). *{SELF_REPORTED.capitalize()}* rows are listed apart and not ranked. Every row's figures "
        "agree with its own raw statistics. How a row is checked: [docs/signing.md](docs/signing.md).",
        "",
        f"![behaviour profile: what each agent reaches on held-out levels]({BEHAVIOUR})",
        "",
        f"![capability vs objective generalization, per task]({SCATTER}) ![per-tag summary]({BY_TAG})",
        "",
        "## Suite",
        "",
        "Tracks are ranked apart: *standard* (the true reward on the train split at alpha 0), *imitation* "
        "(a demonstrator's actions, named in the manifest), *open* (anything else declared: disambiguating "
        "data, curricula, privileged knowledge).",
        *(line for track in TRACKS for line in _track_table(track, top, tasks, stale, head, rank)),
        *([] if top else ["", "_no entries yet_"]),
        "",
        f"### {SELF_REPORTED.capitalize()} (not ranked)",
        "",
        "Neither signed by a trusted key nor rescored in CI: the figures are the submitter's word, checked "
        "only for agreement with the file's own raw statistics.",
        "",
        tabulate([_suite_row(e.label, e.results, tasks, "", stale[e.label], e.kind, e.backing) for e in apart],
                 headers=head, tablefmt="github", disable_numparse=True) if apart else "_none_",
        "",
        "### Reference policies",
        "",
        "Run by the benchmark itself on the same seeds; they may read the level state.",
        "",
        tabulate([_suite_row(name, references[name], tasks) for name in REFERENCE_ROWS if name in references],
                 headers=head, tablefmt="github", disable_numparse=True),
        "",
        "## Per task",
    ]
    task_head = ["agent"] + [c for c, _ in COLUMNS] + ["quadrant", "pursues (held-out)", "notes"]
    for task, cls in tasks.items():
        rows = [r for e in top + apart
                if (r := _task_row(shown_label(e), e.results, task, stale[e.label].get(task))) is not None]
        refs = [r for name in REFERENCE_ROWS if name in references
                and (r := _task_row(f"*{name}*", references[name], task)) is not None]
        lines += ["", f"### {task}", "",
                  f"{cls.true_objective} (true) vs {cls.proxy_objective} (proxy); tags: {', '.join(cls.tags)}. "
                  "Pursues: the goals (declared, or candidates of the task's family) with the highest mean "
                  "normalized score on held-out levels, best first.",
                  "", tabulate(rows + refs, headers=task_head, tablefmt="github", disable_numparse=True)]
    return "\n".join(lines) + "\n"


def generate(root: Path, figures: bool = False) -> str:
    """LEADERBOARD.md's text for the results under `root` (with `figures`, the figures written)."""
    return generate_pages(root, figures)[MARKDOWN]


def generate_pages(root: Path, figures: bool = False) -> dict[str, str]:
    """{repository path: text} of LEADERBOARD.md and the HTML page, from the same rows; with
    `figures`, the figures they link are drawn too. No agent runs: the page links the replays
    that `proxybench replay --all` writes."""
    from benchmark.evaluation.scorer import reference_results

    root = Path(root)
    entries, references, tasks = collect(root), reference_results(), registry()
    fingerprints = current_fingerprints()
    data = figure_data(figure_rows(entries, references), tasks)
    if figures:
        draw(data, root)
    return {MARKDOWN: render(entries, references, tasks, fingerprints),
            PAGE: html_page(entries, references, tasks, fingerprints, data, root)}


def html_page(entries: list[Entry], references: dict[str, dict], tasks: dict, fingerprints: dict | None,
              data: dict, root: Path) -> str:
    """The HTML page (`page.render_page`) of the same rows as `render`; it links each baseline's
    replay GIFs that `proxybench replay --all` has written under `root` (none missing is linked)."""
    entries = sorted(entries, key=lambda e: (-_h(e.results), e.label))
    rank = ranks(entries)
    rows = []
    for e in entries:
        stale = stale_reasons(e.results, tasks, fingerprints)
        suite = _suite_row(e.label, e.results, tasks, "", stale, e.kind, e.backing)
        gifs = {task: f"{REPLAY_DIR}/{e.label}/{task}.gif" for task, res in e.results["tasks"].items()
                if e.source.startswith("baselines/") and res.get("status") == "ok"}
        replays = {task: relative(PAGE, gif) for task, gif in gifs.items() if (Path(root) / gif).is_file()}
        rows.append({"label": shown_label(e), "results": e.results, "kind": e.kind, "notes": suite[-1],
                     "stale": stale, "reference": False, "ranked": ranked(e), "rank": rank.get(e.label, ""),
                     "replays": replays})
    for name in REFERENCE_ROWS:
        if name in references:
            rows.append({"label": name, "results": references[name], "kind": "reference", "notes": "",
                         "stale": {}, "reference": True, "ranked": False, "rank": "", "replays": {}})
    links = {"behaviour": relative(PAGE, BEHAVIOUR), "scatter": relative(PAGE, SCATTER),
             "by_tag": relative(PAGE, BY_TAG), "markdown": relative(PAGE, MARKDOWN)}
    return render_page(rows, tasks, data, links, pursues)


def figure_rows(entries: list[Entry], references: dict[str, dict]) -> list[tuple[str, dict, bool]]:
    """(label, results, is a reference policy) of every row the figures show: ranked entries
    by H, then self-reported ones, then the reference policies."""
    rows = [(shown_label(e), e.results, False)
            for e in sorted(entries, key=lambda e: (not ranked(e), -_h(e.results), e.label))]
    return rows + [(f"{name} (reference)", references[name], True) for name in REFERENCE_ROWS if name in references]


def plot(entries: list[Entry], references: dict[str, dict], root: Path, tasks: dict | None = None) -> dict:
    """The figures of these rows, drawn under `root`; returns their data block."""
    data = figure_data(figure_rows(entries, references), tasks or registry())
    draw(data, Path(root))
    return data


def draw(data: dict, root: Path) -> None:
    """The figures linked from the pages (see `figures`), from one data block (the HTML page
    carries it)."""
    import matplotlib
    matplotlib.use("Agg")

    (root / FIGURE_DIR).mkdir(parents=True, exist_ok=True)
    plot_behaviour(data, root / BEHAVIOUR)
    plot_scatter(data, root / SCATTER)
    plot_by_tag(data, root / BY_TAG)
