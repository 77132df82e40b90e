"""Shared fixtures: the repository's root and the CLI binary the package is compared with."""

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def cli() -> Path:
    """The `tpc` binary ($TPC_CLI, else target/release/tpc): `cargo build --release`."""
    path = Path(os.environ.get("TPC_CLI", ROOT / "target" / "release" / "tpc"))
    assert path.is_file(), f"no CLI binary at {path}: run `cargo build --release` or set TPC_CLI"
    return path


@pytest.fixture(scope="session")
def run_cli(cli):
    """Runs the CLI; returns the completed process (text output, no check of the status)."""

    def run(*args, cwd=None):
        return subprocess.run(
            [str(cli), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600
        )

    return run


@pytest.fixture(scope="session")
def cli_json(run_cli):
    """The CLI's JSON output of a command that must succeed."""

    def run(*args, cwd=None):
        done = run_cli(*args, cwd=cwd)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    return run
