"""Settings declared once: dataclass fields -> CLI options, config.json and back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from rnnlab.cli.options import settings_options
from rnnlab.config import RNNSpec, Settings, pick, setting
from rnnlab.errors import CheckpointError, InputError


@dataclass
class Toy(RNNSpec):
    hidden: int = setting(256, "Hidden units per layer.")
    lower: bool = setting(True, "Fold case.", "--lower/--keep-case")
    time_budget: str | None = setting(None, "Train for this long, e.g. 15m.", "--time-budget")
    betas: tuple[float, float] = setting((0.9, 0.99), "Adam betas.", cli=False)


@dataclass
class Extra(Settings):
    seed: int = setting(0, "Random seed.")
    hidden: int = setting(7, "Declared twice: the first class wins.")


def test_round_trip_through_json() -> None:
    t = Toy(cell="lstm", hidden=32, lower=False, betas=(0.8, 0.9))
    back = Toy.from_dict(json.loads(json.dumps(t.to_dict())))
    assert back == t and isinstance(back.betas, tuple)
    assert Toy.from_dict({}) == Toy()  # missing keys take the default


def test_unknown_keys_name_themselves() -> None:
    with pytest.raises(CheckpointError, match="warp_drive"):
        Toy.from_dict({"hidden": 3, "warp_drive": 1}, where="runs/x/config.json")


def test_rnnspec_checks() -> None:
    RNNSpec().check()
    with pytest.raises(InputError, match="--hidden must be a positive integer"):
        RNNSpec(hidden=0).check()
    with pytest.raises(InputError, match=r"unknown cell 'transformer' \(--cell\)"):
        RNNSpec(cell="transformer").check()
    with pytest.raises(InputError, match=r"--dropout must be in \[0, 1\)"):
        RNNSpec(dropout=1.0).check()


def _app() -> tuple[typer.Typer, list]:
    app, seen = typer.Typer(), []

    @app.command("train")
    @settings_options(Toy, Extra, exclude={"bidirectional"})
    def train(data: Path = typer.Option(..., "--data", help="Text."), **opts) -> None:
        seen.append((data, pick(Toy, opts), pick(Extra, opts)))

    @app.command("other")
    def other() -> None:  # a second command keeps typer from collapsing the group
        pass

    return app, seen


def test_options_come_from_the_fields() -> None:
    app, seen = _app()
    r = CliRunner().invoke(
        app, ["train", "--data", "a.txt", "--hidden", "64", "--keep-case", "--seed", "3"]
    )
    assert r.exit_code == 0, r.output
    data, toy, extra = seen[0]
    assert data == Path("a.txt")
    assert toy == Toy(hidden=64, lower=False)  # every other field keeps its default
    assert extra == Extra(seed=3, hidden=64)  # `hidden` is one option, shared
    helptext = CliRunner().invoke(app, ["train", "--help"], env={"COLUMNS": "200"}).output
    assert "Hidden units per layer." in helptext and "--keep-case" in helptext
    assert "--betas" not in helptext and "--bidirectional" not in helptext


def test_cli_type_errors_are_usage_errors() -> None:
    app, seen = _app()
    r = CliRunner().invoke(app, ["train", "--data", "a", "--hidden", "many"])
    assert r.exit_code == 2 and not seen
