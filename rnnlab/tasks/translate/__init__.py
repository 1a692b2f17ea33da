"""Machine translation: a sequence-to-sequence model with additive (Bahdanau) attention.

Encoder: embeddings → bidirectional GRU/LSTM. Decoder: one GRU/LSTM cell that attends over the
encoder states at each step (``--no-attention``: the fixed context of Cho et al. 2014).
Trained with scheduled teacher forcing; decoded greedily or with beam search.

    rnnlab translate train --pairs ../shared/data/eng-fra/eng-fra.txt --time-budget 10m
    rnnlab translate run runs/translate "I am cold." --beam 5 --show-attention
    rnnlab translate eval runs/translate
    rnnlab translate plot runs/translate "I am cold."

Which file has what:

* ``config.py``   the settings (``TranslateModel``, ``TranslateData``, ``TranslateTrain``);
  importable without torch (the CLI builds its options from it)
* ``model.py``    ``Seq2Seq``, ``seq_loss``, ``build_model``
* ``decode.py``   ``Hypothesis``, ``greedy``, ``beam_search``
* ``data.py``     ``load_pairs``, ``encode_pairs``, ``PairBatchesWithStep`` (the batches)
* ``train.py``    ``train_translate`` (on ``rnnlab.train.run``)
* ``infer.py``    ``Translator``, ``load_translator``, ``translate``, ``translate_batch``
* ``evaluate.py`` ``read_split``, ``bleu_chrf``, ``evaluate_run``, ``val_loss``
* ``plot.py``     ``attention_png``
* ``builtin.py``  the built-in numbers model of the explorer (``builtin_run``)
"""
