"""The RNN Playground: train one or two recurrent networks live, side by side on the same data,
and watch them learn (or fail to). The page is ``/playground`` (``rnnlab.serve.views.playground``).

Files:
    config.py    every knob once, with its allowed range (pydantic); presets; server limits
    problems.py  the tasks: the memory lab's synthetic ones and next-character prediction
    run.py       ``Run``: the lanes (model + AdamW), ``step()``, ``snapshot()``
    probe.py     the probe readings: ‖∂L/∂h_t‖ over t, hidden state, gate saturation, answer
    verdict.py   the verdict line from the lanes' validation curves
    worker.py    ``Manager``: a thread per run, the caps, play / pause / step / reset
"""
