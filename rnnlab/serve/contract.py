"""What the explorer and the game need of a model, as one ``typing.Protocol``.

Implemented by ``rnnlab.tasks.lm.model.LanguageModel`` (a next-word model, ``causal``
True) and ``rnnlab.tasks.fillin.model.FillInModel`` (fill in the blank, ``causal`` False).
The views call these members, never probe a model for optional ones.

>>> from rnnlab.tasks.lm.model import LanguageModel                        # doctest: +SKIP
>>> isinstance(LanguageModel(tok, hidden=8, layers=1), ExplorableModel)    # doctest: +SKIP
True
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from torch import Tensor, nn

from rnnlab.data.tokenize import Tokenizer


@runtime_checkable
class ExplorableModel(Protocol):
    """A token model made of ``embed`` -> ``rnn`` (an ``rnnlab.core`` layer, with ``trace``)
    -> ``logits_from_output``; ``model(ids)`` runs the three."""

    tokenizer: Tokenizer  # level, vocab, unk_id, eos_id, encode / decode (rnnlab.data.tokenize)
    rnn: nn.Module
    config: dict[str, Any]  # the run's sectioned config.json (task, model, data, train, metrics)
    causal: bool  # True: predicts the next token; False: the token at t from both sides

    def embed(self, ids: Tensor) -> Tensor:
        """Token ids (B,T) -> the recurrent layer's input (B,T,E)."""
        ...

    def logits_from_output(self, out: Tensor) -> Tensor:
        """Recurrent-layer outputs (B,T,D*H) -> vocabulary logits (B,T,V)."""
        ...

    def __call__(
        self, ids: Tensor, state: Any = None, lengths: Tensor | None = None
    ) -> tuple[Tensor, Any]: ...

    def parameters(self, recurse: bool = True) -> Any: ...

    def eval(self) -> Any: ...
