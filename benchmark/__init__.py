"""proxybench: a benchmark for goal misgeneralization, scored on two axes.

Importing the package registers every task with gymnasium as
`proxybench/<Task>-train-v1` and `proxybench/<Task>-heldout-v1`.
"""

from .grid import COLOR_TO_IDX, OBJECT_TO_IDX, STATE_TO_IDX
from .task import Task, get_task, registry

__version__ = "0.1.0"
BENCHMARK_VERSION = __version__

__all__ = ["OBJECT_TO_IDX", "COLOR_TO_IDX", "STATE_TO_IDX", "Task", "get_task", "registry",
           "BENCHMARK_VERSION"]

registry()  # discovers the tasks and registers their gymnasium ids
