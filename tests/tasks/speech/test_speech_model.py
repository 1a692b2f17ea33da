"""The acoustic model's lengths handling: padding never changes a shorter utterance."""

from __future__ import annotations

import torch

from rnnlab.tasks.speech.config import SpeechModel
from rnnlab.tasks.speech.model import AcousticModel, build_model


def test_padding_does_not_change_a_shorter_utterance():
    torch.manual_seed(0)
    m = AcousticModel(12, channels=8, hidden=8, layers=2, dropout=0.0).eval()
    a, b = torch.randn(37, 12), torch.randn(23, 12)
    x = torch.nn.utils.rnn.pad_sequence([a, b], batch_first=True)
    logp, lengths = m(x, torch.tensor([37, 23]))
    alone, la = m(b[None], torch.tensor([23]))
    assert lengths.tolist() == [10, 6] and la.tolist() == [6]
    assert m.front(x.transpose(1, 2)).shape[-1] == 10  # out_lengths matches the convs
    torch.testing.assert_close(logp[1, :6], alone[0], atol=1e-5, rtol=1e-5)


def test_build_model_follows_the_settings():
    m = build_model(SpeechModel(conv_layers=3, hidden=8, layers=1, channels=4, n_features=13))
    assert m.conv_layers == 3 and m.head.in_features == 16  # bidirectional by default
    assert m.front[0].in_channels == 13 and m.front[0].out_channels == 4
