import atexit
import os
import shutil
import tempfile

import pytest

# Tests never touch the user's reference cache; theirs goes when the session ends.
if "PROXYBENCH_CACHE" not in os.environ:
    os.environ["PROXYBENCH_CACHE"] = tempfile.mkdtemp(prefix="proxybench-test-cache-")
    atexit.register(shutil.rmtree, os.environ["PROXYBENCH_CACHE"], ignore_errors=True)

import benchmark  # noqa: E402  (registers the envs)
from benchmark.contract.registry import registry  # noqa: E402

TASKS = list(registry())


@pytest.fixture(params=TASKS)
def task_name(request):
    return request.param
