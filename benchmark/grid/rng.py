"""Level randomness: SplitMix64, counter-based streams per level seed, and their helpers."""

from __future__ import annotations

import hashlib

import numpy as np

from .jit import jit

# SplitMix64: its increment and multipliers, and the shifts of its finaliser; numpy scalars for
# arrays and kernels.
_SPLITMIX_INT = (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB)
_SHIFTS_INT = (30, 27, 31)
_STREAM_STEP_INT = 0xD1B54A32D192ED03  # counter -> a level's stream position
_FLOAT_SHIFT_INT = 11                  # the top 53 bits make a double in [0, 1)
_STREAM_STEP, _FLOAT_SHIFT = np.uint64(_STREAM_STEP_INT), np.uint64(_FLOAT_SHIFT_INT)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on uint64 arrays (wrapping arithmetic: numpy does not check integer
    overflow in array operations), on a fresh copy."""
    return _splitmix64_inplace(np.array(x, np.uint64))


def _splitmix64_inplace(x: np.ndarray) -> np.ndarray:
    """`splitmix64` overwriting x (uint64, C-contiguous), in one pass of a kernel (as numpy
    calls, nine passes over the array)."""
    _splitmix64_all(x.reshape(-1))
    return x


_SM_ADD, _SM_MUL1, _SM_MUL2 = (np.uint64(c) for c in _SPLITMIX_INT)
_SM_SHIFT0, _SM_SHIFT1, _SM_SHIFT2 = (np.uint64(s) for s in _SHIFTS_INT)


@jit
def splitmix64_one(x):
    """`splitmix64` of one uint64, inside a kernel."""
    x = x + _SM_ADD
    x = (x ^ (x >> _SM_SHIFT0)) * _SM_MUL1
    x = (x ^ (x >> _SM_SHIFT1)) * _SM_MUL2
    return x ^ (x >> _SM_SHIFT2)


@jit
def _splitmix64_all(flat):
    for j in range(len(flat)):
        flat[j] = splitmix64_one(flat[j])


@jit
def step_uniform(key, t, index):
    """A uniform float in [0, 1), a pure function of (a level's key, step t, index): randomness
    for what moves on its own (NPCs) that needs no generator state and no per-step storage.
    `key` uint64, already hashed; `t` and `index` whole numbers >= 0."""
    base = splitmix64_one(key + np.uint64(t) * _SM_ADD)
    x = splitmix64_one(base + np.uint64(index) * _STREAM_STEP)
    return (x >> _FLOAT_SHIFT) * (1.0 / 9007199254740992.0)


def stable_hash64(text: str) -> int:
    """A 64-bit hash of a string that is the same on every machine and Python run."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


class LevelRNG:
    """Counter-based random numbers for a batch of levels, one independent stream per seed.

    Level i's numbers depend only on (key, seeds[i]) and on how many numbers were drawn before,
    never on which other levels share the batch, so generation is batched yet every level is a
    pure function of its seed. Generators draw in lockstep: every call draws for every level.
    """

    def __init__(self, seeds, key: str):
        seeds = np.asarray(seeds, dtype=np.uint64).reshape(-1)
        self.n = len(seeds)
        self._base = splitmix64(seeds ^ np.uint64(stable_hash64(key)))
        self._counter = 0

    def bits(self, shape=()) -> np.ndarray:
        """uint64 array of shape (n, *shape)."""
        shape = tuple(np.atleast_1d(shape)) if shape != () else ()
        k = int(np.prod(shape)) if shape else 1
        return self._bits(k, by_level=True).reshape((self.n, *shape))

    def _bits(self, k: int, by_level: bool) -> np.ndarray:
        """The next k numbers of every level: (n, k), or (k, n) unless `by_level`."""
        counters = np.arange(self._counter, self._counter + k, dtype=np.uint64)
        self._counter += k
        counters *= _STREAM_STEP
        if by_level:   # wraps: numpy does not check overflow in array operations
            x = np.add(self._base[:, None], counters, dtype=np.uint64)
        else:
            x = np.add(counters[:, None], self._base, dtype=np.uint64)
        return _splitmix64_inplace(x)

    def random(self, shape=()) -> np.ndarray:
        """Uniform floats in [0, 1), shape (n, *shape)."""
        return _to_unit(self.bits(shape))

    def random_columns(self, k: int) -> np.ndarray:
        """The numbers `random((k,))` would return, transposed: (k, n), each row contiguous (a
        generator that reads its draws one kind at a time reads them along the batch)."""
        return _to_unit(self._bits(k, by_level=False))

    def chance(self, p: float) -> np.ndarray:
        """(n,) bool, True with probability p: `random() < p`. For p = 0 or 1 the answer needs
        no numbers, so none are computed, but the draw is still counted: later numbers stay
        where they were."""
        if p <= 0 or p >= 1:
            self._counter += 1
            return np.full(self.n, p >= 1)
        return self.random() < p

    def integers(self, high, shape=()) -> np.ndarray:
        """Uniform ints in [0, high); `high` may be an array broadcasting against (n, *shape)."""
        return scaled(self.random(shape), high)

    def choice_cells(self, mask: np.ndarray, what: str = "cell") -> np.ndarray:
        """A uniformly random True cell of each level's (H, W) mask: (n, 2) (row, col).
        One draw per level: the k-th True cell in row-major order, k uniform below the count."""
        n, h, w = mask.shape
        cells = h * w
        # Count on bit-packed masks: a running count over bytes (one per 8 cells) finds the byte
        # holding each level's (k+1)-th True cell, a table the bit within it: a running count
        # over every cell is the costly part otherwise.
        row_bytes = -(-cells // 8)
        padded = np.zeros((n, 8 * row_bytes), bool)
        padded[:, :cells] = mask.reshape(n, cells)
        packed = np.packbits(padded.reshape(-1), bitorder="little")
        ones = np.bitwise_count(packed)
        running = np.cumsum(ones, dtype=np.int32)
        ends = running[row_bytes - 1::row_bytes]
        base = np.concatenate(([0], ends[:-1])).astype(np.int32)
        count = ends - base
        if (count == 0).any():
            raise RuntimeError(f"level generator: no admissible {what} in some level")
        k = np.floor(self.random() * count).astype(np.int32)
        rank = base + k + 1                                  # of the wanted cell, over the batch
        byte = np.searchsorted(running, rank)
        within = rank - (running.take(byte) - ones.take(byte)) - 1
        flat = (byte - np.arange(n) * row_bytes) * 8 + _NTH_BIT[packed.take(byte), within]
        cell = np.empty((n, 2), np.int64)
        np.divmod(flat, w, out=(cell[:, 0], cell[:, 1]))
        return cell

    # Draws are numbered per level: `random((k,))` returns, in its k columns, the numbers that k
    # consecutive one-number calls would, so a generator may take all its numbers in one call
    # (one hash pass over the batch instead of one per call) and get the same levels.

    def permutations(self, k: int) -> np.ndarray:
        """(n, k) int32: one random permutation of 0..k-1 per level, the argsort of the numbers
        `random((k,))` would draw (equal numbers, about one level in 2**53 / k**2, keep index
        order). Each number's 53 bits are sorted as values with the index packed below them:
        numpy sorts values faster than it argsorts them."""
        shift = max(1, (k - 1).bit_length())
        if 53 + shift > 64:
            raise ValueError(f"permutations of {k} items do not fit a 64-bit sort key")
        keys = self.bits((k,))
        keys >>= _FLOAT_SHIFT                         # the 53 bits `random` makes a float of
        keys <<= np.uint64(shift)
        keys |= np.arange(k, dtype=np.uint64)
        keys.sort(axis=1)
        keys &= np.uint64((1 << shift) - 1)
        return keys.astype(np.int32)


def _to_unit(x: np.ndarray) -> np.ndarray:
    """uint64 -> uniform floats in [0, 1) from the top 53 bits (x is overwritten)."""
    x >>= _FLOAT_SHIFT
    out = x.astype(np.float64)
    out *= 1.0 / (1 << 53)
    return out


def scaled(uniforms: np.ndarray, high) -> np.ndarray:
    """Uniform ints in [0, high) from uniform floats in [0, 1) (as `LevelRNG.integers` draws)."""
    return np.floor(uniforms * high).astype(np.int64)


@jit
def scaled_one(uniform, high):
    """`scaled` of one number, inside a kernel."""
    return int(np.floor(uniform * high))


def _nth_bit_table() -> np.ndarray:
    """table[byte, j]: the position (little-endian bit order) of the j-th set bit of `byte`."""
    table = np.zeros((256, 8), np.int64)
    for byte in range(256):
        bits = [bit for bit in range(8) if byte >> bit & 1]
        table[byte, :len(bits)] = bits
    return table


_NTH_BIT = _nth_bit_table()

