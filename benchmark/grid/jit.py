"""Kernels: plain Python loops over the levels of a batch, compiled with numba on first call.

numba is imported, and every kernel defined so far compiled, only when one is first called:
code that never steps a level (an agent process importing the engine for its constants) never
loads it. Compiled code is cached on disk beside its module where that is writable.
"""

from __future__ import annotations

import functools
import hashlib
import pathlib
import sys


def jit(function):
    """A kernel: a function compiled with numba (nopython) on first call, for dynamics whose
    numpy form is dozens of calls on arrays of a few items, looping over the levels of a batch
    in machine code. Kernels call kernels (by module attribute or global name), inlined.

    numba notices a change to a kernel's own file only; `drop_stale_kernel_cache` also drops a
    module's cached code when the engine (this package: its kernels and this decorator) changes."""
    kernel = _Kernel(function)
    _KERNELS.append(kernel)
    return kernel


class _Kernel:
    """A `jit` function until its first call; then numba's, in every module that holds it."""

    def __init__(self, function):
        functools.update_wrapper(self, function)
        self.function, self.compiled = function, None

    def __call__(self, *args):
        if self.compiled is None:
            _compile_kernels()
        return self.compiled(*args)


_KERNELS: list[_Kernel] = []
ENGINE = pathlib.Path(__file__).parent


def _compile_kernels() -> None:
    import numba

    waiting = [kernel for kernel in _KERNELS if kernel.compiled is None]
    for path in {kernel.function.__code__.co_filename for kernel in waiting}:
        drop_stale_kernel_cache(path)
    options = {"inline": "always"}   # into calling kernels: a call with array arguments is costly
    for kernel in waiting:
        try:
            kernel.compiled = numba.njit(cache=True, **options)(kernel.function)
        except RuntimeError:   # no writable place for the cache: compile in every process
            kernel.compiled = numba.njit(**options)(kernel.function)
    _bind_compiled(waiting)


def _bind_compiled(kernels: list[_Kernel]) -> None:
    """numba resolves a kernel's callees through module globals and attributes (its own module's,
    the engine's package face, another engine module's import): every engine or kernel-defining
    module that holds a `_Kernel` gets numba's function in its place."""
    compiled = {id(kernel): kernel.compiled for kernel in kernels}
    modules = {kernel.function.__module__ for kernel in kernels}
    modules |= {name for name in sys.modules if name == __package__ or name.startswith(__package__ + ".")}
    for name in modules:
        namespace = getattr(sys.modules.get(name), "__dict__", None)
        if namespace is None:
            continue
        for attribute, value in list(namespace.items()):
            if id(value) in compiled and isinstance(value, _Kernel):
                namespace[attribute] = compiled[id(value)]


@functools.lru_cache(maxsize=1)
def engine_digest() -> str:
    """The hash of the engine's source files (this package)."""
    digest = hashlib.sha256()
    for source in sorted(ENGINE.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


def drop_stale_kernel_cache(module_file: str) -> None:
    """Delete numba's cached code of a module's kernels if the engine changed since it was
    cached: a stamp beside that code holds the engine's hash."""
    module = pathlib.Path(module_file)
    stamp = module.parent / "__pycache__" / f"{module.stem}.engine-stamp"
    digest = engine_digest()
    try:
        if stamp.exists() and stamp.read_text() == digest:
            return
        for cached in module.parent.glob(f"__pycache__/{module.stem}.*.nb[ic]"):
            cached.unlink(missing_ok=True)
        stamp.parent.mkdir(exist_ok=True)
        stamp.write_text(digest)
    except OSError:   # a read-only install: numba caches elsewhere (keyed by the module's file)
        pass
