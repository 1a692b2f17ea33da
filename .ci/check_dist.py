"""`make check-dist`: build the sdist and the wheel, then prove the wheel works on its own.

1. `python -m build` (sdist + wheel, no build isolation: the venv's setuptools) into a
   scratch folder; both must hold the C++ kernel source, the static pages and the shipped
   models.
2. A fresh virtual environment in the scratch folder, outside the source tree, gets the
   wheel (`--no-deps`) and, through a .pth file, the project venv's site-packages for the
   dependencies (torch is not downloaded again; that site-packages has rnnlab only as an
   editable finder, which a plain path entry does not activate). `rnnlab` must import from
   the fresh venv, not from the source tree.
3. There: `rnnlab --version`, a tiny `rnnlab lm train`, and `rnnlab demo` until
   `/api/models` lists the shipped models.

Run with the project venv's python: `.venv/bin/python .ci/check_dist.py` (about a minute).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NEEDED = ("rnnlab/core/kernels/csrc/", "rnnlab/serve/static/lib.js",
          "rnnlab/tasks/demo/models/manifest.json", "rnnlab/data/builtin/english.txt.gz")  # fmt: skip


def step(msg: str) -> None:
    print(f"check-dist: {msg}", flush=True)


def run(cmd: list[str], **kw) -> str:
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"check-dist: {' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r.stdout


def version() -> str:
    m = re.search(r'^__version__ = "([^"]+)"', (ROOT / "rnnlab/__init__.py").read_text(), re.M)
    assert m, "rnnlab/__init__.py has no __version__"
    return m.group(1)


def check_archive(names: list[str], what: str) -> None:
    for need in NEEDED:
        if not any(need in n for n in names):
            sys.exit(f"check-dist: the {what} lacks {need}")


def build(out: Path) -> tuple[Path, Path]:
    step("python -m build (sdist + wheel)")
    run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)])
    wheel, sdist = next(out.glob("rnnlab-*.whl")), next(out.glob("rnnlab-*.tar.gz"))
    with zipfile.ZipFile(wheel) as z:
        check_archive(z.namelist(), "wheel")
    with tarfile.open(sdist) as t:
        check_archive(t.getnames(), "sdist")
    assert f"rnnlab-{version()}-" in wheel.name, wheel.name
    return wheel, sdist


def fresh_venv(where: Path, wheel: Path) -> tuple[Path, dict[str, str]]:
    step("a fresh venv outside the source tree, the wheel installed into it")
    run([sys.executable, "-m", "venv", "--without-pip", str(where)])
    py = where / "bin" / "python"
    purelib = Path(
        run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).strip()
    )
    # the project venv's packages (torch, fastapi, ...) after the fresh venv's own
    (purelib / "project_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PATH=f"{where / 'bin'}:{env.get('PATH', '')}", RNNLAB_NO_EXT="1")
    # pip from the project venv installs into the fresh one (--no-deps: they are all there)
    run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps",
         "--no-compile", str(wheel)], env=env)  # fmt: skip
    return py, env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def use(py: Path, env: dict[str, str], scratch: Path) -> None:
    bin_ = py.parent
    where = run([str(py), "-c", "import rnnlab; print(rnnlab.__file__)"], cwd=scratch, env=env)
    if not Path(where.strip()).is_relative_to(py.parents[1]):
        sys.exit(f"check-dist: rnnlab imported from {where.strip()}, not the fresh venv")
    # the dependencies the wheel declares are met where it is installed (torch under the pin)
    probe = ("import importlib.metadata as m; from packaging.requirements import Requirement\n"
             "for r in map(Requirement, m.requires('rnnlab')):\n"
             "    if r.marker is None and m.version(r.name) not in r.specifier:\n"
             "        raise SystemExit(f'{r} not met: {m.version(r.name)}')")  # fmt: skip
    run([str(py), "-c", probe], cwd=scratch, env=env)
    got = run([str(bin_ / "rnnlab"), "--version"], cwd=scratch, env=env).strip()
    assert got == f"rnnlab {version()}", got
    step(f"{got}, imported from the fresh venv")

    text = scratch / "tiny.txt"
    text.write_text("to be or not to be, that is the question.\n" * 200)
    run([str(bin_ / "rnnlab"), "lm", "train", "--data", str(text), "--steps", "20", "--hidden",
         "16", "--layers", "1", "--embed", "8", "--seq-len", "16", "--batch", "4", "--out",
         str(scratch / "run"), "--quiet"], cwd=scratch, env=env)  # fmt: skip
    cfg = json.loads((scratch / "run" / "config.json").read_text())
    assert cfg["task"] == "lm" and (scratch / "run" / "model.safetensors").is_file(), cfg
    step(f"rnnlab lm train: 20 steps, val_loss {cfg['metrics'].get('val_loss', float('nan')):.3f}")

    port = free_port()
    demo = subprocess.Popen([str(bin_ / "rnnlab"), "demo", "--no-train", "--port", str(port)],
                            cwd=scratch, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline, models = time.monotonic() + 60, None
        while time.monotonic() < deadline and demo.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/models", timeout=2) as r:
                    models = json.load(r)
                break
            except OSError:
                time.sleep(0.5)
        if models is None:
            err = demo.stderr.read() if demo.poll() is not None else "(still starting)"
            sys.exit(f"check-dist: rnnlab demo never answered /api/models: {err}")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            assert r.status == 200 and b"<html" in r.read().lower()  # the static pages
        step(f"rnnlab demo answered /api/models ({len(models.get('models', models))} models)")
    finally:
        demo.terminate()
        demo.wait(timeout=20)


def main() -> None:
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rnnlab-dist-") as tmp:
        scratch = Path(tmp)
        assert not scratch.is_relative_to(ROOT)
        wheel, sdist = build(scratch / "dist")
        step(f"{wheel.name} ({wheel.stat().st_size / 1e6:.1f} MB), {sdist.name}: kernels, "
             "static files and shipped models inside")  # fmt: skip
        py, env = fresh_venv(scratch / "venv", wheel)
        (scratch / "work").mkdir()
        use(py, env, scratch / "work")
    step(f"ok in {time.monotonic() - t0:.0f} s")


if __name__ == "__main__":
    main()
