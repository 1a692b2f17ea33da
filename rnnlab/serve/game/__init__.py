"""The RNN Game (``/game``): play against a language model's memory, on the server's models.

Which file has what:

* ``store.py``  — ``SessionStore`` (sessions in server memory: idle TTL + a cap) and the two
  errors the rules raise besides ``InputError``: ``NotFound`` (404) and ``Conflict`` (409);
* ``players.py`` — the served next-word models as players: vocabulary classes (case-folded),
  class probabilities, playable held-out sentences;
* ``beat.py``   — **Beat the RNN**: guess the next token before the RNN does; scoring in bits;
* ``memory.py`` — **Memory challenge**: a clue, then the word that depends on it, further away;
* ``hidden.py`` — **Be the hidden state**: remember a stream of facts with a few slots;
* ``schemas.py`` — request and response bodies (pydantic; they appear in ``/openapi.json``);
* ``router.py`` — the HTTP endpoints (``/game``, ``/api/game/...``): wiring only.

The rules raise ``rnnlab.errors.InputError`` (or ``NotFound`` / ``Conflict``), never an HTTP
error; the app turns them into 422 / 404 / 409 JSON. The token to guess never leaves the server
before the guess for it is committed.
"""
