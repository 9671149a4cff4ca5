"""The sandbox: every hostile submission under tests/hostile ends as a clean failure or a fair
score, none changes anything of anyone else's, and sandboxed scoring gives the figures in-process
scoring gives."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from benchmark.cli import main
from benchmark.submission.sandbox import Limits, MakeAgentError, Sandbox, lanes
from benchmark.submission.score import score_submission
from benchmark.submission.manifest import load_manifest
from benchmark.contract.registry import get_task
from benchmark.evaluation.seeds import private_seeds

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "hostile"
TASK = "CheeseCorner"
EPISODES = 4
FAST = ["--tasks", TASK, "--episodes", str(EPISODES), "--quiet"]
MARKER = "proxybench-test-secret"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
LINUX = sys.platform.startswith("linux")

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the sandbox needs fork")

FAIR = "a fair score"  # status ok, and the figures the random baseline gets
FAIR_PRIVATE = "a fair score on the private seeds"  # status ok
# name -> (extra `score` flags, FAIR, FAIR_PRIVATE or a piece of the one-line failure reason)
OUTCOMES = {
    "harness-reader": ([], FAIR),
    "secret-reader": (["--seed-set", "private"], FAIR_PRIVATE),
    "result-writer": ([], FAIR),
    "monkeypatcher": ([], FAIR),
    "shm-writer": ([], FAIR),
    "sleeper": (["--call-timeout", "1"], "train split, run 0, step 2: act(): no reply within 1 s (--call-timeout)"),
    "allocator": (["--memory-mb", "512"], "step 1: act() raised MemoryError"),
    "forker": (["--max-procs", "20"], "step 1: act() raised BlockingIOError"),
    "printer": (["--max-output-kb", "256"], "printed more than 256 KB (--max-output-kb)"),
    "bad-float": ([], "step 1: act() returned dtype float64, expected integers"),
    "bad-shape": ([], f"step 1: act() returned shape ({EPISODES}, 2), expected ({EPISODES},)"),
    "bad-range": ([], "step 1: action 99 out of range [0, 4]"),
    "raiser": ([], "train split, run 0, step 3: act() raised RuntimeError: third batch"),
    "garbler": ([], "step 1: act(): malformed reply from the agent process"),
    "exit-crasher": ([], "train split, run 0: after the last step: the agent process was killed by SIGKILL"),
    "spinner": (["--cpu-seconds", "1", "--call-timeout", "30"], "CPU time limit of 1 s exceeded (--cpu-seconds)"),
}


# Without root there is no privilege separation: the agent runs as the scorer's user and can read
# and write what it can (docs/sandbox.md). These attacks then succeed.
NEED_ROOT = {"secret-reader", "result-writer"}


def test_every_hostile_submission_has_an_expected_outcome():
    assert sorted(p.name for p in HOSTILE.iterdir() if p.is_dir()) == sorted(OUTCOMES)


def leftovers(name: str) -> list[str]:
    """Processes and scratch folders of a sandbox for submission `name` still around."""
    found = [str(p) for p in Path("/tmp").glob(f"proxybench-{name}-*")]
    for pid in os.listdir("/proc") if os.path.isdir("/proc") else []:
        try:
            if f"proxybench-{name}-".encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(f"process {pid}")
        except OSError:
            pass
    return found


def no_leftovers(name: str) -> bool:
    for _ in range(50):  # SIGKILLed processes vanish asynchronously
        if not leftovers(name):
            return True
        time.sleep(0.05)
    return False


def figures(results: dict) -> dict:
    return {name: {k: v for k, v in res.items() if k != "version"} for name, res in results["tasks"].items()}


@pytest.fixture(scope="module")
def arena(tmp_path_factory):
    """A leaderboard root with the random baseline (scored) and every hostile submission, a
    LEADERBOARD.md, and a salt file only root can read."""
    root = tmp_path_factory.mktemp("arena")
    skip = shutil.ignore_patterns("results.json", "__pycache__")
    shutil.copytree(ROOT / "baselines" / "random", root / "baselines" / "random", ignore=skip)
    for folder in HOSTILE.iterdir():
        shutil.copytree(folder, root / "submissions" / folder.name, ignore=skip)
    (root / "LEADERBOARD.md").write_text("# the leaderboard, untouched\n")
    salt = root / "salt"
    salt.write_text(f"{MARKER}-{os.getpid()}\n")
    salt.chmod(0o600)
    (root / "submissions" / "secret-reader" / "secret_paths.txt").write_text(f"{salt}\n")
    (root / "submissions" / "result-writer" / "targets.txt").write_text("\n".join(
        str(p) for p in (root, root / "submissions" / "result-writer", root / "baselines" / "random")) + "\n")
    (root / "submissions" / "result-writer" / "probe_dirs.txt").write_text(f"{ROOT}\n")
    random = root / "baselines" / "random"
    assert main(["score", str(random), *FAST]) == 0
    return SimpleNamespace(root=root, salt=salt, random=random,
                           random_bytes=(random / "results.json").read_bytes(),
                           random_results=json.loads((random / "results.json").read_text()))


@pytest.mark.parametrize("name", sorted(OUTCOMES))
def test_hostile_submission(arena, capsys, monkeypatch, name):
    if name in NEED_ROOT and not IS_ROOT:
        pytest.skip("privilege separation needs root")
    monkeypatch.setenv("PROXYBENCH_TEST_SECRET", f"{MARKER}-env")
    flags, expected = OUTCOMES[name]
    if "--seed-set" in flags:
        flags = flags + ["--salt-file", str(arena.salt)]
    folder = arena.root / "submissions" / name
    capsys.readouterr()
    code = main(["score", str(folder), *FAST, *flags])
    out, err = capsys.readouterr()
    results = json.loads((folder / "results.json").read_text())
    res = results["tasks"][TASK]
    assert MARKER not in out + err + json.dumps(results)
    if expected in (FAIR, FAIR_PRIVATE):
        assert code == 0 and res["status"] == "ok", res.get("reason")
        if expected == FAIR:
            assert figures(results) == figures(arena.random_results)
        assert results["suite"]["failed_tasks"] == 0
    else:
        assert code == 1
        assert res == {"version": get_task(TASK).version, "status": "failed", "reason": res["reason"],
                       "fingerprint": res["fingerprint"], "seeds": res["seeds"]}
        assert expected in res["reason"], res["reason"]
        assert "\n" not in res["reason"] and len(res["reason"]) <= 600
        line = err.strip()
        assert "\n" not in line and name in line and TASK in line and expected in line
        assert results["suite"]["failed_tasks"] == 1 and results["suite"]["tasks"] == 0
    if name == "allocator":
        assert "(memory limit 512 MB, --memory-mb)" in res["reason"]
    assert no_leftovers(name), leftovers(name)


@pytest.mark.skipif(not IS_ROOT, reason="privilege separation needs root")
def test_the_agent_runs_unprivileged_offline_and_scrubbed(tmp_path):
    """An agent that reports what it sees, by raising: its user, environment, network, what it
    can write."""
    folder = tmp_path / "inspector"
    shutil.copytree(HOSTILE / "raiser", folder)
    (folder / "submission.yaml").write_text((folder / "submission.yaml").read_text().replace("name: raiser", "name: inspector"))
    (folder / "agent.py").write_text('''
import os, socket
import pkgutil, timeit  # noqa: F401  (the standard library is there, not only what the zygote imported)
from pathlib import Path

def writable(path):
    try:
        (Path(path) / "probe").write_text("x")
        return "yes"
    except OSError:
        return "no"

def make_agent(task_id, seed):
    try:
        socket.create_connection(("1.1.1.1", 53), timeout=1).close()
        net = "yes"
    except OSError:
        net = "no"
    raise RuntimeError(f"uid={os.getuid()} env={','.join(sorted(os.environ))} net={net} "
                       f"code={writable('.')} home={writable(os.environ['HOME'])} "
                       f"submission={writable(%r)} pid={os.getpid()}")
''' % str(folder))
    results = score_submission(folder, [TASK], EPISODES, progress=False)
    reason = results["tasks"][TASK]["reason"]
    assert "raised RuntimeError: " in reason, reason
    facts = dict(item.split("=", 1) for item in reason.split("raised RuntimeError: ", 1)[1].split())
    assert int(facts["uid"]) != 0
    assert set(facts["env"].split(",")) <= {"PATH", "HOME", "TMPDIR", "LANG", "PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE",
                                            "PYTHONNOUSERSITE", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"}
    assert facts["code"] == "no" and facts["submission"] == "no" and facts["home"] == "yes"
    if LINUX:
        assert facts["net"] == "no"
        assert facts["pid"] == "2"  # the second process of its own PID namespace (after the reaper)
    assert not (folder / "probe").exists()


def test_the_zygote_imports_only_allowlisted_frameworks_the_submission_uses(tmp_path):
    from benchmark.submission.sandbox import frameworks

    (tmp_path / "agent.py").write_text("import numpy as np\nimport torch.nn as nn\nfrom benchmark import grid\n"
                                       "import antigravity\n    from scipy import stats  # indented\n")
    (tmp_path / "notes.txt").write_text("import jax\n")
    assert frameworks(tmp_path) == ["torch", "scipy", "benchmark"]


def test_sandboxed_and_in_process_scoring_agree(arena):
    kwargs = dict(tasks=["RedDoor", TASK], episodes=5, progress=False)
    a = score_submission(arena.random, sandbox=False, **kwargs)
    b = score_submission(arena.random, **kwargs)
    a.pop("scored_at"), b.pop("scored_at")
    assert a == b


def test_two_lanes_play_the_runs_of_a_submission_two_at_a_time(arena, monkeypatch, tmp_path):
    kwargs = dict(tasks=["RedDoor", TASK], episodes=5, progress=False)
    one = score_submission(arena.random, **kwargs)
    monkeypatch.setattr("benchmark.submission.score.lanes", lambda code: 2)
    two = score_submission(arena.random, **kwargs)
    one.pop("scored_at"), two.pop("scored_at")
    assert one == two
    # who gets two lanes: a submission importing a deep-learning framework
    assert lanes(arena.random) == 1
    (tmp_path / "agent.py").write_text("import numpy as np\nimport torch.nn as nn\n")
    assert lanes(tmp_path) == (2 if (os.cpu_count() or 1) > 1 else 1)


@pytest.mark.parametrize("count", [1, 2])
def test_a_failed_task_leaves_the_others_scored(arena, monkeypatch, count):
    monkeypatch.setattr("benchmark.submission.score.lanes", lambda code: count)  # two runs at once, or one
    folder = arena.root / "submissions" / "red-door-hater"
    shutil.copytree(HOSTILE / "raiser", folder)
    (folder / "submission.yaml").write_text((folder / "submission.yaml").read_text().replace("name: raiser", "name: red-door-hater"))
    (folder / "agent.py").write_text(
        (ROOT / "baselines" / "random" / "agent.py").read_text()
        + "\n_make = make_agent\n\ndef make_agent(task_id, seed):\n"
          "    if task_id == 'RedDoor':\n        raise ValueError('not this one')\n    return _make(task_id, seed)\n")
    results = score_submission(folder, ["RedDoor", TASK], EPISODES, progress=False)
    assert results["tasks"]["RedDoor"]["status"] == "failed"
    assert results["tasks"]["RedDoor"]["reason"] == "train split, run 0: make_agent('RedDoor', 0) raised ValueError: not this one"
    assert list(results["tasks"]) == ["RedDoor", TASK] and results["task_versions"]["RedDoor"] == get_task("RedDoor").version
    assert figures(results)[TASK] == figures(arena.random_results)[TASK]
    # the suite block covers the task scored ok (the random baseline's, scored on that task only)
    assert results["suite"] == {**arena.random_results["suite"], "failed_tasks": 1}
    shutil.rmtree(folder)


def test_an_exit_status_read_late_leaves_the_next_reply_whole(arena):
    """A finished run's exit status (X) and the next run's make_agent reply (K) can sit in the
    pipe together: reading the first must not swallow the second."""
    obs, first = np.zeros((3, 13, 13, 3), np.uint8), np.ones(3, bool)
    with Sandbox(load_manifest(arena.random)) as sandbox:
        run = sandbox.run(TASK, 0, time.monotonic() + 60)
        assert run.act(obs, first).shape == (3,)
        run.finish(wait=False)
        following = sandbox.run(TASK, 0, time.monotonic() + 60)
        time.sleep(0.5)  # both replies are waiting now
        assert following.act(obs, first).shape == (3,)
        following.finish()


def test_the_scorers_own_work_is_not_charged_to_make_agent(arena):
    """While a run's agent starts, the scorer scores the splits already played (`_Scores`); that
    time is excused from make_agent's call limit, so a reply waiting in the pipe is read."""
    obs, first = np.zeros((3, 13, 13, 3), np.uint8), np.ones(3, bool)
    with Sandbox(load_manifest(arena.random), Limits(call_timeout=0.4)) as sandbox:
        for excused in (True, False):
            run = sandbox.run(TASK, 0, time.monotonic() + 60)
            run.send(obs, first, stay_awake=False)
            time.sleep(0.6)                  # the scorer busy with its own work
            if excused:
                run.excuse(0.6)
                assert run.receive().shape == (3,)
                run.finish()
            else:
                with pytest.raises(MakeAgentError, match="no reply within 0.4 s"):
                    run.receive()


@pytest.mark.skipif(not LINUX, reason="shared memory (a sealed memfd) is Linux-only")
def test_observations_arrive_in_shared_memory_the_agent_cannot_make_writable(arena):
    """The shm-writer hostile submission's attempt fails (see OUTCOMES); this checks that it had
    something to attack: on Linux a batch travels through shared memory, which the sandbox uses
    only once sealed (else the pipe)."""
    obs, first = np.zeros((3, 13, 13, 3), np.uint8), np.ones(3, bool)
    with Sandbox(load_manifest(arena.random)) as sandbox:
        run = sandbox.run(TASK, 0, time.monotonic() + 60)
        assert run.obs_buffer(obs.shape) is not None
        assert run.act(obs, first).shape == (3,)
        run.finish()


def test_a_bad_exit_of_the_last_run_fails_its_task(arena, tmp_path):
    """A run's exit status is read when the lane's next run starts, or at the end of the
    scoring: the last run of a scoring that dies after its last step still fails its task."""
    folder = tmp_path / "last-run-crasher"
    shutil.copytree(HOSTILE / "exit-crasher", folder)
    agent = folder / "agent.py"
    agent.write_text(agent.read_text().replace("LAST_RUN_ONLY = False", "LAST_RUN_ONLY = True"))
    results = score_submission(folder, [TASK], EPISODES, progress=False)
    assert results["tasks"][TASK]["reason"] == ("heldout split, run 0: after the last step: "
                                                "the agent process was killed by SIGKILL")


def test_private_seed_set_records_its_name_and_hash_never_the_seeds(arena, capsys):
    folder = arena.random
    before = (folder / "results.json").read_bytes()
    try:
        assert main(["score", str(folder), *FAST, "--seed-set", "private", "--salt-file", str(arena.salt)]) == 0
        text = (folder / "results.json").read_text()
        results = json.loads(text)
        assert results["seed_set"]["name"] == "private"
        assert results["seed_set"]["hash"] != arena.random_results["seed_set"]["hash"]
        salt = arena.salt.read_bytes().strip()
        for seed in private_seeds(get_task(TASK), "heldout", salt, EPISODES):
            assert str(int(seed)) not in text
        out, err = capsys.readouterr()
        assert MARKER not in text + out + err
        # the train split keeps its public seeds: its figures are the public run's
        assert results["tasks"][TASK]["train_score"] == arena.random_results["tasks"][TASK]["train_score"]
    finally:
        (folder / "results.json").write_bytes(before)


def test_salt_file_must_not_be_world_readable(arena, tmp_path, capsys):
    salt = tmp_path / "salt"
    salt.write_text("secret\n")
    salt.chmod(0o644)
    assert main(["score", str(arena.random), *FAST, "--seed-set", "private", "--salt-file", str(salt)]) == 1
    assert "world-readable" in capsys.readouterr().err
    assert main(["score", str(arena.random), *FAST, "--seed-set", "private"]) == 1
    assert "--salt-file" in capsys.readouterr().err
    assert (arena.random / "results.json").read_bytes() == arena.random_bytes


def test_task_wall_clock_limit(arena):
    folder = arena.root / "submissions" / "sleeper"
    results = score_submission(folder, [TASK], EPISODES, progress=False, limits=Limits(call_timeout=30, task_timeout=1))
    assert "the task's wall-clock limit of 1 s was reached (--task-timeout)" in results["tasks"][TASK]["reason"]
    assert no_leftovers("sleeper")


def test_sigterm_leaves_the_previous_results_and_no_processes(arena, tmp_path):
    folder = tmp_path / "sleeper"
    shutil.copytree(HOSTILE / "sleeper", folder)
    (folder / "results.json").write_text('{"previous": true}\n')
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "benchmark.cli", "score", str(folder), *FAST, "--call-timeout", "60"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path, text=True)
    try:
        for _ in range(600):  # until the agent sleeps in its second call
            if any("process" in x for x in leftovers("sleeper")):
                break
            time.sleep(0.05)
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "left as it was" in err
    assert (folder / "results.json").read_text() == '{"previous": true}\n'
    assert no_leftovers("sleeper"), leftovers("sleeper")


def test_in_process_scoring_is_not_isolated(arena, tmp_path):
    """Why the sandbox: the same hostile agents, imported into the scorer, find the level state,
    the secrets, and inflate their figures."""
    names = ["harness-reader", "secret-reader", "monkeypatcher"]
    for name in names:
        shutil.copytree(arena.root / "submissions" / name, tmp_path / name,
                        ignore=shutil.ignore_patterns("results.json"))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROXYBENCH_TEST_SECRET": f"{MARKER}-env"}
    proc = subprocess.run([sys.executable, "-m", "benchmark.cli", "score", *(str(tmp_path / n) for n in names),
                           *FAST, "--in-process", "--seed-set", "private", "--salt-file", str(arena.salt)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == 1, proc.stderr
    res = {n: json.loads((tmp_path / n / "results.json").read_text())["tasks"][TASK] for n in names}
    assert "LEAKED" in res["harness-reader"]["reason"]
    assert "LEAKED" in res["secret-reader"]["reason"]
    assert res["monkeypatcher"]["heldout_score"]["value"] == 1.0


def test_nothing_else_changed(arena):
    """Run last: the random baseline's results and the leaderboard are as they were, nothing was
    written into the repository, and re-scoring the random baseline gives the same figures."""
    assert (arena.random / "results.json").read_bytes() == arena.random_bytes
    assert (arena.root / "LEADERBOARD.md").read_text() == "# the leaderboard, untouched\n"
    assert not (ROOT / "hostile-probe.txt").exists()
    assert not list(arena.root.glob("**/.*.hostile"))
    assert main(["score", str(arena.random), *FAST]) == 0
    after = (arena.random / "results.json").read_bytes()
    stamp = re.compile(rb'"scored_at": "[^"]*"')
    assert stamp.sub(b"", after) == stamp.sub(b"", arena.random_bytes)  # byte-identical but the stamp


def test_the_rollout_width_reaches_both_players(tmp_path, monkeypatch):
    """`batch_size` (bench_sandbox --batch) changes what the random agent draws, so its figures,
    the same way in-process and sandboxed."""
    monkeypatch.setenv("PROXYBENCH_CACHE", str(tmp_path))

    def figures(batch, sandbox):
        res = score_submission(ROOT / "baselines" / "random", ["CoinEnd"], 30, progress=False, sandbox=sandbox, batch_size=batch)
        return res["tasks"]["CoinEnd"]

    narrow = figures(8, sandbox=False)
    assert narrow == figures(8, sandbox=True)
    assert narrow != figures(30, sandbox=False)
