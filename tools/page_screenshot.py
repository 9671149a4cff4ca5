"""Screenshot the leaderboard page in headless Chromium (Debian's `chromium`), as a person sees it:

    python tools/page_screenshot.py [--page docs/leaderboard/index.html] [--out docs/leaderboard/screenshot.png]
                                    [--width 1400] [--height 2400]

The page is made by `proxybench leaderboard`; the screenshot is committed beside it and linked
from the README. A PNG of the top `--height` pixels of the page at `--width`.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", default="docs/leaderboard/index.html")
    parser.add_argument("--out", default="docs/leaderboard/screenshot.png")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=2400)
    args = parser.parse_args()
    page, out = Path(args.page).resolve(), Path(args.out).resolve()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("page_screenshot: no chromium on PATH (apt-get install chromium)", file=sys.stderr)
        return 1
    if not page.is_file():
        print(f"page_screenshot: no page at {page}; make it with `proxybench leaderboard`", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as profile:    # a fresh profile: nothing of the user's is read
        subprocess.run([browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--user-data-dir={profile}", f"--window-size={args.width},{args.height}",
                        f"--screenshot={out}", page.as_uri()], check=True, capture_output=True, timeout=120)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
