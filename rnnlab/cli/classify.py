"""``rnnlab classify train | eval | predict``: sequence classification.

The options come from ``rnnlab/tasks/classify/config.py``; each command imports the task's code
in its body, so ``rnnlab --help`` does not load torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from rnnlab.cli.options import settings_options
from rnnlab.errors import InputError
from rnnlab.tasks.classify.config import DATA_HELP, ClassifyData, ClassifyModel, ClassifyTrain

app = typer.Typer(help="Sequence classification.", no_args_is_help=True)


def print_metrics(m: dict[str, Any], classes: list[str], title: str) -> None:
    """Accuracy, macro-F1 and (up to 20 classes) the confusion matrix, as a table."""
    from rich.console import Console
    from rich.table import Table

    con = Console()
    con.print(f"[bold]{title}[/]: accuracy {m['acc']:.2%}   macro-F1 {m['macro_f1']:.3f}")
    if len(classes) > 20:
        con.print(f"(confusion matrix of {len(classes)} classes omitted; see --json)")
        return
    t = Table(title="confusion matrix (rows: true, columns: predicted)", show_lines=False)
    t.add_column("")
    for c in classes:
        t.add_column(c[:10], justify="right")
    for c, row in zip(classes, m["confusion"]):
        t.add_row(c[:10], *[str(v) for v in row])
    con.print(t)


@app.command("train")
@settings_options(ClassifyModel, ClassifyData, ClassifyTrain)
def train_cmd(
    data: str = typer.Option(..., "--data", help=DATA_HELP),
    out: Path = typer.Option(Path("runs/classify"), "--out", help="Run directory to write."),
    test: str = typer.Option(None, "--test", help="Test data scored with the best model."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
    **opts: Any,
) -> None:
    """Train a classifier; print validation (and test) accuracy, macro-F1, confusion matrix."""
    from rnnlab.tasks.classify.train import train_classifier

    res = train_classifier(data, out, test=test, progress=not quiet, **opts)
    classes = res["classes"]
    typer.echo(f"{res['steps']} steps in {res['elapsed']:.0f} s, {res['params']:,} parameters")
    print_metrics(res["val"], classes, "validation")
    if "test" in res:
        print_metrics(res["test"], classes, "test")
    typer.echo(f"model: {out}")


@app.command("eval")
def eval_cmd(
    run: Path = typer.Argument(..., help="Run directory."),
    data: str = typer.Option(..., "--data", help=DATA_HELP + " ('mnist1d': its test split)"),
    json_out: Path = typer.Option(None, "--json", help="Also write the metrics here."),
) -> None:
    """Accuracy, macro-F1 and the confusion matrix of a trained classifier on labelled data."""
    from rnnlab.io import atomic_write_json
    from rnnlab.tasks.classify.infer import load_classifier

    clf = load_classifier(run)
    m = clf.evaluate(data)
    print_metrics(m, clf.classes, Path(str(data)).name)
    if json_out:
        atomic_write_json(json_out, {"classes": clf.classes, **m})


@app.command("predict")
def predict_cmd(
    run: Path = typer.Argument(..., help="Run directory."),
    inputs: list[str] = typer.Argument(
        None, help="Texts (or sequences like '0.1 0.5 0.2' for feature models)."
    ),
    file: Path = typer.Option(None, "--file", help="One input per line."),
    top: int = typer.Option(3, help="Show this many classes."),
) -> None:
    """The most likely classes of each input."""
    from rnnlab.io import read_text
    from rnnlab.tasks.classify.infer import load_classifier

    items = list(inputs or [])
    if file:
        items += [ln for ln in read_text(file, "input file").splitlines() if ln.strip()]
    if not items:
        raise InputError("nothing to classify: give texts as arguments or --file")
    clf = load_classifier(run)
    for text, probs in zip(items, clf.predict(items)):
        shown = "  ".join(f"{c} {p:.1%}" for c, p in probs[: max(1, top)])
        typer.echo(f"{probs[0][0]}\t{shown}\t{text[:60]}")
