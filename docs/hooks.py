"""MkDocs hooks (mkdocs.yml ``hooks:``): pages generated at build time from the code itself.

``<!-- cli-reference -->`` becomes the reference of every command (``rnnlab.cli.docs``) and
``<!-- benchmarks-results -->`` the text of benchmarks/RESULTS.md, so neither is copied by hand.
The equations (``$...$`` in the notebooks, arithmatex's ``\\(...\\)`` / ``\\[...\\]`` in the
pages) become MathML at build time (latex2mathml), which browsers draw natively: the site
needs no MathJax and no network.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from latex2mathml.converter import convert

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


# code stays as written; only the prose between code blocks holds equations
_CODE = re.compile(r"(<pre.*?</pre>|<code.*?</code>|<script.*?</script>)", re.S)
_ARITHMATEX = re.compile(r"\\\[(.+?)\\\]|\\\((.+?)\\\)", re.S)
_DOLLARS = re.compile(r"\$\$(.+?)\$\$|(?<![\\$\w])\$(?!\s)([^$<>]+?)(?<!\s)\$(?![\w$])", re.S)


def mathml(tex: str, display: bool) -> str:
    """TeX (as it appears in the page's HTML) as a MathML element."""
    return convert(html.unescape(tex.strip()), display="block" if display else "inline")


def _sub(pattern: re.Pattern, text: str) -> str:
    return pattern.sub(lambda m: mathml(m.group(1) or m.group(2), m.group(1) is not None), text)


def on_page_content(content: str, page, config, files) -> str:
    notebook = page.file.src_path.endswith(".ipynb")
    parts = _CODE.split(content)
    for i in range(0, len(parts), 2):  # the even parts are outside code
        parts[i] = _sub(_DOLLARS if notebook else _ARITHMATEX, parts[i])
    return "".join(parts)
