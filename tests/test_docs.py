import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # a subprocess that imports the whole CLI
def test_cli_reference_is_up_to_date():
    r = subprocess.run([sys.executable, str(ROOT / "docs" / "make_cli_reference.py"), "--check"])
    assert r.returncode == 0, "docs/cli.md is stale: run python docs/make_cli_reference.py"
