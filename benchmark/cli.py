"""The `proxybench` command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from tabulate import tabulate

from . import grid as G


def _fail(message: str, code: int = 1) -> int:
    print(f"proxybench: error: {message}", file=sys.stderr)
    return code


def cmd_tasks(args) -> int:
    from .task import registry

    rows = [cls.summary() for cls in registry().values()]
    print(tabulate(rows, headers="keys", tablefmt="github" if args.markdown else "simple"))
    return 0


def cmd_validate(args) -> int:
    from .rollout import AgentError, check_actions
    from .submission import ManifestError, load_agent_factory, load_manifest
    from .task import get_task, parse_task_list

    try:
        manifest = load_manifest(args.path)
        make_agent = load_agent_factory(manifest)
        task = get_task(parse_task_list(args.tasks)[0])
        obs = G.observe(task.levels("train", np.arange(4)))
        try:
            agent = make_agent(task.name, manifest.seeds[0])
            actions = agent.act(obs.copy(), np.ones(4, bool))
        except Exception as exc:
            raise AgentError(f"step 1: {type(exc).__name__}: {exc}") from None
        check_actions(actions, 4, 1)
    except ManifestError as exc:
        return _fail(str(exc))
    except (AgentError, KeyError) as exc:
        return _fail(f"{args.path}: task {task.name}: {exc}")
    print(f"ok: {manifest.name} ({manifest.track} track, {len(manifest.seeds)} training runs) "
          f"loads and acts on a batch of {task.name}")
    return 0


def _summary_table(results: dict) -> str:
    from .leaderboard import COLUMNS, fmt

    rows = []
    for name, res in results["tasks"].items():
        if res.get("status") != "ok":
            rows.append([name, "failed", "", "", "", "", res.get("reason", "")])
            continue
        rows.append([name] + [fmt(res[key]) for _, key in COLUMNS] + [res["quadrant"]])
    suite = results["suite"]
    if suite:
        rows.append(["suite"] + [fmt(suite.get(key)) for _, key in COLUMNS]
                    + ["{robust}/{misgeneralized}/{incapable}".format(**suite["quadrants"])])
    return tabulate(rows, headers=["task"] + [c for c, _ in COLUMNS] + ["quadrant"], tablefmt="simple",
                    disable_numparse=True)


def cmd_score(args) -> int:
    from .scorer import ScoringError, results_path, score_submission, write_json_atomic
    from .submission import ManifestError
    from .task import parse_task_list

    if args.episodes is not None and args.episodes < 1:
        return _fail("--episodes must be at least 1")
    try:
        tasks = parse_task_list(args.tasks)
    except KeyError as exc:
        return _fail(str(exc.args[0]))
    status = 0
    for path in args.paths:
        try:
            results = score_submission(path, tasks, args.episodes, progress=not args.quiet)
        except (ManifestError, ScoringError) as exc:
            status = _fail(str(exc))
            continue
        print(_summary_table(results))
        out = results_path(path)
        write_json_atomic(out, results)
        print(f"wrote {out}")
    return status


def cmd_leaderboard(args) -> int:
    from .leaderboard import LeaderboardError, generate

    root = Path(args.root)
    target = root / "LEADERBOARD.md"
    try:
        text = generate(root)
    except LeaderboardError as exc:
        return _fail(str(exc))
    if args.check:
        if not target.exists() or target.read_text() != text:
            return _fail(f"{target} is stale; regenerate it with `proxybench leaderboard`")
        print(f"{target} is up to date")
        return 0
    tmp = target.with_suffix(".md.tmp")
    tmp.write_text(text)
    tmp.replace(target)
    print(text if args.print else f"wrote {target}")
    return 0


def cmd_render(args) -> int:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .task import get_task

    try:
        task = get_task(args.task)
    except KeyError as exc:
        return _fail(str(exc.args[0]))
    image = G.render_rgb(G.observe(task.levels(args.split, np.array([args.seed]))))[0]
    out = Path(args.out or f"{task.name}-{args.split}-{args.seed}.png")
    plt.imsave(out, image)
    print(f"wrote {out} ({task.name}, {args.split} level {args.seed})")
    return 0


def cmd_speedtest(args) -> int:
    from .speed import speedtest

    return speedtest(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="proxybench", description=__doc__ and
                                     "Goal misgeneralization benchmark: tasks, scoring, leaderboard.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("tasks", help="list the task suite")
    p.add_argument("--markdown", action="store_true", help="print a GitHub markdown table")
    p.set_defaults(func=cmd_tasks)

    p = sub.add_parser("validate", help="check a submission's manifest and that its agent acts")
    p.add_argument("path")
    p.add_argument("--tasks", default=None, help="task to try the agent on (default: the first)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("score", help="score submissions on both splits; writes PATH/results.json")
    p.add_argument("paths", nargs="+", metavar="PATH", help="submission folder(s)")
    p.add_argument("--tasks", default=None, help="comma-separated task names (default: all)")
    p.add_argument("--episodes", type=int, default=None, help="episodes per split (default: each task's)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("leaderboard", help="regenerate LEADERBOARD.md from every results.json")
    p.add_argument("--check", action="store_true", help="exit non-zero if LEADERBOARD.md is stale")
    p.add_argument("--root", default=".", help="repository root (default: .)")
    p.add_argument("--print", action="store_true", help="also print the page")
    p.set_defaults(func=cmd_leaderboard)

    p = sub.add_parser("render", help="render a level to PNG")
    p.add_argument("task")
    p.add_argument("--split", choices=("train", "heldout"), default="train")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="output PNG (default: TASK-SPLIT-SEED.png)")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("speedtest", help="random-policy steps per second per task and batch size")
    p.add_argument("--tasks", default=None)
    p.add_argument("--batch", default="1,32,1024")
    p.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    p.add_argument("--repeats", type=int, default=3, help="measurements per cell (median reported)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=cmd_speedtest)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return _fail("interrupted; nothing was written", 130)


if __name__ == "__main__":
    sys.exit(main())
