"""The sandbox: submitted agents run in their own processes, the scorer keeps everything else.

The scorer process owns the environments, the level seeds and the scoring. A submission's code
runs only in agent processes started by `agent_bootstrap.py` (a standalone file that imports
numpy, not `benchmark`) from a scratch copy of the submission folder. They receive batches of
observations and `first` flags and answer actions; they never receive `info`, rewards, level
state, the split name or the seeds.

Process model: one *zygote* per submission (a Python with numpy and the frameworks the
submission imports, and no submitted code), and from it one fresh agent process per run (task,
split, training seed), in a PID namespace whose first process kills whatever a run leaves
behind: no state carries from one run to the next in memory, nothing the agent starts outlives
its run, and forking costs milliseconds where importing torch costs seconds. After a failure the
zygote is killed and the next task gets a new one.

Transport: a shared memory segment (a memfd) for the observations, which the agent's process
maps read-only, and two pipes with raw bytes for commands and replies (a 5-byte header, then
numpy buffers); see the protocol in `agent_bootstrap.py`. The scorer never unpickles anything
and never reads the shared memory: replies are parsed as raw int64 bytes with explicit length
checks. What the agent prints goes to a third pipe, read by a bounded reader that kills the
agent when it prints more than its limit.

Limits (see `Limits`): wall clock per call and per task (enforced here), memory (RLIMIT_AS),
CPU time (RLIMIT_CPU), processes (RLIMIT_NPROC) and output (the bounded reader). When the scorer
runs as root the agent process runs as an unprivileged user (default `nobody`) with no network
(a new network namespace), in a new PID namespace, with no new privileges, and a scrubbed
environment. docs/sandbox.md says what is and is not enforced where.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmark.evaluation.cache import cache_dir
from benchmark.evaluation.results import RESULTS
from benchmark.evaluation.rollout import REASON_CHARS, AgentError, one_line

from .agent_bootstrap import ACT, CPU_EXIT, HEADER, IN_SHM, STAY_AWAKE  # the protocol, defined once
from .manifest import Manifest

BOOTSTRAP = Path(__file__).with_name("agent_bootstrap.py")
MAX_MESSAGE = 4096         # longest error message accepted from an agent process
MAX_STATUS = 64            # longest hello / exit status
PIPE_SIZE = 1 << 20        # room for a whole batch of observations in the pipe
SHM_SIZE = 4 << 20         # shared memory for observations (larger batches go through the pipe)
AFTER_LAST_STEP = "after the last step"
STARTUP_SECONDS = 60.0     # for the zygote to start (no submitted code runs before it is ready)
DEFAULT_USER = "nobody"
SPIN_SECONDS = 0.002       # wait for a reply awake this long before sleeping (see _recv)
AGENT_SPIN_SECONDS = 0.002  # the agent process, for the next batch, when told to stay awake
F_SETPIPE_SZ = 1031
F_ADD_SEALS, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_FUTURE_WRITE = 1033, 0x0002, 0x0004, 0x0010  # Linux


@dataclass(frozen=True)
class Limits:
    """What an agent may use. Zero memory_mb / max_procs / max_output_kb: no limit."""

    call_timeout: float = 60.0    # s of wall clock per call: start-up + make_agent, each act batch
    task_timeout: float = 3600.0  # s of wall clock per task, all its runs together
    memory_mb: int = 4096         # address space of an agent process (RLIMIT_AS)
    cpu_seconds: int = 900        # CPU time of an agent process, i.e. of one run (RLIMIT_CPU)
    max_procs: int = 64           # processes + threads of the agent's user (RLIMIT_NPROC)
    max_output_kb: int = 1024     # what one run may print on stdout + stderr together


class SandboxError(RuntimeError):
    """The sandbox cannot be set up as asked (unknown user, unreadable folder...)."""


class PreviousRunError(Exception):
    """The run that ended last in this sandbox did not exit cleanly (see AgentRun.finish)."""


class MakeAgentError(Exception):
    """Starting a run's agent (make_agent) failed; raised from its first act() call, so that the
    agent process starts while the scorer generates the levels."""


# ---------------------------------------------------------------------------------------------
# Who the agent runs as, and what it could reach

@dataclass(frozen=True)
class Identity:
    user: str
    uid: int
    gid: int


def sandbox_identity(user: str = DEFAULT_USER) -> Identity | None:
    """The unprivileged user agents run as when the scorer is root; None when it is not root
    (the agent then runs as the scorer's own user: no privilege separation)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    import pwd

    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        raise SandboxError(f"sandbox user {user!r} does not exist (--sandbox-user)") from None
    if entry.pw_uid == 0:
        raise SandboxError(f"sandbox user {user!r} is root; choose an unprivileged user (--sandbox-user)")
    return Identity(user, entry.pw_uid, entry.pw_gid)


def _can(st: os.stat_result, ident: Identity, bit: int) -> bool:
    """Does `ident` have permission `bit` (4 read, 2 write, 1 search) by the mode bits of st?"""
    if st.st_uid == ident.uid:
        return bool(st.st_mode & (bit << 6))
    if st.st_gid == ident.gid:
        return bool(st.st_mode & (bit << 3))
    return bool(st.st_mode & bit)


def readable_by(path: Path, ident: Identity) -> bool:
    """Could `ident` open `path` for reading (search permission on every folder on the way)?"""
    path = Path(path).resolve()
    for folder in reversed(path.parents):
        if not _can(os.stat(folder), ident, 1):
            return False
    return _can(os.stat(path), ident, 4)


def tamper_warnings(folder: Path, ident: Identity | None) -> list[str]:
    """Places the agent's user could write that matter to scoring: the submission folder (its
    results.json), the folders above it (the repository, LEADERBOARD.md), the reference cache.
    Nothing to say without privilege separation (ident None): the agent then runs as the
    scorer's own user and can write whatever it can (docs/sandbox.md)."""
    if ident is None:
        return []
    out = []
    folder = Path(folder).resolve()
    for path in [folder, *folder.parents]:
        st = os.stat(path)
        sticky = bool(st.st_mode & stat.S_ISVTX) and st.st_uid != ident.uid
        if _can(st, ident, 2) and (path == folder or not sticky):
            out.append(f"{path} is writable by user {ident.user}, who runs the agent: a submission "
                       f"could tamper with results there (chmod o-w)")
    cache = cache_dir().resolve()
    for path in (cache, *cache.parents):
        if path.exists():
            st = os.stat(path)
            if _can(st, ident, 2) and not (st.st_mode & stat.S_ISVTX and st.st_uid != ident.uid):
                out.append(f"the reference cache {path} is writable by user {ident.user}, who runs "
                           f"the agent (chmod o-w)")
            break
    return out


def read_salt_file(path: str | Path, ident: Identity | None) -> bytes:
    """The salt of the private seeds: the file's bytes without surrounding whitespace. Refused
    (SandboxError) when the file is world-readable or readable by the agent's user."""
    path = Path(path)
    try:
        st = os.stat(path)
        salt = path.read_bytes().strip()
    except OSError as exc:
        raise SandboxError(f"cannot read the salt file {path}: {exc.strerror}") from None
    if st.st_mode & stat.S_IROTH:
        raise SandboxError(f"the salt file {path} is world-readable; chmod 600 it")
    if ident is not None and readable_by(path, ident):
        raise SandboxError(f"the salt file {path} is readable by user {ident.user}, who runs the "
                           f"agent; chmod 600 it")
    if not salt:
        raise SandboxError(f"the salt file {path} is empty")
    return salt


def exposure_plan(ident: Identity) -> list:
    """Where the Python installation (prefixes, site-packages) is world-readable itself but lies
    under a folder the agent's user cannot search (e.g. /root, mode 0700): [[that folder, [the
    installation folders under it]], ...], for the zygote to mount back in a mount namespace of
    its own (`agent_bootstrap.expose`). Only the installation, never the rest of the folder."""
    import site

    candidates = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, sys.base_exec_prefix,
                                                 sys.exec_prefix, *site.getsitepackages())
                  if p and os.path.isdir(p)}
    hidden = sorted(p for p in candidates if not readable_by(p, ident))
    plan: dict[str, list[str]] = {}
    for folder in hidden:
        if any(folder.startswith(other + os.sep) for other in hidden):
            continue  # inside another folder of the plan
        if os.stat(folder).st_mode & 0o005 != 0o005:
            continue  # not world-readable itself: leave it alone
        blocker = next((str(a) for a in reversed(Path(folder).parents)
                        if not _can(os.stat(a), ident, 1)), None)
        if blocker is None or blocker == "/":
            continue
        plan.setdefault(blocker, []).append(folder)
    return [[blocker, folders] for blocker, folders in plan.items()]


# Installed packages the zygote imports (as the scorer's user, before any submitted code runs)
# when the submission's source imports them, so that each run's fresh process does not import
# them again: forking is milliseconds, importing torch is seconds.
# `benchmark` is among them: its public code, imported fresh (the zygote holds no scorer state).
FRAMEWORKS = ("torch", "jax", "flax", "optax", "tensorflow", "sklearn", "scipy", "gymnasium",
              "stable_baselines3", "pandas", "numba", "einops", "benchmark")
_IMPORT_RE = re.compile(rb"^[ \t]*(?:import|from)[ \t]+([A-Za-z_][A-Za-z0-9_]*)", re.M)


def frameworks(code: Path, max_files: int = 1000, max_bytes: int = 1 << 20) -> list[str]:
    """The FRAMEWORKS that the .py files of a submission import (a text scan; nothing runs)."""
    found = set()
    for i, path in enumerate(sorted(p for p in Path(code).rglob("*.py") if p.is_file() and not p.is_symlink())):
        if i >= max_files:
            break
        with open(path, "rb") as fh:
            found.update(m.decode() for m in _IMPORT_RE.findall(fh.read(max_bytes)))
    return [name for name in FRAMEWORKS if name in found]


# Deep-learning frameworks: an agent using one thinks longer per batch than the scorer takes to
# step it, so its runs play two at a time (`lanes`).
HEAVY_FRAMEWORKS = ("torch", "jax", "flax", "tensorflow")


def lanes(code: Path) -> int:
    """How many runs of this submission to play at once, each in a sandbox of its own. Two when
    it uses a deep-learning framework: two agents then think at once on two cores while the
    scorer steps their levels. One otherwise: for a cheap agent, the second zygote's start-up
    costs more than it saves. docs/sandbox.md has the measurements."""
    return 2 if set(frameworks(code)) & set(HEAVY_FRAMEWORKS) and (os.cpu_count() or 1) > 1 else 1


def _count_tasks(uid: int) -> int:
    """Processes + threads of `uid` now (what RLIMIT_NPROC counts), or 0 without /proc."""
    total = 0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 0
    for entry in entries:
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    total += len(os.listdir(f"/proc/{entry}/task"))
            except OSError:
                pass
    return total


def _killpg(pgid: int):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _copy_ignore(folder, names):
    """What the scratch copy leaves out: results, caches, and anything but files, folders and
    symbolic links (a FIFO would block the copy)."""
    skip = set(shutil.ignore_patterns(RESULTS, "__pycache__", "*.tmp")(folder, names))
    for name in names:
        mode = os.lstat(os.path.join(folder, name)).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
            skip.add(name)
    return skip


# ---------------------------------------------------------------------------------------------
# Output of the agent: counted, discarded, bounded

class _Output(threading.Thread):
    def __init__(self, fd: int, limit_bytes: int, on_breach):
        super().__init__(daemon=True, name="proxybench-agent-output")
        self.fd, self.limit, self.on_breach = fd, limit_bytes, on_breach
        self.count, self.breached = 0, False
        self.tail = b""  # the last bytes printed, for a zygote that fails to start
        self.lock = threading.Lock()

    def run(self):
        try:
            while True:
                data = os.read(self.fd, 1 << 16)
                if not data:
                    break
                with self.lock:
                    self.tail = (self.tail + data)[-2048:]
                    self.count += len(data)
                    breach = self.limit and self.count > self.limit and not self.breached
                    if breach:
                        self.breached = True
                if breach:
                    self.on_breach()
        except OSError:
            pass
        finally:
            os.close(self.fd)

    def reset(self):
        with self.lock:
            self.count = 0


# ---------------------------------------------------------------------------------------------
# The sandbox of one submission

class Sandbox:
    """Agent processes for one submission. Use as a context manager; `run(task, seed, deadline)`
    starts one run's agent. Every failure raises AgentError with a one-line reason and kills the
    agent's processes."""

    def __init__(self, manifest: Manifest, limits: Limits = Limits(), user: str = DEFAULT_USER,
                 warn=None, launch: bool = True):
        if not hasattr(os, "fork") or not hasattr(select, "poll"):
            raise SandboxError("the sandbox needs a POSIX system; use WSL, or --in-process to debug")
        self.manifest, self.limits = manifest, limits
        self.ident = sandbox_identity(user)
        self.warn = warn or (lambda message: None)
        self.root = self.code = None
        self.frameworks: list[str] = []  # what the zygote pre-imports (see `frameworks`)
        self.proc: subprocess.Popen | None = None
        self.output: _Output | None = None
        self.cmd_fd = self.reply_fd = -1
        self.ready = False
        self.exit_pending: float | None = None  # deadline for reading a finished run's exit status
        self.shm = self.shm_view = None
        self._buffer = bytearray(0)
        self.isolation: dict[str, str] = {}  # what the zygote managed: {"net": "1", "pid": "1"}
        self._warned_isolation = False
        self.python_hint, self.expose = "", []
        if self.ident is not None:
            hidden = [str(p) for p in (Path(os.__file__).parent, Path(np.__file__).parent)
                      if not readable_by(p, self.ident)]
            if hidden:
                self.python_hint = (f" (user {self.ident.user}, who runs the agent, cannot read "
                                    f"{hidden[0]}: only the modules the sandbox pre-imports are "
                                    f"available; install Python where that user can read it)")
                if sys.platform.startswith("linux"):
                    self.expose = exposure_plan(self.ident)
        for message in tamper_warnings(manifest.path, self.ident):
            self.warn(message)
        self._prepare()
        try:
            if launch:  # else the first run launches it
                self._launch()
        except BaseException:
            self.close()
            raise

    # --- scratch copy ---------------------------------------------------------------------------
    def _prepare(self):
        """A scratch copy of the submission, owned by root and read-only for the agent's user
        when the scorer is root, and a writable home for the agent."""
        self.root = Path(tempfile.mkdtemp(prefix=f"proxybench-{self.manifest.name}-"))
        try:
            os.chmod(self.root, 0o755)
            self.code = self.root / "submission"
            shutil.copytree(self.manifest.path, self.code, symlinks=True, ignore=_copy_ignore)
            self.frameworks = frameworks(self.code)  # scanned once, not at every zygote launch
            self.home = self.root / "home"
            self.home.mkdir(mode=0o700)
            self.staging = self.root / "mounts"  # for the zygote's own mount namespace, if any
            self.staging.mkdir(mode=0o700)
            if self.ident is not None:
                for dirpath, dirnames, filenames in os.walk(self.code):
                    os.chmod(dirpath, 0o755)
                    for name in filenames:
                        path = os.path.join(dirpath, name)
                        if not os.path.islink(path):
                            os.chmod(path, 0o644)
                os.chown(self.home, self.ident.uid, self.ident.gid)
                entry = self.code / self.manifest.entry_point.split(":")[0]
                if not readable_by(entry, self.ident):
                    raise SandboxError(f"user {self.ident.user}, who runs the agent, cannot reach the "
                                       f"scratch folder {self.root}; set TMPDIR to a folder it can traverse")
        except BaseException:
            self.close()
            raise

    def _env(self) -> dict[str, str]:
        """The zygote's environment; the agent process points HOME and TMPDIR at its own home.
        (The zygote, root, keeps them on a folder the agent cannot write.)"""
        return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(self.staging), "TMPDIR": str(self.staging),
                "LANG": "C.UTF-8", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONNOUSERSITE": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                "MKL_NUM_THREADS": "1"}

    # --- the zygote -----------------------------------------------------------------------------
    def _launch(self):
        """Start the zygote (it boots while the scorer works; `_handshake` waits for it)."""
        lim = self.limits
        max_procs = lim.max_procs
        if max_procs and self.ident is None:  # RLIMIT_NPROC counts all of our own user's tasks
            max_procs += _count_tasks(os.getuid())
        cmd_r, cmd_w = os.pipe()
        reply_r, reply_w = os.pipe()
        out_r, out_w = os.pipe()
        shm_fd = None
        try:
            import fcntl
            import mmap
            shm_fd = os.memfd_create("proxybench-obs", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
            os.ftruncate(shm_fd, SHM_SIZE)
            shm = mmap.mmap(shm_fd, SHM_SIZE)
            # Sealed before the zygote maps it: no mapping made from now on can become writable
            # (the kernel refuses mprotect(PROT_WRITE) on the agent's read-only one), while the
            # scorer's own, made above, stays writable. Without the seal (Linux < 5.1) the
            # observations go through the pipe.
            fcntl.fcntl(shm_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE)
            self.shm, self.shm_view = shm, np.frombuffer(shm, np.uint8)
        except (AttributeError, ImportError, OSError):  # no sealable memfd (not Linux): the pipe
            if shm_fd is not None:
                os.close(shm_fd)
            shm_fd = None
        for fd in (cmd_w, reply_r):
            try:
                import fcntl
                fcntl.fcntl(fd, F_SETPIPE_SZ, PIPE_SIZE)
            except (ImportError, OSError):
                pass
        cfg = {
            "cmd_fd": cmd_r, "reply_fd": reply_w, "code_dir": str(self.code),
            "shm_fd": shm_fd, "shm_size": SHM_SIZE,
            "entry_point": self.manifest.entry_point,
            "module_name": f"proxybench_submission_{self.manifest.name.replace('-', '_')}",
            "uid": self.ident.uid if self.ident else None, "gid": self.ident.gid if self.ident else None,
            "namespaces": self.ident is not None and sys.platform.startswith("linux"),
            "memory_mb": lim.memory_mb, "cpu_seconds": int(lim.cpu_seconds), "max_procs": max_procs,
            "expose": self.expose, "staging": str(self.staging), "home": str(self.home),
            "frameworks": self.frameworks, "spin_seconds": AGENT_SPIN_SECONDS,
        }
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-s", str(BOOTSTRAP), json.dumps(cfg)], env=self._env(),
                cwd=self.staging, stdin=subprocess.DEVNULL, stdout=out_w, stderr=out_w,
                pass_fds=(cmd_r, reply_w) + ((shm_fd,) if shm_fd is not None else ()),
                start_new_session=True)
        except BaseException:
            for fd in (cmd_r, cmd_w, reply_r, reply_w, out_r, out_w):
                os.close(fd)
            raise
        finally:
            if shm_fd is not None:
                os.close(shm_fd)
        for fd in (cmd_r, reply_w, out_w):
            os.close(fd)
        self.cmd_fd, self.reply_fd = cmd_w, reply_r
        os.set_blocking(cmd_w, False)
        os.set_blocking(reply_r, False)
        self._poll_in, self._poll_out = select.poll(), select.poll()
        self._poll_in.register(reply_r, select.POLLIN)
        self._poll_out.register(cmd_w, select.POLLOUT)
        self.output = _Output(out_r, lim.max_output_kb * 1024, lambda pid=self.proc.pid: _killpg(pid))
        self.output.start()
        self.ready = False

    def _handshake(self, deadline: float):
        """Wait for the zygote's hello (its start-up is the harness's, not the agent's: it gets
        STARTUP_SECONDS whatever --call-timeout says, within the task's limit)."""
        if self.proc is None:
            self._launch()
        if self.ready:
            return
        output = self.output
        try:
            _, payload = self._recv(deadline, "starting the agent process", expect=b"H",
                                    seconds=max(self.limits.call_timeout, STARTUP_SECONDS))
        except AgentError as exc:  # no submitted code has run yet: what it printed is ours
            lines = output.tail.decode("utf-8", "replace").strip().splitlines()
            raise AgentError(one_line(f"{exc}: {lines[-1]}" if lines else str(exc), 2 * REASON_CHARS)) from None
        self.ready = True
        self.isolation = dict(item.split("=", 1) for item in payload.decode("ascii", "replace").split()
                              if "=" in item)
        if self.isolation.get("mnt") == "1":
            self.python_hint = ""  # the installation is visible to the agent after all
        if self.ident is not None and sys.platform.startswith("linux") and not self._warned_isolation:
            self._warned_isolation = True
            if self.isolation.get("net") != "1":
                self.warn("could not give the agent a network namespace: it has the network")
            if self.isolation.get("pid") != "1":
                self.warn("could not give the agent a PID namespace: processes it starts may "
                          "outlive its run")

    def started(self) -> bool:
        """Has the zygote said hello (or failed to)? Never waits; launches it if need be."""
        if self.proc is None:
            self._launch()
        if not self.ready and self._poll_in.poll(0):
            self._handshake(time.monotonic() + STARTUP_SECONDS)  # a reply is there: no wait
        return self.ready

    def settle(self):
        """Read how the last finished run's process exited, if not read yet: PreviousRunError
        unless it exited cleanly."""
        if self.exit_pending is None:
            return
        deadline, self.exit_pending = self.exit_pending, None
        try:
            _, status = self._recv(deadline, AFTER_LAST_STEP, expect=b"X")
            if status != b"exit 0":
                self._fail(f"{AFTER_LAST_STEP}: {self._ended(status.decode('ascii', 'replace'))}")
        except AgentError as exc:
            raise PreviousRunError(str(exc)) from None

    def kill(self):
        """Kill the zygote and every agent process (the next run starts a new zygote)."""
        if self.proc is None:
            return
        _killpg(self.proc.pid)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for fd in (self.cmd_fd, self.reply_fd):
            if fd >= 0:
                os.close(fd)
        self.cmd_fd = self.reply_fd = -1
        self.ready = False
        self.exit_pending = None
        self.shm = self.shm_view = None  # unmapped once the last view of it is gone
        if self.output is not None:
            self.output.join(timeout=2)
        self.proc, self.output = None, None

    def close(self):
        self.kill()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- one run ---------------------------------------------------------------------------------
    def run(self, task: str, seed: int, deadline: float) -> "AgentRun":
        """Start the agent of one run: make_agent(task, seed) in a fresh process."""
        return AgentRun(self, task, seed, deadline)

    # --- raw I/O with deadlines -------------------------------------------------------------------
    def _deadline(self, deadline: float, seconds: float | None = None) -> tuple[float, bool]:
        """(when to give up, whether that is the task's limit rather than the call's)."""
        call = time.monotonic() + (self.limits.call_timeout if seconds is None else seconds)
        return (call, False) if call <= deadline else (deadline, True)

    def _fail(self, reason: str):
        """Kill the agent's processes and raise AgentError(reason)."""
        if self.output is not None and self.output.breached:
            reason = f"printed more than {self.limits.max_output_kb} KB (--max-output-kb)"
        elif self.python_hint and any(word in reason for word in ("ImportError", "ModuleNotFoundError")):
            reason = one_line(reason, REASON_CHARS - len(self.python_hint)) + self.python_hint
        self.kill()
        raise AgentError(one_line(reason, 2 * REASON_CHARS))

    def _timeout(self, task_bound: bool, what: str, until: float):
        if task_bound:
            self._fail(f"{what}: the task's wall-clock limit of {self.limits.task_timeout:g} s "
                       f"was reached (--task-timeout)")
        if self.ready:
            self._fail(f"{what}: no reply within {self.limits.call_timeout:g} s (--call-timeout)")
        self._fail(f"{what}: no reply within {max(self.limits.call_timeout, STARTUP_SECONDS):g} s")

    def _wait(self, poller, until: float, task_bound: bool, what: str):
        while True:
            left = until - time.monotonic()
            if left <= 0:
                self._timeout(task_bound, what, until)
            if poller.poll(max(1, int(left * 1000) + 1)):
                return

    def _send(self, parts, deadline: float, what: str):
        """Write the parts (bytes-like) to the command pipe before the deadline."""
        until = task_bound = None
        views = [v for v in (memoryview(p).cast("B") for p in parts) if len(v)]
        while views:
            try:
                n = os.writev(self.cmd_fd, views)
            except BlockingIOError:
                if until is None:
                    until, task_bound = self._deadline(deadline)
                self._wait(self._poll_out, until, task_bound, what)
                continue
            except OSError:
                self._fail(f"{what}: the agent process ended unexpectedly")
            while n:
                k = min(n, len(views[0]))
                n -= k
                views[0] = views[0][k:]
                if not len(views[0]):
                    views.pop(0)

    def _recv(self, deadline: float, what: str, expect: bytes, batch: int = 0,
              seconds: float | None = None):
        """One reply: (kind, payload). `expect` is the kind a success has (K, H or X). An error
        reply, the death of the process, a malformed reply or a timeout raises AgentError.
        The header's length is checked against what its kind allows before anything else is
        read; a K reply must carry exactly `batch` int64 values."""
        until, task_bound = self._deadline(deadline, seconds)
        room = HEADER.size + max(8 * batch, MAX_MESSAGE, MAX_STATUS)
        if len(self._buffer) < room:
            self._buffer = bytearray(room)
        view = memoryview(self._buffer)
        # First read: a whole K reply, else the header alone, so that nothing of the message
        # after this one is read here (an exit status X can be followed at once by a K).
        want = HEADER.size + (8 * batch if expect == b"K" else 0)
        got, total, kind, n = 0, None, None, 0
        fd, poll = self.reply_fd, self._poll_in.poll
        spin_until = time.monotonic() + SPIN_SECONDS
        while total is None or got < total:
            now = time.monotonic()
            left = until - now
            if left <= 0:
                self._timeout(task_bound, what, until)
            if not poll(0 if now < spin_until else int(left * 1000) + 1):
                continue
            try:
                k = os.readv(fd, [view[got:total or want]])
            except BlockingIOError:
                continue
            except OSError:
                k = 0
            if k == 0:
                self._fail(f"{what}: the agent process ended unexpectedly")
            got += k
            if total is None and got >= HEADER.size:
                kind, n = HEADER.unpack_from(view)
                if kind == b"K":
                    ok = n == batch
                else:
                    ok = n <= (MAX_MESSAGE if kind == b"E" else MAX_STATUS) and kind in (b"E", b"X", b"H")
                if not ok:
                    self._fail(f"{what}: malformed reply from the agent process")
                total = HEADER.size + (8 * n if kind == b"K" else n)
        if kind == expect:
            if kind == b"K":
                return kind, np.frombuffer(self._buffer, "<i8", n, HEADER.size).copy()
            return kind, bytes(view[HEADER.size:total])
        payload = bytes(view[HEADER.size:total])
        if kind == b"E":
            message = payload.decode("utf-8", "replace")
            if "MemoryError" in message and self.limits.memory_mb:
                message += f" (memory limit {self.limits.memory_mb} MB, --memory-mb)"
            self._fail(message)
        if kind == b"X":
            self._fail(f"{what}: {self._ended(payload.decode('ascii', 'replace'))}")
        self._fail(f"{what}: malformed reply from the agent process")

    def _ended(self, status: str) -> str:
        if status == CPU_EXIT:
            return f"CPU time limit of {self.limits.cpu_seconds} s exceeded (--cpu-seconds)"
        kind, _, value = status.partition(" ")
        if kind == "signal" and value.isdigit():
            try:
                name = signal.Signals(int(value)).name
            except ValueError:
                name = value
            return f"the agent process was killed by {name}"
        if kind == "exit" and value.lstrip("-").isdigit():
            return f"the agent process exited with code {value}"
        return "the agent process ended unexpectedly"


class AgentRun:
    """The agent of one run, in its own process: `act(obs, first)` (or `send` then `receive`,
    to do other work while the agent thinks) for each batch, then `finish()`."""

    def __init__(self, sandbox: Sandbox, task: str, seed: int, deadline: float):
        self.sb, self.deadline = sandbox, deadline
        self._shape = self._request = None
        self._batch = 0
        if sandbox.proc is None:  # a failure killed the last zygote
            sandbox._launch()
        sandbox.output.reset()
        self._make_request = json.dumps({"task": task, "seed": int(seed)}).encode()
        self._making = f"make_agent({task!r}, {seed})"  # its reply is awaited by the first receive
        self._requested = False
        if sandbox.ready:  # else the zygote is still booting: the request waits for its hello
            self._request_agent()

    def _request_agent(self):
        """Send make_agent's request, after the zygote's hello (MakeAgentError if it fails)."""
        if self._requested:
            return
        try:
            self.sb._handshake(self.deadline)
            request = self._make_request
            self.sb._send([HEADER.pack(b"M", len(request)), request], self.deadline, self._making)
        except AgentError as exc:
            raise MakeAgentError(str(exc)) from None
        self._requested, self._sent = True, time.monotonic()

    def excuse(self, seconds: float) -> None:
        """The scorer spent `seconds` on its own work while this run's agent started: push the
        make_agent call's limit and the task's limit back by that much."""
        self.deadline += seconds
        if self._requested:
            self._sent += seconds

    def _made(self):
        """Wait for make_agent's reply (within the call limit, counted from the request)."""
        self._request_agent()
        self.sb.settle()  # the previous run's exit status comes first
        what, self._making = self._making, None
        left = max(0.0, self.sb.limits.call_timeout - (time.monotonic() - self._sent))
        try:
            self.sb._recv(self.deadline, what, expect=b"K", seconds=left)
        except AgentError as exc:
            raise MakeAgentError(str(exc)) from None

    def act(self, obs: np.ndarray, first: np.ndarray) -> np.ndarray:
        """The agent's actions for a batch: int64 of shape (B,), range not checked (the rollout's
        check_actions does it). AgentError on any failure."""
        self.send(obs, first)
        return self.receive()

    def send(self, obs: np.ndarray, first: np.ndarray, stay_awake: bool = True) -> None:
        """Hand the agent a batch (it may still be in make_agent: the batch waits for it).
        `stay_awake`: the next batch will follow the reply at once, so the agent process should
        wait for it awake (for AGENT_SPIN_SECONDS) rather than sleep."""
        sb = self.sb
        self._request_agent()
        if obs.shape != self._shape:
            self._prepare(obs.shape)
        if self._request is None or obs.dtype != np.uint8:  # no shared memory (or too small), not uint8: the pipe
            first = np.ascontiguousarray(first, np.bool_)
            sb._send([HEADER.pack(b"A", STAY_AWAKE if stay_awake else 0), ACT.pack(*obs.shape), np.ascontiguousarray(obs, np.uint8), first],
                     self.deadline, "act()")
        else:
            if obs is not self._obs_dst:  # else it was observed into the shared memory already
                np.copyto(self._obs_dst, obs, casting="unsafe")
            np.copyto(self._first_dst, first, casting="unsafe")
            request = self._request[stay_awake]
            try:  # 21 bytes into an empty pipe: written whole (at most PIPE_BUF) or not at all
                os.write(sb.cmd_fd, request)
            except BlockingIOError:
                sb._send([request], self.deadline, "act()")
            except OSError:
                sb._fail("act(): the agent process ended unexpectedly")

    def receive(self) -> np.ndarray:
        """The actions for the batch sent last."""
        if self._making:
            self._made()
        return self.sb._recv(self.deadline, "act()", b"K", self._batch)[1]

    def obs_buffer(self, shape: tuple) -> np.ndarray | None:
        """Where to write the next batch's uint8 observations of this shape, so that `send`
        need not copy them: a view of the shared memory (None without one)."""
        if shape != self._shape:
            self._prepare(shape)
        return None if self._request is None else self._obs_dst

    def _prepare(self, shape: tuple):
        """The request and the shared-memory views for uint8 batches of this shape."""
        sb = self.sb
        self._shape = shape
        self._batch, size = shape[0], int(np.prod(shape))
        self._request = None
        if sb.shm_view is not None and size + self._batch <= SHM_SIZE:
            self._request = {awake: HEADER.pack(b"A", IN_SHM | (STAY_AWAKE if awake else 0)) + ACT.pack(*shape)
                             for awake in (False, True)}
            self._obs_dst = sb.shm_view[:size].reshape(shape)
            self._first_dst = sb.shm_view[size:size + self._batch]

    def finish(self, wait: bool = True):
        """End the run; the agent process must exit cleanly. With `wait` False, how it exited is
        read later, by `Sandbox.settle` (the next run's first receive calls it), so that the
        scorer goes on while the zygote cleans up; a bad exit then raises PreviousRunError."""
        if self._making:
            self._made()
        self.sb._send([HEADER.pack(b"Q", 0), bytes(ACT.size)], self.deadline, AFTER_LAST_STEP)
        self.sb.exit_pending = self.deadline
        if wait:
            try:
                self.sb.settle()
            except PreviousRunError as exc:  # this run's exit, not a previous one's
                raise AgentError(str(exc)) from None
