"""The leaderboard's HTML page and figures: built from the same synthetic results as the
markdown page's tests, checked as text (self-contained, provenance, tracks apart, replay links,
the figures' data in the page), the scatter's labels checked for overlaps, and the page opened in
a real headless browser (Debian's chromium and chromedriver, which .ci/run installs): a row per
entry, a click on a header reorders the rows, every image loads."""

import json
import re
import shutil
from pathlib import Path

import pytest

from benchmark.reporting.leaderboard import BEHAVIOUR, BY_TAG, PAGE, SCATTER, collect, html_page, plot
from test_leaderboard import TASKS, make_tree, references

BEHAVIOUR_COUNTS = {"true_only": 0.6, "proxy_only": 0.3, "both": 0.0, "neither": 0.1}


def with_behaviour(root: Path) -> Path:
    """The synthetic tree, its Alpha results given behaviour counts (which results carry as
    scored, not derivable from raw statistics)."""
    for path in root.glob("*/*/results.json"):
        data = json.loads(path.read_text())
        data["tasks"]["Alpha"]["behaviour"] = {k: {"value": v, "ci_low": max(v - 0.05, 0), "ci_high": min(v + 0.05, 1)}
                                               for k, v in BEHAVIOUR_COUNTS.items()}
        data.update(proxybench_version="0.1.0", scored_at="2026-12-01T10:00:00+00:00",
                    seed_set={"name": "public", "hash": "00312a0e2ba29bcd"})
        path.write_text(json.dumps(data))
    return root


def build(tmp_path: Path) -> Path:
    root = with_behaviour(make_tree(tmp_path))
    mine = root / "submissions" / "my-agent" / "results.json"     # two rows in one track, to sort
    data = json.loads(mine.read_text())
    data["submission"]["track"] = "standard"
    mine.write_text(json.dumps(data))
    entries, refs = collect(root), references()
    data = plot(entries, refs, root, TASKS)
    gif = root / "docs" / "replays" / "ppo" / "Alpha.gif"      # as `proxybench replay --all` writes it
    gif.parent.mkdir(parents=True)
    gif.write_bytes(b"GIF89a")
    page = root / PAGE
    page.write_text(html_page(entries, refs, TASKS, None, data, root))
    return page


def test_page_is_self_contained_and_says_where_each_row_comes_from(tmp_path):
    page = build(tmp_path)
    text = page.read_text()
    # Nothing fetched from another host: every src and href is relative.
    links = re.findall(r'(?:src|href)="([^"]+)"', text)
    assert links and not [link for link in links if re.match(r"[a-z]+:|//", link)]
    for link in re.findall(r'src="([^"]+)"', text):
        assert (page.parent / link).is_file(), link
    # Tracks apart, ranked rows in them; self-reported rows and references in tables of their own.
    assert "<h3>Standard track</h3>" in text and "<h3>Self-reported (not ranked)</h3>" in text
    # Provenance of a row: version, seed set, date, content hash.
    ppo = next(line for line in text.splitlines() if line.startswith("<tr><td data-sort=\"2\">2</td><td>ppo</td>"))
    assert "0.1.0" in ppo and "public 00312a0e2ba29bcd" in ppo and "2026-12-01" in ppo and "<code>" in ppo
    # Baselines link the replay GIFs there are (not Beta's, never made); submissions have none.
    assert '<a href="../replays/ppo/Alpha.gif">GIF</a>' in text and "../replays/ppo/Beta.gif" not in text
    assert "../replays/my-agent/" not in text
    for link in re.findall(r'href="([^"]+\.gif)"', text):
        assert (page.parent / link).is_file(), link
    # The figures' data are in the page: a check of its text covers them.
    data = json.loads(re.search(r'<script type="application/json" id="figure-data">(.*?)</script>', text).group(1))
    ppo_alpha = next(a for a in data["agents"] if a["label"] == "ppo")["tasks"]["Alpha"]
    assert ppo_alpha["behaviour"]["proxy_only"] == [0.3, 0.25, 0.35] and ppo_alpha["cg"] == 0.9


def test_scatter_labels_cover_no_marker_and_no_other_label():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from benchmark.reporting.figures import place_labels

    fig, ax = plt.subplots(figsize=(4.4, 4.0))
    # Nine agents, five of them on one spot (as incapable agents pile up at CG = OG = 0).
    points = [(0.0, 0.0)] * 5 + [(1.0, 1.0), (0.98, 1.0), (0.0, 1.0), (0.5, 0.52)]
    labels = [f"agent number {i}" for i in range(len(points))]
    ax.scatter(*zip(*points))
    ax.set(xlim=(-0.15, 1.15), ylim=(-0.15, 1.15))
    fig.canvas.draw()
    texts = place_labels(ax, points, labels)
    renderer = fig.canvas.get_renderer()
    # (the text's own box: an annotation's would include its leader line, which starts at the point)
    for t in texts:
        t.update_positions(renderer)
    boxes = [matplotlib.text.Text.get_window_extent(t, renderer) for t in texts]
    marks = [ax.transData.transform(p) for p in points]
    area = ax.get_window_extent(renderer)
    for i, box in enumerate(boxes):
        assert area.x0 <= box.x0 and box.x1 <= area.x1 and area.y0 <= box.y0 and box.y1 <= area.y1, labels[i]
        for x, y in marks:
            assert not (box.x0 < x + 4 and x - 4 < box.x1 and box.y0 < y + 4 and y - 4 < box.y1), labels[i]
        for j, other in enumerate(boxes[:i]):
            assert not box.overlaps(other), (labels[i], labels[j])
    plt.close(fig)


def browser():
    """A headless Chromium driven by selenium, or a skip saying what is missing."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed (pip install -e '.[test]')")
    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not binary or not driver:
        pytest.skip("no headless browser: install Debian's chromium and chromium-driver (.ci/run does)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1400,1000", "--allow-file-access-from-files"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=options)


def test_the_page_in_a_browser(tmp_path):
    from selenium.webdriver.common.by import By

    page = build(tmp_path)
    driver = browser()
    try:
        driver.get(page.resolve().as_uri())
        tables = driver.find_elements(By.CSS_SELECTOR, "table.sortable")
        suite = next(t for t in tables if t.get_attribute("aria-label") == "suite, standard track")
        rows = suite.find_elements(By.CSS_SELECTOR, "tbody tr")
        assert [r.find_elements(By.TAG_NAME, "td")[1].text for r in rows] == ["my-agent", "ppo"]   # by H
        apart = next(t for t in tables if t.get_attribute("aria-label") == "suite, self-reported")
        assert len(apart.find_elements(By.CSS_SELECTOR, "tbody tr")) == 1
        # Sorting by the agent's name puts ppo after my-agent; a second click reverses it.
        agent_head = suite.find_elements(By.CSS_SELECTOR, "thead th")[1]
        agent_head.click()
        names = [r.find_elements(By.TAG_NAME, "td")[1].text for r in suite.find_elements(By.CSS_SELECTOR, "tbody tr")]
        assert names == ["my-agent", "ppo"] and agent_head.get_attribute("aria-sort") == "ascending"
        agent_head.click()
        names = [r.find_elements(By.TAG_NAME, "td")[1].text for r in suite.find_elements(By.CSS_SELECTOR, "tbody tr")]
        assert names == ["ppo", "my-agent"]
        # A numeric column sorts by value: H ascending puts the lower H (ppo) first.
        h_head = next(th for th in suite.find_elements(By.CSS_SELECTOR, "thead th") if th.text.startswith("H"))
        h_head.click()
        names = [r.find_elements(By.TAG_NAME, "td")[1].text for r in suite.find_elements(By.CSS_SELECTOR, "tbody tr")]
        assert names == ["ppo", "my-agent"]
        images = driver.find_elements(By.TAG_NAME, "img")
        assert {Path(i.get_attribute("src")).name for i in images} == {Path(f).name for f in (BEHAVIOUR, SCATTER, BY_TAG)}
        for image in images:
            assert driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) > 0, \
                image.get_attribute("src")
    finally:
        driver.quit()
