"""The html report in a real browser: plots render, no script errors, offline."""

from __future__ import annotations

import pytest
from browser_check import CHROMIUM, check_html

from autoaccel.report import write_report

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"needs Chromium at {CHROMIUM} (Debian: apt-get install chromium)",
    ),
]


def test_plots_render_without_script_errors(info, tmp_path) -> None:
    page = write_report(info, "html", tmp_path / "report.html")
    result = check_html(page, tmp_path / "report.png")
    assert result.problems == [], result
    assert result.rendered_plots == result.expected_plots == 8  # four per stage


def test_a_script_error_is_caught(tmp_path) -> None:
    """The check itself: a page whose script fails does not pass (a small page: the check
    reads the browser's log, whatever the page)."""
    page = tmp_path / "broken.html"
    page.write_text("<html><body><p>text</p><script>noSuchFunction();</script></body></html>")
    result = check_html(page, tmp_path / "broken.png")
    assert any("noSuchFunction" in error for error in result.script_errors), result
