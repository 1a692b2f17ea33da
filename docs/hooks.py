"""MkDocs hooks (mkdocs.yml ``hooks:``): pages generated at build time from the code itself.

``<!-- cli-reference -->`` becomes the reference of every command (``rnnlab.cli.docs``) and
``<!-- benchmarks-results -->`` the text of benchmarks/RESULTS.md, so neither is copied by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _results() -> str:
    text = (ROOT / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8")
    # its own title is the page's; a link into the repository becomes its path, as code
    text = re.sub(r"\A# .*\n", "", text)
    return re.sub(r"\[([^\]]+)\]\((?!https?://|#)([^)]+)\)", r"\1 (`\2`)", text)


def on_page_markdown(markdown: str, page, config, files) -> str:
    if "<!-- cli-reference -->" in markdown:
        from rnnlab.cli.docs import reference

        markdown = markdown.replace("<!-- cli-reference -->", reference())
    if "<!-- benchmarks-results -->" in markdown:
        markdown = markdown.replace("<!-- benchmarks-results -->", _results())
    return markdown
