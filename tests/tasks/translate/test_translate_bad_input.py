"""Bad input to ``rnnlab translate`` (and ``speech transcribe``), property-tested through the
real CLI entry point: any bytes as a pair file or as a run directory is a one-line user error,
never a traceback."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

FAST = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TINY = ["--steps", "1", "--hidden", "4", "--embed", "3", "--batch", "2"]
binaries = st.one_of(
    st.binary(max_size=300),
    st.just(b"\x00\x01\x02binary\xff\xfe"),
    st.text(max_size=60).map(lambda s: s.encode("utf-16")),
    st.text(max_size=200).map(lambda s: s.encode("utf-8")),
)


def assert_user_error(r, codes=(2,), allow_ok: bool = False) -> None:
    assert "Traceback" not in r.err and r.code != 1, r.err
    if r.code == 0:
        assert allow_ok, r.out
        return
    assert r.code in codes, (r.code, r.err)
    lines = [ln for ln in r.err.strip().splitlines() if not ln.startswith("warning:")]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.err


@FAST
@given(data=binaries)
@example(data=b"Go.\tVa !\n" * 3)
def test_translate_train_on_any_bytes(cli, tmp_path_factory, data):
    d = tmp_path_factory.mktemp("pairs")
    (d / "p.txt").write_bytes(data)
    r = cli("translate", "train", "--pairs", d / "p.txt", "--out", d / "run", *TINY)
    assert_user_error(r, allow_ok=True)


@FAST
@given(data=binaries)
def test_a_run_directory_of_garbage(cli, tmp_path_factory, data):
    d = tmp_path_factory.mktemp("junk")
    (d / "config.json").write_bytes(data)
    (d / "model.safetensors").write_bytes(data)
    for args in (("translate", "run", d, "hi"), ("translate", "eval", d)):
        assert_user_error(cli(*args), codes=(2, 3))
    assert_user_error(cli("speech", "transcribe", d, d / "config.json"), codes=(2, 3))
