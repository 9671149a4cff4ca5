"""Scoring a submission folder: its manifest, its content hash (taken before any of its code
runs), and its agent played in the sandbox, one fresh process per run, then scored as any agent
is (`benchmark.evaluation.scorer`). results.json is written by the caller, atomically."""

from __future__ import annotations

import contextlib
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path

from benchmark.contract.task import SPLITS, Task
from benchmark.evaluation.results import build_results
from benchmark.evaluation.rollout import DEFAULT_BATCH, AgentError, Rollout
from benchmark.evaluation.scorer import InProcess, SplitLevels, located, play_and_score, tasks_named
from benchmark.evaluation.seeds import split_seeds
from benchmark.evaluation.tables import Scores

from .manifest import Manifest, content_hash, load_agent_factory, load_manifest
from .sandbox import DEFAULT_USER, AgentRun, Limits, MakeAgentError, PreviousRunError, Sandbox, lanes


@dataclass
class Job:
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


class Sandboxed:
    """One fresh agent process per run, in the sandbox. With two lanes (sandboxes; see
    `sandbox.lanes`) two runs play at once: while the agent of one thinks, the scorer steps the
    other's levels. Runs start in the order (task, training seed, split), each in the first free
    lane; every run is independent (fresh process, fixed levels), so the tables do not depend on
    which lane played them."""

    def __init__(self, lanes: list[Sandbox], batch_size: int):
        self.lanes, self.batch_size = lanes, batch_size

    def play(self, tasks: list[Task], training_seeds: list[int], seeds: dict, task_timeout: float,
             progress, scores: Scores) -> dict:
        queue = deque((task, seed, split) for task in tasks for seed in training_seeds for split in SPLITS)
        left = Counter(task.name for task, _, _ in queue)  # runs not finished, per task
        busy: list[Job | None] = [None] * len(self.lanes)
        ended: list[Job | None] = [None] * len(self.lanes)  # per lane, the run that finished last
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
            failures.setdefault(job_task.name, str(located(split, seed, exc)))
            for i, job in enumerate(busy):
                if job is not None and job.task is job_task:  # its other run stops too
                    self.lanes[i].kill()
                    busy[i] = None
            levels.pop(job_task.name, None)

        # While the first zygote boots, generate levels ahead: they are needed anyway.
        for task, _, split in queue:
            if self.lanes[0].started():
                break
            levels.setdefault(task.name, SplitLevels(task, seeds[task.name])).of(split)
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
                        split_levels = levels.setdefault(task.name, SplitLevels(task, seeds[task.name]))
                        job = Job(task, seed, split, agent,
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


def submission_block(manifest: Manifest, submission_hash: str) -> dict:
    """The results' description of a submission: from its manifest, and its content hash."""
    out = {"name": manifest.name, "track": manifest.track, "method": manifest.method,
           "privileged": list(manifest.privileged), "authors": list(manifest.authors),
           "training_seeds": list(manifest.seeds), "train_in_sample": manifest.in_sample,
           "content_hash": submission_hash}
    if manifest.demonstrator:
        out["demonstrator"] = manifest.demonstrator
    return out


def score_submission(folder: str | Path, tasks: list[str] | None = None, episodes: int | None = None,
                     progress: bool = True, *, sandbox: bool = True, seed_set: str = "public",
                     salt: bytes | None = None, limits: Limits | None = None,
                     sandbox_user: str = DEFAULT_USER, warn=None, batch_size: int = DEFAULT_BATCH) -> dict:
    """Score a submission folder on `tasks` (default: the tasks its manifest covers, or the
    suite); return the results.

    With `sandbox` (the default) the agent runs in its own processes under `limits` (see
    `benchmark.submission.sandbox`); without, it is imported into this process (for debugging
    only). `seed_set` 'private' scores the held-out split on seeds derived from `salt`. A task on
    which the agent fails (raises, hangs, crashes, answers badly, breaks a limit) is recorded as
    failed with a one-line reason and the other tasks go on; the suite block covers the tasks
    scored ok and counts the failed ones. ManifestError and SandboxError are raised before any
    task is played. `batch_size`: the rollouts' width; every scoring uses the default, and
    `tools/bench_sandbox.py --batch` others (an agent's figures can depend on the width).
    """
    manifest = load_manifest(folder)
    limits = limits or Limits()
    if warn is None:
        def warn(message):
            print(f"proxybench: warning: {message}", file=sys.stderr)
    task_objs = tasks_named(tasks or list(manifest.tasks) or None)
    seeds = {t.name: split_seeds(t, episodes, seed_set, salt) for t in task_objs}
    submission_hash = content_hash(manifest.path)  # before any submitted code runs
    with contextlib.ExitStack() as stack:
        if sandbox:
            quiet = lambda message: None  # noqa: E731  (the first lane says it all)
            player = Sandboxed([stack.enter_context(Sandbox(manifest, limits, sandbox_user,
                                                            warn if i == 0 else quiet, launch=i == 0))
                                for i in range(lanes(manifest.path))], batch_size)
        else:
            player = InProcess(load_agent_factory(manifest), batch_size)
        task_results, per_task = play_and_score(player, task_objs, manifest.seeds, seeds,
                                                task_timeout=limits.task_timeout, progress=progress,
                                                label=manifest.name)
    return build_results(submission_block(manifest, submission_hash), task_results, per_task, seeds, seed_set)
