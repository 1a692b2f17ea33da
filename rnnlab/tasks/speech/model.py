"""The acoustic model: strided conv front end → recurrent layer → per-frame CTC posteriors.

>>> m = AcousticModel(40, hidden=16)
>>> logp, lengths = m(torch.randn(2, 50, 40), torch.tensor([50, 30]))
>>> logp.shape, lengths.tolist()                 # 4x fewer frames after the conv front end
(torch.Size([2, 13, 11]), [13, 8])
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnlab.core import make_rnn
from rnnlab.errors import InputError
from rnnlab.tasks.speech.config import BLANK, SYMBOLS, SpeechModel


class AcousticModel(nn.Module):
    """Features (B, T, F) → conv front end (each layer halves T) → recurrent layer →
    per-frame log-probabilities over blank + digits.

    The front end cuts the number of recurrent steps (the cost) by ``2 ** conv_layers``;
    40 ms output frames are still far shorter than a spoken digit.
    """

    def __init__(
        self,
        n_features: int,
        *,
        n_symbols: int = len(SYMBOLS),
        conv_layers: int = 2,
        channels: int = 128,
        cell: str = "gru",
        hidden: int = 128,
        layers: int = 2,
        bidirectional: bool = True,
        dropout: float = 0.1,
    ):
        super().__init__()
        if not 0 <= conv_layers <= 4:
            raise InputError(f"--conv-layers must be 0..4, got {conv_layers}")
        convs, size = [], n_features
        for _ in range(conv_layers):
            convs += [nn.Conv1d(size, channels, 5, stride=2, padding=2), nn.GELU()]
            size = channels
        self.conv_layers = conv_layers
        self.front = nn.Sequential(*convs)
        self.rnn = make_rnn(
            cell, size, hidden, layers, dropout=dropout, bidirectional=bidirectional
        )
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden * (2 if bidirectional else 1), n_symbols)

    def out_lengths(self, lengths: Tensor) -> Tensor:
        for _ in range(self.conv_layers):  # Conv1d(k=5, s=2, p=2): floor((L - 1) / 2) + 1
            lengths = (lengths - 1) // 2 + 1
        return lengths

    def encode(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """The recurrent layer's input (B, T', C) and its lengths."""
        x = x.transpose(1, 2)  # (B, F, T) for Conv1d
        for k in range(self.conv_layers):
            # zero the padding before each conv, so a short utterance in a batch gives the
            # same frames as alone (a conv of zeros is not zero after the bias and GELU)
            x = x * (torch.arange(x.shape[-1])[None, None, :] < lengths[:, None, None])
            x = self.front[2 * k + 1](self.front[2 * k](x))
            lengths = (lengths - 1) // 2 + 1  # Conv1d(k=5, s=2, p=2): floor((L - 1) / 2) + 1
        return x.transpose(1, 2), lengths

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        h, lengths = self.encode(x, lengths)
        out, _ = self.rnn(h, lengths=lengths)
        return torch.log_softmax(self.head(self.drop(out)), -1), lengths


def ctc_loss(logp: Tensor, lengths: Tensor, labels: list[list[int]]) -> Tensor:
    """Mean over the batch of the CTC loss per label (``reduction="mean"`` divides each
    utterance's loss by its number of labels, so long strings do not dominate)."""
    targets = torch.tensor([i for y in labels for i in y], dtype=torch.long)
    tl = torch.tensor([len(y) for y in labels], dtype=torch.long)
    return nn.functional.ctc_loss(
        logp.transpose(0, 1), targets, lengths, tl, blank=BLANK, zero_infinity=True
    )


def build_model(spec: SpeechModel) -> AcousticModel:
    """The model ``spec`` describes (``conv_layers`` and ``n_features`` resolved by training).

    >>> build_model(SpeechModel(conv_layers=2, hidden=8)).conv_layers
    2
    """
    if spec.conv_layers is None:
        raise InputError("the model needs --conv-layers (training sets it from --task)")
    return AcousticModel(
        spec.n_features,
        conv_layers=spec.conv_layers,
        channels=spec.channels,
        cell=spec.cell,
        hidden=spec.hidden,
        layers=spec.layers,
        bidirectional=spec.bidirectional,
        dropout=spec.dropout,
    )
