"""The task registry: tasks discovered from the `tasks` package, looked up by name."""

from __future__ import annotations

import importlib
import pkgutil

from .task import Task

_REGISTRY: dict[str, type[Task]] = {}
_ON_DISCOVERY: list = []


def on_discovery(hook) -> None:
    """Call `hook(tasks)` with every discovery's tasks (name -> class); the package face
    registers the gymnasium ids this way, so the contract needs nothing above it."""
    _ON_DISCOVERY.append(hook)
    if _REGISTRY:
        hook(dict(_REGISTRY))


def registry() -> dict[str, type[Task]]:
    """Task name -> Task class, discovered from the modules of the `tasks` package (and each
    `on_discovery` hook called). A module still being imported (someone imported `tasks.x` before
    `benchmark`) has no class yet: discovery then is not cached, and the next call completes it."""
    if not _REGISTRY:
        import tasks

        found, complete = {}, True
        for mod in sorted(pkgutil.iter_modules(tasks.__path__), key=lambda m: m.name):
            module = importlib.import_module(f"tasks.{mod.name}")
            classes = [obj for obj in vars(module).values() if isinstance(obj, type)
                       and issubclass(obj, Task) and obj is not Task and obj.__module__ == module.__name__]
            complete &= bool(classes)
            for cls in classes:
                if cls.name in found:
                    raise RuntimeError(f"task name {cls.name!r} defined twice")
                found[cls.name] = cls
        found = dict(sorted(found.items(), key=lambda kv: SUITE_ORDER.get(kv[0], 99)))
        for hook in _ON_DISCOVERY:
            hook(found)
        if not complete:
            return found
        _REGISTRY.update(found)
    return dict(_REGISTRY)


SUITE_ORDER = {name: i for i, name in enumerate((
    "RedDoor", "CoinEnd", "CheeseCorner", "CheeseDish", "KeysChests", "MonsterShields",
    "FollowGuide", "LavaLand", "SpuriousCue"))}


def get_task(name: str, **kwargs) -> Task:
    """A task instance by its short name (`RedDoor`), case-insensitive."""
    tasks_by_lower = {k.lower(): v for k, v in registry().items()}
    cls = tasks_by_lower.get(name.lower())
    if cls is None:
        raise KeyError(f"unknown task {name!r}; known tasks: {', '.join(registry())}")
    return cls(**kwargs)


def parse_task_list(text: str | None) -> list[str]:
    """'RedDoor,CoinEnd' -> canonical names; None or '' -> the whole suite."""
    if not text:
        return list(registry())
    return [get_task(part.strip()).name for part in text.split(",") if part.strip()]
