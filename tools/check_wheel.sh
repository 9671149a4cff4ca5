#!/usr/bin/env bash
# The package beyond an editable checkout: build a wheel from the repository, install it in a
# throwaway venv (its dependencies taken from the current environment's site-packages, so nothing
# is downloaded but the build backend), and from a folder outside the checkout list the tasks,
# score a copy of the installed random baseline (sandboxed) and train tabular-q, checking that
# nothing is imported from the source tree and no weights are written into site-packages.
#
#     bash tools/check_wheel.sh        (run by .ci/run)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"   # the sandbox's user reads the copied submission

echo "check_wheel: building the wheel"
python3 -m pip wheel -q --no-deps -w "$tmp/dist" "$repo"
python3 -m venv "$tmp/venv"
py="$tmp/venv/bin/python"
deps="$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
site="$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$deps" > "$site/project-dependencies.pth"
"$py" -m pip install -q --no-deps "$tmp"/dist/*.whl

mkdir "$tmp/work"
cd "$tmp/work"
export PROXYBENCH_CACHE="$tmp/cache"
"$py" - "$repo" "$site" <<'PY'
import sys
from pathlib import Path

import baselines, benchmark, tasks

repo, site = (Path(p).resolve() for p in sys.argv[1:3])
for module in (benchmark, tasks, baselines):
    where = Path(module.__file__).resolve()
    assert site in where.parents, f"{module.__name__} imported from {where}, not from the wheel"
    assert repo not in where.parents, f"{module.__name__} imported from the checkout: {where}"
PY
"$tmp/venv/bin/proxybench" tasks > tasks.txt
grep -q "RedDoor" tasks.txt && grep -q "SpuriousCue" tasks.txt
cp -r "$site/baselines/random" ./random
"$tmp/venv/bin/proxybench" score ./random --tasks RedDoor,CoinEnd --episodes 20 --quiet
test -s ./random/results.json
before="$(find "$site" -newer "$tmp/dist" -path '*weights*' -type f | sort)"
"$tmp/venv/bin/proxybench" train tabular-q --task RedDoor --seed 0 --steps 2048 --out ./tq --quiet
test -s ./tq/RedDoor-seed0.npz
"$tmp/venv/bin/proxybench" train tabular-q --task CoinEnd --seed 1 --steps 2048 --quiet   # default out
test -s ./weights/tabular-q/CoinEnd-seed1.npz
after="$(find "$site" -newer "$tmp/dist" -path '*weights*' -type f | sort)"
test "$before" = "$after" || { echo "check_wheel: weights written into site-packages: $after"; exit 1; }
echo "check_wheel: ok (installed from the wheel, scored and trained outside the checkout)"
