"""The installed autoaccel version, read without importing any part of the package."""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("autoaccel")
except metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
