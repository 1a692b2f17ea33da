"""Every command keeps the options and defaults it had before the CLI moved to ``rnnlab/cli/``.

``options.json`` was written from the old single-module CLI (``rnnlab/cli.py``, before the
architecture-v2 move) by ``snapshot()`` below and is kept as the reference: a renamed option, a
lost flag or a changed default fails here. An old default of ``None`` whose help text quoted
"(default X)" may become X itself (the setting is now declared once, with its real default).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import typer

REF = Path(__file__).with_name("options.json")
# options added since the snapshot, each with its issue: they may appear, nothing else may
ADDED = {
    "lm train": {
        "--no-tie --tie": "issue 17 (tied embeddings for the shipped word models)",
        **{
            o: "issue 22 (the engine's AWD-LSTM options in lm train)"
            for o in (
                "--weight-drop",
                "--recurrent-dropout",
                "--embed-dropout",
                "--forget-bias",
                "--recurrent-init",
            )
        },
        **{
            o: "issue 22 (zoneout, AR/TAR and the optimizer in lm train)"
            for o in ("--zoneout", "--ar", "--tar", "--optimizer", "--nonmono")
        },
        "--layer-norm --no-layer-norm": "issue 22 (the engine's layer_norm in lm train)",
        "--tokenizer": "issue 22 (whitespace tokenizer for pre-tokenised corpora such as PTB)",
    },
    "demo": {
        **{o: "issue 17 (rebuild the shipped models)" for o in ("--build", "--only", "--data")},
        "--max-wait": "issue 25 (admission control: 503 + Retry-After past the line)",
    },
    "serve": {"--max-wait": "issue 25 (admission control: 503 + Retry-After past the line)"},
    "speech train": {
        "--augment": "issue 26 (voice augmentation for unseen speakers)",
        "--speech-db": "issue 26 (normalise over speech frames, not silence)",
        "--val-speaker": "issue 26 (validate on a voice never trained on)",
    },
    "translate train": {
        o: "issue 26 (subword translation: no unknown source words)"
        for o in ("--tokenizer", "--vocab-size")
    }
    | {"--copy --no-copy": "issue 26 (copy-through of numbers and unseen names)"},
    "forecast backtest": {"--extra": "issue 23 (the ES-RNN hybrid and statsforecast's models)"},
    "forecast train": {"--model": "issue 23 (train the ES-RNN hybrid)"},
}


def _default(p: Any) -> Any:
    d = p.default
    if callable(d):
        d = None
    if isinstance(d, Path):
        d = str(d)
    if isinstance(d, tuple):
        d = list(d)
    return d


def snapshot() -> dict[str, dict[str, Any]]:
    """``{"lm train": {"--hidden": {"default": 256, "flag": False, "help": ...}, ...}, ...}``."""
    from rnnlab.cli import app

    root = typer.main.get_command(app)
    out: dict[str, dict[str, Any]] = {}

    def walk(cmd: Any, path: str) -> None:
        params = {}
        for p in cmd.params:
            if getattr(p, "param_type_name", "") == "option":  # typer vendors click
                key = " ".join(sorted(p.opts + p.secondary_opts))
                params[key] = {
                    "default": _default(p),
                    "flag": bool(p.is_flag),
                    "required": bool(p.required),
                    "help": p.help or "",
                }
            else:
                params[f"<{p.name}>"] = {"required": bool(p.required), "nargs": p.nargs}
        out[path or "<root>"] = params
        if hasattr(cmd, "commands"):
            for name, sub in sorted(cmd.commands.items()):
                walk(sub, f"{path} {name}".strip())

    walk(root, "")
    return out


# defaults changed on purpose since the snapshot: (old, new, why); nothing else may change
CHANGED = {
    "speech train": {
        "--features": ("logmel", "mfcc", "issue 26 (MFCCs: 74.3% -> 87.1% on unseen speakers)"),
    },
}


def _quoted_default(help_text: str) -> str | None:
    m = re.search(r"\(default:? ([^)]+)\)", help_text)
    return m.group(1).strip() if m else None


def test_every_command_keeps_its_options_and_defaults() -> None:
    ref = json.loads(REF.read_text())
    now = snapshot()
    assert sorted(now) == sorted(ref), "commands were added or lost"
    for cmd, params in ref.items():
        added = set(ADDED.get(cmd, {}))
        assert added <= set(now[cmd]), f"`rnnlab {cmd}` lost an option added later"
        assert sorted(set(now[cmd]) - added) == sorted(params), f"options of `rnnlab {cmd}` changed"
        for name, old in params.items():
            new = now[cmd][name]
            for k in ("flag", "required", "nargs"):
                assert new.get(k) == old.get(k), f"`rnnlab {cmd} {name}`: {k} changed"
            if "default" not in old or new["default"] == old["default"]:
                continue
            if name in CHANGED.get(cmd, {}):
                was, now_default, _ = CHANGED[cmd][name]
                assert (old["default"], new["default"]) == (was, now_default), f"{cmd} {name}"
                continue
            quoted = _quoted_default(old["help"])
            assert (
                old["default"] is None and quoted is not None and str(new["default"]) == quoted
            ), f"`rnnlab {cmd} {name}`: default {old['default']!r} became {new['default']!r}"


if __name__ == "__main__":  # how options.json was made (before the move)
    REF.write_text(json.dumps(snapshot(), indent=1, sort_keys=True) + "\n")
