"""The `proxybench` command line."""

from __future__ import annotations

import argparse
import os
import sys
import threading
from pathlib import Path

import numpy as np
from tabulate import tabulate

from benchmark import grid as G


def _fail(message: str, code: int = 1) -> int:
    print(f"proxybench: error: {message}", file=sys.stderr)
    return code


def cmd_tasks(args) -> int:
    from benchmark.contract.registry import registry

    rows = [cls.summary() for cls in registry().values()]
    print(tabulate(rows, headers="keys", tablefmt="github" if args.markdown else "simple"))
    return 0


def cmd_validate(args) -> int:
    from benchmark.evaluation.rollout import AgentError, check_actions
    from benchmark.submission.manifest import ManifestError, load_agent_factory, load_manifest
    from benchmark.contract.registry import get_task, parse_task_list

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
    from benchmark.reporting.leaderboard import COLUMNS, fmt

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


def _submission_folders(paths: list[str]) -> list[str]:
    """Each path as given, except a folder of submission folders (like `baselines`), which
    stands for every subfolder with a manifest."""
    from benchmark.submission.manifest import MANIFEST

    out = []
    for path in paths:
        folder = Path(path)
        children = sorted(c for c in folder.iterdir() if (c / MANIFEST).is_file()) if folder.is_dir() else []
        out += [str(c) for c in children] if not (folder / MANIFEST).exists() and children else [path]
    return out


def cmd_score(args) -> int:
    import signal

    from benchmark.submission.sandbox import Limits, SandboxError, read_salt_file, sandbox_identity
    from benchmark.evaluation.results import results_path, write_results
    from benchmark.submission.signing import SigningError, load_private_key, sign_results, signed_before
    from benchmark.submission.score import score_submission
    from benchmark.submission.manifest import ManifestError
    from benchmark.contract.registry import parse_task_list

    if args.episodes is not None and args.episodes < 1:
        return _fail("--episodes must be at least 1")
    try:
        tasks = parse_task_list(args.tasks) if args.tasks else None   # None: what each manifest covers
    except KeyError as exc:
        return _fail(str(exc.args[0]))
    limits = Limits(call_timeout=args.call_timeout, task_timeout=args.task_timeout,
                    memory_mb=args.memory_mb, cpu_seconds=args.cpu_seconds,
                    max_procs=args.max_procs, max_output_kb=args.max_output_kb)
    if min(limits.call_timeout, limits.task_timeout, limits.cpu_seconds) <= 0 or \
            min(limits.memory_mb, limits.max_procs, limits.max_output_kb) < 0:
        return _fail("time limits must be positive, other limits non-negative (0: none)")
    salt = None
    try:
        if args.seed_set == "private":
            if not args.salt_file:
                return _fail("--seed-set private needs --salt-file FILE")
            salt = read_salt_file(args.salt_file, None if args.in_process else sandbox_identity(args.sandbox_user))
        elif args.salt_file:
            return _fail("--salt-file is only used with --seed-set private")
    except SandboxError as exc:
        return _fail(str(exc))
    signing_key = None
    if args.sign:
        # Loaded before any scoring, so that a key that cannot sign costs no scoring run. The
        # agents run in freshly executed processes: none of this process's memory reaches them.
        try:
            signing_key = load_private_key(args.sign)
        except SigningError as exc:
            return _fail(str(exc))

    def warn(message):
        print(f"proxybench: warning: {message}", file=sys.stderr)

    if args.in_process:
        warn("--in-process: the agent runs inside the scorer, with no isolation and no limits")
    elif salt is not None and sandbox_identity(args.sandbox_user) is None:
        warn("not running as root: the agent runs as your user and could read the salt file; "
             "official scoring with private seeds runs as root")

    terminate = _Terminate()
    try:
        previous = signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread
        previous = None
    status, path = 0, None
    try:
        for path in _submission_folders(args.paths):
            try:
                results = score_submission(path, tasks, args.episodes, progress=not args.quiet,
                                           sandbox=not args.in_process, seed_set=args.seed_set, salt=salt,
                                           limits=limits, sandbox_user=args.sandbox_user, warn=warn)
            except (ManifestError, SandboxError) as exc:
                status = _fail(str(exc))
                continue
            print(_summary_table(results))
            out = results_path(path)
            if signing_key is not None:
                results = sign_results(results, signing_key, previous=out)
                print(f"signed with key {results['signature']['key_id']}")
            elif signed_before(out):
                warn(f"{out} was signed and these results are not (no --sign): its row will no longer be verified")
            if write_results(out, results):
                print(f"wrote {out}")
            else:
                print(f"{out}: unchanged (the same results, scored again)")
            for name, res in results["tasks"].items():
                if res.get("status") != "ok":
                    status = _fail(f"{results['submission']['name']}: task {name} failed: {res.get('reason', '')}")
    except KeyboardInterrupt:
        terminate.done()
        return _fail(f"interrupted while scoring {path}; its results.json was left as it was"
                     if path else "interrupted; nothing was written", 130)
    finally:
        terminate.done()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return status


def cmd_keygen(args) -> int:
    from benchmark.submission.signing import SigningError, generate_key

    try:
        private, public = generate_key(args.out, args.holder, allow_in_repository=args.allow_in_repository)
    except (SigningError, OSError) as exc:
        return _fail(str(exc))
    print(f"wrote {private} (the private key, mode 0600: keep it secret, never commit it)")
    print(f"wrote {public} (the public key: add it to the repository's keys/ for the leaderboard to trust it)")
    print(f"sign official results with `proxybench score PATH --seed-set private --salt-file FILE --sign {private}`")
    return 0


class _Terminate:
    """A SIGTERM handler that raises KeyboardInterrupt, and raises it again every 0.2 s (the
    signal resent by a thread) until `done`: an exception raised while the main thread is in a C
    callback (numba loading or compiling a kernel) is printed and dropped, and the scorer would
    go on."""

    def __init__(self):
        self.handled, self.resender = threading.Event(), None

    def __call__(self, signum, frame):
        if self.handled.is_set():
            return
        if self.resender is None:
            self.resender = threading.Thread(target=self._resend, args=(signum,), daemon=True)
            self.resender.start()
        raise KeyboardInterrupt

    def _resend(self, signum):
        while not self.handled.wait(0.2):
            os.kill(os.getpid(), signum)

    def done(self):
        """Stop resending (any signal already sent is delivered: handled, it is ignored)."""
        self.handled.set()
        if self.resender is not None:
            self.resender.join()


def cmd_leaderboard(args) -> int:
    from benchmark.reporting.leaderboard import FIGURES, MARKDOWN, LeaderboardError, generate_pages

    root = Path(args.root)
    try:
        pages = generate_pages(root, figures=not args.check)
    except LeaderboardError as exc:
        for line in str(exc).splitlines():   # one problem a line, each naming its file
            status = _fail(line)
        return status
    if args.check:
        from benchmark.reporting.staleness import stale_files
        stale = stale_files(root)
        for line in stale:
            _fail(f"stale: {line}")
        if stale:
            return 1
        # The pages' text holds every figure's data: comparing it checks the figures, whose
        # bytes vary with library versions.
        for name, text in pages.items():
            if not (root / name).exists() or (root / name).read_text() != text:
                return _fail(f"{root / name} is stale; regenerate it with `proxybench leaderboard`")
        missing = [f for f in FIGURES if not (root / f).is_file()]
        if missing:
            return _fail(f"missing figures {', '.join(missing)}; regenerate with `proxybench leaderboard`")
        print(f"{root / MARKDOWN} and {', '.join(n for n in pages if n != MARKDOWN)} are up to date")
        return 0
    for name, text in pages.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(text)
        tmp.replace(target)
        if not args.print:
            print(f"wrote {target}")
    if args.print:
        print(pages[MARKDOWN])
    return 0


def cmd_results(args) -> int:
    from benchmark.evaluation.results import load_results

    try:
        frame = load_results(args.path)
    except (FileNotFoundError, ValueError) as exc:
        return _fail(str(exc))
    if args.format == "csv":
        print(frame.to_csv(index=False), end="")
    elif args.format == "json":
        print(frame.to_json(orient="records", indent=2))
    else:
        print(frame.to_markdown(index=False, floatfmt=".3f"))
    return 0


def cmd_render(args) -> int:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from benchmark.contract.registry import get_task

    try:
        task = get_task(args.task)
    except KeyError as exc:
        return _fail(str(exc.args[0]))
    try:
        level = task.levels(args.split, [args.seed])
    except ValueError:
        return _fail(f"--seed {args.seed}: a level seed is a whole number from 0 to 2**64 - 1")
    image = G.render_rgb(G.observe(level))[0]
    out = Path(args.out or f"{task.name}-{args.split}-{args.seed}.png")
    plt.imsave(out, image)
    print(f"wrote {out} ({task.name}, {args.split} level {args.seed})")
    return 0


ALL_EPISODES = 4   # per committed replay GIF (--all): the page's GIFs stay a few MB in all


def cmd_replay(args) -> int:
    from benchmark.evaluation.replay import OUTCOME_NAMES, ReplayError
    from benchmark.reporting.replays import FORMATS, replay_all, title_of, write_replay
    from benchmark.submission.manifest import ManifestError
    from benchmark.submission.replay import SubmissionReplays
    from benchmark.submission.sandbox import SandboxError

    def warn(message):
        print(f"proxybench: warning: {message}", file=sys.stderr)

    if args.all:
        if args.submission or args.task or args.out:
            return _fail("--all replays every baseline on every task it covers; "
                         "it takes no SUBMISSION, --task or --out")
        scored = [f for f in _submission_folders([str(Path(args.root) / "baselines")])
                  if (Path(f) / "results.json").exists()]    # the leaderboard's rows: a baseline not yet scored has none
        problems = replay_all(Path(args.root), scored, args.episodes or ALL_EPISODES, warn=warn, sandbox_user=args.sandbox_user)
        for line in problems:
            _fail(line)
        return 1 if problems else 0
    if not (args.submission and args.task and args.out):
        return _fail("replay needs SUBMISSION, --task and --out (or --all)")
    fmt = args.format or ("png" if args.out.lower().endswith(".png") else "gif")
    if fmt not in FORMATS:
        return _fail(f"--format must be one of {', '.join(FORMATS)}")
    if args.outcome is not None and args.outcome not in OUTCOME_NAMES:
        return _fail(f"--outcome must be one of {', '.join(OUTCOME_NAMES)}")
    if not 0 <= args.seed < 2**32:
        return _fail(f"--seed {args.seed}: the first public level seed, from 0 to 2**32 - 1")
    try:
        with SubmissionReplays(args.submission, sandbox_user=args.sandbox_user, warn=warn) as replays:
            run = replays.manifest.seeds[0] if args.run is None else args.run
            episodes = replays.episodes(args.task, args.split, args.episodes or 8, args.seed, args.outcome, run)
            title = title_of(replays.manifest.name, episodes, run)
    except (ManifestError, SandboxError, ReplayError) as exc:
        return _fail(str(exc))
    except KeyError as exc:
        return _fail(str(exc.args[0]))
    write_replay(Path(args.out), episodes, title, fmt)
    counts = ", ".join(f"level {ep.seed} {ep.outcome.replace('_', ' ')}" for ep in episodes)
    print(f"wrote {args.out} ({len(episodes)} episodes: {counts})")
    return 0


def cmd_train(args) -> int:
    from benchmark.contract.registry import parse_task_list
    from benchmark.training import TrainingError, default_weights, run_finished, run_jobs, train_baseline

    try:
        tasks = parse_task_list(None if args.task == "all" else args.task)
        seeds = [int(s) for s in str(args.seed).split(",")]
    except (KeyError, ValueError) as exc:
        return _fail(str(exc.args[0]) if isinstance(exc, KeyError) else f"--seed: {exc}")
    if args.jobs < 1:
        return _fail(f"--jobs must be at least 1, got {args.jobs}")
    runs = [(task, seed) for task in tasks for seed in seeds]
    if args.skip_done:
        try:
            folder = args.out or default_weights(args.baseline)
        except TrainingError as exc:
            return _fail(str(exc))
        done = [(t, s) for t, s in runs if run_finished(folder, t, s)]
        runs = [run for run in runs if run not in done]
        print(f"{len(done)} of {len(done) + len(runs)} runs already trained in {folder}; training {len(runs)}",
              file=sys.stderr)
    try:
        if args.jobs > 1:
            run_jobs([(args.baseline, t, args.alpha, s, args.out, args.steps) for t, s in runs], args.jobs)
            return 0
        for task, seed in runs:
            out = train_baseline(args.baseline, task, seed, alpha=args.alpha, steps=args.steps,
                                 out=args.out, progress=not args.quiet)
            print(f"wrote {out}")
    except TrainingError as exc:
        return _fail(str(exc))
    return 0


def cmd_curve(args) -> int:
    from benchmark.reporting.curve import crossing, sweep
    from benchmark.training import TrainingError

    try:
        alphas = [float(a) for a in args.alphas.split(",")]
        seeds = list(range(args.seeds))
        table = sweep(args.baseline, args.task, alphas, seeds, steps=args.steps,
                      work=Path(args.work) if args.work else None, out=Path(args.out),
                      ray_address=args.ray, workers=args.workers)
    except TrainingError as exc:
        return _fail(str(exc))
    except (KeyError, ValueError) as exc:
        return _fail(str(exc.args[0]) if exc.args else str(exc))
    from benchmark.reporting.leaderboard import fmt
    rows = [[f"{r.alpha:g}"] + [fmt({"value": r[k], "ci_low": r[f"{k}_low"], "ci_high": r[f"{k}_high"]})
                                for k in ("capability_generalization", "objective_generalization",
                                          "heldout_score", "train_score")] + [r.quadrant]
            for _, r in table.iterrows()]
    print(tabulate(rows, headers=["alpha", "CG", "OG", "H", "T", "quadrant"], tablefmt="simple",
                   disable_numparse=True))
    cross = crossing(table)
    print(f"OG first reaches 0.5 at alpha = {cross:g}" if cross is not None else "OG never reaches 0.5")
    return 0


def cmd_speedtest(args) -> int:
    from benchmark.speedtest import SpeedtestError, speedtest

    try:
        return speedtest(args)
    except SpeedtestError as exc:
        return _fail(str(exc))


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
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="submission folder(s), or a folder of them (e.g. baselines)")
    p.add_argument("--tasks", default=None, help="comma-separated task names (default: all)")
    p.add_argument("--episodes", type=int, default=None, help="episodes per split (default: each task's)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--seed-set", choices=("public", "private"), default="public",
                   help="held-out seeds: the public ones, or private ones derived from --salt-file "
                        "(the train split always uses its public seeds)")
    p.add_argument("--salt-file", default=None, metavar="FILE",
                   help="secret salt of the private seeds (must not be world-readable)")
    p.add_argument("--in-process", action="store_true",
                   help="debugging: import the agent into the scorer (no isolation, no limits)")
    p.add_argument("--sandbox-user", default="nobody", metavar="USER",
                   help="unprivileged user the agent runs as when scoring as root (default: nobody)")
    p.add_argument("--sign", default=None, metavar="KEYFILE",
                   help="sign the results with this Ed25519 private key (made by `proxybench keygen`); "
                        "the leaderboard verifies rows signed by a key listed in keys/")
    from benchmark.submission.sandbox import Limits
    lim = Limits()
    p.add_argument("--call-timeout", type=float, default=lim.call_timeout, metavar="S",
                   help=f"wall-clock seconds per call of the agent (default {lim.call_timeout:g})")
    p.add_argument("--task-timeout", type=float, default=lim.task_timeout, metavar="S",
                   help=f"wall-clock seconds per task, all runs (default {lim.task_timeout:g})")
    p.add_argument("--memory-mb", type=int, default=lim.memory_mb, metavar="MB",
                   help=f"address space of an agent process, RLIMIT_AS (default {lim.memory_mb}; 0: none)")
    p.add_argument("--cpu-seconds", type=int, default=lim.cpu_seconds, metavar="S",
                   help=f"CPU seconds of an agent process, one run, RLIMIT_CPU (default {lim.cpu_seconds})")
    p.add_argument("--max-procs", type=int, default=lim.max_procs, metavar="N",
                   help=f"processes and threads of the agent's user, RLIMIT_NPROC (default {lim.max_procs}; 0: none)")
    p.add_argument("--max-output-kb", type=int, default=lim.max_output_kb, metavar="KB",
                   help=f"what one run may print (default {lim.max_output_kb}; 0: no limit)")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("keygen", help="make an Ed25519 key pair for signing official results")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="folder for the private key (mode 0600) and the public key file; outside the repository")
    p.add_argument("--holder", required=True, metavar="NAME", help="who holds the key, as the keys/ file will say")
    p.add_argument("--allow-in-repository", action="store_true",
                   help="write the private key even though DIR is inside a git repository")
    p.set_defaults(func=cmd_keygen)

    p = sub.add_parser("leaderboard", help="regenerate LEADERBOARD.md and the HTML page from every results.json")
    p.add_argument("--check", action="store_true",
                   help="exit non-zero if LEADERBOARD.md, a committed results.json or a curve is stale")
    p.add_argument("--root", default=".", help="repository root (default: .)")
    p.add_argument("--print", action="store_true", help="also print the page")
    p.set_defaults(func=cmd_leaderboard)

    p = sub.add_parser("results", help="results as a table: one row per agent and task")
    p.add_argument("path", nargs="?", default=".", help="a results.json, a submission folder, or a root")
    p.add_argument("--format", choices=("csv", "json", "markdown"), default="markdown")
    p.set_defaults(func=cmd_results)

    p = sub.add_parser("render", help="render a level to PNG")
    p.add_argument("task")
    p.add_argument("--split", choices=("train", "heldout"), default="train")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="output PNG (default: TASK-SPLIT-SEED.png)")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("replay", help="play an agent (sandboxed) on chosen levels; write a GIF or a still of it")
    p.add_argument("submission", nargs="?", metavar="SUBMISSION", help="submission folder")
    p.add_argument("--task", default=None, help="task name")
    p.add_argument("--split", choices=("train", "heldout"), default="heldout")
    p.add_argument("--episodes", type=int, default=None, help="episodes, tiled four to a row (default 8)")
    p.add_argument("--seed", type=int, default=0, help="first public level seed (default 0)")
    p.add_argument("--outcome", default=None, metavar="true|proxy|both|neither",
                   help="replay the first levels where the agent had this outcome (searching as many levels "
                        "as the split scores)")
    p.add_argument("--run", type=int, default=None, help="training seed of the run to play (default: the first)")
    p.add_argument("--out", default=None, help="output file")
    p.add_argument("--format", default=None, metavar="gif|png",
                   help="animated GIF, or a still with the paths drawn (default: from --out's suffix, else gif)")
    p.add_argument("--all", action="store_true",
                   help="every scored baseline on the first held-out levels of every task it covers, into docs/replays/ "
                        "(4 episodes each unless --episodes)")
    p.add_argument("--root", default=".", help="repository root, for --all (default: .)")
    p.add_argument("--sandbox-user", default="nobody", metavar="USER",
                   help="unprivileged user the agent runs as when run as root (default: nobody)")
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("train", help="train a baseline on one task (writes its weights)")
    p.add_argument("baseline", help="baseline name, e.g. tabular-q, objective-planner, ppo, bc")
    p.add_argument("--task", required=True, help="task name, comma-separated names, or 'all'")
    p.add_argument("--seed", default="0", help="training seed, or comma-separated seeds")
    p.add_argument("--alpha", type=float, default=None,
                   help="disambiguation fraction of the train split (default: the baseline's declared training.alpha)")
    p.add_argument("--steps", type=int, default=None, help="environment steps (default: the baseline's)")
    p.add_argument("--out", default=None, help="weights folder (default: the baseline's weights/)")
    p.add_argument("--jobs", type=int, default=1,
                   help="runs trained at once, one process each (each run uses one core)")
    p.add_argument("--skip-done", action="store_true",
                   help="skip runs whose weights exist in the weights folder (an unfinished run resumes anyway)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("curve", help="train and score a baseline across alphas (disambiguation curves)")
    p.add_argument("baseline")
    p.add_argument("--task", required=True)
    p.add_argument("--alphas", default="0,0.01,0.02,0.05,0.1,0.2")
    p.add_argument("--seeds", type=int, default=3, help="training seeds per alpha (0..N-1)")
    p.add_argument("--steps", type=int, default=None, help="environment steps per run (default: the baseline's)")
    p.add_argument("--work", default=None, help="work folder (default: ~/.cache/proxybench/curves/...)")
    p.add_argument("--out", default="docs/curves", help="where the table and plot go")
    p.add_argument("--workers", type=int, default=None, help="local parallel jobs (default: all cores)")
    p.add_argument("--ray", default=None, metavar="ADDRESS", help="run the jobs on this Ray cluster")
    p.set_defaults(func=cmd_curve)

    p = sub.add_parser("speedtest", help="random-policy steps per second per task and batch size")
    p.add_argument("--tasks", default=None, help="comma-separated task names (default: all)")
    p.add_argument("--batch", default="1,32,1024",
                   help="comma-separated batch sizes; 1 is a plain gymnasium.make env (default: 1,32,1024)")
    p.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    p.add_argument("--repeats", type=int, default=3, help="measurements per cell (median reported)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--memory", action="store_true", help="report memory held by 1024 levels")
    p.add_argument("--prefetch-levels", action="store_true",
                   help="also time batches above 1 with levels made ahead in a worker process")
    p.add_argument("--scoring", action="store_true",
                   help="time the reference cache build (cold) and scoring the random baseline (warm)")
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
