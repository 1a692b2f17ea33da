"""A griffe extension (mkdocs.yml): the docstrings' bare ``>>>`` examples become code blocks.

rnnlab's docstrings are plain text with doctest examples; in Markdown an example such as
``tr.grad_h[0][0]`` would otherwise read as a reference link (a broken one under --strict).
"""

from __future__ import annotations

import re

from griffe import Extension

_PROMPT = re.compile(r"^(\s*)(>>>|\.\.\.)( |$)")


def fence_examples(text: str) -> str:
    """Wrap each run of ``>>>`` lines (and the output lines right after them) in a fence."""
    out: list[str] = []
    in_block = False
    for line in text.splitlines():
        if _PROMPT.match(line):
            if not in_block:
                out += ["```pycon"]
                in_block = True
            out.append(line.strip())
        elif in_block and line.strip():
            out.append(line.strip())  # the example's printed output
        else:
            if in_block:
                out.append("```")
                in_block = False
            out.append(line)
    if in_block:
        out.append("```")
    return "\n".join(out)


class DoctestFences(Extension):
    def on_object(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_examples(obj.docstring.value)
