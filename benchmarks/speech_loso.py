"""Leave-one-speaker-out speech benchmark (issue 26): for each FSDD speaker, train on the other
five and test on every recording of the one never heard; with today's augmentation (``spec``:
SpecAugment masks) and with voice augmentation (``voice``: speed, pitch, vocal-tract warp,
room, level, then the masks), side by side, same model, seed and time budget.

    python benchmarks/speech_loso.py [--data ../shared/data/fsdd] [--minutes 10] [--workers 2]
        [--task digits|connected] [--speakers george,jackson] [--augment spec,voice]
        [--set speech_db=25 --set 'features="mfcc"'] [--val-next] [--train-on K]

Targets: isolated digits >= 95% averaged over all six held-out speakers; connected digits
WER <= 5% on held-out speakers; <= 10 minutes of training per fold. ``--workers`` folds run at
once (one thread each): say how many when quoting the figures, since they share the cores.
``--train-on K`` trains each fold on only K of the other speakers (the K after the held-out one,
alphabetically, wrapping round): a learning curve over the number of voices.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from rnnlab.data.audio import fsdd_index
from rnnlab.io import atomic_write_json


def subset(data: Path, out: Path, speakers: list[str]) -> Path:
    """A folder of links to the recordings of ``speakers`` only (FSDD read-only, not copied)."""
    folder = out / f"data-{'+'.join(speakers)}"
    folder.mkdir(parents=True, exist_ok=True)
    for r in fsdd_index(data):
        link = folder / r.path.name
        if r.speaker in speakers and not link.exists():
            link.symlink_to(r.path.resolve())
    return folder


def fold(args: tuple[Path, Path, str, str, str, float, dict, list[str] | None]) -> dict:
    data, out, task, speaker, augment, minutes, extra, voices = args
    from rnnlab.tasks.speech.train import train_speech

    name = f"{task}-{augment}-{speaker}"
    if voices is not None:
        data, name = subset(data, out, [speaker, *voices]), f"{name}-k{len(voices)}"
    load0, t0 = os.getloadavg(), time.monotonic()
    r = train_speech(
        data,
        out / name,
        task=task,
        split_by="speaker",
        test_speaker=speaker,
        augment=augment,
        time_budget=minutes * 60,
        progress=False,
        threads=1,
        **extra,
    )
    return {
        "task": task,
        "speaker": speaker,
        "augment": augment,
        "settings": extra,
        "train_speakers": json.loads((out / name / "config.json").read_text())["data"]["split"][
            "train_speakers"
        ],
        "val_acc": r["val"]["acc"],
        "test_acc": r["test"]["acc"],
        "test_wer": r["test"]["wer"],
        "n_test": r["test"]["n"],
        "steps": r["steps"],
        "train_seconds": r["seconds"],
        "wall_seconds": round(time.monotonic() - t0, 1),
        "load": [round(load0[0], 2), round(os.getloadavg()[0], 2)],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data/fsdd"))
    ap.add_argument("--minutes", type=float, default=10.0, help="training budget per fold")
    ap.add_argument("--workers", type=int, default=2, help="folds trained at once")
    ap.add_argument("--task", default="digits", choices=("digits", "connected"))
    ap.add_argument("--speakers", default="", help="comma-separated (default: all)")
    ap.add_argument("--augment", default="spec,voice")
    ap.add_argument("--out", type=Path, default=Path("runs/bench-speech-loso"))
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=JSON",
        help="another train_speech setting for every fold, e.g. --set speech_db=35",
    )
    ap.add_argument(
        "--val-next",
        action="store_true",
        help="validate each fold on the next speaker (alphabetically), not trained on",
    )
    ap.add_argument(
        "--train-on",
        type=int,
        default=0,
        metavar="K",
        help="train each fold on only K of the other speakers (default: all of them)",
    )
    a = ap.parse_args()
    if not a.data.exists():
        raise SystemExit(f"FSDD not found at {a.data}: pass --data")
    speakers = sorted({r.speaker for r in fsdd_index(a.data)})
    if a.speakers:
        speakers = [s for s in speakers if s in a.speakers.split(",")]
    extra = {k: json.loads(v) for k, v in (kv.split("=", 1) for kv in a.set)}
    everyone = sorted({r.speaker for r in fsdd_index(a.data)})
    if not 0 <= a.train_on < len(everyone):
        raise SystemExit(f"--train-on must be 1..{len(everyone) - 1} (other speakers)")

    def settings(s: str) -> dict:
        if not a.val_next:
            return extra
        return {**extra, "val_speaker": everyone[(everyone.index(s) + 1) % len(everyone)]}

    def voices(s: str) -> list[str] | None:
        if not a.train_on:
            return None
        others = everyone[everyone.index(s) + 1 :] + everyone[: everyone.index(s)]
        return others[: a.train_on]

    jobs = [
        (a.data, a.out, a.task, s, aug, a.minutes, settings(s), voices(s))
        for aug in a.augment.split(",")
        for s in speakers
    ]
    rows = []
    with ProcessPoolExecutor(a.workers) as pool:
        for row in pool.map(fold, jobs):
            rows.append(row)
            print(json.dumps(row), flush=True)
            atomic_write_json(a.out / f"results-{a.task}.json", rows)
    metric = "test_acc" if a.task == "digits" else "test_wer"
    print("\n| held-out speaker | " + " | ".join(a.augment.split(",")) + " |")
    print("|---|" + "---:|" * len(a.augment.split(",")))
    by = {(r["speaker"], r["augment"]): r for r in rows}
    for s in speakers:
        cells = [
            f"{by[s, g][metric]:.1%} ({by[s, g]['steps']} steps)" for g in a.augment.split(",")
        ]
        print(f"| {s} | " + " | ".join(cells) + " |")
    means = [sum(by[s, g][metric] for s in speakers) / len(speakers) for g in a.augment.split(",")]
    print("| **mean** | " + " | ".join(f"**{m:.1%}**" for m in means) + " |")
    print(f"({a.workers} folds at once, {a.minutes:g} min each, {metric})")


if __name__ == "__main__":
    main()
