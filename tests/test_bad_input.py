"""Bad input, property-tested (hypothesis) through the real CLI entry point and the Python API:
empty, binary and non-UTF-8 files, huge lines, NaN/inf in series, wrong shapes, negative or
zero sizes, unknown cells. A user error is exit code 2 (3 for a checkpoint) with one line
``error: ...`` and no traceback; exit code 1 (an internal error: a bug) never happens."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rnnlab.core import CELLS, make_rnn
from rnnlab.data.sequences import Samples
from rnnlab.errors import InputError

FAST = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TINY_LM = ["--hidden", "4", "--layers", "1", "--embed", "3", "--seq-len", "4", "--batch", "2"]
TINY_LM += ["--steps", "1", "--quiet"]
TINY_FC = ["--target", "y", "--horizon", "2", "--steps", "1", "--hidden", "4", "--quiet"]
TEXT = "the cat sat on the mat.\nthe dog sat on the log.\n" * 20

# byte strings a user might hand over by mistake
binaries = st.one_of(
    st.binary(max_size=300),
    st.just(b""),
    st.just(b"\x00\x01\x02binary\xff\xfe"),
    st.text(max_size=60).map(lambda s: s.encode("utf-16")),  # BOM + NULs
    st.text(alphabet="éàüß€", min_size=1, max_size=40).map(
        lambda s: s.encode("latin-1", "replace")
    ),
    st.text(max_size=200).map(lambda s: s.encode("utf-8")),
)


def assert_user_error(r, codes=(2,), allow_ok: bool = False) -> None:
    """Exit code is a documented user error (or success when the input happened to be
    fine); the message is one line starting with ``error:``; no traceback."""
    assert "Traceback" not in r.err and "Traceback" not in r.out
    assert r.code != 1, f"internal error for user input: {r.err}"
    if r.code == 0:
        assert allow_ok, f"accepted bad input: {r.out}"
        return
    assert r.code in codes, (r.code, r.err)
    lines = [ln for ln in r.err.strip().splitlines() if not ln.startswith("warning:")]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.err


def _usage_error(r) -> bool:
    """click's own usage errors (a malformed option value) are exit 2 with a boxed message."""
    return r.code == 2 and ("Usage:" in r.err or "Invalid value" in r.err)


# ---- files --------------------------------------------------------------------------------


@FAST
@given(data=binaries)
@example(data=b"")
@example(data=b"   \n\t\n")
@example(data=b"\xff\xfe\x00a")
def test_lm_train_on_any_bytes(cli, tmp_path_factory, data):
    d = tmp_path_factory.mktemp("lm")
    f = d / "data.txt"
    f.write_bytes(data)
    r = cli("lm", "train", "--data", f, "--out", d / "run", *TINY_LM)
    assert_user_error(r, allow_ok=True)
    if r.code == 0:  # valid text: the run it wrote loads
        from rnnlab.tasks.lm.model import load_lm

        assert load_lm(d / "run").config["task"] == "lm"


@pytest.mark.parametrize("level", ["char", "word"])
def test_lm_train_on_a_huge_line(cli, tmp_path, level):
    f = tmp_path / "one-line.txt"
    f.write_text("ab" * 1_500_000 if level == "char" else "word " * 400_000)  # 3 MB, no newline
    r = cli("lm", "train", "--data", f, "--out", tmp_path / "run", "--level", level, *TINY_LM)
    assert r.code == 0, r.err


@FAST
@given(data=binaries)
@example(data=b"")
@example(data=b"y\n")
@example(data=b"step,y\n")
def test_forecast_train_on_any_bytes(cli, tmp_path_factory, data):
    d = tmp_path_factory.mktemp("fc")
    f = d / "s.csv"
    f.write_bytes(data)
    r = cli("forecast", "train", "--csv", f, "--out", d / "run", *TINY_FC)
    assert_user_error(r)


finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
special = st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308, 1e-320])


@FAST
@given(
    values=st.lists(st.one_of(finite, special), min_size=1, max_size=60),
    cells=st.lists(
        st.sampled_from(["nan", "inf", "-inf", "NaN", "Infinity", "", "1e999"]), max_size=4
    ),
)
@example(values=[math.inf] * 40, cells=[])
@example(values=[1.0] * 40, cells=["inf"])
@example(values=[math.nan] * 40, cells=[])
def test_forecast_with_nan_and_inf(cli, tmp_path_factory, values, cells):
    d = tmp_path_factory.mktemp("fcn")
    rows = [repr(v) for v in values] + cells
    f = d / "s.csv"
    f.write_text("step,y\n" + "".join(f"{i},{v}\n" for i, v in enumerate(rows)))
    r = cli("forecast", "train", "--csv", f, "--out", d / "run", *TINY_FC)
    finite_enough = all(math.isfinite(v) and abs(v) < 1e300 for v in values) and not cells
    assert_user_error(r, allow_ok=finite_enough and len(values) >= 12)


# ---- sizes and names ----------------------------------------------------------------------

sizes = st.integers(-3, 3)


@FAST
@given(hidden=sizes, layers=sizes, embed=sizes, seq_len=sizes, batch=sizes, steps=sizes)
@example(hidden=0, layers=1, embed=3, seq_len=4, batch=2, steps=1)
@example(hidden=4, layers=-1, embed=3, seq_len=4, batch=2, steps=1)
@example(hidden=4, layers=1, embed=3, seq_len=0, batch=2, steps=1)
@example(hidden=4, layers=1, embed=3, seq_len=4, batch=0, steps=1)
def test_lm_sizes(cli, tmp_path_factory, hidden, layers, embed, seq_len, batch, steps):
    d = tmp_path_factory.mktemp("sz")
    f = d / "t.txt"
    f.write_text(TEXT)
    args = ["--hidden", hidden, "--layers", layers, "--embed", embed, "--seq-len", seq_len]
    args += ["--batch", batch, "--steps", steps, "--quiet"]
    r = cli("lm", "train", "--data", f, "--out", d / "run", *args)
    ok = min(hidden, layers, embed, seq_len, batch, steps) > 0
    assert_user_error(r, allow_ok=ok)
    assert (r.code == 0) == ok, r.err


@FAST
@given(hidden=sizes, layers=sizes, horizon=sizes, lookback=st.integers(-3, 8))
def test_forecast_sizes(cli, tmp_path_factory, hidden, layers, horizon, lookback):
    d = tmp_path_factory.mktemp("fsz")
    f = d / "s.csv"
    f.write_text("step,y\n" + "".join(f"{i},{np.sin(i)}\n" for i in range(60)))
    args = ["--target", "y", "--horizon", horizon, "--lookback", lookback, "--hidden", hidden]
    r = cli("forecast", "train", "--csv", f, "--out", d / "r", *args, "--layers", layers,
            "--steps", "1", "--quiet")  # fmt: skip
    ok = min(hidden, layers, horizon) > 0 and lookback >= 2
    assert_user_error(r, allow_ok=ok)


cell_names = st.one_of(
    st.sampled_from(CELLS),
    st.text(max_size=12),
    st.sampled_from(["GRU", "transformer", "gru ", ""]),
)


@FAST
@given(cell=cell_names)
def test_unknown_cells_cli(cli, tmp_path_factory, cell):
    d = tmp_path_factory.mktemp("cell")
    f = d / "t.txt"
    f.write_text(TEXT)
    r = cli("lm", "train", "--data", f, "--out", d / "run", *TINY_LM, "--cell", cell)
    assert_user_error(r, allow_ok=cell in CELLS)
    if cell not in CELLS and not _usage_error(r):
        assert "cell" in r.err


floats = st.one_of(
    st.floats(-2, 2), st.sampled_from([math.nan, math.inf, -math.inf, 0.0, 1e-300, 1e300])
)


@FAST
@given(lr=floats, dropout=floats, clip=floats, budget=st.one_of(st.none(), st.text(max_size=8)))
@example(lr=math.nan, dropout=0.0, clip=1.0, budget=None)
@example(lr=1e-3, dropout=math.nan, clip=1.0, budget=None)
@example(lr=1e-3, dropout=0.0, clip=math.inf, budget=None)
@example(lr=1e-3, dropout=0.0, clip=1.0, budget="0s")
def test_lm_numeric_options(cli, tmp_path_factory, lr, dropout, clip, budget):
    d = tmp_path_factory.mktemp("num")
    f = d / "t.txt"
    f.write_text(TEXT)
    args = ["--lr", lr, "--dropout", dropout, "--clip", clip, "--layers", "2"]
    if budget is not None:
        args += ["--time-budget", budget]
    r = cli("lm", "train", "--data", f, "--out", d / "r", *TINY_LM, *args)
    assert_user_error(r, allow_ok=True)
    if r.code == 0:  # accepted values are sensible ones
        assert 0 < lr < math.inf and 0 <= dropout < 1 and clip >= 0 and not math.isnan(clip)


# ---- a trained run, queried with anything -------------------------------------------------


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory):
    from rnnlab.tasks.lm.train import train_lm

    out = tmp_path_factory.mktemp("lmrun") / "run"
    train_lm(TEXT, out, hidden=8, layers=1, embed=4, seq_len=8, batch=2, steps=3, progress=False)
    return out


@FAST
@given(prompt=st.text(max_size=40), length=st.integers(-2, 5), temp=st.floats(-1, 3))
def test_lm_generate_and_predict_any_prompt(cli, lm_run, prompt, length, temp):
    if prompt.startswith("-"):
        prompt = " " + prompt  # an option name, not a prompt
    r = cli("lm", "generate", lm_run, "--prompt", prompt, "--length", length,
            "--temperature", temp, "--seed", "1")  # fmt: skip
    assert_user_error(r, allow_ok=length >= 0 and temp >= 0)
    r = cli("lm", "predict", lm_run, prompt or " ")
    assert_user_error(r, allow_ok=True)


@FAST
@given(data=binaries)
def test_lm_eval_on_any_bytes(cli, lm_run, tmp_path_factory, data):
    f = tmp_path_factory.mktemp("ev") / "e.txt"
    f.write_bytes(data)
    r = cli("lm", "eval", lm_run, "--data", f)
    assert_user_error(r, allow_ok=True)


@FAST
@given(data=binaries)
def test_a_run_directory_of_garbage(cli, tmp_path_factory, data):
    d = tmp_path_factory.mktemp("junk")
    (d / "config.json").write_bytes(data)
    (d / "model.safetensors").write_bytes(data)
    for args in (("lm", "eval", d), ("lm", "generate", d), ("export", d), ("forecast", "plot", d)):
        assert_user_error(cli(*args), codes=(2, 3))
    for args in (("translate", "run", d, "hi"), ("translate", "eval", d)):
        assert_user_error(cli(*args), codes=(2, 3))
    assert_user_error(cli("speech", "transcribe", d, d / "config.json"), codes=(2, 3))


# ---- translation ---------------------------------------------------------------------------

TINY_TR = ["--steps", "1", "--hidden", "4", "--embed", "3", "--batch", "2"]


@FAST
@given(data=binaries)
@example(data=b"Go.\tVa !\n" * 3)
def test_translate_train_on_any_bytes(cli, tmp_path_factory, data):
    d = tmp_path_factory.mktemp("pairs")
    (d / "p.txt").write_bytes(data)
    r = cli("translate", "train", "--pairs", d / "p.txt", "--out", d / "run", *TINY_TR)
    assert_user_error(r, allow_ok=True)


# ---- classification -----------------------------------------------------------------------


@FAST
@given(data=binaries)
@example(data=b"label,sequence\na,1 2 nan\nb,inf 1\n")
@example(data=b"label,text\na,\nb,\n")
def test_classify_train_on_any_bytes(cli, tmp_path_factory, data):
    d = tmp_path_factory.mktemp("cls")
    f = d / "d.csv"
    f.write_bytes(data)
    r = cli("classify", "train", "--data", f, "--out", d / "run", "--steps", "1", "--hidden", "4",
            "--quiet")  # fmt: skip
    assert_user_error(r, allow_ok=True)


@pytest.fixture(scope="module")
def fc_run(tmp_path_factory):
    from rnnlab.data.series import read_series
    from rnnlab.tasks.forecast.train import train_forecaster

    d = tmp_path_factory.mktemp("fcrun")
    f = d / "s.csv"
    f.write_text("step,y\n" + "".join(f"{i},{10 + np.sin(i)}\n" for i in range(60)))
    src = dict(target="y", time_col=None, covariates=None, id_col=None, freq="auto", season=None)
    train_forecaster(read_series(f, "y"), d / "run", horizon=3, hidden=4, steps=2,
                     progress=False, source=src)  # fmt: skip
    return d / "run"


@FAST
@given(data=binaries, horizon=st.integers(-2, 5))
@example(data=b"step,y\n0,1\n1,inf\n", horizon=3)
@example(data=b"step,x\n0,1\n", horizon=3)
def test_forecast_predict_on_any_bytes(cli, fc_run, tmp_path_factory, data, horizon):
    f = tmp_path_factory.mktemp("fp") / "p.csv"
    f.write_bytes(data)
    r = cli("forecast", "predict", fc_run, "--csv", f, "--horizon", horizon)
    assert_user_error(r, codes=(2, 3))


@pytest.fixture(scope="module")
def cls_run(tmp_path_factory):
    from rnnlab.tasks.classify.train import train_classifier

    rng = np.random.default_rng(0)
    feats = [rng.normal(size=(4, 2)).astype(np.float32) for _ in range(20)]
    s = Samples("features", ["a", "b"] * 10, None, feats)
    out = tmp_path_factory.mktemp("clsrun") / "run"
    train_classifier(s, out, hidden=4, steps=2, eval_every=1, progress=False)
    return out


@FAST
@given(
    items=st.lists(
        st.one_of(
            st.text(max_size=20), st.sampled_from(["1,2 nan,1", "inf,0", "1,2;3", "1 2", "1,2 3,4"])
        ),
        min_size=1,
        max_size=3,
    )
)
def test_classify_predict_any_sequence(cli, cls_run, items):
    items = [(" " + t) if t.startswith("-") else t for t in items]
    r = cli("classify", "predict", cls_run, *items)
    assert_user_error(r, allow_ok=True)


# ---- Python API ---------------------------------------------------------------------------


@FAST
@given(
    cell=cell_names,
    i=st.integers(-2, 4),
    h=st.integers(-2, 4),
    n=st.integers(-2, 3),
    dropout=st.floats(-1, 2),
)
def test_make_rnn_checks_its_arguments(cell, i, h, n, dropout):
    ok = cell in CELLS and min(i, h, n) > 0 and 0 <= dropout < 1
    if ok:
        make_rnn(cell, i, h, n, dropout=dropout)
    else:
        with pytest.raises(InputError):
            make_rnn(cell, i, h, n, dropout=dropout)


@FAST
@given(
    cell=st.sampled_from(CELLS),
    shape=st.lists(st.integers(0, 4), min_size=0, max_size=4),
    bad_lengths=st.booleans(),
)
@example(cell="gru", shape=[0, 3], bad_lengths=False)  # no time steps (found by hypothesis)
@example(cell="mingru", shape=[2, 0, 3], bad_lengths=False)
def test_layers_reject_wrong_shapes_with_a_message(cell, shape, bad_lengths):
    rnn = make_rnn(cell, 3, 4, 1, batch_first=True)
    x = torch.randn(tuple(shape))
    lengths = torch.tensor([0] * (shape[0] if shape else 1)) if bad_lengths else None
    good = len(shape) in (2, 3) and shape[-1] == 3 and all(shape) and not bad_lengths
    if good:
        rnn(x)
        return
    with pytest.raises(ValueError) as e:
        rnn(x, lengths=lengths) if lengths is not None else rnn(x)
    assert len(str(e.value)) > 10  # a message, not a bare error


@FAST
@given(values=st.lists(st.one_of(finite, special), min_size=3, max_size=40))
@example(values=[1.0, math.inf, 2.0, 3.0])
@example(values=[1.0, 1e308, -1e308, 3.0])
def test_read_series_refuses_infinity(tmp_path_factory, values):
    from rnnlab.data.series import read_series

    f = tmp_path_factory.mktemp("rs") / "s.csv"
    f.write_text("step,y\n" + "".join(f"{i},{v!r}\n" for i, v in enumerate(values)))
    extreme = [i for i, v in enumerate(values) if math.isinf(v) or abs(v) > 1e150]
    try:
        ss = read_series(f, "y")
    except InputError as e:  # e.g. a constant series: any refusal says what is wrong
        if extreme:
            assert f"data row {extreme[0] + 1}" in str(e)
        return
    assert not extreme, "an infinite or extreme value was accepted"
    # blanks/NaN are interpolated (with a warning): what comes out is finite
    assert np.isfinite(ss.series[0].values).all()


@FAST
@given(text=st.text(max_size=300))
def test_train_lm_python_api_on_any_text(tmp_path_factory, text):
    from rnnlab.tasks.lm.train import train_lm

    out = tmp_path_factory.mktemp("api") / "run"
    try:
        s = train_lm(text + "\n", out, hidden=4, layers=1, embed=2, seq_len=4, batch=2, steps=1,
                     progress=False)  # fmt: skip
    except InputError:
        return
    assert s["steps"] == 1
