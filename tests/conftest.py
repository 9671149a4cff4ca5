import os
import tempfile

import pytest

# Tests never touch the user's reference cache.
os.environ.setdefault("PROXYBENCH_CACHE", tempfile.mkdtemp(prefix="proxybench-test-cache-"))

import benchmark  # noqa: E402  (registers the envs)
from benchmark.task import registry  # noqa: E402

TASKS = list(registry())


@pytest.fixture(params=TASKS)
def task_name(request):
    return request.param
