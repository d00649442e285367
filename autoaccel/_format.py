"""Numbers as people read them, and other people's text as they wrote it, shared by every
renderer."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

# Control characters but newline and tab: C0, DEL and C1.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with control characters written as escapes (ESC as ``\\x1b``): a name or a
    reason holding a terminal escape sequence must not recolour, retitle or clear the
    user's terminal."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def plain(text: object, style: str = "") -> Text:
    """``text`` for a Rich console or table, shown as it is written.

    Names, paths, reasons, tracebacks and notes come from users, their tasks, exceptions
    and the storage: a Rich string would read ``[bold]`` in them as a style, ``:smile:``
    as an emoji and ``[/]`` as an error, and a terminal would obey escape sequences in
    them. Every renderer hands such text to Rich this way.
    """
    from rich.text import Text

    return Text(printable(str(text)), style=style)


def rate(samples_per_s: float | None) -> str:
    if samples_per_s is None:
        return "-"
    if samples_per_s >= 100_000:
        return f"{samples_per_s / 1000:,.0f}k/s"
    if samples_per_s >= 100:
        return f"{samples_per_s:,.0f}/s"
    return f"{samples_per_s:.3g}/s"


def nbytes(value: float | None) -> str:
    if value is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def percent(share: float | None, digits: int = 1) -> str:
    return "-" if share is None else f"{share * 100:.{digits}f}%"


def flops(value: float | None, per: str = "") -> str:
    if value is None:
        return "-"
    for unit, scale in (("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}FLOP{per}"
    return f"{value:.3g} FLOP{per}"


def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 120:
        minutes, secs = divmod(round(value), 60)
        return f"{minutes}m{secs:02d}s"
    return f"{value:.2f} s" if value < 10 else f"{value:.0f} s"


def speedup(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def claim(value: float | None, interval: tuple[float, float] | None, confirmed: bool) -> str:
    """A speedup as a claim: with its interval (95% over paired rounds; unconfirmed, the
    range of the search's windows), marked when it is inside the noise or was never
    confirmed in paired rounds."""
    if value is None:
        return "-"
    text = speedup(value)
    if interval is not None:
        low, high = interval
        noise = ", noise" if low <= 1.0 else ""
        text += f" [{low:.2f}-{high:.2f}{noise}]"
    return text if confirmed else f"{text} (unconfirmed)"


def mfu(
    value: float | None, dtype: str | None, of_best: float | None, best_dtype: str | None
) -> str:
    """MFU against the peak of the precision a trial ran in, and against the device's best
    peak: a bf16 trial at 35% of the bf16 peak may do twice the work of an fp32 one at 66%
    of the fp32 peak, and only the second figure says so."""
    if value is None:
        return "-"
    text = f"{percent(value)} of the {dtype} peak" if dtype else percent(value)
    if of_best is None or best_dtype is None or dtype == best_dtype:
        return text
    return f"{text}, {percent(of_best)} of the best ({best_dtype})"
