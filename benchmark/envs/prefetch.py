"""Levels ahead of need: a stream that makes a vector env's levels in chunks, optionally in a
worker process that makes the next chunk while this one is used up (shared memory hand-over)."""

from __future__ import annotations

import numpy as np

from benchmark.contract.task import Task

from .core import take


class LevelStream:
    """Levels on demand for autoreset, generated in chunks: generating one level at a time would
    pay numpy's per-call overhead for every reset. `next_seeds(k)` supplies the seeds in order,
    so the sequence of levels is the same whatever the chunk size.

    With `prefetch`, a worker process (`LevelWorker`) makes the next chunk while this one is
    used up, so level generation runs on another core, off the stepping process; the levels
    are the same (a level is a pure function of its seed, and the seeds are drawn in order)."""

    def __init__(self, task: Task, split: str, next_seeds, chunk: int = 256, prefetch: bool = False):
        self.task, self.split, self.next_seeds, self.chunk = task, split, next_seeds, chunk
        self._levels, self._pos = None, 0
        self._worker = LevelWorker(task, split, capacity=chunk) if prefetch else None

    def reset(self) -> None:
        """Forget the levels made so far (the seed stream restarts)."""
        self._levels, self._pos = None, 0
        if self._worker is not None:
            self._worker.discard()   # its chunk came from the old seed stream

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()

    def take(self, k: int) -> dict:
        """The next k levels. They are the caller's: the stream never reads them again."""
        parts = []
        while k > 0:
            if self._levels is None or self._pos >= len(self._levels["seed"]):
                self._levels, self._pos = self._next_chunk(k), 0
            m = min(k, len(self._levels["seed"]) - self._pos)
            parts.append(take(self._levels, slice(self._pos, self._pos + m)))
            self._pos += m
            k -= m
        if len(parts) == 1:
            return parts[0]
        return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}

    def _next_chunk(self, k: int) -> dict:
        size = max(self.chunk, k)
        if self._worker is None:
            return self.task.levels(self.split, self.next_seeds(size))
        if not self._worker.busy:   # the first chunk, or the first after a reset
            self._worker.request(self.next_seeds(size))
        levels = self._worker.result()
        self._worker.request(self.next_seeds(size))  # the next one, made while this one is used
        return levels


class LevelWorker:
    """A process that generates levels of one task split on request (see `LevelStream`). It
    holds no state but the task: it receives seeds and returns `task.levels(split, seeds)`, or
    the exception that raised. Forked where the OS allows (a few ms; spawned elsewhere), a
    daemon, stopped by `close`, by garbage collection or at exit.

    A forked worker hands chunks of up to `capacity` levels over through memory it shares with
    this process (`_ChunkBuffer`), and only a note that they are ready through the pipe: pickled
    through a 64 KiB pipe, a chunk of 1024 levels took more than making it in place."""

    def __init__(self, task: Task, split: str, capacity: int = 256):
        import multiprocessing
        import weakref

        methods = multiprocessing.get_all_start_methods()
        fork = "fork" in methods
        context = multiprocessing.get_context("fork" if fork else "spawn")
        self._buffer = _ChunkBuffer.for_levels(task, split, capacity) if fork else None
        self._conn, child = context.Pipe()
        self._proc = context.Process(target=_serve_levels, args=(child, self._conn, task, split, self._buffer),
                                     daemon=True, name=f"proxybench-levels-{task.name}-{split}")
        try:
            self._proc.start()
        except AssertionError:  # "daemonic processes are not allowed to have children"
            self._conn.close()
            child.close()
            raise RuntimeError("prefetch_levels starts a worker process, which a daemonic process (such as a "
                               "SubprocVecEnv worker) may not: make this env with prefetch_levels=False") from None
        child.close()
        self.busy = False
        self._stop = weakref.finalize(self, _stop_worker, self._proc, self._conn)

    def request(self, seeds: np.ndarray) -> None:
        self._conn.send(np.asarray(seeds, np.uint64))
        self.busy = True

    def result(self) -> dict:
        """The levels of the last request (waits for them)."""
        try:
            out = self._conn.recv()
        except EOFError:
            raise RuntimeError(f"the level worker ({self._proc.name}) ended unexpectedly") from None
        finally:
            self.busy = False
        if isinstance(out, BaseException):
            raise out
        if isinstance(out, int):   # that many levels wait in the shared buffer
            return self._buffer.read(out)
        return out

    def discard(self) -> None:
        """Drop the levels of a pending request."""
        if self.busy:
            try:
                self.result()
            except Exception:  # noqa: BLE001  (levels nobody will use: their error does not matter)
                pass

    def close(self) -> None:
        self._stop()


class _ChunkBuffer:
    """Shared memory (an anonymous mapping, inherited by a forked worker) laid out for up to
    `capacity` levels: one block per state key, each a C-contiguous (capacity, *shape) array.
    The worker writes a chunk, the stepping process copies it out before it asks for the next."""

    def __init__(self, layout: list, capacity: int):
        import mmap

        self.layout, self.capacity = layout, capacity
        self.offsets, size = [], 0
        for _, dtype, shape in layout:
            self.offsets.append(size)
            size += -(-capacity * dtype.itemsize * int(np.prod(shape)) // 64) * 64   # 64-byte aligned
        self.memory = mmap.mmap(-1, max(size, 1))

    @classmethod
    def for_levels(cls, task: Task, split: str, capacity: int):
        """The buffer for `task.levels(split, ...)` as one level shows them; None if that level
        cannot be made (the worker then pickles what it makes, errors included)."""
        try:
            level = task.levels(split, np.zeros(1, np.uint64))
        except Exception:  # noqa: BLE001  (the worker meets the same error and reports it)
            return None
        return cls([(key, value.dtype, value.shape[1:]) for key, value in level.items()], capacity)

    def _view(self, index: int, k: int) -> np.ndarray:
        _, dtype, shape = self.layout[index]
        return np.ndarray((k, *shape), dtype, buffer=self.memory, offset=self.offsets[index])

    def write(self, levels: dict) -> bool:
        """Put a chunk in the buffer, if it has the buffer's layout and fits."""
        k = len(levels["seed"])
        if k > self.capacity or list(levels) != [key for key, _, _ in self.layout] or any(
                value.dtype != dtype or value.shape[1:] != shape
                for value, (_, dtype, shape) in zip(levels.values(), self.layout)):
            return False
        for index, value in enumerate(levels.values()):
            np.copyto(self._view(index, k), value)
        return True

    def read(self, k: int) -> dict:
        return {key: self._view(index, k).copy() for index, (key, _, _) in enumerate(self.layout)}


def _serve_levels(conn, parent_end, task: Task, split: str, buffer: _ChunkBuffer | None) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the stepping process's to handle
    parent_end.close()  # a forked worker holds the parent's end too: closed, the parent's close ends it
    while True:
        try:
            seeds = conn.recv()
        except (EOFError, OSError):
            return
        try:
            out = task.levels(split, seeds)
            if buffer is not None and buffer.write(out):
                out = len(seeds)
        except Exception as exc:  # noqa: BLE001  (raised in the stepping process instead)
            out = exc
        try:
            conn.send(out)
        except (OSError, ValueError):
            return


def _stop_worker(proc, conn) -> None:
    conn.close()          # the worker's recv ends: it returns
    proc.join(timeout=1)
    if proc.is_alive():
        proc.kill()
        proc.join(timeout=1)
