"""The training worker: one thread per run (never the request's), at most ``Limits.max_runs``
at once, one run per browser session, a training-time cap, and cancellation when nobody has
watched for ``Limits.idle_seconds``. Runs are ephemeral: a restart forgets them.

>>> mgr = Manager(Limits(max_runs=1))
>>> job = mgr.start("session-a", RunKnobs.model_validate({"lanes": [{"cell": "gru"}]}))
>>> mgr.control("session-a", "play"); mgr.wait(job, 0, timeout=5)["step"] >= 0
True
>>> mgr.stop("session-a")
"""

from __future__ import annotations

import atexit
import threading
import time
import uuid
import weakref
from typing import Any, Literal

import torch

from rnnlab.errors import InputError
from rnnlab.tasks.playground.config import Limits, RunKnobs
from rnnlab.tasks.playground.run import Run

_MANAGERS: weakref.WeakSet[Manager] = weakref.WeakSet()
Action = Literal["play", "pause", "step", "reset"]
LIVE = ("starting", "paused", "playing")
# an ended run stays readable (its page shows the final curves) this long after it was last
# seen, and at most this many of them: every new browser session would otherwise keep one
KEEP_ENDED_S = 300.0
MAX_ENDED = 32


class Busy(Exception):
    """Every slot is taken: the message says so and what to do."""


class NoRun(InputError):
    """This session has no run (the page should press Play first)."""


class Job:
    """A run and its thread's state; ``snapshot`` is the latest one, ``version`` counts them."""

    def __init__(self, sid: str, knobs: RunKnobs, limits: Limits):
        self.id, self.sid, self.knobs, self.limits = uuid.uuid4().hex[:12], sid, knobs, limits
        self.state, self.reason = "starting", ""
        self.run: Run | None = None
        self.snapshot: dict[str, Any] | None = None
        self.version = 0
        self.generation = 0  # rebuilds (reset): a stream starts its curves over
        self.steps_wanted = 0  # "step" presses not yet taken
        self.train_seconds = 0.0
        self.seen = self.born = time.monotonic()  # seen: the last poll or streamed event
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._loop, name=f"playground-{self.id}", daemon=True)

    # ---- called from requests ---------------------------------------------------------------
    def touch(self) -> None:
        self.seen = time.monotonic()

    def command(self, action: Action) -> None:
        with self.cond:
            if self.state not in LIVE:
                raise InputError(f"this run has {self.state} ({self.reason}): start a new one")
            if action == "play":
                self.state = "playing"
            elif action == "pause":
                self.state = "paused"
            elif action == "step":
                self.state, self.steps_wanted = "paused", self.steps_wanted + 1
            elif action == "reset":
                self.state, self.steps_wanted, self.run = "paused", 0, None
                self.train_seconds = 0.0
            self._bump()

    def _bump(self, snap: dict[str, Any] | None = None) -> None:
        """A new snapshot (or the state change of a command) for the streams; under ``cond``."""
        self.version += 1
        base = snap if snap is not None else self.snapshot
        if base is not None:
            self.snapshot = {**base, **self.info()}
        self.cond.notify_all()

    def cancel(self, reason: str) -> None:
        with self.cond:
            if self.state in LIVE:
                self.state, self.reason = "cancelled", reason
                self._bump()

    def info(self) -> dict[str, Any]:
        return {"id": self.id, "state": self.state, "reason": self.reason,
                "train_seconds": round(self.train_seconds, 2), "version": self.version,
                "generation": self.generation}  # fmt: skip

    # ---- the worker thread --------------------------------------------------------------
    def _publish(self, run: Run) -> None:
        snap = run.snapshot()
        with self.cond:
            if run is self.run:  # not a run that a reset has replaced meanwhile
                self._bump(snap)

    def _next_action(self) -> str:
        """Wait for something to do: "build", "step", "publish" or "stop"."""
        lim = self.limits
        with self.cond:
            while True:
                if self.state not in LIVE:
                    return "stop"
                if time.monotonic() - self.seen > lim.idle_seconds:
                    self.state = "cancelled"
                    self.reason = f"nobody watched it for {lim.idle_seconds:g} s"
                    return "stop"
                if time.monotonic() - self.born > lim.max_life:
                    self.state = "finished"
                    self.reason = f"a run lasts at most {lim.max_life:g} s, paused or not"
                    return "stop"
                if self.run is None:
                    return "build"
                if self.train_seconds >= lim.max_seconds:
                    self.state = "finished"
                    self.reason = f"the time cap of {lim.max_seconds:g} s of training was reached"
                    return "stop"
                if self.state == "playing" or self.steps_wanted:
                    self.steps_wanted = max(0, self.steps_wanted - 1)
                    return "step"
                self.cond.wait(0.5)

    def _loop(self) -> None:
        torch.set_num_threads(1)  # this thread's runs: one CPU thread each (see train.threads)
        last, run = 0.0, None
        try:
            while (what := self._next_action()) != "stop":
                if what == "build":
                    run = Run(self.knobs)
                    with self.cond:
                        self.run, self.generation = run, self.generation + 1
                        if self.state == "starting":
                            self.state = "paused"
                    self._publish(run)
                    last = time.monotonic()
                    continue
                run = self.run
                t0 = time.monotonic()
                run.step()
                self.train_seconds += time.monotonic() - t0
                if self.state != "playing" or time.monotonic() - last >= self.limits.interval:
                    self._publish(run)
                    last = time.monotonic()
        except Exception as e:  # a run that breaks says so on the page; the server lives on
            with self.cond:
                self.state, self.reason = "failed", f"{type(e).__name__}: {e}"[:300]
        finally:
            if run is not None and run is self.run:
                self._publish(run)  # the final state, so a stream ends with it


class Manager:
    """The runs of one server, by session id."""

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or Limits()
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()
        _MANAGERS.add(self)

    def active(self) -> int:
        return sum(j.state in LIVE and j.thread.is_alive() for j in self.jobs.values())

    def start(self, sid: str, knobs: RunKnobs) -> Job:
        """A new run for ``sid`` (its previous one is cancelled), paused at step 0; ``Busy``
        when ``max_runs`` other sessions are training."""
        with self.lock:
            old = self.jobs.pop(sid, None)
            if old is not None:
                old.cancel("replaced by a new run")
            self._prune()
            n = self.limits.max_runs
            if self.active() >= n:
                raise Busy(
                    f"the server is already training {n} run{'s' * (n != 1)}, its limit: "
                    "try again when one ends (stop a run in another tab, or wait up to "
                    f"{self.limits.max_seconds:g} s)"
                )
            job = self.jobs[sid] = Job(sid, knobs, self.limits)
            job.thread.start()
            return job

    def _prune(self) -> None:
        """Forget ended runs unseen for ``KEEP_ENDED_S``, and all but the ``MAX_ENDED`` most
        recently seen (the caller holds the lock)."""
        now = time.monotonic()
        ended = sorted(
            (j for j in self.jobs.values() if j.state not in LIVE and not j.thread.is_alive()),
            key=lambda j: j.seen,
        )
        for k, j in enumerate(ended):
            if now - j.seen > KEEP_ENDED_S or k < len(ended) - MAX_ENDED:
                del self.jobs[j.sid]

    def get(self, sid: str | None) -> Job:
        job = self.jobs.get(sid or "")
        if job is None:
            raise NoRun("this browser session has no run: press Play to start one")
        return job

    def control(self, sid: str | None, action: Action) -> Job:
        job = self.get(sid)
        job.touch()
        job.command(action)
        return job

    def stop(self, sid: str | None, reason: str = "stopped") -> None:
        self.get(sid).cancel(reason)

    def wait(self, job: Job, version: int, timeout: float) -> dict[str, Any] | None:
        """The job's snapshot once it is newer than ``version`` (None after ``timeout``)."""
        with job.cond:
            job.cond.wait_for(lambda: job.version > version, timeout)
            return job.snapshot if job.version > version else None

    def close(self, wait: float = 5.0) -> None:
        """Cancel every run and wait up to ``wait`` s for their threads (the server stops)."""
        with self.lock:
            jobs = list(self.jobs.values())
        for job in jobs:
            job.cancel("the server stopped")
        t_end = time.monotonic() + wait
        for job in jobs:
            if job.thread.is_alive():
                job.thread.join(max(0.0, t_end - time.monotonic()))


@atexit.register
def _close_all() -> None:
    # a daemon thread killed inside torch at exit aborts the process ("terminate called
    # without an active exception"): let each run finish its step first
    for mgr in list(_MANAGERS):
        mgr.close(wait=2.0)
