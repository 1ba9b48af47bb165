"""The example scripts in docs/examples run and write their figures."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"


@pytest.mark.parametrize(
    "script, figure, printed",
    [
        ("plot_supervised_style.py", "supervised_style.png", "label"),
        ("plot_clusters.py", "clusters.png", "Hungarian"),
        ("plot_cluster_heads.py", "cluster_heads.png", "5-NN"),
    ],
)
def test_example_runs(tmp_path, script, figure, printed):
    pytest.importorskip("matplotlib")
    result = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / script),
            "--output-dir",
            str(tmp_path),
            "--max-iter",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert printed in result.stdout
    assert (tmp_path / figure).stat().st_size > 1000
