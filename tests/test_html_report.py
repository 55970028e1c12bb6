"""The benchmark's results.html: one file that shows everything, offline.

The fast test reads the page's source; the slow one opens it in Debian's
headless Chromium through Selenium, as tests/test_demo.py does the demo, and
fails rather than skips when either is missing.
"""

import base64
from html.parser import HTMLParser

import pytest

from mnistkit.cli import main

PNG_URI = "data:image/png;base64,"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A benchmark of two fast models on the digits, and its folder."""
    folder = tmp_path_factory.mktemp("report")
    argv = ["benchmark", "--dataset", "digits", "--models", "logreg", "svm"]
    assert main([*argv, "--seeds", "2", "--quiet", "--output", str(folder)]) == 0
    return folder


class _Page(HTMLParser):
    """The tags of a page, with their attributes, and its title."""

    def __init__(self):
        super().__init__()
        self.tags, self.title, self._in_title = [], "", False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def test_the_page_holds_every_plot_and_needs_nothing_else(report):
    page = _Page()
    page.feed((report / "results.html").read_text(encoding="utf-8"))
    assert page.title == "mnistkit benchmark on digits"
    assert ("meta", {"charset": "utf-8"}) in page.tags
    images = [attrs for tag, attrs in page.tags if tag == "img"]
    plots = sorted(path.name for path in report.glob("*.png"))
    assert len(images) == len(plots) == 4
    for attrs in images:
        assert attrs["alt"]
        assert attrs["src"].startswith(PNG_URI)
        png = base64.b64decode(attrs["src"].removeprefix(PNG_URI))
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # The plots' own bytes, each once.
    sources = {attrs["src"] for attrs in images}
    for name in plots:
        encoded = base64.b64encode((report / name).read_bytes()).decode()
        assert PNG_URI + encoded in sources, name
    # Nothing fetched: no scripts, style sheets or links to follow.
    assert not [tag for tag, _ in page.tags if tag in ("script", "link", "iframe")]


@pytest.mark.slow
def test_the_report_in_a_browser(report, browser, tmp_path):
    import json

    from selenium.webdriver.common.by import By

    browser.get((report / "results.html").as_uri())
    assert browser.title == "mnistkit benchmark on digits"

    headers = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "thead th")]
    assert headers[:4] == ["model", "test accuracy", "95% interval", "p vs best"]
    rows = {}
    for row in browser.find_elements(By.CSS_SELECTOR, "tbody tr"):
        cells = [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
        rows[cells[0]] = dict(zip(headers, cells, strict=True))
    assert set(rows) == {"logreg", "svm"}
    for model, row in rows.items():
        low, _, high = row["95% interval"].partition("–")
        assert 0 < float(low) < float(high) <= 1, model
        assert " ± " in row["test accuracy"], model
    assert rows["svm"]["p vs best"] == "best"
    assert rows["logreg"]["p vs best"] == "< 0.001" or (
        0 <= float(rows["logreg"]["p vs best"]) <= 1
    )
    assert (
        "On these 450 test images, " in browser.find_element(By.TAG_NAME, "body").text
    )

    images = browser.execute_script(
        "return Array.from(document.images).map("
        "image => [image.complete, image.naturalWidth, image.alt])"
    )
    assert len(images) == 4
    for complete, width, alt in images:
        assert complete and width > 0, alt

    # The page loaded itself and nothing else.
    urls = [
        message["params"]["request"]["url"]
        for entry in browser.get_log("performance")
        for message in [json.loads(entry["message"])["message"]]
        if message["method"] == "Network.requestWillBeSent"
    ]
    assert urls and all(url.startswith(("file:", "data:")) for url in urls), urls

    # The whole page, to look at.
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1400, height)
    screenshot = tmp_path / "report.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
