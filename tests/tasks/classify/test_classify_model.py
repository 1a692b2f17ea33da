"""The classifier model and its metrics: metrics by hand, pooling with padding vs one sequence
at a time, the final states of a biRNN, attention weights."""

import pytest
import torch

from rnnlab.tasks.classify.config import POOLS
from rnnlab.tasks.classify.data import collate
from rnnlab.tasks.classify.evaluate import confusion_matrix, macro_f1
from rnnlab.tasks.classify.model import SequenceClassifier


def test_confusion_and_macro_f1_by_hand():
    y = [0, 0, 0, 1, 1, 2]
    p = [0, 0, 1, 1, 2, 2]
    cm = confusion_matrix(y, p, 3)
    assert cm.tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    # F1: class 0: 2·2/(4+0+1) = 0.8; class 1: 2/(2+1+1) = 0.5; class 2: 2/(2+1+0) = 2/3
    assert macro_f1(cm) == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    # a class that never occurs (true or predicted) is left out of the mean, as in sklearn
    assert macro_f1(confusion_matrix([0, 1], [0, 1], 3)) == 1.0


@pytest.mark.parametrize("pool", POOLS)
@pytest.mark.parametrize("cell,bi", [("gru", True), ("lstm", False), ("rnn", True)])
def test_padded_batch_equals_one_sequence_at_a_time(pool, cell, bi):
    torch.manual_seed(0)
    m = SequenceClassifier(
        3, vocab_size=11, embed=5, cell=cell, hidden=6, bidirectional=bi, pool=pool
    ).eval()
    seqs = [torch.randint(0, 11, (n,)) for n in (7, 3, 5)]
    x, lengths = collate(seqs)
    batched = m(x, lengths)
    for i, s in enumerate(seqs):
        alone = m(s.unsqueeze(0), torch.tensor([len(s)]))
        torch.testing.assert_close(batched[i], alone[0], atol=1e-5, rtol=1e-5)


def test_last_pool_of_a_bidirectional_layer_is_both_final_states():
    torch.manual_seed(0)
    m = SequenceClassifier(2, n_features=3, cell="gru", hidden=4, bidirectional=True)
    x = torch.randn(1, 6, 3)
    v, _ = m.pooled(x, torch.tensor([6]))
    out, _ = m.rnn(x)
    torch.testing.assert_close(v[0], torch.cat([out[0, -1, :4], out[0, 0, 4:]]))


def test_attention_weights_are_a_distribution_over_real_steps():
    torch.manual_seed(0)
    m = SequenceClassifier(2, n_features=2, hidden=4, pool="attention")
    _, w = m.pooled(torch.randn(2, 5, 2), torch.tensor([5, 2]))
    torch.testing.assert_close(w.sum(1), torch.ones(2))
    assert torch.all(w[1, 2:] == 0)
