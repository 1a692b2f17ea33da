"""The language model (embedding -> recurrent layer -> linear head) and its loader.

>>> model = load_lm("runs/shakespeare")          # doctest: +SKIP
>>> model.config["model"]["cell"]                # doctest: +SKIP
'gru'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnlab.core import build_rnn
from rnnlab.core.options import keep_mask
from rnnlab.data.tokenize import Tokenizer, tokenizer_from_dict
from rnnlab.errors import CheckpointError, InputError
from rnnlab.tasks.lm.config import TASK, LMModel
from rnnlab.train.checkpoint import load_run, load_weights_into


class LanguageModel(nn.Module):
    """Embedding -> recurrent layer (``rnnlab.core.build_rnn``) -> linear head over the vocab.

    ``forward(ids (B,T), state=None, lengths=None) -> (logits (B,T,V), state)``; ``embed(ids)``
    is the recurrent layer's input and ``head(h)`` maps its outputs to logits, so
    ``model.head(model.rnn(model.embed(ids))[0])`` equals ``model(ids)[0]`` in eval mode.
    The architecture is ``spec`` (an ``LMModel``), or its fields given as keywords.
    ``config`` is the run's sectioned ``config.json`` (task, model, data, train, metrics).

    >>> from rnnlab.data.tokenize import CharTokenizer
    >>> tok = CharTokenizer.fit("hello world")
    >>> m = LanguageModel(tok, cell="gru", embed=8, hidden=16, layers=1)
    >>> logits, state = m(torch.tensor([tok.encode("hello")]))
    >>> tuple(logits.shape)
    (1, 5, 9)
    """

    causal = True  # a next-word model (rnnlab.serve.contract)

    def __init__(self, tokenizer: Tokenizer, spec: LMModel | None = None, **fields: Any):
        super().__init__()
        spec = (spec or LMModel()).replace(**fields)
        if spec.bidirectional:
            raise InputError(
                "a language model predicts the next token, so it cannot read the text "
                "backwards: use --bidirectional no"
            )
        self.spec = spec
        self.tokenizer = tokenizer
        V = len(tokenizer)
        self.config: dict[str, Any] = {
            "task": TASK,
            "model": spec.to_dict(),
            "data": {"level": tokenizer.level, "vocab_size": V, "tokenizer": tokenizer.to_dict()},
            "train": {},
            "metrics": {},
        }
        self.emb = nn.Embedding(V, spec.embed)
        self.drop = nn.Dropout(spec.dropout)
        self.rnn = build_rnn(spec, spec.embed)
        self.head = TiedHead(self.emb, spec.hidden) if spec.tie else nn.Linear(spec.hidden, V)

    def embed(self, ids: Tensor) -> Tensor:
        """Token ids (B,T) -> the recurrent layer's input (B,T,E).

        With ``embed_dropout=p``, in training mode, each vocabulary row of the embedding is
        zeroed with probability p for the whole call and the others scaled by 1/(1-p)
        (AWD-LSTM's embedding dropout: a dropped word is dropped at every position).
        """
        p = self.spec.embed_dropout
        if not (self.training and p):
            return self.drop(self.emb(ids))
        w = self.emb.weight
        return self.drop(F.embedding(ids, w * keep_mask(w[:, :1], p)))

    def logits_from_output(self, out: Tensor) -> Tensor:
        """Recurrent-layer outputs (B,T,H) -> next-token logits (B,T,V)."""
        return self.head(self.drop(out))

    def forward(
        self,
        ids: Tensor,
        state: Any = None,
        lengths: Tensor | None = None,
        with_outputs: bool = False,
    ) -> tuple[Any, ...]:
        """``(logits, state)``; with ``with_outputs`` also the last layer's outputs before and
        after the head's dropout, ``(logits, state, out, dropped)`` (AR/TAR need them; through
        ``forward`` so a DDP wrapper sees the call)."""
        x = self.embed(ids)
        if lengths is None:
            out, state = self.rnn(x, state)
        else:
            out, state = self.rnn(x, state, lengths=lengths)
        if not with_outputs:
            return self.logits_from_output(out), state
        dropped = self.drop(out)
        return self.head(dropped), state, out, dropped


class TiedHead(nn.Module):
    """Logits from the input embedding's own weights: ``emb.weight @ proj(h) + bias``, with a
    linear projection ``proj`` from the hidden size to the embedding size when they differ.

    The embedding is referenced, not registered, so the state dict holds it once
    (``emb.weight``; here only ``head.bias`` and ``head.proj.weight``).

    >>> emb = nn.Embedding(10, 4)
    >>> TiedHead(emb, 6)(torch.zeros(2, 6)).shape
    torch.Size([2, 10])
    """

    def __init__(self, emb: nn.Embedding, hidden: int):
        super().__init__()
        object.__setattr__(self, "_emb", emb)  # not a submodule: no second copy in state_dict
        d = emb.embedding_dim
        self.proj = nn.Linear(hidden, d, bias=False) if hidden != d else nn.Identity()
        self.bias = nn.Parameter(torch.zeros(emb.num_embeddings))

    def forward(self, h: Tensor) -> Tensor:
        return F.linear(self.proj(h), self._emb.weight, self.bias)


def load_lm(run_dir: str | Path, device: str | torch.device = "cpu") -> LanguageModel:
    """Load a run written by ``train_lm`` / ``rnnlab lm train`` (eval mode).

    A run of another task, or a missing/corrupted one, raises ``CheckpointError``.
    """
    tensors, cfg = load_run(run_dir, task=TASK)
    try:
        spec = LMModel.from_dict(cfg["model"], f"{run_dir}/config.json")
        tok = tokenizer_from_dict(cfg["data"]["tokenizer"])
    except (KeyError, TypeError, InputError) as e:
        raise CheckpointError(
            f"{run_dir}/config.json has no usable model description ({e})"
        ) from None
    # an inference model: no dropout of any kind (eval mode draws no masks anyway, and a layer
    # without recurrent_dropout can also run torch's fused kernel, e.g. for export); zoneout
    # and layer_norm stay: they are part of the model at eval time too
    model = LanguageModel(
        tok,
        spec.replace(dropout=0.0, weight_drop=0.0, recurrent_dropout=0.0, embed_dropout=0.0),
    )
    model.config = {**cfg, "model": spec.to_dict()}
    load_weights_into(model, tensors, f"{run_dir}/model.safetensors")
    return model.to(device).eval()
