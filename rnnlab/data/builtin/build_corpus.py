"""Build the built-in text files of the demo (run from the repository root; needs the shared
data; the outputs are committed, see ``NOTICE.md``):

* ``english.txt.gz``: the distinct English sentences of ``eng-fra-74k.txt`` (Tatoeba), one a
  line, in the file's order, unchanged except for trimmed whitespace;
* ``shakespeare_val.txt.gz``: the last 10% of Tiny Shakespeare, the held-out part the
  character-level demo model is validated on (the language-model task holds out the last 10%).

    .venv/bin/python -m rnnlab.data.builtin.build_corpus ../shared/data
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

HERE = Path(__file__).parent
ENGLISH = HERE / "english.txt.gz"
SHAKESPEARE_VAL = HERE / "shakespeare_val.txt.gz"
PAIRS = "eng-fra/eng-fra-74k.txt"
SHAKESPEARE = "tinyshakespeare/input.txt"
VAL_FRACTION = 0.1  # the share the language-model task holds out (a test checks they agree)


def english_sentences(pairs: Path) -> list[str]:
    """Distinct first-column sentences of a ``english<TAB>french`` file, in file order."""
    seen: dict[str, None] = {}
    for line in pairs.read_text(encoding="utf-8").splitlines():
        s = line.split("\t", 1)[0].strip()
        if s:
            seen.setdefault(s, None)
    return list(seen)


def shakespeare_val(text: str) -> str:
    """The held-out tail of the text, cut where the LM task cuts it."""
    return text[int(len(text) * (1 - VAL_FRACTION)) :]


def _gz(text: str) -> bytes:
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def build(shared: Path, english: Path = ENGLISH, shakespeare: Path = SHAKESPEARE_VAL) -> None:
    """Write both files from the shared data folder ``shared``."""
    english.write_bytes(_gz("\n".join(english_sentences(shared / PAIRS)) + "\n"))
    shakespeare.write_bytes(_gz(shakespeare_val((shared / SHAKESPEARE).read_text("utf-8"))))


if __name__ == "__main__":
    build(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
