"""Fill in the blank: a bidirectional RNN that guesses a word from both sides of it.

Which file has what:

* ``config.py`` the settings (``FillModel``, ``FillTrain``) and the task name ``lm-fill``
* ``model.py``  ``FillInModel`` and ``load_fill``
* ``train.py``  ``train_fill`` (whole sentences, masked-word loss)

It has no command of its own: ``rnnlab demo`` trains one (``rnnlab.tasks.demo.build``) and
the explorer shows it beside the next-word models.
"""
