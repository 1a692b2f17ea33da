"""Sequence classification: tokens or features → (bi)RNN → pooling (last / mean / attention) → label.

Data (``rnnlab.data.sequences``): a CSV (``label`` + ``text`` or ``sequence``), a directory of
text files per class, or ``mnist1d``. Metrics: accuracy, macro-F1 and the confusion matrix.

    rnnlab classify train --data reviews.csv --out runs/cls --cell gru --bidirectional --pool attention
    rnnlab classify eval runs/cls --data test.csv
    rnnlab classify predict runs/cls "what a wonderful film"

Files:
    config.py    the settings (model / data / train), declared once; no torch
    model.py     ``SequenceClassifier``: embedding or features → recurrent layer → pooling → linear
    data.py      ``Encoder`` (tokenizer / standardisation), ``collate``, ``EpochStream``, the
                 validation split (``split_indices``, ``split_record``)
    evaluate.py  ``confusion_matrix``, ``macro_f1``, ``evaluate``, ``score_samples``
    train.py     ``train_classifier`` (on ``rnnlab.train.run``)
    infer.py     ``Classifier``, ``load_classifier``
"""
