"""The attention of one translation as a heatmap PNG (matplotlib, imported when drawing).

>>> png = attention_png(translate(load_translator("runs/num"), "seven"))   # doctest: +SKIP
"""

from __future__ import annotations

import io

from rnnlab.errors import InputError
from rnnlab.tasks.translate.infer import Translation


def attention_png(t: Translation, title: str = "") -> bytes:
    """An attention heatmap (rows: output words, columns: source words) as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not t.attention:
        raise InputError(
            "this model has no attention (trained with --no-attention): nothing to plot"
        )
    rows, cols = t.tgt_tokens, t.src_tokens
    fig, ax = plt.subplots(figsize=(1.0 + 0.55 * len(cols), 1.0 + 0.45 * len(rows)))
    ax.imshow(t.attention, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(cols)), cols, rotation=45, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel("source (encoder reads)")
    ax.set_ylabel("output (decoder writes)")
    ax.set_title(title or t.text, fontsize=10)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
