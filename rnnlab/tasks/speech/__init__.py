"""Speech recognition: audio → log-mel frames → strided conv → (bi)GRU/LSTM → CTC → digits.

Data: the Free Spoken Digit Dataset (``rnnlab.data.audio``). Two tasks, one model kind:
``digits`` (isolated digits, one label per recording) and ``connected`` (2-7 recordings of one
speaker joined by short random silences, optionally with noise). Both train with CTC
(Graves et al. 2006) over 11 symbols (blank + 10 digits) and decode greedily (best path) or
with a prefix beam search. Metrics: exact-match accuracy, WER and CER (jiwer).

    rnnlab speech train --data ../shared/data/fsdd --task digits --time-budget 5m --out runs/digits
    rnnlab speech eval runs/digits              # accuracy, WER, CER, confusion.png
    rnnlab speech transcribe runs/digits my_recording.wav

Which file has what:

* ``config.py``   the settings (``SpeechModel``, ``SpeechData``, ``SpeechTrain``), the symbols;
  importable without torch (the CLI builds its options from it)
* ``model.py``    ``AcousticModel``, ``ctc_loss``, ``build_model``
* ``decode.py``   ``greedy_decode``, ``beam_decode`` (CTC prefix beam search), ``ids_to_text``
* ``data.py``     ``Corpus``, ``connected_set``, ``SpeechStream``, the recorded split
  (``split_record``, ``run_split``) and ``eval_sets``
* ``train.py``    ``train_speech`` (on ``rnnlab.train.run``)
* ``evaluate.py`` ``posteriors``, ``score`` (accuracy, WER, CER, confusion), ``plot_confusion``
* ``infer.py``    ``Recognizer``, ``load_speech``
"""
