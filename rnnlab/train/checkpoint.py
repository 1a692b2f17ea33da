"""Run directories: ``model.safetensors`` + ``config.json``, written atomically, verified on load.

A run directory holds
    config.json        the same top-level shape for every task (``SECTIONS``):
                       task, model (architecture), data (source, split, tokenizer/vocab),
                       train (settings), metrics, versions (format, rnnlab, torch), and the
                       SHA-256 of the weights file
    model.safetensors  the weights (best checkpoint)
    state.safetensors  + state.json: optimizer/scheduler/RNG/data position for ``--resume``

No Python-object serialization anywhere: nested states are flattened into tensors (safetensors) + JSON.

Example:
    >>> save_run("runs/x", {"w": torch.zeros(2)}, {"task": "lm"})    # doctest: +SKIP
    >>> tensors, cfg = load_run("runs/x", task="lm")                  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load, save

from rnnlab import __version__
from rnnlab.errors import CheckpointError
from rnnlab.io import atomic_write_bytes, atomic_write_json

FORMAT_VERSION = 2  # 2: sectioned config.json (task/model/data/train/metrics/versions)
SECTIONS = ("task", "model", "data", "train", "metrics")
CONFIG = "config.json"
WEIGHTS = "model.safetensors"
STATE = "state.safetensors"
STATE_META = "state.json"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _data_sha(tensors: dict[str, torch.Tensor]) -> str:
    h = hashlib.sha256()
    for k in sorted(tensors):
        h.update(k.encode())
        h.update(
            tensors[k].detach().contiguous().cpu().view(-1).view(torch.uint8).numpy().tobytes()
        )
    return h.hexdigest()


def save_run(run_dir: str | Path, tensors: dict[str, torch.Tensor], config: dict[str, Any]) -> Path:
    """Save weights + config atomically.

    The weights file embeds the config and a hash of its tensor data in its safetensors
    metadata, so it is self-consistent on its own; ``config.json`` (readable copy, with the
    file's SHA-256) is written after it. A crash between the two writes leaves a new weights
    file whose hash differs from the old config.json: ``load_run`` then trusts the embedded
    config, so the newest complete checkpoint always loads.
    """
    run_dir = Path(run_dir)
    missing = [k for k in SECTIONS if k not in config]
    extra = sorted(set(config) - set(SECTIONS) - {"versions", "weights_sha256"})
    if missing or extra:  # a bug in the caller, not the user's input
        raise ValueError(f"a run config needs exactly {SECTIONS}: missing {missing}, extra {extra}")
    cfg = {k: config[k] for k in SECTIONS}
    cfg["versions"] = {
        "format": FORMAT_VERSION,
        "rnnlab": __version__,
        "torch": torch.__version__.split("+")[0],
    }
    tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    meta = {"config": json.dumps(cfg, sort_keys=True), "data_sha256": _data_sha(tensors)}
    blob = save(tensors, metadata=meta)
    atomic_write_bytes(run_dir / WEIGHTS, blob)
    cfg["weights_sha256"] = _sha256(blob)
    atomic_write_json(run_dir / CONFIG, cfg)
    return run_dir


def read_config(run_dir: str | Path) -> dict[str, Any]:
    """Read and sanity-check ``config.json`` of a run directory."""
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise CheckpointError(
            f"run directory {run_dir} does not exist (train one first, or check the path)"
        )
    if not run_dir.is_dir():
        raise CheckpointError(f"{run_dir} is not a run directory (expected a folder with {CONFIG})")
    path = run_dir / CONFIG
    if not path.exists():
        raise CheckpointError(f"{path} is missing: {run_dir} is not an rnnlab run directory")
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path} is corrupted (not valid JSON: {e})") from None
    return check_layout(cfg, path)


def check_layout(cfg: Any, path: str | Path) -> dict[str, Any]:
    """``cfg`` if it is a config of this format; an older or foreign one is a CheckpointError."""
    if isinstance(cfg, dict) and "format_version" in cfg:  # format 1: flat keys
        raise CheckpointError(
            f"{path} was written by rnnlab {cfg.get('rnnlab_version', '0.1')} in the old "
            f"layout (format {cfg['format_version']}); this rnnlab reads format "
            f"{FORMAT_VERSION}: train the run again (`rnnlab {cfg.get('task', '<task>')} train ...`)"
        )
    fmt = (cfg.get("versions") or {}).get("format") if isinstance(cfg, dict) else None
    if not isinstance(fmt, int) or any(k not in cfg for k in SECTIONS):
        raise CheckpointError(f"{path} is not an rnnlab run config (no versions/format)")
    if fmt > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has format version {fmt}, newer than this rnnlab understands "
            f"({FORMAT_VERSION}); upgrade rnnlab"
        )
    return cfg


def load_run(
    run_dir: str | Path, task: str | None = None
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Load ``(tensors, config)``; verify hash, task and readability with clear messages."""
    run_dir = Path(run_dir)
    cfg = read_config(run_dir)
    _check_task(run_dir, cfg, task)
    wpath = run_dir / WEIGHTS
    if not wpath.exists():
        raise CheckpointError(f"{wpath} is missing (the run has no saved weights yet)")
    blob = wpath.read_bytes()
    try:
        tensors = load(blob)
        meta = safe_open_metadata(blob)
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{wpath} is truncated or corrupted (cannot be read: {e})") from None
    if meta.get("data_sha256") and _data_sha(tensors) != meta["data_sha256"]:
        raise CheckpointError(f"{wpath} is corrupted: its tensor data does not match its checksum")
    if cfg.get("weights_sha256") != _sha256(blob):
        # config.json is one write behind (crash between the two writes): the weights file
        # carries its own config, so use that one.
        if "config" not in meta:
            raise CheckpointError(
                f"{wpath} does not match the SHA-256 recorded in {CONFIG}: the file was "
                "replaced or corrupted; retrain or restore it"
            )
        cfg = check_layout(json.loads(meta["config"]), wpath)
        _check_task(run_dir, cfg, task)
    return dequantize(tensors), cfg


# ---- compact weights for shipping (fp16, and int8 rows for the big matrices) ----

INT8, SCALE = ":int8", ":scale"  # key suffixes of a quantized matrix (no parameter has a colon)


def quantize(tensors: dict[str, torch.Tensor], int8_min: int = 65536) -> dict[str, torch.Tensor]:
    """Float tensors as fp16; 2-D float tensors of at least ``int8_min`` elements (embeddings,
    output layers) as symmetric per-row int8 plus one fp32 scale per row. ``load_run`` reads
    both back as fp32 (``dequantize``).

    >>> q = quantize({"w": torch.ones(300, 300), "b": torch.ones(3)})
    >>> sorted(q), q["b"].dtype
    (['b', 'w:int8', 'w:scale'], torch.float16)
    """
    out: dict[str, torch.Tensor] = {}
    for k, v in sorted(tensors.items()):  # one order, so that the same weights give one file
        if not v.is_floating_point():
            out[k] = v
        elif v.dim() == 2 and v.numel() >= int8_min:
            scale = v.abs().amax(dim=1).clamp_min(1e-12) / 127.0
            out[k + INT8] = (v / scale[:, None]).round().clamp(-127, 127).to(torch.int8)
            out[k + SCALE] = scale.float()
        else:
            out[k] = v.half()
    return out


def dequantize(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The inverse of ``quantize`` (fp32 tensors); tensors saved unquantized pass unchanged."""
    out: dict[str, torch.Tensor] = {}
    for k, v in tensors.items():
        if k.endswith(SCALE):
            continue
        if k.endswith(INT8):
            name = k[: -len(INT8)]
            out[name] = v.float() * tensors[name + SCALE][:, None]
        else:
            out[k] = v.float() if v.dtype == torch.float16 else v
    return out


def pack_run(src: str | Path, dest: str | Path, int8_min: int = 65536) -> Path:
    """Copy the weights and config of run ``src`` into ``dest``, compacted by ``quantize``
    (for shipping; ``dest`` loads like any run, but cannot be resumed)."""
    tensors, cfg = load_run(src)
    return save_run(dest, quantize(tensors, int8_min), cfg)


def _check_task(run_dir: Path, cfg: dict[str, Any], task: str | None) -> None:
    if task is not None and cfg.get("task") != task:
        raise CheckpointError(
            f"{run_dir} holds a '{cfg.get('task')}' model, not a '{task}' model; "
            f"use `rnnlab {cfg.get('task')} ...` for it"
        )


def safe_open_metadata(blob: bytes) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors blob (header is 8-byte length + JSON)."""
    n = int.from_bytes(blob[:8], "little")
    if n <= 0 or 8 + n > len(blob):
        raise ValueError("header length out of range")
    return json.loads(blob[8 : 8 + n]).get("__metadata__") or {}


def load_weights_into(
    module: torch.nn.Module, tensors: dict[str, torch.Tensor], where: str
) -> None:
    """``load_state_dict`` with a message naming the file when architectures differ."""
    want = module.state_dict()
    missing = sorted(set(want) - set(tensors))
    extra = sorted(set(tensors) - set(want))
    bad = [k for k in want if k in tensors and tensors[k].shape != want[k].shape]
    if missing or extra or bad:
        parts = []
        if missing:
            parts.append(f"missing {missing[:3]}")
        if extra:
            parts.append(f"unexpected {extra[:3]}")
        if bad:
            k = bad[0]
            parts.append(
                f"shape of {k} is {tuple(tensors[k].shape)}, expected {tuple(want[k].shape)}"
            )
        raise CheckpointError(f"{where} was saved from another architecture: " + "; ".join(parts))
    module.load_state_dict(tensors)


# ---- nested state (optimizer, scheduler, RNG, data position) as tensors + JSON ----


def flatten_state(obj: Any, prefix: str = "") -> tuple[dict[str, torch.Tensor], Any]:
    """Split a nested dict/list state into ``(tensors, json_skeleton)``; tensors are replaced
    in the skeleton by ``{"__tensor__": key}``."""
    tensors: dict[str, torch.Tensor] = {}

    def walk(x: Any, path: str) -> Any:
        if isinstance(x, torch.Tensor):
            tensors[path] = x.detach().cpu().contiguous()
            return {"__tensor__": path}
        if isinstance(x, dict):
            # JSON keys must be strings: remember int keys (optimizer state uses them)
            return {"__dict__": [[k, walk(v, f"{path}.{k}")] for k, v in x.items()]}
        if isinstance(x, (list, tuple)):
            return [walk(v, f"{path}.{i}") for i, v in enumerate(x)]
        return x

    return tensors, walk(obj, prefix or "s")


def unflatten_state(tensors: dict[str, torch.Tensor], skeleton: Any) -> Any:
    def walk(x: Any) -> Any:
        if isinstance(x, dict):
            if "__tensor__" in x:
                return tensors[x["__tensor__"]]
            return {k: walk(v) for k, v in x["__dict__"]}
        if isinstance(x, list):
            return [walk(v) for v in x]
        return x

    return walk(skeleton)


def save_state(run_dir: str | Path, state: dict[str, Any]) -> None:
    """Save a resumable training state atomically: the tensors with the JSON skeleton and a
    hash of their data embedded (self-consistent on its own), then ``state.json`` naming the
    file's SHA-256. A kill between the two writes leaves a newer blob than state.json:
    ``load_state`` then uses the blob's embedded skeleton, like ``save_run``/``load_run``."""
    run_dir = Path(run_dir)
    tensors, skeleton = flatten_state(state)
    tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    meta = {"state": json.dumps(skeleton), "data_sha256": _data_sha(tensors)}
    blob = save(tensors, metadata=meta)
    atomic_write_bytes(run_dir / STATE, blob)
    atomic_write_json(run_dir / STATE_META, {"sha256": _sha256(blob), "state": skeleton})


def load_state(run_dir: str | Path) -> dict[str, Any]:
    """The state written by ``save_state``, verified; a damaged one names its file."""
    run_dir = Path(run_dir)
    meta_path, blob_path = run_dir / STATE_META, run_dir / STATE
    if not meta_path.exists() or not blob_path.exists():
        raise CheckpointError(
            f"{run_dir} has no resumable state ({STATE_META}); start without --resume"
        )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{meta_path} is corrupted: {e}") from None
    blob = blob_path.read_bytes()
    bad = (SafetensorError, OSError, ValueError, RuntimeError)
    if isinstance(meta, dict) and _sha256(blob) == meta.get("sha256"):
        try:
            return unflatten_state(load(blob), meta["state"])
        except bad as e:
            raise CheckpointError(f"{blob_path} cannot be read: {e}") from None
    # state.json is one write behind (killed between the two writes), or the blob is damaged:
    # trust the blob only if it carries its own skeleton and its data matches its checksum
    try:
        tensors, embedded = load(blob), safe_open_metadata(blob)
    except bad:
        tensors, embedded = {}, {}
    if "state" in embedded and _data_sha(tensors) == embedded.get("data_sha256"):
        return unflatten_state(tensors, json.loads(embedded["state"]))
    raise CheckpointError(f"{blob_path} does not match {meta_path} (truncated or corrupted)")
