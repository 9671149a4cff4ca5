"""The task contract: what a task declares and implements (`task`), the building blocks of its
reference policies (`policies`) and of its candidate goals (`candidates`), and the registry that
discovers the tasks (`registry`)."""

from .candidates import CORNERS, REGIONS, Follow, KeepAway, Reach, VisitAll, generic, of_colour, of_type
from .policies import NavigateTo, UniformRandom, cells_of, stay
from .registry import SUITE_ORDER, get_task, on_discovery, parse_task_list, registry
from .task import OBJECTIVES, SPLITS, Policy, Task, check_split, level_seed_array

__all__ = ["CORNERS", "REGIONS", "Follow", "KeepAway", "Reach", "VisitAll", "generic", "of_colour", "of_type",
           "NavigateTo", "UniformRandom", "cells_of", "stay", "SUITE_ORDER", "get_task", "on_discovery",
           "parse_task_list", "registry", "OBJECTIVES", "SPLITS", "Policy", "Task", "check_split",
           "level_seed_array"]
