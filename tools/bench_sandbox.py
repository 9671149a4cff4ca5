"""What isolation costs: sandboxed vs in-process scoring time of the random baseline.

    python tools/bench_sandbox.py [--tasks RedDoor,CoinEnd] [--episodes N] [--repeats 3] [--batch 200]

Scores `baselines/random` on the tasks, once to fill the reference cache (untimed), then
`--repeats` times in-process and sandboxed, alternating, and reports the median and best
wall-clock time of each, the median of the per-repeat ratios (paired: the least sensitive to a
machine whose speed drifts), the median CPU time (the scorer's and its finished children's: the
agent's processes), and the overhead of the sandbox. Both timings include everything
`score_submission` does (references from the cache, rollouts, scoring); the sandboxed one also
starts the agent's processes and moves every batch through shared memory and pipes. The
rollouts run at the scorer's width, 200, or at `--batch` (a split with fewer episodes runs at
its episode count). `--cold` empties the reference cache before each scoring, so the references
are computed too (what a first scoring costs). Not a test: the figures depend on the machine and
its load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmark.evaluation.rollout import DEFAULT_BATCH
from benchmark.submission.score import score_submission
from benchmark.contract.registry import parse_task_list

RANDOM = Path(__file__).resolve().parents[1] / "baselines" / "random"


def measure(folder: Path, tasks: list[str], episodes: int | None, repeats: int, cold: bool = False,
            batch: int = DEFAULT_BATCH) -> dict:
    if not cold:
        score_submission(folder, tasks, episodes, progress=False, sandbox=False)  # fill the cache
    times = {"in_process": [], "sandboxed": []}
    cpu = {"in_process": [], "sandboxed": []}
    results = {}
    for _ in range(repeats):
        for mode in times:
            with tempfile.TemporaryDirectory(prefix="proxybench-bench-cache-") as cache:
                if cold:  # an empty reference cache: the references are computed as well
                    os.environ["PROXYBENCH_CACHE"] = cache
                start, start_cpu = time.perf_counter(), _cpu()
                res = score_submission(folder, tasks, episodes, progress=False, sandbox=mode == "sandboxed",
                                       batch_size=batch)
                times[mode].append(time.perf_counter() - start)
                cpu[mode].append(_cpu() - start_cpu)
            res.pop("scored_at")
            results[mode] = res
    same = results["in_process"] == results["sandboxed"]
    med = {mode: statistics.median(t) for mode, t in times.items()}
    best = {mode: min(t) for mode, t in times.items()}
    med_cpu = {mode: statistics.median(t) for mode, t in cpu.items()}
    return {"tasks": tasks, "episodes": episodes or "default", "repeats": repeats, "batch": batch,
            "reference_cache": "empty (references computed)" if cold else "warm",
            "in_process_s": round(med["in_process"], 3), "sandboxed_s": round(med["sandboxed"], 3),
            "overhead_pct": round(100 * (med["sandboxed"] / med["in_process"] - 1), 1),
            # Each repeat times both modes back to back: the median of those ratios is the figure
            # least moved by a machine whose speed drifts during the measurement.
            "paired_overhead_pct": round(100 * (statistics.median(
                s / i for s, i in zip(times["sandboxed"], times["in_process"])) - 1), 1),
            "in_process_best_s": round(best["in_process"], 3), "sandboxed_best_s": round(best["sandboxed"], 3),
            "best_overhead_pct": round(100 * (best["sandboxed"] / best["in_process"] - 1), 1),
            "in_process_cpu_s": round(med_cpu["in_process"], 3), "sandboxed_cpu_s": round(med_cpu["sandboxed"], 3),
            "cpu_overhead_pct": round(100 * (med_cpu["sandboxed"] / med_cpu["in_process"] - 1), 1),
            "all_times_s": {mode: [round(x, 3) for x in t] for mode, t in times.items()},
            "load_average": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count(),
            "identical_results": same}


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the agent's processes)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/bench_sandbox.py", description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", default=None, help="comma-separated task names (default: the suite)")
    parser.add_argument("--episodes", type=int, default=None, help="episodes per split (default: each task's)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH,
                        help=f"the rollouts' width (default {DEFAULT_BATCH}, the scorer's; a split with fewer "
                             "episodes runs at its episode count)")
    parser.add_argument("--cold", action="store_true",
                        help="score with an empty reference cache each time (default: warm cache)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    saved = os.environ.get("PROXYBENCH_CACHE")
    try:
        if args.batch < 1:
            parser.error(f"--batch must be at least 1, got {args.batch}")
        report = measure(RANDOM, parse_task_list(args.tasks), args.episodes, args.repeats, args.cold, args.batch)
    finally:
        if saved is None:
            os.environ.pop("PROXYBENCH_CACHE", None)
        else:
            os.environ["PROXYBENCH_CACHE"] = saved
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"random baseline, batch {args.batch}, {len(report['tasks'])} tasks "
              f"({', '.join(report['tasks'])}), episodes {report['episodes']}, reference cache "
              f"{report['reference_cache']}, {args.repeats} repeats:")
        print(f"  wall clock, median: in-process {report['in_process_s']:.3f} s   sandboxed "
              f"{report['sandboxed_s']:.3f} s   overhead {report['overhead_pct']:+.1f}%")
        print(f"  wall clock, paired: median of the per-repeat ratios, overhead {report['paired_overhead_pct']:+.1f}%")
        print(f"  wall clock, best:   in-process {report['in_process_best_s']:.3f} s   sandboxed "
              f"{report['sandboxed_best_s']:.3f} s   overhead {report['best_overhead_pct']:+.1f}%")
        print(f"  CPU time, median:   in-process {report['in_process_cpu_s']:.3f} s   sandboxed "
              f"{report['sandboxed_cpu_s']:.3f} s   overhead {report['cpu_overhead_pct']:+.1f}%")
        print(f"  load average {report['load_average']} on {report['cpus']} CPUs")
        print(f"  identical results: {report['identical_results']}")
    return 0 if report["identical_results"] else 1


if __name__ == "__main__":
    sys.exit(main())
