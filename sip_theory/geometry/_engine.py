"""The neighbour engine: exact, blocked distance computation in torch, on CPU or GPU.

Every O(n^2) quantity in :mod:`sip_theory.geometry` is a reduction over the
rows of the distance matrix. The engine computes that matrix one block of
query rows at a time (``chunk_size`` rows against all n points, sized from a
memory budget), hands each block to a list of *consumers* (k nearest
neighbours, ranks of graph neighbours, counts over all pairs, log-sum-exp for
uniformity, a pair histogram), and keeps only their O(n k + m) summaries, so
memory never grows as n^2. One pass serves every metric: the result is a
:class:`Neighbors` object that each metric accepts.

Conventions, each one explicit:

* ``metric`` is one of ``"euclidean"`` (unsquared), ``"sqeuclidean"``,
  ``"cosine"`` (1 - cosine similarity) and ``"dot"`` (negative inner product,
  so that *smaller is nearer* for every metric).
* A point is never its own neighbour (self-exclusion by index, not by value:
  a duplicate point is a neighbour at distance 0).
* Ties are broken by index: neighbours are ordered by (distance, index).
* Euclidean distances are computed as |x|^2 + |y|^2 - 2 x.y (one GEMM per
  block); pairs for which that expansion could have lost all precision
  (d^2 below a few hundred ulps of |x|^2 + |y|^2) are recomputed from the
  difference, so duplicates are at distance exactly 0. Distances of graph
  edges are always computed from the difference, so they are exactly
  symmetric and do not depend on the blocking.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from .._validation import check_one_of, check_positive_int
from ._arrays import DEFAULT_MEMORY_BUDGET, SMALL_WORK, parse_memory, single_thread_if_small
from ._distributed import Comm

__all__ = ["BACKENDS", "METRICS", "chunk_size_for"]

METRICS = ("euclidean", "sqeuclidean", "cosine", "dot")
BACKENDS = ("torch", "faiss", "auto")

# scratch tensors per block, in units of one (rows x n) distance block
_BLOCK_FACTOR = 4


def chunk_size_for(n_columns: int, *, itemsize: int = 4,
                   memory_budget=DEFAULT_MEMORY_BUDGET) -> int:
    """Rows per block so that a block's scratch memory stays within ``memory_budget``.

    A block of ``r`` query rows against ``n_columns`` points needs about
    ``4 * r * n_columns * itemsize`` bytes (the distances, their sorted copy and
    temporaries).

    Examples
    --------
    >>> chunk_size_for(100_000, itemsize=4, memory_budget="512MiB")
    335
    """
    budget = parse_memory(memory_budget)
    per_row = max(1, n_columns) * itemsize * _BLOCK_FACTOR
    return max(1, budget // per_row)


# ----------------------------------------------------------------------------- sorting helpers
_POOL: ThreadPoolExecutor | None = None


_LOCAL = threading.local()


def _threads() -> int:
    """Threads for numpy sorts: 1 inside a block worker (the workers already share the cores)."""
    if getattr(_LOCAL, "worker", False):
        return 1
    return max(1, min(torch.get_num_threads(), os.cpu_count() or 1))


def cpu_workers() -> int:
    """How many block workers a CPU sweep runs: one per torch thread."""
    return max(1, min(torch.get_num_threads(), os.cpu_count() or 1))


def run_blocks(jobs: list, fn, *, workers: int = 1, progress=False, desc="distances",
               rank: int = 0) -> None:
    """Call ``fn(worker_id, job)`` for every job.

    With ``workers > 1`` the jobs run on that many Python threads, each doing
    single-threaded torch and numpy work (both release the GIL): whole blocks run
    in parallel instead of splitting every small operation over OpenMP threads,
    whose barriers dominate on a busy machine. torch's intra-op thread count is
    set to 1 meanwhile and restored afterwards. Results must not depend on the
    order of the jobs (each block writes its own rows or its own slot).
    """
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(jobs), desc=desc, unit="block", disable=rank != 0)
    try:
        if workers <= 1 or len(jobs) <= 1:
            for job in jobs:
                fn(0, job)
                if bar is not None:
                    bar.update(1)
            return
        lock = threading.Lock()
        queue = iter(jobs)
        failed = threading.Event()

        def loop(wid):
            _LOCAL.worker = True
            try:
                while not failed.is_set():
                    with lock:
                        job = next(queue, None)
                    if job is None:
                        return
                    try:
                        fn(wid, job)
                    except BaseException:
                        failed.set()  # the other workers stop at their next job
                        raise
                    if bar is not None:
                        with lock:
                            bar.update(1)
            finally:
                _LOCAL.worker = False

        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with ThreadPoolExecutor(max_workers=workers) as ex:
                futures = [ex.submit(loop, w) for w in range(workers)]
                for f in futures:
                    f.result()
        finally:
            torch.set_num_threads(before)
    finally:
        if bar is not None:
            bar.close()


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=_threads())
    return _POOL


def _split(n: int, parts: int) -> list:
    bounds = np.linspace(0, n, max(1, min(parts, n)) + 1).astype(int)
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def _sort_rows(D: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """Each row of ``D`` sorted ascending, into ``out`` (a buffer of D's shape) if given.

    CPU: numpy's SIMD sort, rows split over the threads; GPU: torch.sort.
    """
    if D.device.type != "cpu":
        return torch.sort(D, dim=1).values
    if out is None:
        out = torch.empty_like(D)
    a, o = D.numpy(), out.numpy()

    def work(lo_hi):
        lo, hi = lo_hi
        o[lo:hi] = a[lo:hi]
        o[lo:hi].sort(axis=1)

    chunks = _split(a.shape[0], _threads())
    if len(chunks) == 1 or a.size < 1 << 16:
        work((0, a.shape[0]))
    else:
        list(_pool().map(work, chunks))
    return out


def _sort_and_count(buf, thresholds, extra=None) -> tuple:
    """Sort ``buf`` (1-D, in place, in per-thread segments) and count, for each sorted
    threshold, the values <= and < it; ``extra`` thresholds get the <= count only."""
    if isinstance(buf, torch.Tensor):
        srt = torch.sort(buf).values
        le = torch.searchsorted(srt, thresholds, right=True)
        lt = torch.searchsorted(srt, thresholds, right=False)
        ex = None if extra is None else torch.searchsorted(srt, extra, right=True)
        return le.cpu().numpy(), lt.cpu().numpy(), None if ex is None else ex.cpu().numpy()

    def work(lo_hi):
        seg = buf[lo_hi[0]:lo_hi[1]]
        seg.sort()
        le = np.searchsorted(seg, thresholds, side="right")
        lt = np.searchsorted(seg, thresholds, side="left")
        ex = None if extra is None else np.searchsorted(seg, extra, side="right")
        return le, lt, ex

    chunks = _split(buf.shape[0], _threads() if buf.shape[0] >= 1 << 16 else 1)
    results = [work(chunks[0])] if len(chunks) == 1 else list(_pool().map(work, chunks))
    le = sum(r[0] for r in results)
    lt = sum(r[1] for r in results)
    ex = None if extra is None else sum(r[2] for r in results)
    return le, lt, ex


def _sqrt_(t: torch.Tensor) -> torch.Tensor:
    """In-place square root, correctly rounded (numpy's on CPU: torch's float64 CPU sqrt
    can be one ulp off, which would split ties that other libraries keep)."""
    if t.device.type == "cpu" and t.is_contiguous():
        a = t.numpy()
        np.sqrt(a, out=a)
        return t
    return t.sqrt_()


# ----------------------------------------------------------------------------- the space
class _Space:
    """Query and reference points prepared for one metric (norms precomputed)."""

    def __init__(self, queries: torch.Tensor, reference: torch.Tensor | None, metric: str,
                 *, need_inv_norm: bool = False, name: str = "embeddings"):
        self.Q = queries
        self.R = queries if reference is None else reference
        self.same = reference is None
        self.metric = metric
        self.n_queries = int(self.Q.shape[0])
        self.n_columns = int(self.R.shape[0])
        self.dtype = self.Q.dtype
        self.device = self.Q.device
        d = int(self.Q.shape[1])
        self.sq_q = self.sq_r = None
        self.inv_q = self.inv_r = None
        if metric in ("euclidean", "sqeuclidean"):
            self.sq_q = (self.Q * self.Q).sum(1)
            self.sq_r = self.sq_q if self.same else (self.R * self.R).sum(1)
            self._sq_r_max = float(self.sq_r.max())
        if metric == "cosine" or need_inv_norm:
            self.inv_q = self._inv_norm(self.Q, name)
            self.inv_r = self.inv_q if self.same else self._inv_norm(self.R, "reference")
        # relative size below which |x|^2+|y|^2-2x.y is recomputed from x - y
        self.rel_tol = 8.0 * max(d, 16) * torch.finfo(self.dtype).eps
        self.edge_rows: np.ndarray | None = None  # CSR indptr of overridden (edge) entries
        self.edge_cols: torch.Tensor | None = None
        self.edge_vals: torch.Tensor | None = None

    @staticmethod
    def _inv_norm(x: torch.Tensor, name: str) -> torch.Tensor:
        norms = torch.linalg.vector_norm(x, dim=1)
        zero = norms == 0
        if bool(zero.any()):
            rows = torch.nonzero(zero).flatten().tolist()
            shown = ", ".join(map(str, rows[:5])) + (" ..." if len(rows) > 5 else "")
            raise ValueError(
                f"{name} has {len(rows)} row(s) of zero norm (rows {shown}); the cosine "
                "distance and normalised embeddings are undefined for them"
            )
        return 1.0 / norms

    # -- canonical per-pair distances (exactly symmetric, blocking-independent)
    def pair_distances(self, i: torch.Tensor, j: torch.Tensor, *, rows_per_step=None):
        """Distances of pairs (Q[i], R[j]) from the coordinates directly."""
        out = torch.empty(i.shape[0], dtype=self.dtype, device=self.device)
        step = rows_per_step or max(1, (1 << 18) // max(1, self.Q.shape[1]))
        for s in range(0, i.shape[0], step):
            a, b = self.Q[i[s:s + step]], self.R[j[s:s + step]]
            if self.metric in ("euclidean", "sqeuclidean"):
                diff = a - b
                v = (diff * diff).sum(1)
                out[s:s + step] = _sqrt_(v) if self.metric == "euclidean" else v
            elif self.metric == "cosine":
                v = (a * b).sum(1) * self.inv_q[i[s:s + step]] * self.inv_r[j[s:s + step]]
                out[s:s + step] = (1.0 - v).clamp(0.0, 2.0)
            else:
                out[s:s + step] = -(a * b).sum(1)
        return out

    def gram(self, r0: int, r1: int, out: torch.Tensor | None = None) -> torch.Tensor:
        if out is None:
            return self.Q[r0:r1] @ self.R.T
        return torch.mm(self.Q[r0:r1], self.R.T, out=out)

    def expanded(self, r0: int, r1: int, out: torch.Tensor) -> torch.Tensor:
        """|y|^2 - 2 x.y for the block, with the column norms folded into the GEMM."""
        return torch.addmm(self.sq_r[None, :], self.Q[r0:r1], self.R.T, beta=1.0, alpha=-2.0,
                           out=out)

    def finish(self, G: torch.Tensor, r0: int, r1: int, exclude_self: bool,
               expanded: bool = False) -> torch.Tensor:
        """Turn a Gram block (or, with ``expanded``, the output of :meth:`expanded`) into
        distances in place; self entries -> +inf."""
        b = r1 - r0
        ar = torch.arange(b, device=self.device)
        if self.metric in ("euclidean", "sqeuclidean"):
            if not expanded:
                G.mul_(-2.0).add_(self.sq_r[None, :])
            G.add_(self.sq_q[r0:r1, None]).clamp_(min=0.0)
            if exclude_self:
                G[ar, ar + r0] = math.inf
            self._refine_small(G, r0, r1)
            if self.metric == "euclidean":
                _sqrt_(G)
        elif self.metric == "cosine":
            G.mul_(self.inv_q[r0:r1, None]).mul_(self.inv_r[None, :])
            G.neg_().add_(1.0).clamp_(0.0, 2.0)
            if exclude_self:
                G[ar, ar + r0] = math.inf
        else:
            G.neg_()
            if exclude_self:
                G[ar, ar + r0] = math.inf
        if self.edge_rows is not None:
            p0, p1 = int(self.edge_rows[r0]), int(self.edge_rows[r1])
            if p1 > p0:
                deg = torch.as_tensor(np.diff(self.edge_rows[r0:r1 + 1]), device=self.device)
                rows = torch.repeat_interleave(ar, deg)
                G[rows, self.edge_cols[p0:p1]] = self.edge_vals[p0:p1]
        return G

    def _refine_small(self, D2: torch.Tensor, r0: int, r1: int) -> None:
        """Recompute squared distances that the GEMM expansion may have cancelled away."""
        row_min = D2.min(dim=1).values
        bound = self.rel_tol * (self.sq_q[r0:r1] + self._sq_r_max)
        rows = torch.nonzero(row_min <= bound).flatten()
        if rows.numel() == 0:
            return
        sub = D2[rows]
        mask = sub <= self.rel_tol * (self.sq_q[r0 + rows, None] + self.sq_r[None, :])
        rr, cc = torch.nonzero(mask, as_tuple=True)
        qi = r0 + rows[rr]
        diff_sq = torch.empty(qi.shape[0], dtype=self.dtype, device=self.device)
        step = max(1, (1 << 18) // max(1, self.Q.shape[1]))
        for s in range(0, qi.shape[0], step):
            diff = self.Q[qi[s:s + step]] - self.R[cc[s:s + step]]
            diff_sq[s:s + step] = (diff * diff).sum(1)
        D2[rows[rr], cc] = diff_sq


class _Block:
    """One block of query rows [r0, r1) with its distances to all reference points."""

    __slots__ = ("index", "r0", "r1", "D", "same", "_sorted", "_sort_buf")

    def __init__(self, index, r0, r1, D, same, sort_buf=None):
        self.index, self.r0, self.r1, self.D, self.same = index, r0, r1, D, same
        self._sorted = None
        self._sort_buf = sort_buf

    @property
    def has_sorted(self) -> bool:
        return self._sorted is not None

    def sorted_rows(self) -> torch.Tensor:
        if self._sorted is None:
            self._sorted = _sort_rows(self.D, self._sort_buf)
        return self._sorted

    def upper_pieces(self, T: torch.Tensor | None = None) -> tuple:
        """Values of ``T`` (default the distances) at pairs i < j: a (rows, cols) view
        of the columns right of the block, and the flattened upper triangle inside it."""
        T = self.D if T is None else T
        b = self.r1 - self.r0
        rect = T[:, self.r1:]
        if b < 2:
            return rect, T.new_empty(0)
        iu = torch.triu_indices(b, b, 1, device=T.device)
        return rect, T[:, self.r0:self.r1][iu[0], iu[1]]


# ----------------------------------------------------------------------------- consumers
class _Consumer:
    def on_gram(self, index: int, r0: int, r1: int, G: torch.Tensor) -> None:  # noqa: B027
        pass

    def update(self, blk: _Block) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def reduce(self, comm: Comm) -> None:  # noqa: B027
        pass


class _KNN(_Consumer):
    """k nearest neighbours per query row, ordered by (distance, index)."""

    def __init__(self, n: int, k: int, dtype, device):
        self.k = k
        self.indices = torch.zeros((n, k), dtype=torch.int64, device=device)
        self.distances = torch.zeros((n, k), dtype=dtype, device=device)

    def update(self, blk: _Block) -> None:
        D, k = blk.D, self.k
        vals, idx = torch.topk(D, k, dim=1, largest=False, sorted=True)
        if k < D.shape[1]:
            thr = vals[:, -1]
            if blk.has_sorted:
                straddle = blk.sorted_rows()[:, k] == thr
            else:
                straddle = (D <= thr[:, None]).sum(1) > k
            if bool(straddle.any()):
                rows = torch.nonzero(straddle).flatten()
                Ds, th = D[rows], thr[rows, None]
                below = Ds < th
                eq = Ds == th
                room = k - below.sum(1, keepdim=True)
                take = below | (eq & (torch.cumsum(eq, dim=1) <= room))
                cols = torch.nonzero(take)[:, 1].view(-1, k)
                idx[rows] = cols
                vals[rows] = Ds.gather(1, cols)
        idx, perm = torch.sort(idx, dim=1)
        vals = vals.gather(1, perm)
        vals, perm = torch.sort(vals, dim=1, stable=True)
        idx = idx.gather(1, perm)
        self.indices[blk.r0:blk.r1] = idx
        self.distances[blk.r0:blk.r1] = vals

    def reduce(self, comm: Comm) -> None:
        self.indices = comm.sum(self.indices)
        self.distances = comm.sum(self.distances)


class _EdgeRanks(_Consumer):
    """Within-row ranks of each graph neighbour and each row's smallest non-edge distance."""

    def __init__(self, indptr: np.ndarray, indices: torch.Tensor, dtype, device):
        self.indptr = indptr
        self.indices = indices
        m2 = int(indices.shape[0])
        n = indptr.shape[0] - 1
        self.rank_lt = torch.zeros(m2, dtype=torch.int64, device=device)
        self.rank_le = torch.zeros(m2, dtype=torch.int64, device=device)
        self.distance = torch.zeros(m2, dtype=dtype, device=device)
        self.min_nonedge = torch.zeros(n, dtype=dtype, device=device)

    def update(self, blk: _Block) -> None:
        D = blk.D
        b, ncol = D.shape
        dev = D.device
        p0, p1 = int(self.indptr[blk.r0]), int(self.indptr[blk.r1])
        deg_np = np.diff(self.indptr[blk.r0:blk.r1 + 1])
        maxdeg = int(deg_np.max()) if b else 0
        S = blk.sorted_rows()
        width = maxdeg + 1
        pad = torch.full((b, width), math.inf, dtype=D.dtype, device=dev)
        if p1 > p0:
            deg = torch.as_tensor(deg_np, device=dev)
            rows = torch.repeat_interleave(torch.arange(b, device=dev), deg)
            starts = torch.as_tensor(self.indptr[blk.r0:blk.r1] - p0, device=dev)
            pos = torch.arange(p1 - p0, device=dev) - torch.repeat_interleave(starts, deg)
            cols = self.indices[p0:p1]
            t = D[rows, cols]
            pad[rows, pos] = t
            vals = pad[:, :maxdeg].contiguous()
            lt = torch.searchsorted(S, vals, right=False)
            le = torch.searchsorted(S, vals, right=True)
            self.rank_lt[p0:p1] = lt[rows, pos]
            self.rank_le[p0:p1] = le[rows, pos]
            self.distance[p0:p1] = t
        pos_sorted = torch.sort(pad, dim=1).values
        if ncol >= width:
            head = S[:, :width]
        else:
            head = torch.cat(
                [S, torch.full((b, width - ncol), math.inf, dtype=S.dtype, device=dev)], 1
            )
        mismatch = head != pos_sorted
        first = torch.argmax(mismatch.to(torch.uint8), dim=1)
        found = mismatch.any(dim=1)
        mn = head.gather(1, first[:, None]).squeeze(1)
        self.min_nonedge[blk.r0:blk.r1] = torch.where(found, mn, torch.full_like(mn, math.inf))

    def reduce(self, comm: Comm) -> None:
        self.rank_lt = comm.sum(self.rank_lt)
        self.rank_le = comm.sum(self.rank_le)
        self.distance = comm.sum(self.distance)
        self.min_nonedge = comm.sum(self.min_nonedge)


class _PairCounts(_Consumer):
    """Over all unordered pairs i < j: how many distances are <= and < each threshold.

    Upper-triangle distances are copied into a buffer of ``capacity`` values; a full
    buffer is sorted (in place, per thread) and counted against the sorted thresholds
    with binary searches, so the cost is one sort of all n(n-1)/2 values plus
    O(m log capacity) per flush.
    """

    def __init__(self, thresholds: torch.Tensor, hist_edges: torch.Tensor | None,
                 capacity: int, workers: int = 1):
        self.on_cpu = thresholds.device.type == "cpu"
        self.t = thresholds.cpu().numpy() if self.on_cpu else thresholds
        self.h = None
        if hist_edges is not None:
            self.h = hist_edges.cpu().numpy() if self.on_cpu else hist_edges
        self.capacity = max(1, int(capacity) // max(1, workers))
        self.buffers: dict = {}  # worker thread -> [buffer, fill]
        self.lock = threading.Lock()
        self.le = np.zeros(len(self.t), dtype=np.int64)
        self.lt = np.zeros(len(self.t), dtype=np.int64)
        self.h_le = None if self.h is None else np.zeros(len(self.h), dtype=np.int64)

    def _state(self, like: torch.Tensor) -> list:
        key = threading.get_ident()
        st = self.buffers.get(key)
        if st is None:
            st = [torch.empty(self.capacity, dtype=like.dtype, device=like.device), 0]
            with self.lock:
                self.buffers[key] = st
        return st

    def _flush(self, st: list) -> None:
        if st[1] == 0:
            return
        part = st[0][: st[1]]
        le, lt, ex = _sort_and_count(part.numpy() if self.on_cpu else part, self.t, self.h)
        with self.lock:
            self.le += le
            self.lt += lt
            if self.h is not None:
                self.h_le += ex
        st[1] = 0

    def _push(self, values: torch.Tensor) -> None:
        """Append a (rows, cols) or 1-D block of values, flushing when the buffer fills."""
        if values.numel() == 0:
            return
        st = self._state(values)
        cap = self.capacity
        if values.ndim == 1:
            values = values[:, None]
        rows, cols = values.shape
        if cols > cap:  # rows longer than the buffer: push them in column pieces
            for c0 in range(0, cols, cap):
                self._push(values[:, c0:c0 + cap])
            return
        r = 0
        while r < rows:
            room = (cap - st[1]) // cols
            if room == 0:
                self._flush(st)
                continue
            take = min(room, rows - r)
            dst = st[0][st[1]:st[1] + take * cols].view(take, cols)
            dst.copy_(values[r:r + take])
            st[1] += take * cols
            r += take

    def update(self, blk: _Block) -> None:
        rect, tri = blk.upper_pieces()
        self._push(rect)
        self._push(tri)

    def reduce(self, comm: Comm) -> None:
        for st in self.buffers.values():
            self._flush(st)
        self.buffers = {}
        self.le = comm.sum(torch.as_tensor(self.le))
        self.lt = comm.sum(torch.as_tensor(self.lt))
        if self.h is not None:
            self.h_le = comm.sum(torch.as_tensor(self.h_le))


class _Uniformity(_Consumer):
    """log-sum-exp of -t |x - y|^2 over unordered pairs, one value per block (log space)."""

    def __init__(self, space: _Space, ts: Sequence[float], normalize: bool, n_blocks: int):
        self.space = space
        self.ts = tuple(float(t) for t in ts)
        self.normalize = normalize
        self.lse = torch.full((len(self.ts), n_blocks), -math.inf, dtype=torch.float64)
        if normalize and space.inv_q is None:
            space.inv_q = space.inv_r = _Space._inv_norm(space.Q, "embeddings")
        if not normalize and space.sq_q is None:
            space.sq_q = space.sq_r = (space.Q * space.Q).sum(1)

    def on_gram(self, index: int, r0: int, r1: int, G: torch.Tensor) -> None:
        sp = self.space
        b = r1 - r0
        iu = torch.triu_indices(b, b, 1, device=G.device)
        rows_tri, cols_tri = r0 + iu[0], r0 + iu[1]
        rect, tri = G[:, r1:], G[:, r0:r1][iu[0], iu[1]]
        if rect.numel() + tri.numel() == 0:
            return
        limit = 30.0 if G.dtype == torch.float32 else 300.0
        for a, t in enumerate(self.ts):
            if self.normalize and 2.0 * t <= limit:
                # exp(-t |x^ - y^|^2) = exp(-2t) exp(2t cos): bounded, so sum directly
                inv = sp.inv_q
                total = 0.0
                if rect.numel():
                    e = torch.mul(rect, inv[None, r1:])
                    e.mul_((2.0 * t) * inv[r0:r1, None]).exp_()
                    total += float(e.sum(dtype=torch.float64))
                    del e
                if tri.numel():
                    e = tri * inv[rows_tri] * inv[cols_tri] * (2.0 * t)
                    total += float(e.exp_().sum(dtype=torch.float64))
                self.lse[a, index] = (math.log(total) if total > 0 else -math.inf) - 2.0 * t
                continue
            pieces = []
            if self.normalize:
                inv = sp.inv_q
                cos = [(rect * inv[r0:r1, None] * inv[None, r1:]).reshape(-1),
                       tri * inv[rows_tri] * inv[cols_tri]]
                pieces = [(2.0 - 2.0 * c).clamp_(min=0.0) for c in cos]
            else:
                sq_n = sp.sq_q
                pieces = [(sq_n[r0:r1, None] + sq_n[None, r1:] - 2.0 * rect).reshape(-1),
                          sq_n[rows_tri] + sq_n[cols_tri] - 2.0 * tri]
                pieces = [p.clamp_(min=0.0) for p in pieces]
            lse = [float(torch.logsumexp(p * (-t), dim=0)) for p in pieces if p.numel()]
            self.lse[a, index] = float(np.logaddexp.reduce(lse))

    def update(self, blk: _Block) -> None:
        pass

    def reduce(self, comm: Comm) -> None:
        self.lse = comm.max(self.lse)

    def values(self, n: int) -> dict:
        n_pairs = n * (n - 1) / 2
        out = {}
        for a, t in enumerate(self.ts):
            total = float(torch.logsumexp(self.lse[a], dim=0))
            out[t] = total - math.log(n_pairs)
        return out


# ----------------------------------------------------------------------------- the sweep
def _sweep(space: _Space, consumers: list, *, chunk_size: int, comm: Comm, progress,
           desc: str = "distances", workers: int = 1) -> int:
    n = space.n_queries
    starts = list(range(0, n, chunk_size))
    mine = [(bi, r0) for bi, r0 in enumerate(starts) if comm.owns(bi)]
    work = float(n) * space.n_columns * max(8, space.Q.shape[1])
    if space.device.type != "cpu" or work < SMALL_WORK:
        workers = 1
    elif workers > 1:
        work = float("inf")  # the workers run single-threaded; never shrink the pool here
    rows = min(chunk_size, n)
    buffers: dict = {}
    # without a consumer of the raw Gram block, fold the norms into the GEMM
    fold = space.metric in ("euclidean", "sqeuclidean") and not any(
        type(c).on_gram is not _Consumer.on_gram for c in consumers)

    def process(wid, job):
        bi, r0 = job
        if wid not in buffers:
            g = torch.empty((rows, space.n_columns), dtype=space.dtype, device=space.device)
            buffers[wid] = (g, torch.empty_like(g) if space.device.type == "cpu" else None)
        gram_buf, sort_buf = buffers[wid]
        r1 = min(r0 + chunk_size, n)
        if fold:
            G = space.expanded(r0, r1, out=gram_buf[: r1 - r0])
        else:
            G = space.gram(r0, r1, out=gram_buf[: r1 - r0])
            for c in consumers:
                c.on_gram(bi, r0, r1, G)
        D = space.finish(G, r0, r1, exclude_self=space.same, expanded=fold)
        blk = _Block(bi, r0, r1, D, space.same,
                     None if sort_buf is None else sort_buf[: r1 - r0])
        for c in consumers:
            c.update(blk)

    with torch.no_grad(), single_thread_if_small(work, space.device):
        run_blocks(mine, process, workers=workers, progress=progress, desc=desc,
                   rank=comm.rank)
    for c in consumers:
        c.reduce(comm)
    return len(starts)


def _sweep_general(space, consumers, chunk, comm, progress, exclude_self, workers=1):
    n = space.n_queries
    starts = list(range(0, n, chunk))
    mine = [(bi, r0) for bi, r0 in enumerate(starts) if comm.owns(bi)]
    work = float(n) * space.n_columns * max(8, space.Q.shape[1])
    if space.device.type != "cpu" or work < SMALL_WORK:
        workers = 1

    def process(wid, job):
        bi, r0 = job
        r1 = min(r0 + chunk, n)
        D = space.finish(space.gram(r0, r1), r0, r1, exclude_self=exclude_self)
        blk = _Block(bi, r0, r1, D, False)
        for c in consumers:
            c.update(blk)

    with torch.no_grad(), single_thread_if_small(work, space.device):
        run_blocks(mine, process, workers=workers, progress=progress, rank=comm.rank)
    for c in consumers:
        c.reduce(comm)


def _check_metric(metric):
    return check_one_of(metric, METRICS, name="metric")


def _chunk(chunk_size, memory_budget, n_cols, itemsize, *, n_rows=None, workers=1) -> int:
    """Rows per block: ``chunk_size`` if given, else from the budget, capped so that
    ``workers`` block workers all get a block."""
    if chunk_size is not None:
        return check_positive_int(chunk_size, name="chunk_size")
    rows = chunk_size_for(n_cols, itemsize=itemsize, memory_budget=memory_budget)
    if n_rows is not None:
        rows = min(rows, max(1, math.ceil(n_rows / max(1, workers))))
    return rows


def _faiss_available() -> bool:
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


class _Radius(_Consumer):
    def __init__(self, radius: float):
        self.radius = radius
        self.parts: list = []

    def update(self, blk: _Block) -> None:
        D = blk.D
        rows, cols = torch.nonzero(D <= self.radius, as_tuple=True)
        vals = D[rows, cols]
        order = torch.sort(vals, stable=True).indices
        order = order[torch.sort(rows[order], stable=True).indices]
        self.parts.append((blk.index, blk.r0 + rows[order], cols[order], vals[order]))
