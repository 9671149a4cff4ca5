"""proxybench: a benchmark for goal misgeneralization, scored on two axes.

Importing the package registers every task with gymnasium as
`proxybench/<Task>-train-v<version>` and `proxybench/<Task>-heldout-v<version>`.

Rooms, each importing only from those before it: `grid` (the engine), `contract` (the task
contract and registry), `envs` (the batched core and the gymnasium envs), `evaluation`
(rollouts, references, scoring, results), `submission` (manifests, sandbox, scoring a folder),
`training` (the baselines' trainers), `reporting` (leaderboard, curves, analysis, generated
docs), and the command line (`cli`, `speedtest`).
"""

from .contract import Task, get_task, on_discovery, registry
from .envs.env import register_envs
from .grid import COLOR_TO_IDX, OBJECT_TO_IDX, STATE_TO_IDX
from .version import BENCHMARK_VERSION, __version__

__all__ = ["OBJECT_TO_IDX", "COLOR_TO_IDX", "STATE_TO_IDX", "Task", "get_task", "registry",
           "BENCHMARK_VERSION", "__version__"]

on_discovery(register_envs)
registry()  # discovers the tasks (and so registers their gymnasium ids)
