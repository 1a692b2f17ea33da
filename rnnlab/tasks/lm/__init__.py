"""Language modelling and text generation (``rnnlab lm train|eval|generate|predict|plot``).

Which file has what:

* ``config.py``   the settings (``LMModel``, ``LMData``, ``LMTrain``) and why these defaults
* ``model.py``    ``LanguageModel`` (embedding -> RNN -> head), ``load_lm``
* ``train.py``    ``train_lm`` (stateful truncated BPTT; DDP under torchrun), AR/TAR
* ``recipes.py``  what ``--time-budget`` alone trains: the measured table, the chosen line
* ``evaluate.py`` ``evaluate_ids`` (nats/token, bits/char, perplexity, top-1/top-5)
* ``infer.py``    ``generate``, ``topk_next``, ``predict_words``, prompt handling
* ``data.py``     the run's held-out text, read back from the split recorded in config.json
* ``plot.py``     the loss curves as a PNG

The corpus loader is ``rnnlab.data.corpus``; the one-token ``Stepper`` is
``rnnlab.core.stepper``. Units: the loss is the mean negative log-likelihood in nats per
token; bits per char is the total loss over the text in bits divided by its characters;
perplexity is exp(nats/token).
"""
