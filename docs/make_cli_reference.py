"""Regenerate docs/cli.md from the commands' --help, so the reference never drifts.

python docs/make_cli_reference.py          # rewrite docs/cli.md
python docs/make_cli_reference.py --check  # exit 1 if docs/cli.md is stale (the tests run this)
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from click.testing import CliRunner

from inrcodec.cli import main

TARGET = Path(__file__).resolve().parent / "cli.md"


def render() -> str:
    runner = CliRunner()
    parts = [
        "# Command-line reference\n",
        "Generated from `--help` by `python docs/make_cli_reference.py`; do not edit by hand.\n",
    ]
    commands = [[]] + [[name] for name in sorted(main.commands)]
    for args in commands:
        result = runner.invoke(main, [*args, "--help"], prog_name="inrcodec", terminal_width=100)
        title = "inrcodec " + " ".join(args) if args else "inrcodec"
        parts.append(f"## `{title}`\n\n```\n{result.output.rstrip()}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        sys.exit(0 if TARGET.exists() and TARGET.read_text() == text else 1)
    TARGET.write_text(text)
    click.echo(f"wrote {TARGET}")
