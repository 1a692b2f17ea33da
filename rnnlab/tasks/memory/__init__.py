"""The long-range memory lab: adding, copy, delayed recall, parity; vanishing gradients, measured.

``rnnlab memory run --task adding --length 100 --cell gru`` trains one cell on one synthetic task
(``rnnlab.data.synthetic``), gives the solved/unsolved verdict on a held-out test set, and plots
the learning curve next to ‖∂L/∂h_t‖ against the distance from the loss, at initialisation and
after training. The gradient curve comes from the engine's ``trace`` (``grad_h``), the same
numbers the explorer and the tests see. ``rnnlab memory sweep`` repeats that over cells × lengths
with one fixed step budget and draws which cell solves which length.

Verdicts: adding = test MSE below ``solved_ratio`` (default 1%) of the trivial predictor's
1/6 ≈ 0.167; copy / recall = per-symbol accuracy ≥ 99% on the recall steps; parity = accuracy
≥ 99%.

Files:
    config.py   the settings (model / data / train), declared once; no torch
    data.py     ``TaskSpec``, ``task_spec``, ``make_batch``, ``TaskStream``, ``fixed_set``
    model.py    ``MemoryModel``, ``score``, ``solved`` (the verdict)
    curves.py   ``grad_norm_curve``: ‖∂L/∂h_t‖ by step, from the engine's trace
    train.py    ``run_memory`` (one run, on ``rnnlab.train.run``) and ``sweep``
    report.py   ``sweep_table``, ``describe``, ``grad_summary`` (the text a user reads)
    plot.py     ``plot_run``, ``plot_sweep`` (matplotlib)
"""
