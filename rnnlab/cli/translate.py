"""``rnnlab translate train|run|eval|plot``: seq2seq with attention (``rnnlab.tasks.translate``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from rnnlab.cli.options import settings_options
from rnnlab.errors import InputError
from rnnlab.tasks.translate.config import TranslateData, TranslateModel, TranslateTrain

app = typer.Typer(help="Machine translation: seq2seq with attention.", no_args_is_help=True)
RUN_HELP = "Run directory of a translate model."


@app.command("train")
@settings_options(TranslateModel, TranslateData, TranslateTrain)
def train_cmd(
    out: str = typer.Option("runs/translate", "--out", help="Run directory to write."),
    **opts: Any,
) -> None:
    """Train a translator (time or step budget) and write a run directory."""
    from rich.console import Console

    from rnnlab.tasks.translate.train import train_translate
    from rnnlab.train.util import parse_duration

    budget = parse_duration(opts["time_budget"])
    if opts["steps"] is None and budget is None:
        raise InputError("give a training budget: --steps N or --time-budget 5m")
    # a time-budgeted run validates every 30 s (a step count says nothing about the time)
    every_s = 30.0 if budget and not opts["steps"] else None
    res = train_translate(opts.pop("pairs"), out, eval_every_s=every_s, **opts)
    n = res["n_pairs"]
    Console().print(
        f"[bold]{out}[/]: {res['steps']} steps in {res['elapsed']}s, best val loss "
        f"{res['best']:.3f}; pairs train/val/test {n['train']}/{n['val']}/{n['test']} "
        f"(of {n['kept']} kept, {n['total']} read). Next: rnnlab translate eval {out}"
    )


@app.command("run")
def run_cmd(
    run: str = typer.Argument(..., help=RUN_HELP),
    text: str = typer.Argument(..., help="Sentence to translate."),
    beam: int = typer.Option(5, "--beam", help="Beam size (1 = greedy)."),
    alpha: float = typer.Option(0.6, "--alpha", help="Length normalisation strength."),
    show_attention: bool = typer.Option(
        False, "--show-attention", help="Print the alignment table."
    ),
) -> None:
    """Translate one sentence."""
    from rich.console import Console
    from rich.table import Table

    from rnnlab.tasks.translate.infer import load_translator, translate

    t = translate(load_translator(run), text, beam=beam, alpha=alpha)
    con = Console()
    print(t.text)
    if not t.text:
        con.print("[yellow](the model produced an empty translation)[/]", highlight=False)
    if t.unknown:
        con.print(
            f"[yellow]unknown words (read as <unk>): {', '.join(t.unknown)}[/]", highlight=False
        )
    if show_attention:
        if not t.attention:
            raise InputError("this model was trained with --no-attention: no alignment to show")
        table = Table(title="attention (row: output word, columns: source words, %)")
        table.add_column("output")
        for s in t.src_tokens:
            table.add_column(s, justify="right")
        for word, row in zip(t.tgt_tokens, t.attention):
            best = max(range(len(row)), key=row.__getitem__)
            cells = [
                f"[bold]{100 * w:.0f}[/]" if j == best else f"{100 * w:.0f}"
                for j, w in enumerate(row)
            ]
            table.add_row(word, *cells)
        con.print(table)


@app.command("eval")
def eval_cmd(
    run: str = typer.Argument(..., help=RUN_HELP),
    beam: int = typer.Option(5, "--beam", help="Beam size compared with greedy."),
    alpha: float = typer.Option(0.6, "--alpha", help="Length normalisation strength."),
    limit: int = typer.Option(None, "--limit", help="Score only the first N test sentences."),
) -> None:
    """BLEU and chrF on the run's held-out test split: greedy and beam search."""
    from rich.console import Console
    from rich.table import Table

    from rnnlab.tasks.translate.evaluate import evaluate_run

    beams = (1,) if beam <= 1 else (1, beam)
    res = evaluate_run(run, beams, alpha, limit)
    table = Table(
        title=f"{run}: {res['n_sentences']} test sentences, {res['n_references']} references"
    )
    for c in ("decoding", "BLEU", "chrF", "seconds"):
        table.add_column(c)
    for k in beams:
        name = "greedy" if k == 1 else f"beam{k}"
        m = res[name]
        table.add_row(name, f"{m['bleu']:.2f}", f"{m['chrf']:.2f}", f"{m['seconds']}")
    con = Console()
    con.print(table)
    for ex in res["examples"]:
        con.print(
            f"  {ex['src']}  →  {ex.get('beam' + str(beam), ex['greedy'])}   (ref: {ex['ref']})",
            highlight=False,
        )


@app.command("plot")
def plot_cmd(
    run: str = typer.Argument(..., help=RUN_HELP),
    text: str = typer.Argument(..., help="Sentence to translate."),
    beam: int = typer.Option(5, "--beam", help="Beam size (1 = greedy)."),
    out: str = typer.Option(None, "--out", help="PNG path (default RUN/attention.png)."),
) -> None:
    """Draw the attention of one translation as a heatmap PNG."""
    from rnnlab.io import atomic_write_bytes
    from rnnlab.tasks.translate.infer import load_translator, translate
    from rnnlab.tasks.translate.plot import attention_png

    t = translate(load_translator(run), text, beam=beam)
    path = Path(out) if out else Path(run) / "attention.png"
    if path.suffix.lower() != ".png":
        raise InputError(f"--out must end in .png, got {path}")
    atomic_write_bytes(path, attention_png(t, f"{text} → {t.text}"))
    print(f"{t.text}\nwrote {path}")
