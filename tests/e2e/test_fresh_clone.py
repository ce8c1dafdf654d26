"""A fresh clone of the repository: `make run` serves on SQLite and the README's boto3 example
works against it. The clone reuses this test run's virtualenv (VENV=...) so that the test does
not download packages; CI's own `make test` on a clean clone covers the install step."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.server import ROOT, free_port, sfn_client, wait_healthy


@pytest.mark.skipif(
    shutil.which("git") is None or shutil.which("make") is None, reason="git and make are needed"
)
def test_make_run_in_a_fresh_clone(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    venv = Path(sys.prefix)
    # The clone's files are newer than this venv's install stamp; age pyproject.toml so that
    # `make run` does not reinstall the package from the clone into the shared venv.
    os.utime(clone / "pyproject.toml", (0, 0))
    port = free_port()
    env = dict(
        os.environ,
        STEPWELL_PORT=str(port),
        STEPWELL_HOST="127.0.0.1",
        STEPWELL_DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.db'}",
    )
    env.pop("STEPWELL_ALLOW_RESET", None)
    proc = subprocess.Popen(
        ["make", "run", f"VENV={venv}"],
        cwd=clone,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", timeout=60)
        sfn = sfn_client(f"http://127.0.0.1:{port}")
        definition = {
            "StartAt": "Hello",
            "States": {
                "Hello": {
                    "Type": "Pass",
                    "End": True,
                    "Parameters": {"greeting.$": "States.Format('Hello, {}!', $.name)"},
                }
            },
        }
        sm = sfn.create_state_machine(
            name="hello",
            definition=json.dumps(definition),
            roleArn="arn:aws:iam::123456789012:role/any",
        )
        ex = sfn.start_execution(stateMachineArn=sm["stateMachineArn"], input='{"name": "world"}')
        deadline = time.time() + 20
        while (d := sfn.describe_execution(executionArn=ex["executionArn"]))["status"] == "RUNNING":
            assert time.time() < deadline
            time.sleep(0.05)
        assert json.loads(d["output"]) == {"greeting": "Hello, world!"}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
