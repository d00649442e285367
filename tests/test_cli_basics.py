"""CLI conventions every command follows."""

from __future__ import annotations

import subprocess
import sys

from autoaccel import __version__


def test_import_autoaccel_does_not_import_torch() -> None:
    code = "import sys, autoaccel, autoaccel.cli; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_version(run_cli) -> None:
    result = run_cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"autoaccel {__version__}"


def test_help_lists_commands(run_cli) -> None:
    result = run_cli("--help")
    assert result.exit_code == 0
    assert "probe" in result.stdout


def test_unknown_command_exits_non_zero(run_cli) -> None:
    result = run_cli("no-such-command")
    assert result.exit_code != 0


def test_shell_completion_is_offered(run_cli) -> None:
    result = run_cli("--help")
    assert "--install-completion" in result.stdout and "--show-completion" in result.stdout


def test_help_lists_the_choices(run_cli) -> None:
    assert "--stage <train|deploy|all>" in run_cli("tune", "--help").stdout
    assert "--stage <train|deploy>" in run_cli("bench", "--help").stdout
    assert "<text|markdown|html|json>" in run_cli("report", "--help").stdout
