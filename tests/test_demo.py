"""The README's demo runs and writes its figures."""

import subprocess
import sys
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[1] / "docs" / "examples" / "demo_digits.py"


def test_demo_runs(tmp_path):
    pytest.importorskip("matplotlib")
    result = subprocess.run(
        [sys.executable, str(DEMO), "--output-dir", str(tmp_path), "--max-iter", "3"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "PCA" in result.stdout and "prior_distance_" in result.stdout
    for name in ("codes.png", "samples.png", "training.png"):
        assert (tmp_path / name).stat().st_size > 1000
