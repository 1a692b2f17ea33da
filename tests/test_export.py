"""``rnnlab export``: tiny real runs of each task, exported to ONNX (and TorchScript), give the
task loader's PyTorch outputs to 1e-4 at sequence lengths other than the traced one."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
import torch

from rnnlab.data.sequences import Samples
from rnnlab.errors import CheckpointError, InputError

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

TEXT = "the cat sat on the mat.\nthe dog sat on the log.\n" * 30
TOL = 1e-4


def _lm_run(root, cell: str, layers: int = 2):
    from rnnlab.tasks.lm.train import train_lm

    out = root / f"lm-{cell}"
    train_lm(
        TEXT, out, cell=cell, hidden=12, layers=layers, embed=6, seq_len=16, batch=4,
        steps=6, progress=False, warmup=1,
    )  # fmt: skip
    return out


def _forecast_run(root, cell: str = "gru"):
    from rnnlab.data.series import read_series
    from rnnlab.tasks.forecast.train import train_forecaster

    path = root / "series.csv"
    t = np.arange(90)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["step", "y", "x"])
        w.writerows([i, f"{10 + np.sin(i / 2):.4f}", f"{np.cos(i):.4f}"] for i in t)
    ss = read_series(path, "y", covariates="x", season=6)
    out = root / f"fc-{cell}"
    train_forecaster(ss, out, horizon=4, cell=cell, hidden=10, layers=2, steps=8, progress=False)
    return out


def _classify_run(root, kind: str, cell: str, bi: bool, pool: str):
    from rnnlab.tasks.classify.train import train_classifier

    rng = np.random.default_rng(0)
    labels = [str(int(i)) for i in rng.integers(0, 3, 60)]
    if kind == "text":
        s = Samples("text", labels, [("ab" if c == "0" else "ba") * (1 + int(c)) for c in labels])
    else:
        feats = [rng.normal(size=(int(rng.integers(2, 9)), 2)).astype(np.float32) for _ in labels]
        s = Samples("features", labels, None, feats)
    out = root / f"cls-{kind}-{cell}-{bi}-{pool}"
    train_classifier(
        s, out, cell=cell, bidirectional=bi, pool=pool, hidden=8, layers=2, embed=4,
        steps=6, batch=16, eval_every=3, progress=False,
    )  # fmt: skip
    return out


def _reference(task: str, run):
    """The task's own loader and model, as a user would run it (default engine)."""
    if task == "lm":
        from rnnlab.tasks.lm.model import load_lm

        m = load_lm(run)

        def f(ids, h0, c0=None):
            logits, st = m(ids, h0 if c0 is None else (h0, c0))
            return [logits, *(st if isinstance(st, tuple) else (st,))]

        return f
    if task == "forecast":
        from rnnlab.tasks.forecast.infer import load_forecaster

        m = load_forecaster(run).model
        return lambda *a: [m(*a)]
    from rnnlab.tasks.classify.infer import load_classifier

    m = load_classifier(run).model
    return lambda *a: [m(*a)]


def _inputs(task: str, run, batch: int, seq: int, seed: int):
    """Inputs built from the run's config.json (not from the exporter's own helper)."""
    cfg = json.loads((run / "config.json").read_text())
    g = torch.Generator().manual_seed(seed)
    if task == "lm":
        L, H, V = cfg["model"]["layers"], cfg["model"]["hidden"], cfg["data"]["vocab_size"]
        ids = torch.randint(0, V, (batch, seq), generator=g)
        states = [
            torch.randn(L, batch, H, generator=g)
            for _ in range(2 if cfg["model"]["cell"] == "lstm" else 1)
        ]
        return [ids, *states]
    if task == "forecast":
        a = cfg["model"]["arch"]
        return [
            torch.randn(batch, seq, generator=g),
            torch.randn(batch, seq, a["n_feat"], generator=g),
            torch.randn(batch, a["horizon"], a["n_future"], generator=g),
        ]
    a = cfg["model"]
    if a["vocab_size"]:
        x = torch.randint(0, a["vocab_size"], (batch, seq), generator=g)
    else:
        x = torch.randn(batch, seq, a["n_features"], generator=g)
    lengths = torch.randint(1, seq + 1, (batch,), generator=g)
    lengths[0] = seq  # the padded batch's longest sequence fills it
    return [x, lengths]


def _check_onnx(task: str, run, tmp_path, sizes=((3, 5), (2, 23), (1, 1))):
    from rnnlab.export import export_run

    info = export_run(run, "onnx", tmp_path / f"{run.name}.onnx")
    assert info["max_abs_diff"] < TOL
    blob = (tmp_path / f"{run.name}.onnx").read_bytes()
    model = onnx.load_from_string(blob)
    onnx.checker.check_model(model)
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["rnnlab_task"] == task and json.loads(meta["rnnlab_config"])["task"] == task
    sess = ort.InferenceSession(blob, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    ref = _reference(task, run)
    for i, (b, t) in enumerate(sizes):
        x = _inputs(task, run, b, t, i)
        got = sess.run(None, {n: v.numpy() for n, v in zip(names, x)})
        with torch.no_grad():
            want = ref(*x)
        assert len(got) == len(want)
        for g_, w in zip(got, want):
            assert g_.shape == tuple(w.shape)
            np.testing.assert_allclose(g_, w.numpy(), atol=TOL, rtol=0)
    return sess


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
def test_lm_onnx_matches_pytorch_at_other_lengths(tmp_path, cell):
    run = _lm_run(tmp_path, cell)
    sess = _check_onnx("lm", run, tmp_path)
    # the time axis and the batch are free in the graph, not fixed at the traced sizes
    shape = sess.get_inputs()[0].shape
    assert isinstance(shape[0], str) and isinstance(shape[1], str)
    # carrying the state across two calls equals one call over the whole text
    x = _inputs("lm", run, 2, 12, 7)
    names = [i.name for i in sess.get_inputs()]
    full = sess.run(None, dict(zip(names, (v.numpy() for v in x))))
    a = sess.run(None, dict(zip(names, [x[0][:, :5].numpy()] + [v.numpy() for v in x[1:]])))
    b = sess.run(None, dict(zip(names, [x[0][:, 5:].numpy()] + a[1:])))
    np.testing.assert_allclose(np.concatenate([a[0], b[0]], 1), full[0], atol=TOL)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_forecast_onnx_matches_pytorch_at_other_lookbacks(tmp_path, cell):
    run = _forecast_run(tmp_path, cell)
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["model"]["arch"]["n_feat"] > 0  # the covariate reaches the model
    L = cfg["model"]["lookback"]
    _check_onnx("forecast", run, tmp_path, sizes=((3, L), (2, 20), (4, 7)))


@pytest.mark.parametrize(
    "kind,cell,bi,pool",
    [
        ("text", "gru", True, "last"),
        ("text", "lstm", False, "attention"),
        ("features", "rnn", True, "mean"),
        ("features", "lstm", True, "last"),
    ],
)
def test_classify_onnx_matches_pytorch_with_padding(tmp_path, kind, cell, bi, pool):
    run = _classify_run(tmp_path, kind, cell, bi, pool)
    _check_onnx("classify", run, tmp_path, sizes=((5, 9), (3, 4), (2, 17)))


def test_torchscript_matches_pytorch(tmp_path):
    from rnnlab.export import export_run

    for task, run in (
        ("lm", _lm_run(tmp_path, "lstm")),
        ("classify", _classify_run(tmp_path, "text", "gru", True, "attention")),
    ):
        info = export_run(run, "torchscript")
        assert info["path"] == run / "model.torchscript.pt" and info["max_abs_diff"] < TOL
        extra = {"config.json": ""}
        with pytest.warns(DeprecationWarning):  # torch.jit is deprecated, and still works
            mod = torch.jit.load(io.BytesIO(info["path"].read_bytes()), _extra_files=extra)
        assert json.loads(extra["config.json"])["task"] == task
        ref = _reference(task, run)
        for i, (b, t) in enumerate(((4, 3), (2, 19))):
            x = _inputs(task, run, b, t, i)
            with torch.no_grad():
                got, want = mod(*x), ref(*x)
            got = list(got) if isinstance(got, tuple) else [got]
            for g_, w in zip(got, want):
                torch.testing.assert_close(g_, w, atol=TOL, rtol=0)


def test_cli_export_and_refusals(tmp_path, cli):
    from rnnlab.train.checkpoint import save_run

    run = _lm_run(tmp_path, "gru", layers=1)
    r = cli("export", run, "--format", "onnx")
    assert r.code == 0, r.err
    assert "wrote" in r.out and "max |difference| from PyTorch" in r.out
    assert (run / "model.onnx").exists()
    assert not [p for p in run.iterdir() if p.name.endswith(".tmp")]  # atomic write cleaned up
    # loading the run still works next to the exported file
    (tmp_path / "t.txt").write_text(TEXT)
    assert cli("lm", "eval", run, "--data", tmp_path / "t.txt").code == 0
    # a min-RNN cell: one clear line naming the cells that can be exported
    from rnnlab.tasks.lm.train import train_lm

    mg = tmp_path / "mingru"
    train_lm(TEXT, mg, cell="mingru", hidden=8, layers=1, embed=4, seq_len=8, batch=2,
             steps=2, progress=False)  # fmt: skip
    r = cli("export", mg)
    assert (
        r.code == 2 and "rnn, rnn_relu, gru, lstm" in r.err and len(r.err.strip().splitlines()) == 1
    )
    with pytest.raises(InputError, match="mingru"):
        from rnnlab.export import export_run

        export_run(mg)
    # another task's run and a broken run: exit code 3, named
    empty = {"model": {}, "data": {}, "train": {}, "metrics": {}}
    save_run(tmp_path / "tr", {"w": torch.zeros(1)}, {"task": "translate", **empty})
    r = cli("export", tmp_path / "tr")
    assert r.code == 3 and "'translate'" in r.err and "lm, forecast, classify" in r.err
    with pytest.raises(CheckpointError):
        export_run(tmp_path / "nope")
    (run / "model.safetensors").write_bytes(b"\x00" * 10)
    r = cli("export", run)
    assert r.code == 3 and "model.safetensors" in r.err and "Traceback" not in r.err
    r = cli("export", mg, "--format", "tflite")
    assert r.code == 2 and "onnx or torchscript" in r.err
