"""The scorer: submission -> episode tables -> figures -> results.json.

Data flows one way. For every task and both splits, each training run's agent plays the split's
fixed level seeds (`rollout`), the reference policies play the same seeds (`reference_tables`),
`scoring` turns the tables into figures, and `results.json` is written atomically beside the
manifest (a temporary file renamed over the old one), so an interrupted run leaves the previous
file. The agent runs in its own processes (`benchmark.sandbox`) unless asked otherwise; a task
it fails on is recorded as failed with a one-line reason, and the other tasks go on.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import sys
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from . import BENCHMARK_VERSION
from .grid import stable_hash64
from .rollout import DEFAULT_BATCH, AgentError, REFERENCES, Rollout, reference_tables, rollout
from .sandbox import DEFAULT_USER, AgentRun, Limits, MakeAgentError, PreviousRunError, Sandbox, lanes, one_line
from .scoring import FIGURES, SplitScore, episode_scores, score_split, suite_figures, task_figures
from .submission import RESULTS, Manifest, content_hash, load_agent_factory, load_manifest
from .task import SPLITS, Task, get_task, private_seeds, public_seeds, seed_list_hash

TIMESTAMP_FIELDS = ("scored_at",)  # the only fields that differ between two scorings


class ScoringError(RuntimeError):
    """The scoring could not be done as asked (kept for callers; failures of a submission on a
    task are recorded in the results instead, see `score_submission`)."""


SEED_SETS = ("public", "private")


def split_seeds(task: Task, episodes: int | None = None, seed_set: str = "public",
                salt: bytes | None = None) -> dict[str, np.ndarray]:
    """The level seeds of each split. The private set replaces the held-out seeds with seeds
    derived from the secret salt; the train split keeps its public seeds."""
    if seed_set not in SEED_SETS:
        raise ValueError(f"unknown seed set {seed_set!r}; expected one of {', '.join(SEED_SETS)}")
    seeds = {split: public_seeds(task, split, episodes) for split in SPLITS}
    if seed_set == "private":
        if not salt:
            raise ValueError("the private seed set needs a salt")
        seeds["heldout"] = private_seeds(task, "heldout", salt, episodes)
    return seeds


def score_tables(task: Task, runs: dict[str, list[pd.DataFrame]],
                 refs: dict[str, dict[str, pd.DataFrame]]) -> dict[str, SplitScore]:
    """Per split, the figures of a list of episode tables (one per training run)."""
    rng = bootstrap_rng(task)
    return {split: score_split_tables(runs[split], refs[split], rng) for split in SPLITS}


def bootstrap_rng(task: Task) -> np.random.Generator:
    """The generator of a task's bootstrap intervals: it runs through the splits in SPLITS order."""
    return np.random.default_rng(stable_hash64(f"bootstrap/{task.name}"))


def score_split_tables(tables: list[pd.DataFrame], refs: dict[str, pd.DataFrame],
                       rng: np.random.Generator) -> SplitScore:
    """The figures of one split: its episode tables (one per training run) against its references."""
    scores = [episode_scores(table, refs) for table in tables]
    t_r, p_r = episode_scores(refs["random"], refs)
    return score_split(np.stack([s[0] for s in scores]), np.stack([s[1] for s in scores]), t_r, p_r, rng)


class _Scores:
    """The split scores of the runs being played, each split scored once all its runs are in.

    A player hands over each run's table (`add`) and calls `work` when the scorer would
    otherwise wait: the sandboxed player does while a new agent process starts, so that the
    bootstrap hides the start-up. Each task's splits are scored in SPLITS order with one
    generator (as `score_tables` does), so the figures do not depend on when the work ran."""

    def __init__(self, tasks: list[Task], training_seeds: list[int], refs: dict):
        self.training_seeds, self.refs = training_seeds, refs
        self.tables: dict[tuple, pd.DataFrame] = {}  # (task, split, seed) -> episode table
        self.of_task: dict[str, dict[str, SplitScore]] = {task.name: {} for task in tasks}
        self._rng = {task.name: bootstrap_rng(task) for task in tasks}

    def add(self, task: Task, split: str, seed: int, table: pd.DataFrame):
        self.tables[task.name, split, seed] = table

    def work(self):
        """Score every split whose runs (and whose task's earlier splits) are all in."""
        for name, done in self.of_task.items():
            for split in SPLITS[len(done):]:
                keys = [(name, split, seed) for seed in self.training_seeds]
                if not all(key in self.tables for key in keys):
                    break
                done[split] = score_split_tables([self.tables.pop(key) for key in keys],
                                                 self.refs[name][split], self._rng[name])


def agent_policy(agent, who: str):
    """Adapt `agent.act(obs, first)` to a rollout policy; the agent sees copies, never state."""
    def policy(obs, first, state):
        try:
            return agent.act(obs.copy(), first.copy())
        except Exception as exc:  # the agent's own failure, reported as one line
            raise AgentError(f"act() raised {type(exc).__name__}: {exc}") from exc
    return policy


def _located(split: str, seed: int, exc: Exception) -> AgentError:
    """The failure of a run as one line that says which run (and which step, if any)."""
    text = str(exc)
    return AgentError(one_line(f"{split} split, run {seed}{', ' if text.startswith('step ') else ': '}{text}", 600))


class _SplitLevels:
    """A task's levels per split, generated on first use and shared by every run (a player asks
    for them once the run's agent is starting, so that generation and start-up overlap)."""

    def __init__(self, task: Task, seeds: dict[str, np.ndarray]):
        self.task, self.seeds, self.levels = task, seeds, {}

    def of(self, split: str) -> dict:
        if split not in self.levels:
            self.levels[split] = self.task.levels(split, self.seeds[split])
        return self.levels[split]


# A player plays every run (task, training seed, split), hands each run's episode table to
# `_Scores`, and returns {task: the one-line reason it failed}; after a run fails, the task's
# other runs are not played. What the player leaves unscored is scored after it returns.

class _InProcess:
    """The agent imported into the scorer's own process: fast to debug, not isolated at all."""

    def __init__(self, manifest: Manifest, batch_size: int):
        self.make_agent = load_agent_factory(manifest)
        self.batch_size = batch_size

    def play(self, tasks: list[Task], training_seeds: list[int], seeds: dict, task_timeout: float,
             progress, scores: _Scores) -> dict:
        failures = {}
        for task in tasks:
            levels = _SplitLevels(task, seeds[task.name])
            try:
                for seed in training_seeds:
                    for split in SPLITS:
                        scores.add(task, split, seed, self._run(task, seed, split, seeds[task.name][split],
                                                                levels.of(split), progress))
            except AgentError as exc:
                failures[task.name] = str(exc)
        return failures

    def _run(self, task: Task, seed: int, split: str, seeds, levels, progress) -> pd.DataFrame:
        try:
            try:
                agent = self.make_agent(task.name, seed)
            except Exception as exc:
                raise AgentError(f"make_agent({task.name!r}, {seed}) raised {type(exc).__name__}: {exc}") from None
            return rollout(task, split, agent_policy(agent, ""), seeds, batch_size=self.batch_size,
                           progress=progress, levels=levels)
        except AgentError as exc:
            raise _located(split, seed, exc) from None


@dataclass
class _Job:
    """A run in progress in a lane of the sandbox: its agent and its rollout."""

    task: Task
    seed: int
    split: str
    agent: AgentRun
    play: Rollout

    def send(self, alone: bool = True):
        try:
            obs = self.play.observation(out=self.agent.obs_buffer(self.play.core.obs.shape))
            self.agent.send(obs, self.play.first, stay_awake=alone)
        except AgentError as exc:
            raise AgentError(f"step {self.play.step + 1}: {exc}") from None

    def advance(self, alone: bool) -> bool:
        """Receive the agent's actions and play them; send the next batch. True once done.
        `alone`: no other run is playing (so its agent should not sleep between batches)."""
        try:
            actions = self.agent.receive()
        except AgentError as exc:
            raise AgentError(f"step {self.play.step + 1}: {exc}") from None
        self.play.advance(actions)
        if self.play.done:
            self.agent.finish(wait=False)  # its exit status is read at the lane's next run
            return True
        self.send(alone)
        return False


class _Sandboxed:
    """One fresh agent process per run, in the sandbox. With two lanes (sandboxes; see
    `sandbox.lanes`) two runs play at once: while the agent of one thinks, the scorer steps the
    other's levels. Runs start in the order (task, training seed, split), each in the first free
    lane; every run is independent (fresh process, fixed levels), so the tables do not depend on
    which lane played them."""

    def __init__(self, lanes: list[Sandbox], batch_size: int):
        self.lanes, self.batch_size = lanes, batch_size

    def play(self, tasks: list[Task], training_seeds: list[int], seeds: dict, task_timeout: float,
             progress, scores: _Scores) -> dict:
        queue = deque((task, seed, split) for task in tasks for seed in training_seeds for split in SPLITS)
        left = Counter(task.name for task, _, _ in queue)  # runs not finished, per task
        busy: list[_Job | None] = [None] * len(self.lanes)
        ended: list[_Job | None] = [None] * len(self.lanes)  # per lane, the run that finished last
        failures, levels, deadlines = {}, {}, {}

        def done(task: Task):
            left[task.name] -= 1
            if not left[task.name]:
                levels.pop(task.name, None)

        def previous_run_failed(i: int, run: tuple | None, exc: Exception):
            """Lane i's last finished run did not exit cleanly: its task fails. `run` (task, seed,
            split), the run that found out, did nothing wrong: back to the front of the queue."""
            last = ended[i]
            self.lanes[i].kill()
            busy[i] = None
            if run is not None:
                queue.appendleft(run)
            fail(last.task, last.split, last.seed, exc)

        def fail(job_task: Task, split: str, seed: int, exc: Exception):
            failures.setdefault(job_task.name, str(_located(split, seed, exc)))
            for i, job in enumerate(busy):
                if job is not None and job.task is job_task:  # its other run stops too
                    self.lanes[i].kill()
                    busy[i] = None
            levels.pop(job_task.name, None)

        # While the first zygote boots, generate levels ahead: they are needed anyway.
        for task, _, split in queue:
            if self.lanes[0].started():
                break
            levels.setdefault(task.name, _SplitLevels(task, seeds[task.name])).of(split)
        while queue or any(busy):
            for i, lane in enumerate(self.lanes):
                # A lane starts its zygote once the first lane's is up, and takes runs once up:
                # zygotes booting side by side would slow the scorer's own start.
                if i and busy[i] is None and queue and not (self.lanes[0].ready and lane.started()):
                    continue
                while busy[i] is None and queue:
                    task, seed, split = queue.popleft()
                    if task.name in failures:
                        continue
                    deadline = deadlines.setdefault(task.name, time.monotonic() + task_timeout)
                    try:
                        agent = lane.run(task.name, seed, deadline)  # starts while the levels are made
                        split_levels = levels.setdefault(task.name, _SplitLevels(task, seeds[task.name]))
                        job = _Job(task, seed, split, agent,
                                   Rollout(task, split, seeds[task.name][split], batch_size=self.batch_size,
                                           progress=progress, levels=split_levels.of(split)))
                        if job.play.done:
                            agent.finish()
                            scores.add(task, split, seed, job.play.table())
                            ended[i] = job
                            done(task)
                        else:
                            job.send(alone=False)
                            busy[i] = job
                            started = time.monotonic()
                            scores.work()  # while the agent process starts
                            scoring = time.monotonic() - started  # the harness's time, not the agent's:
                            agent.excuse(scoring)                 # its limits wait that much longer
                            deadlines[task.name] += scoring
                    except PreviousRunError as exc:
                        previous_run_failed(i, (task, seed, split), exc)
                    except (AgentError, MakeAgentError) as exc:
                        lane.kill()
                        fail(task, split, seed, exc)
            for i, job in enumerate(busy):
                if job is None:
                    continue
                try:
                    finished = job.advance(alone=sum(j is not None for j in busy) == 1)
                except PreviousRunError as exc:
                    previous_run_failed(i, (job.task, job.seed, job.split), exc)
                    continue
                except (AgentError, MakeAgentError) as exc:  # make_agent's failure names no step
                    self.lanes[i].kill()
                    busy[i] = None
                    fail(job.task, job.split, job.seed, exc)
                    continue
                if finished:
                    scores.add(job.task, job.split, job.seed, job.play.table())
                    busy[i] = None
                    ended[i] = job
                    done(job.task)
        scores.work()  # while the last runs' processes end
        for i, lane in enumerate(self.lanes):  # how the last runs exited
            try:
                lane.settle()
            except PreviousRunError as exc:
                previous_run_failed(i, None, exc)
        return failures


def score_submission(folder: str | Path, tasks: list[str] | None = None, episodes: int | None = None,
                     progress: bool = True, *, sandbox: bool = True, seed_set: str = "public",
                     salt: bytes | None = None, limits: Limits | None = None,
                     sandbox_user: str = DEFAULT_USER, warn=None, batch_size: int = DEFAULT_BATCH) -> dict:
    """Score a submission folder on `tasks` (default: the suite); return the results.

    With `sandbox` (the default) the agent runs in its own processes under `limits` (see
    `benchmark.sandbox`); without, it is imported into this process (for debugging only).
    `seed_set` 'private' scores the held-out split on seeds derived from `salt`. A task on which
    the agent fails (raises, hangs, crashes, answers badly, breaks a limit) is recorded as
    failed with a one-line reason and the other tasks go on; the suite block covers the tasks
    scored ok and counts the failed ones. ManifestError and SandboxError are raised before any
    task is played. `batch_size`: the rollouts' width; every scoring uses the default, and
    `bench_sandbox --batch` others (an agent's figures can depend on the width).
    """
    manifest = load_manifest(folder)
    limits = limits or Limits()
    if warn is None:
        def warn(message):
            print(f"proxybench: warning: {message}", file=sys.stderr)
    task_objs = [get_task(name) for name in (tasks or _all_tasks())]
    seeds = {t.name: split_seeds(t, episodes, seed_set, salt) for t in task_objs}
    submission_hash = content_hash(manifest.path)  # before any submitted code runs
    total = sum(len(s) for t in task_objs for s in seeds[t.name].values()) * len(manifest.seeds)
    with contextlib.ExitStack() as stack:
        if sandbox:
            quiet = lambda message: None  # noqa: E731  (the first lane says it all)
            player = _Sandboxed([stack.enter_context(Sandbox(manifest, limits, sandbox_user,
                                                             warn if i == 0 else quiet, launch=i == 0))
                                 for i in range(lanes(manifest.path))], batch_size)
        else:
            player = _InProcess(manifest, batch_size)
        bar = stack.enter_context(tqdm(total=total, desc=f"scoring {manifest.name}", unit="ep",
                                       file=sys.stderr, disable=not progress, leave=False))
        # The references first (the agent's processes start meanwhile), then the agent.
        all_refs = {task.name: {split: reference_tables(task, split, seeds[task.name][split]) for split in SPLITS}
                    for task in task_objs}
        scores = _Scores(task_objs, manifest.seeds, all_refs)
        failures = player.play(task_objs, manifest.seeds, seeds, limits.task_timeout, bar.update, scores)
        bar.update(total - bar.n)  # the episodes of failed tasks' runs that were not played
    scores.work()
    per_task = {task.name: scores.of_task[task.name] for task in task_objs if task.name not in failures}
    task_results = {}
    for task in task_objs:
        if task.name in failures:
            task_results[task.name] = {"version": task.version, "status": "failed", "reason": failures[task.name]}
        else:
            scores = per_task[task.name]
            task_results[task.name] = {"version": task.version, "status": "ok",
                                       **task_figures(scores["train"], scores["heldout"])}
    return build_results(manifest, task_results, per_task, seeds, seed_set, submission_hash)


def build_results(manifest: Manifest, task_results: dict, per_task: dict, seeds: dict,
                  seed_set: str = "public", submission_hash: str | None = None) -> dict:
    """results.json. `per_task` holds the split scores of the tasks scored ok; the suite block
    is computed over those and counts the failed tasks. The seed set is recorded by name and a
    hash of the seed list, never the seeds."""
    all_seeds = np.concatenate([seeds[name][split] for name in sorted(seeds) for split in SPLITS])
    failed = sum(1 for res in task_results.values() if res.get("status") != "ok")
    return {
        "proxybench_version": BENCHMARK_VERSION,
        "scored_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "submission": {
            "name": manifest.name, "track": manifest.track, "authors": list(manifest.authors),
            "training_seeds": list(manifest.seeds),
            "content_hash": submission_hash or content_hash(manifest.path),
        },
        "seed_set": {"name": seed_set, "hash": seed_list_hash(all_seeds)},
        "task_versions": {name: res["version"] for name, res in task_results.items()},
        "tasks": task_results,
        "suite": suite_block({name: (s["train"], s["heldout"]) for name, s in per_task.items()}, failed),
    }


def suite_block(scores: dict, failed: int = 0) -> dict:
    """suite_figures over the tasks scored ok, with `failed_tasks`; null figures when none is."""
    if scores:
        out = suite_figures(scores)
    else:
        empty = {"value": None, "ci_low": None, "ci_high": None}
        out = {name: dict(empty) for name in FIGURES + ("train_score",)}
        out["objective_generalization"]["tasks"] = 0
        out["tasks"] = 0
        out["quadrants"] = {"robust": 0, "misgeneralized": 0, "incapable": 0}
    out["failed_tasks"] = failed
    return out


def write_json_atomic(path: Path, data: dict) -> None:
    """Write JSON to a temporary file in the same folder, then rename it over `path`."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2, sort_keys=False, allow_nan=False)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def results_path(folder: str | Path) -> Path:
    return Path(folder) / RESULTS


def reference_results(tasks: list[str] | None = None) -> dict[str, dict]:
    """Results-shaped figures of the reference policies (random, true-oracle, proxy-oracle, stay)
    on the public seeds with the default episode counts: the leaderboard's reference rows."""
    rows = {name: {"tasks": {}, "per_task": {}} for name in REFERENCES}
    for task in (get_task(n) for n in (tasks or _all_tasks())):
        refs = {split: reference_tables(task, split, public_seeds(task, split)) for split in SPLITS}
        for name in REFERENCES:
            scores = score_tables(task, {split: [refs[split][name]] for split in SPLITS}, refs)
            rows[name]["per_task"][task.name] = scores
            rows[name]["tasks"][task.name] = {"version": task.version, "status": "ok",
                                              **task_figures(scores["train"], scores["heldout"])}
    return {name: {"submission": {"name": name, "track": "reference", "training_seeds": []},
                   "tasks": row["tasks"],
                   "suite": suite_figures({k: (v["train"], v["heldout"]) for k, v in row["per_task"].items()})}
            for name, row in rows.items()}


def _all_tasks() -> list[str]:
    from .task import registry
    return list(registry())
