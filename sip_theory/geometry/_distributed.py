"""torch.distributed support for the neighbour engine.

Under ``torchrun`` (or any initialised default process group) the engine gives
query block b to rank ``b % world_size``; each rank fills the rows it owns and
the per-rank partial results are combined with ``all_reduce``, so every rank
ends with the full, identical result. No scheduler of our own: the process
group is the user's (``torch.distributed.init_process_group``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["Comm", "resolve_comm"]


@dataclass(frozen=True)
class Comm:
    """Rank, world size and the device collectives run on (a no-op when world == 1)."""

    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def active(self) -> bool:
        return self.world > 1

    def owns(self, block: int) -> bool:
        """Whether this rank computes query block ``block`` (round robin)."""
        return block % self.world == self.rank

    def _reduce(self, t: torch.Tensor, op) -> torch.Tensor:
        if not self.active:
            return t
        import torch.distributed as dist

        work = t.to(self.device).contiguous()
        dist.all_reduce(work, op=op)
        return work.to(t.device)

    def sum(self, t: torch.Tensor) -> torch.Tensor:
        """All-reduce sum (exact for integers and for disjoint zero-padded rows)."""
        import torch.distributed as dist

        return self._reduce(t, dist.ReduceOp.SUM) if self.active else t

    def max(self, t: torch.Tensor) -> torch.Tensor:
        import torch.distributed as dist

        return self._reduce(t, dist.ReduceOp.MAX) if self.active else t

    def min(self, t: torch.Tensor) -> torch.Tensor:
        import torch.distributed as dist

        return self._reduce(t, dist.ReduceOp.MIN) if self.active else t


def resolve_comm(distributed) -> Comm:
    """Return the communicator for ``distributed`` in {"auto", True, False}.

    ``"auto"`` shards when a default process group is initialised with more than
    one rank; ``True`` requires one; ``False`` never shards.

    Examples
    --------
    >>> resolve_comm(False).world
    1
    """
    if distributed is False:
        return Comm()
    if distributed not in ("auto", True):
        raise ValueError(f"distributed must be 'auto', True or False, got {distributed!r}")
    import torch.distributed as dist

    initialised = dist.is_available() and dist.is_initialized()
    if not initialised:
        if distributed is True:
            raise ValueError(
                "distributed=True but no torch.distributed process group is initialised "
                "(launch with torchrun and call torch.distributed.init_process_group)"
            )
        return Comm()
    world = dist.get_world_size()
    if world == 1:
        return Comm()
    backend = str(dist.get_backend()).lower()
    device = (
        torch.device("cuda", torch.cuda.current_device()) if backend == "nccl"
        else torch.device("cpu")
    )
    return Comm(rank=dist.get_rank(), world=world, device=device)
