"""The long fuzz run (issue 25): every endpoint of the explorer's schema under many
schemathesis-generated inputs (the suite runs 6 per endpoint).

    python benchmarks/fuzz.py [--examples 200]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=200, help="examples per endpoint")
    a = ap.parse_args()
    env = {**os.environ, "RNNLAB_FUZZ_EXAMPLES": str(a.examples)}
    t0 = time.monotonic()
    cmd = [sys.executable, "-m", "pytest", "tests/serve/test_fuzz.py", "-k", "every", "-q"]
    rc = subprocess.call(cmd, cwd=ROOT, env=env)
    print(
        f"{a.examples} examples per endpoint: {'passed' if rc == 0 else 'FAILED'} in "
        f"{time.monotonic() - t0:.0f} s (load {os.getloadavg()[0]:.1f})"
    )
    sys.exit(rc)


if __name__ == "__main__":
    main()
