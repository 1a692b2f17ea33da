"""``rnnlab lm train|eval|generate|predict|plot``: options from ``rnnlab/tasks/lm/config.py``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from rnnlab.cli.options import given_options, settings_options
from rnnlab.errors import InputError
from rnnlab.tasks.lm.config import LMData, LMModel, LMTrain

app = typer.Typer(help="Language modelling and text generation.", no_args_is_help=True)


def _parse_bidir(v: str) -> bool:
    v = v.strip().lower()
    if v in ("no", "false", "0", "off"):
        return False
    if v in ("yes", "true", "1", "on"):
        raise InputError(
            "a language model predicts the next token, so it cannot be bidirectional: "
            "use --bidirectional no"
        )
    raise InputError(f"--bidirectional takes no (got {v!r})")


@app.command("train")
@settings_options(LMModel, LMData, LMTrain)
def train_cmd(
    ctx: typer.Context,
    data: Path = typer.Option(..., "--data", help="UTF-8 text file to learn from."),
    out: Path = typer.Option(Path("runs/lm"), "--out", help="Run directory to write."),
    bidirectional: str = typer.Option("no", help="Must be 'no' for a language model."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
    **opts: Any,
) -> None:
    """Train a character- or word-level RNN language model on your text."""
    from rnnlab.tasks.lm.recipes import for_command
    from rnnlab.tasks.lm.train import train_lm
    from rnnlab.train.distributed import dist_info

    val = opts.get("val")
    if val is not None and not Path(val).exists():
        raise InputError(f"--val file {val} does not exist (check the path)")
    if not data.exists():
        raise InputError(f"--data file {data} does not exist (check the path)")
    _parse_bidir(bidirectional)
    if val is not None:
        opts["val"] = Path(val)  # a file, never the text itself
    # a --time-budget without --steps: the budget's recipe, under every option given
    opts, line = for_command(opts, given_options(ctx, opts))
    if line and dist_info()[0] == 0:
        typer.echo(line)
    s = train_lm(data, out, progress=not quiet, **opts)
    if dist_info()[0] != 0:
        return
    if s.get("averaged_from") is not None:
        typer.echo(f"ntasgd: averaging the weights from step {s['averaged_from']}")
    shas = s["weights_sha256"]
    if len(shas) > 1:
        same = len(set(shas)) == 1
        typer.echo(
            f"weights {'identical' if same else 'DIFFERENT'} on {len(shas)} processes "
            f"(sha256 {' '.join(h[:12] for h in shas)})"
        )
    m = s["metrics"]
    typer.echo(
        f"{s['steps']} steps in {s['elapsed']:.0f} s ({s['stop_reason']}); best val loss "
        f"{s['best']:.4f} nats/token; last: bpc {m.get('val_bpc', float('nan')):.3f}, "
        f"perplexity {m.get('val_ppl', float('nan')):.2f}; saved in {out}"
    )


@app.command("eval")
def eval_cmd(
    run: Path = typer.Argument(..., help="Run directory."),
    data: Path = typer.Option(
        None, "--data", help="Text to evaluate on (default: the run's validation text)."
    ),
    device: str = typer.Option("cpu", help="cpu or cuda."),
) -> None:
    """Validation loss (nats/token), perplexity, bits per char, top-1/top-5 accuracy.

    Bits per char = the total nats of all predicted tokens (every token but the first) / ln 2
    / the characters of the evaluated text, each newline counted: it compares models of any
    tokenizer, per-token perplexity only models of the same one.
    """
    import numpy as np

    from rnnlab.data.tokenize import TOKENIZERS
    from rnnlab.tasks.lm.data import eval_text
    from rnnlab.tasks.lm.evaluate import evaluate_ids
    from rnnlab.tasks.lm.model import load_lm
    from rnnlab.train.util import pick_device

    dev = pick_device(device)
    model = load_lm(run, dev)
    tok = model.tokenizer
    ids, chars, what = eval_text(model.config, tok, data, str(run))
    m = evaluate_ids(model, ids, chars=chars, device=dev)
    unk = float(np.mean(ids == tok.unk_id))
    typer.echo(f"evaluated on {what}: {len(ids):,} tokens ({unk:.1%} unknown), {chars:,} chars")
    typer.echo(f"tokenizer   {tok.name} ({TOKENIZERS[tok.name]})")
    typer.echo(f"loss        {m['val_loss']:.4f} nats/{tok.level}")
    typer.echo(f"bits/char   {m['val_bpc']:.4f} (total nats / ln 2 / {chars:,} chars)")
    typer.echo(f"perplexity  {m['val_ppl']:.3f}")
    typer.echo(f"top-1 acc   {m['val_top1']:.2%}")
    typer.echo(f"top-5 acc   {m['val_top5']:.2%}")


@app.command("generate")
def generate_cmd(
    run: Path = typer.Argument(..., help="Run directory."),
    prompt: str = typer.Option("", help="Text to start from."),
    length: int = typer.Option(500, help="Tokens to generate."),
    temperature: float = typer.Option(0.8, help="Sampling temperature (0 = greedy)."),
    top_k: int = typer.Option(None, "--top-k", help="Sample among the k most likely."),
    top_p: float = typer.Option(None, "--top-p", help="Nucleus sampling mass."),
    seed: int = typer.Option(None, help="Random seed (repeatable output)."),
    fast: bool = typer.Option(
        False, "--fast", help="int8 weights: ~1.6x faster on CPU, slightly different numbers."
    ),
) -> None:
    """Stream generated text to stdout as it is produced."""
    from rnnlab.data.tokenize import NO_SPACE_AFTER, NO_SPACE_BEFORE
    from rnnlab.tasks.lm.infer import generate
    from rnnlab.tasks.lm.model import load_lm

    model = load_lm(run)
    sys.stdout.write(prompt)
    word = model.tokenizer.level == "word"
    glue = not prompt or prompt[-1].isspace()  # no space after a line start or a space
    for t in generate(model, prompt, length, temperature, top_k, top_p, seed, fast):
        if word:  # the word tokenizer's spacing rules, applied token by token
            space = not (glue or t == "\n" or t in NO_SPACE_BEFORE)
            glue = t == "\n" or t in NO_SPACE_AFTER
            t = (" " if space else "") + t
        sys.stdout.write(t)
        sys.stdout.flush()
    sys.stdout.write("\n")


@app.command("predict")
def predict_cmd(
    run: Path = typer.Argument(..., help="Run directory."),
    text: str = typer.Argument(..., help="The start of a sentence."),
    top_k: int = typer.Option(3, "--top-k", help="How many words to list."),
) -> None:
    """The most likely next words with their probabilities."""
    from rnnlab.tasks.lm.infer import predict_words
    from rnnlab.tasks.lm.model import load_lm

    model = load_lm(run)
    for w, p in predict_words(model, text, top_k):
        typer.echo(f"{p:8.2%}  {w}")


@app.command("plot")
def plot_cmd(
    run: Path = typer.Argument(..., help="Run directory."),
    out: Path = typer.Option(None, "--out", help="PNG path (default RUN/loss.png)."),
) -> None:
    """Plot the training and validation loss curves to a PNG."""
    from rnnlab.tasks.lm.plot import plot_run

    typer.echo(f"wrote {plot_run(run, out)}")
