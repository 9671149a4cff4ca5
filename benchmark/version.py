"""The benchmark's version: results record it; the reference cache is keyed by it."""

__version__ = "0.1.0"
BENCHMARK_VERSION = __version__
