"""See inside a trained token model (``rnnlab.inspect`` re-exports the public names).

``text.py`` (a text's tokens and the states of every layer over it), ``detectors.py`` (what
each token is: position in line, inside quotes, ...), ``cells.py`` (``find_cells``: units
ranked by correlation with each detector, gate saturation), ``connectivity.py`` (how much each
earlier input matters for one prediction), ``intervene.py`` (clamp a unit, see what changes),
``match.py`` (select & match: the units on over a range, and where else they are on).
"""
