"""``rnnlab speech train|eval|transcribe``: CTC speech recognition (``rnnlab.tasks.speech``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from rnnlab.cli.options import settings_options
from rnnlab.errors import InputError
from rnnlab.tasks.speech.config import SpeechData, SpeechModel, SpeechTrain

app = typer.Typer(help="Speech recognition: audio to text with CTC.", no_args_is_help=True)
BEAM_HELP = "Beam width (1 = greedy best path)."


def _print_metrics(m: dict[str, Any], title: str) -> None:
    line = f"{title}: accuracy {m['acc']:.2%}  WER {m['wer']:.2%}  CER {m['cer']:.2%}"
    if "acc_forced" in m:
        line += f"  (one-digit forced: {m['acc_forced']:.2%})"
    typer.echo(line + f"  [{m['n']} utterances]")


@app.command("train")
@settings_options(SpeechModel, SpeechData, SpeechTrain)
def train_cmd(
    data: Path = typer.Option(..., "--data", help="FSDD folder (holds recordings/*.wav)."),
    out: Path = typer.Option(None, "--out", help="Run directory (default runs/speech-TASK)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
    **opts: Any,
) -> None:
    """Train a CTC acoustic model on FSDD; print validation and test accuracy, WER, CER."""
    from rnnlab.tasks.speech.train import train_speech

    out = out or Path(f"runs/speech-{opts['task']}")
    res = train_speech(data, out, progress=not quiet, **opts)
    typer.echo(f"{res['steps']} steps in {res['seconds']:.0f} s, {res['params']:,} parameters")
    _print_metrics(res["val"], "validation")
    _print_metrics(res["test"], "test")
    typer.echo(f"model: {out}")


@app.command("eval")
def eval_cmd(
    run: Path = typer.Argument(..., help="Run directory."),
    data: Path = typer.Option(None, "--data", help="FSDD folder (default: the one it trained on)."),
    on: str = typer.Option("test", "--split", help="Score the test or val split of the run."),
    beam: int = typer.Option(1, help=BEAM_HELP),
    png: Path = typer.Option(
        None, "--png", help="Confusion matrix image (default RUN/confusion.png)."
    ),
    json_out: Path = typer.Option(None, "--json", help="Also write the metrics here."),
) -> None:
    """Accuracy, WER and CER on the run's test split (as the run recorded it) + confusion PNG."""
    from rnnlab.io import atomic_write_json
    from rnnlab.tasks.speech.data import eval_sets
    from rnnlab.tasks.speech.evaluate import plot_confusion, score
    from rnnlab.tasks.speech.infer import load_speech
    from rnnlab.train.threads import cpu_threads

    if on not in ("test", "val"):
        raise InputError(f"--split must be test or val, got {on!r}")
    rec = load_speech(run)
    with cpu_threads(2, flush_denormal=True):
        x, y = eval_sets(rec.data, data, (on,))[on]
        m = score(rec.model, x, y, beam=beam)
    sp = rec.data.split
    what = f"{rec.task}, {sp['kind']} split" + (
        f" (held-out speaker {sp['test_speaker']})" if sp["kind"] == "speaker" else ""
    )
    _print_metrics(m, f"{on} ({what})")
    png = png or Path(run) / "confusion.png"
    plot_confusion(m["confusion"], png, f"{Path(run).name}: {on}, {what}; WER {m['wer']:.2%}")
    typer.echo(f"confusion matrix: {png}")
    if json_out:
        atomic_write_json(json_out, m)


@app.command("transcribe")
def transcribe_cmd(
    run: Path = typer.Argument(..., help="Run directory."),
    files: list[Path] = typer.Argument(
        ..., help="WAV files (any rate: resampled; stereo: mixed down)."
    ),
    beam: int = typer.Option(1, help=BEAM_HELP),
) -> None:
    """Print the digits recognised in each WAV file."""
    from rnnlab.tasks.speech.infer import load_speech

    rec = load_speech(run)
    for f in files:
        r = rec.transcribe_file(f, beam)
        typer.echo(f"{f}\t{r['text'] or '(nothing recognised)'}")
