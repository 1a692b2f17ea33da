"""The rnnlab command: version, help, and user errors as one line + exit code."""

import subprocess
import sys

import rnnlab


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "rnnlab", *args], capture_output=True, text=True, timeout=120
    )


def test_version_and_help():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"rnnlab {rnnlab.__version__}"
    r = run("--help")
    assert r.returncode == 0
    for group in ("lm", "forecast", "translate", "speech", "memory", "classify", "bench"):
        assert group in r.stdout


def test_user_errors_are_one_line_with_exit_code():
    r = run("bench", "engine", "--cells", "rnn,transformer")
    assert r.returncode == 2
    assert r.stderr.strip().startswith("error: unknown cell(s) ['transformer']")
    assert "Traceback" not in r.stderr
    r = run("no-such-command")
    assert r.returncode == 2 and "Traceback" not in r.stderr
