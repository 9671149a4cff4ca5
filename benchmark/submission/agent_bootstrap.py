"""The agent's side of the sandbox: a small standalone program, run by the scorer as

    python -s agent_bootstrap.py CONFIG_JSON

It imports numpy and nothing of `benchmark` (run as a file, not as a module of the package). The
process it starts as is a *zygote*, run as the scorer's user with a scrubbed environment: it
never loads submitted code. It imports numpy, the common standard-library modules (`PRELOAD`)
and the installed frameworks among `sandbox.FRAMEWORKS` that the submission's source imports,
once, so that each run's fresh process need not import them again. Where the OS allows (Linux,
scorer running as root) it cuts the network (a new network namespace), mounts the Python
installation back where a folder above it is unreadable to the agent's user (`expose`, in a
mount namespace of its own), and opens a PID namespace whose first process, the *reaper*, serves
the runs. For every run (task, split, training seed) the scorer sends `make_agent(task, seed)`;
the reaper forks the agent process, which sets its resource limits, drops privileges, imports
the submission's entry point from the scratch copy, calls `make_agent`, and answers `act`
batches until the scorer ends the run. Then the reaper kills every process left in its namespace
(`kill(-1)`: whatever the agent started) and reports how the agent ended. A fresh process per
run: no state carries from one run to the next in memory.

Protocol (all integers little-endian), on two pipes and a shared memory segment (a memfd the
agent process maps read-only, sealed so that the mapping cannot be made writable) whose numbers
the config gives; stdout and stderr are not part of it, so what the agent prints cannot corrupt
it:

    scorer -> agent   b"M" u32 n, n bytes of JSON {"task": str, "seed": int}    make_agent
                      b"A" u32 F, u32 B, u32 H, u32 W, u32 C, then unless F & 1
                      B*H*W*C bytes obs (uint8) and B bytes first (0/1)         act
                      b"Q" u32 0, 16 bytes of zeros                             end the run
                      (flags F: 1, obs and first are at the start of the shared memory;
                      2, the next batch follows the reply at once: wait for it awake)
    agent  -> scorer  b"H" u32 n, n ASCII bytes "key=value ..."    zygote ready (once)
                      b"K" u32 B, B*8 bytes int64 actions          (B = 0 after make_agent)
                      b"E" u32 n, n bytes UTF-8 message            make_agent or act failed
                      b"X" u32 n, n ASCII bytes "exit N" | "signal N" | "cpu"
                                                                   the run's process ended

The agent process checks its agent's reply like `benchmark.evaluation.rollout.check_actions` (a numpy
array of integers of shape (B,)) and sends either int64 actions or an error message; the scorer
parses the reply as raw bytes with explicit lengths and checks the range.
"""

import ctypes
import importlib
import importlib.util
import json
import os
import resource
import select
import signal
import struct
import sys
import time

HEADER = struct.Struct("<cI")
ACT = struct.Struct("<IIII")
MAX_MESSAGE = 1000
CLONE_NEWNET, CLONE_NEWPID, CLONE_NEWNS = 0x40000000, 0x20000000, 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 4, 38
CPU_EXIT = "cpu"
IN_SHM, STAY_AWAKE = 1, 2  # flags of an act request

np = None  # numpy, imported once by the zygote (before any privilege drop)
_exit = os._exit  # bound now: submitted code patching os._exit cannot keep a process alive

# Imported once by the zygote, so that each run's fresh process need not import them again
# (numpy.random alone is a noticeable share of a start), and so that agents have them even where the Python installation
# is not readable by the agent's user and could not be mounted back (see `expose`).
PRELOAD = (
    "numpy.random", "numpy.linalg", "numpy.fft", "abc", "array", "ast", "atexit", "base64",
    "bisect", "bz2", "codecs", "collections", "contextlib", "copy", "csv", "dataclasses",
    "datetime", "decimal", "dis", "encodings.ascii", "encodings.idna", "encodings.latin_1",
    "encodings.utf_16", "enum", "errno", "fnmatch", "fractions", "functools", "glob",
    "gzip", "hashlib", "heapq", "inspect", "io", "itertools", "json", "linecache", "logging",
    "lzma", "math", "numbers", "operator", "pathlib", "pickle", "pprint", "queue", "random", "re",
    "reprlib", "secrets", "selectors", "shutil", "socket", "stat", "statistics", "string",
    "struct", "subprocess", "tempfile", "textwrap", "threading", "time", "tokenize", "traceback",
    "types", "typing", "unicodedata", "uuid", "warnings", "weakref", "zipfile", "zlib",
)


def read_exact(fd, n):
    """n bytes from fd, or None at end of file."""
    buf = bytearray(n)
    view, got = memoryview(buf), 0
    while got < n:
        k = os.readv(fd, [view[got:]])
        if k == 0:
            return None
        got += k
    return buf


def read_into(fd, array):
    view, got = memoryview(array).cast("B"), 0
    while got < len(view):
        k = os.readv(fd, [view[got:]])
        if k == 0:
            return False
        got += k
    return True


def write_all(fd, *parts):
    for part in parts:
        view = memoryview(part).cast("B")
        while len(view):
            view = view[os.write(fd, view):]


def send(fd, kind, payload=b""):
    write_all(fd, HEADER.pack(kind, len(payload)), payload)


def send_error(fd, message):
    text = str(message).replace("\r", " ").replace("\n", " ")[:MAX_MESSAGE]
    send(fd, b"E", text.encode("utf-8", "replace"))


def describe(exc):
    """'TypeName: message' of an exception raised by submitted code, whatever its __str__ does."""
    try:
        name = type(exc).__name__
        text = str(exc)
    except BaseException:  # noqa: BLE001  (a hostile __str__)
        return "an exception that cannot be printed"
    return f"{name}: {text}" if text else name


# ---------------------------------------------------------------------------------------------
# The zygote and the reaper

def main():
    global np
    cfg = json.loads(sys.argv[1])
    sys.path.pop(0)  # this file's folder (benchmark/): nothing of the harness by accident
    import numpy
    np = numpy
    libc = ctypes.CDLL(None, use_errno=True)
    isolated = {"net": 0, "pid": 0}
    if cfg["expose"]:
        isolated["mnt"] = int(expose(libc, cfg["expose"], cfg["staging"]))
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    for name in cfg["frameworks"]:  # installed packages the submission uses, imported once here
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001  (the agent process will say what is wrong)
            pass
    import gc
    gc.freeze()  # fewer copy-on-write faults in the forked agent processes
    shm = None
    if cfg["shm_fd"] is not None:  # observations arrive here; the agent's user cannot write it
        import mmap
        shm = mmap.mmap(cfg["shm_fd"], cfg["shm_size"], prot=mmap.PROT_READ)
        os.close(cfg["shm_fd"])
    if cfg["namespaces"]:
        isolated["net"] = int(libc.unshare(CLONE_NEWNET) == 0)
        isolated["pid"] = int(libc.unshare(CLONE_NEWPID) == 0)
    if isolated["pid"]:
        reaper = os.fork()  # pid 1 of the new PID namespace
        if reaper == 0:
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            serve_runs(cfg, libc, shm, isolated, init=True)
        _exit(os.waitstatus_to_exitcode(os.waitpid(reaper, 0)[1]) & 0xFF)
    serve_runs(cfg, libc, shm, isolated, init=False)


def expose(libc, plan, staging):
    """Make the Python installation readable to the agent's user where a folder above it is not
    (e.g. a Python under /root, mode 0700), in a mount namespace of our own: a tmpfs over that
    folder, hiding all of it, with the installation's folders bind-mounted back, read-only, at
    their paths. `plan`: [[hidden_folder, [installation folders under it]], ...]. The host's
    mounts are untouched. True if it all worked."""
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]

    def mount(source, target, flags, fstype=None, data=None):
        if libc.mount(source and os.fsencode(source), os.fsencode(target), fstype and fstype.encode(),
                      flags, data and data.encode()) != 0:
            raise OSError(ctypes.get_errno(), f"mount {target}")

    try:
        if libc.unshare(CLONE_NEWNS) != 0:
            return False
        mount(None, "/", MS_REC | MS_PRIVATE)  # nothing we mount reaches the host
        staged = []
        for i, (hidden, folders) in enumerate(plan):
            for j, folder in enumerate(folders):
                stage = os.path.join(staging, f"{i}-{j}")
                os.makedirs(stage, 0o700, exist_ok=True)  # a zygote before this one made it
                mount(folder, stage, MS_BIND | MS_REC)
                staged.append((stage, folder))
            mount("tmpfs", hidden, MS_NOSUID | MS_NODEV, "tmpfs", "mode=0755,size=1m")
        for stage, folder in staged:
            os.makedirs(folder, exist_ok=True)
            os.chmod(folder, 0o755)
            mount(stage, folder, MS_BIND | MS_REC)
            libc.mount(None, os.fsencode(folder), None, MS_REMOUNT | MS_BIND | MS_RDONLY, None)
            libc.umount2(os.fsencode(stage), MNT_DETACH)
        return True
    except OSError:
        return False


def serve_runs(cfg, libc, shm, isolated, init):
    """Say hello, then for each make_agent request fork the run's agent process, wait for it,
    kill whatever it left behind, and report how it ended. Never returns."""
    cmd, reply = cfg["cmd_fd"], cfg["reply_fd"]
    send(reply, b"H", " ".join(f"{k}={v}" for k, v in isolated.items()).encode())
    while True:
        header = read_exact(cmd, HEADER.size)
        if header is None:
            _exit(0)
        kind, n = HEADER.unpack(header)
        payload = read_exact(cmd, n) if n else b""
        if kind != b"M" or payload is None:
            _exit(2)
        request = json.loads(bytes(payload))
        agent = os.fork()
        if agent == 0:
            run_agent(cfg, libc, cmd, reply, shm, request, init)
            _exit(6)  # not reached
        _, status, usage = os.wait4(agent, 0)
        if init:  # pid 1 of the namespace: every process left in it is the agent's
            while True:
                try:
                    os.kill(-1, signal.SIGKILL)
                except OSError:
                    pass
                try:
                    os.waitpid(-1, 0)
                except ChildProcessError:
                    break
        else:
            try:
                os.killpg(agent, signal.SIGKILL)
            except OSError:
                pass
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            cpu = usage.ru_utime + usage.ru_stime
            end = CPU_EXIT if sig in (signal.SIGKILL, signal.SIGXCPU) and cpu >= cfg["cpu_seconds"] - 0.5 \
                else f"signal {sig}"
        else:
            end = f"exit {os.waitstatus_to_exitcode(status)}"
        send(reply, b"X", end.encode())


def confine(cfg, libc):
    """In the agent process, before any submitted code: limits, then the unprivileged user."""
    mb, cpu, procs = cfg["memory_mb"], cfg["cpu_seconds"], cfg["max_procs"]
    limits = [(resource.RLIMIT_CPU, cpu), (resource.RLIMIT_CORE, 0)]  # CPU: soft = hard, SIGKILL
    if mb:
        limits.append((resource.RLIMIT_AS, mb << 20))
    if procs:
        limits.append((resource.RLIMIT_NPROC, procs))
    for which, value in limits:
        try:
            resource.setrlimit(which, (value, value))
        except (OSError, ValueError):
            if sys.platform.startswith("linux"):
                raise  # elsewhere (macOS: RLIMIT_AS) a limit the OS refuses is not enforced
    if cfg["uid"] is not None:
        os.setgroups([])
        os.setgid(cfg["gid"])
        os.setuid(cfg["uid"])
        if os.getuid() != cfg["uid"] or os.geteuid() != cfg["uid"]:
            _exit(3)
    os.environ["HOME"] = os.environ["TMPDIR"] = cfg["home"]  # its own, writable home
    tempfile = sys.modules.get("tempfile")
    if tempfile is not None:
        tempfile.tempdir = None
    prctl = getattr(libc, "prctl", None)  # Linux only
    if prctl is not None:
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)   # setuid programs gain nothing
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)       # no ptrace, no /proc/pid/mem by same-uid peers
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # its parent (reaper) dies: so does it
    os.chdir(cfg["code_dir"])


def run_agent(cfg, libc, cmd, reply, shm, request, init):
    """The agent process of one run. Never returns."""
    try:
        if not init:
            os.setpgid(0, 0)  # its own group, killed when the run ends
        confine(cfg, libc)
    except BaseException as exc:  # noqa: BLE001
        send_error(reply, f"sandbox setup failed: {describe(exc)}")
        _exit(4)
    code = 0
    try:
        act = make(cfg, reply, request)
        if act is not None:
            serve(cmd, reply, shm, act, cfg["spin_seconds"])
    except BaseException:  # noqa: BLE001  (a failure of the bootstrap itself, e.g. MemoryError)
        code = 5
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001
        pass
    _exit(code)


def make(cfg, reply, request):
    """Import the entry point and call make_agent; reply K or E. The agent's act, or None."""
    file_name, func_name = cfg["entry_point"].split(":")
    path = os.path.join(cfg["code_dir"], file_name)
    try:
        sys.path.insert(0, os.path.dirname(path))
        spec = importlib.util.spec_from_file_location(cfg["module_name"], path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[cfg["module_name"]] = module
        spec.loader.exec_module(module)
    except BaseException as exc:  # noqa: BLE001
        send_error(reply, f"importing {file_name} failed: {describe(exc)}")
        return None
    factory = getattr(module, func_name, None)
    if not callable(factory):
        send_error(reply, f"{file_name} has no function {func_name!r}")
        return None
    task, seed = request["task"], request["seed"]
    try:
        agent = factory(task, seed)
        act = agent.act
    except BaseException as exc:  # noqa: BLE001
        send_error(reply, f"make_agent({task!r}, {seed}) raised {describe(exc)}")
        return None
    send(reply, b"K")
    return act


def serve(cmd, reply, shm, act, spin):
    """Answer act batches until the scorer ends the run."""
    request = HEADER.size + ACT.size
    poll = select.poll()
    poll.register(cmd, select.POLLIN)
    flags = 0
    shape = None  # of the last batch; with its views of the shared memory and its reply buffer
    while True:
        if flags & STAY_AWAKE:  # the next batch comes soon: waking from sleep would cost more
            until = time.monotonic() + spin
            while not poll.poll(0) and time.monotonic() < until:
                pass
        header = os.read(cmd, request)  # the scorer writes a request whole: usually one read
        if len(header) < request:
            rest = read_exact(cmd, request - len(header)) if header else None
            if rest is None:
                return
            header += rest
        kind, flags = HEADER.unpack_from(header)
        if kind == b"Q":
            return
        if kind != b"A":
            raise RuntimeError("unknown command")
        if header[HEADER.size:] != shape:
            shape = header[HEADER.size:]
            batch, h, w, c = ACT.unpack(shape)
            size = batch * h * w * c
            if size + batch <= len(shm or b""):  # where the scorer writes obs then first
                shm_obs = np.frombuffer(shm, np.uint8, size).reshape(batch, h, w, c)
                shm_first = np.frombuffer(shm, np.bool_, batch, size)
            out = bytearray(HEADER.size + 8 * batch)  # the reply: header, then int64 actions
            HEADER.pack_into(out, 0, b"K", batch)
            out_actions = np.frombuffer(out, "<i8", batch, HEADER.size)
        if flags & IN_SHM:  # the agent gets copies: the next batch overwrites the memory
            obs, first = shm_obs.copy(), shm_first.copy()
        else:
            obs = np.empty((batch, h, w, c), np.uint8)
            first = np.empty(batch, np.bool_)
            if not (read_into(cmd, obs) and read_into(cmd, first)):
                return
        try:
            actions = act(obs, first)
        except BaseException as exc:  # noqa: BLE001
            send_error(reply, f"act() raised {describe(exc)}")
            return
        problem = check(actions, batch)
        if problem:
            send_error(reply, problem)
            return
        np.copyto(out_actions, actions, casting="unsafe")  # as astype("<i8"): the scorer checks the range
        written = os.write(reply, out)  # a blocking pipe: whole unless a signal cut it short
        if written < len(out):
            write_all(reply, memoryview(out)[written:])


def check(actions, batch):
    """What is wrong with the agent's reply (the words of check_actions), or None."""
    if not isinstance(actions, np.ndarray):
        return f"act() returned {type(actions).__name__}, expected a numpy array"
    if actions.shape != (batch,):
        return f"act() returned shape {actions.shape}, expected ({batch},)"
    if actions.dtype.kind not in "iu":  # np.issubdtype(dtype, np.integer), faster
        return f"act() returned dtype {actions.dtype}, expected integers"
    return None


if __name__ == "__main__":
    main()
