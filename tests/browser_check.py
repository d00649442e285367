"""Open an html report in headless Chromium: do its plots render, without script errors?

    python tests/browser_check.py studies/tiny/report.html [screenshot.png]

Chromium (Debian: ``apt-get install chromium``, /usr/bin/chromium) runs twice: once to dump
the DOM after the scripts ran, with its console log on stderr, once for a screenshot. On a
closed network it needs the flags that stop its background networking, or it hangs.
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM = Path(os.environ.get("AUTOACCEL_CHROMIUM", "/usr/bin/chromium"))
WINDOW = (1200, 2000)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    # Let plotly finish drawing before the DOM is dumped or the screenshot taken.
    "--virtual-time-budget=10000",
)
# The colour of feasible trials' markers in both plot libraries (plotly's first colour).
PLOT_BLUE = (31, 119, 180)


@dataclasses.dataclass(frozen=True)
class BrowserCheck:
    screenshot: Path
    expected_plots: int
    rendered_plots: int
    script_errors: list[str]
    colours: int
    ink: float  # share of pixels that are not white
    plot_pixels: int  # pixels in the plot marker colour

    @property
    def problems(self) -> list[str]:
        found = [f"script error: {e}" for e in self.script_errors]
        if self.expected_plots == 0 or self.rendered_plots < self.expected_plots:
            found.append(f"{self.rendered_plots} of {self.expected_plots} plots rendered")
        if self.colours < 50 or self.ink < 0.02:
            found.append(f"the screenshot looks blank ({self.colours} colours, {self.ink:.1%} ink)")
        if self.plot_pixels < 50:
            found.append(f"no plot markers in the screenshot ({self.plot_pixels} pixels)")
        return found


def check_html(page: Path, screenshot: Path, chromium: Path = CHROMIUM) -> BrowserCheck:
    """Render ``page`` in headless Chromium; what rendered, and any script errors."""
    url = page.resolve().as_uri()
    html = page.read_text(encoding="utf-8")
    dom, log = _chromium(chromium, ["--enable-logging=stderr", "--v=0", "--dump-dom", url])
    _chromium(
        chromium,
        [f"--screenshot={screenshot}", f"--window-size={WINDOW[0]},{WINDOW[1]}", url],
    )
    errors = re.findall(r"Uncaught[^\n\"]*", log)
    title = re.search(r"<title>([^<]*)</title>", dom)
    if title and title.group(1).startswith("SCRIPT ERROR"):
        errors.append(title.group(1))
    if 'id="script-errors"' in dom:
        errors.append("the page's error box is shown")
    colours, ink, blue = _pixels(screenshot)
    return BrowserCheck(
        screenshot=screenshot,
        expected_plots=html.count('class="plot" data-plot='),
        rendered_plots=len(re.findall(r'class="[^"]*\bjs-plotly-plot\b', dom)),
        script_errors=errors,
        colours=colours,
        ink=ink,
        plot_pixels=blue,
    )


def _chromium(chromium: Path, args: list[str], timeout_s: float = 120) -> tuple[str, str]:
    """(stdout, stderr) of one Chromium run in a fresh profile; its whole process group is
    killed if it runs past ``timeout_s``."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        process = subprocess.Popen(
            [str(chromium), *FLAGS, f"--user-data-dir={profile}", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            out, err = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise RuntimeError(f"chromium did not finish within {timeout_s} s") from None
    return out, err


def _pixels(png: Path) -> tuple[int, float, int]:
    """Distinct colours, share of non-white pixels, and pixels near PLOT_BLUE."""
    import numpy as np
    from matplotlib.image import imread

    image = imread(png)
    rgb = np.round(image[..., :3] * 255).astype(np.int32)
    flat = rgb.reshape(-1, 3)
    colours = len(np.unique(flat[:, 0] * 65536 + flat[:, 1] * 256 + flat[:, 2]))
    ink = float(np.mean(np.any(flat < 245, axis=1)))
    blue = int(np.sum(np.all(np.abs(flat - np.array(PLOT_BLUE)) <= 12, axis=1)))
    return colours, ink, blue


def main(argv: list[str]) -> int:
    page = Path(argv[0])
    screenshot = Path(argv[1]) if len(argv) > 1 else page.with_suffix(".png")
    result = check_html(page, screenshot)
    print(
        f"{result.rendered_plots}/{result.expected_plots} plots, {result.colours} colours, "
        f"{result.ink:.1%} ink, {result.plot_pixels} marker pixels; screenshot {screenshot}"
    )
    for problem in result.problems:
        print(f"PROBLEM: {problem}")
    return 1 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
