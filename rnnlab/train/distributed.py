"""Data-parallel training under ``torchrun`` (DistributedDataParallel), usable by any task.

Outside torchrun everything here is a no-op: ``setup`` returns rank 0 of a world of 1 and
``wrap`` returns the model itself.

>>> dist = setup(torch.device("cpu"), steps=2000, time_budget=None)   # doctest: +SKIP
>>> net = dist.wrap(model)                                            # doctest: +SKIP
>>> shas = dist.finish(model)    # every rank's weights hash, gathered  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import torch
from torch import nn

from rnnlab.errors import InputError


def dist_info() -> tuple[int, int]:
    """(rank, world size) under torchrun, (0, 1) otherwise."""
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


def weights_sha(model: nn.Module) -> str:
    """SHA-256 of a model's parameters and buffers (to check that ranks agree)."""
    h = hashlib.sha256()
    for k, v in model.state_dict().items():
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


@dataclass
class Distributed:
    rank: int
    world: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def wrap(self, model: nn.Module) -> nn.Module:
        """The module to train: DDP around ``model`` when there are several processes."""
        if self.world == 1:
            return model
        from torch.nn.parallel import DistributedDataParallel as DDP

        return DDP(model, device_ids=[self.device.index] if self.device.type == "cuda" else None)

    def finish(self, model: nn.Module) -> list[str]:
        """Every rank's ``weights_sha`` (gathered), then close the process group."""
        shas = [weights_sha(model)]
        if self.world > 1:
            import torch.distributed as dist

            shas *= self.world
            dist.all_gather_object(shas, shas[0])
            dist.barrier()
            dist.destroy_process_group()
        return shas

    def abort(self) -> None:
        """Close the process group after an error (so the other ranks are not left hanging)."""
        if self.world > 1:
            import torch.distributed as dist

            if dist.is_initialized():
                dist.destroy_process_group()


def setup(device: torch.device, *, steps: int | None, time_budget: float | None) -> Distributed:
    """Join the torchrun process group (gloo on CPU, nccl on CUDA) if there is one."""
    rank, world = dist_info()
    if world > 1:
        import torch.distributed as dist

        if time_budget is not None and steps is None:
            raise InputError(
                "under torchrun give --steps N (a time budget would let processes stop at "
                "different steps and hang); e.g. --steps 2000"
            )
        if not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(device)
    return Distributed(rank, world, device)
