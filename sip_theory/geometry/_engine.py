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
* Blocks are computed fast, by one matrix product (|x|^2 + |y|^2 - 2 x.y,
  or 1 - x.y / (|x||y|)); fast values depend on the blocking in their last
  bits. Every *decision* follows the kernel's exactness rule
  (:mod:`sip_theory._kernel`): the k nearest neighbours, the ranks of graph
  neighbours, the nearest non-neighbour, the pair counts at each edge distance
  and radius membership are decided on fast values only where the rounding
  bound proves the exact values decide alike; the pairs in the band are
  recomputed with the exact formula. Reported kNN, edge and radius distances
  are exact values. So every result equals a brute force over the exact
  values: it does not depend on the blocking, and passing a graph changes no
  kNN result. Only the uniformity (a sum) and the pair histogram (bin counts
  of fast values) use fast values as they are.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from .._kernel import METRICS, PairSpace, inverse_norms
from .._validation import check_one_of, check_positive_int
from ._arrays import DEFAULT_MEMORY_BUDGET, SMALL_WORK, parse_memory, single_thread_if_small
from ._distributed import Comm

__all__ = ["BACKENDS", "METRICS", "chunk_size_for"]

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
        from .._progress import auto_tqdm

        tqdm = auto_tqdm()

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


def _argsort_rows(D: torch.Tensor) -> torch.Tensor:
    """A permutation sorting each row of ``D`` (ties in any order): numpy's SIMD argsort on
    CPU (several times faster than torch's), rows split over the threads; torch on GPU."""
    if D.device.type != "cpu":
        return torch.argsort(D, dim=1)
    a = D.numpy()
    out = np.empty(a.shape, dtype=np.int64)

    def work(lo_hi):
        lo, hi = lo_hi
        out[lo:hi] = np.argsort(a[lo:hi], axis=1)

    chunks = _split(a.shape[0], _threads())
    if len(chunks) == 1 or a.size < 1 << 16:
        work((0, a.shape[0]))
    else:
        list(_pool().map(work, chunks))
    return torch.from_numpy(out)


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


class _Block:
    """One block of query rows [r0, r1) with its distances to all reference points."""

    __slots__ = ("index", "r0", "r1", "D", "same", "expanded", "_sorted", "_sort_buf", "knn")

    def __init__(self, index, r0, r1, D, same, sort_buf=None, expanded=False):
        self.index, self.r0, self.r1, self.D, self.same = index, r0, r1, D, same
        # D is |r|^2 - 2 q.r with masked pairs at +inf (PairSpace.expanded), not distances
        self.expanded = expanded
        self._sorted = None
        self._sort_buf = sort_buf
        self.knn = None  # (indices, exact float64 distances) once the kNN consumer has run

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
    #: the consumer can decide on an unfinished expanded block (``_Block.expanded``)
    takes_expanded = False

    def on_gram(self, index: int, r0: int, r1: int, G: torch.Tensor) -> None:  # noqa: B027
        pass

    def update(self, blk: _Block) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def reduce(self, comm: Comm) -> None:  # noqa: B027
        pass


class _KNN(_Consumer):
    """k nearest neighbours per query row, ordered by (exact distance, index).

    The fast block gives each row's k-th smallest value T; only pairs whose fast
    value could belong to an exact value <= the largest exact value of those k
    (two error bounds above T) can be among the k nearest, so they alone are
    recomputed exactly and ranked.
    """

    takes_expanded = True

    def __init__(self, n: int, k: int, space: PairSpace):
        self.k = k
        self.space = space
        self.indices = torch.zeros((n, k), dtype=torch.int64, device=space.device)
        self.distances = torch.zeros((n, k), dtype=space.dtype, device=space.device)

    def update(self, blk: _Block) -> None:
        idx, ex = self.space.k_nearest(blk.D, blk.r0, self.k, expanded=blk.expanded)
        blk.knn = (idx, ex)  # later consumers of the block may read the exact lists
        self.indices[blk.r0:blk.r1] = idx
        self.distances[blk.r0:blk.r1] = ex.to(self.space.dtype)

    def reduce(self, comm: Comm) -> None:
        self.indices = comm.sum(self.indices)
        self.distances = comm.sum(self.distances)


_BAND_VALUES = 1 << 22  # band members recomputed at once by the edge-rank consumer
# fast float64 values below this in magnitude stay finite when rounded to float32
_FLOAT32_SAFE = 1e30


def _outward32(x: torch.Tensor, up: bool) -> torch.Tensor:
    """float64 bounds as float32, rounded outwards (up or down)."""
    t = x.float()
    wrong = t.double() < x if up else t.double() > x
    if bool(wrong.any()):
        toward = torch.full_like(t, math.inf if up else -math.inf)
        t[wrong] = torch.nextafter(t, toward)[wrong]
    return t


class _EdgeRanks(_Consumer):
    """Within-row ranks of each graph neighbour and each row's smallest non-edge distance.

    Ranks count the fast values that lie provably below (or at most) an edge's exact
    distance, and recompute the band of fast values that could lie either side;
    the nearest non-edge is the first non-edge of the row's exact k-nearest list (the
    kNN consumer runs first), and for a row whose list holds edges only, it is found
    among the pairs within two error bounds of the smallest fast non-edge value.
    ``values`` are the exact edge distances (float64).

    A float64 block is sorted as float32 keys (half the cost of sorting it): rounding
    to nearest is monotone, so a key below the band's lower end rounded down belongs
    to a fast value below the band, and a key above its upper end rounded up to one
    above it; the pairs between are recomputed exactly as before, only a few more.
    """

    def __init__(self, indptr: np.ndarray, indices: torch.Tensor, values: torch.Tensor,
                 space: PairSpace):
        self.indptr = indptr
        self.indices = indices
        self.values = values
        self.space = space
        n = indptr.shape[0] - 1
        self.keys = (torch.repeat_interleave(torch.arange(n, device=space.device),
                                             torch.as_tensor(np.diff(indptr), device=space.device))
                     * space.n_columns + indices)
        m2 = int(indices.shape[0])
        self.rank_lt = torch.zeros(m2, dtype=torch.int64, device=space.device)
        self.rank_le = torch.zeros(m2, dtype=torch.int64, device=space.device)
        self.min_nonedge = torch.zeros(n, dtype=torch.float64, device=space.device)
        self.key32 = space.dtype == torch.float64 and self._value_bound() < _FLOAT32_SAFE
        # exact fast values whose keys are themselves (integers float32 holds, or float64
        # keys): the counts below and up to an edge's value are its exact ranks
        self.exact_keys = space.fast_is_exact and (not self.key32 or (
            space.metric != "euclidean" and 4.0 * space.sq_max <= 2.0**24))
        self._buffers: dict = {}  # worker thread -> float32 buffer of sorted keys

    def _value_bound(self) -> float:
        """An upper bound on |fast value| of any pair (the norms of the points)."""
        sp = self.space
        if sp.metric == "cosine":
            return 2.0
        sq = float((sp.Q.double() ** 2).sum(1).max()) if sp.n_queries else 0.0
        if not sp.same and sp.n_columns:
            sq = max(sq, float((sp.R.double() ** 2).sum(1).max()))
        return 4.0 * sq * 1.01 + 1.0

    def _key(self, D: torch.Tensor) -> torch.Tensor:
        return D.float() if self.key32 else D

    def _to_key(self, bound: torch.Tensor, up: bool) -> torch.Tensor:
        return _outward32(bound, up) if self.key32 else self.space.to_fast(bound, up=up)

    def _sorted_keys(self, blk: _Block) -> torch.Tensor:
        if not self.key32:
            return blk.sorted_rows()
        D = blk.D
        if D.device.type != "cpu":
            return torch.sort(D.float(), dim=1).values
        key = threading.get_ident()
        buf = self._buffers.get(key)
        if buf is None or buf.shape[0] < D.shape[0]:
            buf = torch.empty(D.shape, dtype=torch.float32)
            self._buffers[key] = buf
        return _sort_rows(D, buf[: D.shape[0]])  # the copy into the buffer rounds to float32

    def update(self, blk: _Block) -> None:
        sp, D = self.space, blk.D
        b = D.shape[0]
        dev = D.device
        p0, p1 = int(self.indptr[blk.r0]), int(self.indptr[blk.r1])
        deg_np = np.diff(self.indptr[blk.r0:blk.r1 + 1])
        S = self._sorted_keys(blk)
        err = sp.row_error(blk.r0, blk.r1)
        deg = torch.as_tensor(deg_np, device=dev)
        rows = torch.repeat_interleave(torch.arange(b, device=dev), deg)
        cols = self.indices[p0:p1]
        if p1 > p0:
            maxdeg = int(deg_np.max())
            starts = torch.as_tensor(self.indptr[blk.r0:blk.r1] - p0, device=dev)
            pos = torch.arange(p1 - p0, device=dev) - torch.repeat_interleave(starts, deg)
            v = self.values[p0:p1]
            lo, hi = sp.band(v, err[rows])
            pad = torch.full((b, maxdeg), math.inf, dtype=S.dtype, device=dev)
            pad[rows, pos] = self._to_key(lo, up=False)
            below = torch.searchsorted(S, pad, right=False)[rows, pos]  # provably < v
            pad[rows, pos] = self._to_key(hi, up=True)
            upto = torch.searchsorted(S, pad, right=True)[rows, pos]  # provably <= v beyond
            if self.exact_keys:  # ties included: the keys are the exact values
                lt, le = below, upto
            else:
                lt, le = below.clone(), below + 1  # a band holding the edge alone
                flagged = torch.nonzero(upto - below > 1).flatten()
                if flagged.numel():
                    self._resolve_band(blk, flagged, rows, v, below, upto, lt, le)
            self.rank_lt[p0:p1] = lt
            self.rank_le[p0:p1] = le
        self._nearest_nonedge(blk, S, err, rows, cols)

    def _resolve_band(self, blk, flagged, rows, v, below, upto, lt, le) -> None:
        """Exact ranks for the edges whose band holds other pairs than the edge itself."""
        sp = self.space
        dev = blk.D.device
        frows, inverse = torch.unique(rows[flagged], return_inverse=True)
        # positions below..upto of a sorted row of keys hold the band whatever the order of
        # ties (no tie straddles either end), so any permutation sorting the keys serves
        order = _argsort_rows(self._key(blk.D[frows]))
        length = upto[flagged] - below[flagged]
        cum = torch.cumsum(length, 0)
        lo_e = 0
        while lo_e < flagged.numel():
            # a run of flagged edges with about _BAND_VALUES members
            hi_e = int(torch.searchsorted(cum, (cum[lo_e] - length[lo_e]) + _BAND_VALUES,
                                          right=True))
            hi_e = max(hi_e, lo_e + 1)
            f = flagged[lo_e:hi_e]
            L = length[lo_e:hi_e]
            owner = torch.repeat_interleave(torch.arange(f.numel(), device=dev), L)
            offset = torch.arange(int(L.sum()), device=dev) - torch.repeat_interleave(
                torch.cumsum(L, 0) - L, L)
            member = order[inverse[lo_e:hi_e][owner], below[f][owner] + offset]
            ex = sp.exact_at(blk.D, rows[f][owner], member, blk.r0)
            target = v[f][owner]
            lt[f] = below[f] + torch.zeros_like(L).index_add_(0, owner, (ex < target).long())
            le[f] = below[f] + torch.zeros_like(L).index_add_(0, owner, (ex <= target).long())
            lo_e = hi_e

    def _is_edge(self, key: torch.Tensor) -> torch.Tensor:
        if not self.keys.numel():
            return torch.zeros_like(key, dtype=torch.bool)
        at = torch.searchsorted(self.keys, key).clamp(max=self.keys.numel() - 1)
        return self.keys[at] == key

    def _nearest_nonedge(self, blk, S, err, rows, cols) -> None:
        b = blk.r1 - blk.r0
        dev = blk.D.device
        out = torch.full((b,), math.inf, dtype=torch.float64, device=dev)
        todo = torch.arange(b, device=dev)
        if blk.knn is not None:
            # the exact k nearest are ordered by exact value: their first non-edge is the
            # nearest non-edge (an excluded pair is never listed; -1 marks a short list)
            idx, ex = blk.knn
            key = (blk.r0 + todo)[:, None] * self.space.n_columns + idx.clamp(min=0)
            ok = (idx >= 0) & ~self._is_edge(key)
            out = torch.where(ok, ex.double(), torch.full_like(out[:, None], math.inf)).amin(1)
            todo = torch.nonzero(~ok.any(1)).flatten()
        if todo.numel():
            out[todo] = self._nearest_by_scan(blk, S, err, rows, cols, todo)
        self.min_nonedge[blk.r0:blk.r1] = out

    def _nearest_by_scan(self, blk, S, err, rows, cols, todo) -> torch.Tensor:
        """The nearest non-edge of the block rows ``todo`` from their sorted keys."""
        sp = self.space
        dev = blk.D.device
        b = todo.numel()
        if b < blk.r1 - blk.r0:
            where = torch.full((blk.r1 - blk.r0,), -1, dtype=torch.int64, device=dev)
            where[todo] = torch.arange(b, device=dev)
            sel = where[rows] >= 0
            rows, cols = where[rows[sel]], cols[sel]
            S, err = S[todo], err[todo]
        D = blk.D[todo]
        ncol = D.shape[1]
        # the smallest key among non-edges: the sorted row's first entry that is not one
        # of the row's edge keys
        deg = torch.bincount(rows, minlength=b) if rows.numel() else torch.zeros(
            b, dtype=torch.int64, device=dev)
        width = int(deg.max()) + 1 if b else 1
        mine = torch.full((b, width), math.inf, dtype=S.dtype, device=dev)
        if rows.numel():
            starts = torch.cumsum(deg, 0) - deg
            pos = torch.arange(rows.numel(), device=dev) - torch.repeat_interleave(starts, deg)
            mine[rows, pos] = self._key(D[rows, cols])
        mine = torch.sort(mine, dim=1).values
        head = S[:, :width] if ncol >= width else torch.cat(
            [S, torch.full((b, width - ncol), math.inf, dtype=S.dtype, device=dev)], 1)
        mismatch = head != mine
        first = torch.argmax(mismatch.to(torch.uint8), dim=1)
        hv = head.gather(1, first[:, None]).squeeze(1)
        found = mismatch.any(dim=1) & torch.isfinite(hv)
        out = torch.full((b,), math.inf, dtype=torch.float64, device=dev)
        if bool(found.any()):
            if self.key32:  # a key is its fast value rounded to nearest: below the next key
                hv = torch.nextafter(hv, torch.full_like(hv, math.inf))
            fmin = torch.where(found, hv.double(), torch.zeros_like(hv, dtype=torch.float64))
            _, hi = sp.band(fmin, err)  # the exact value of that pair is <= hi
            _, cap = sp.band(hi, err)
            cap = torch.where(found, cap, torch.full_like(cap, -math.inf))
            r, c = torch.nonzero(D <= sp.to_fast(cap, up=True)[:, None], as_tuple=True)
            ex = D[r, c].double() if sp.fast_is_exact else sp.exact(blk.r0 + todo[r], c)
            ex = torch.where(self._is_edge((blk.r0 + todo[r]) * sp.n_columns + c),
                             torch.full_like(ex, math.inf), ex)
            out = out.scatter_reduce(0, r, ex, reduce="amin")
        return out

    def reduce(self, comm: Comm) -> None:
        self.rank_lt = comm.sum(self.rank_lt)
        self.rank_le = comm.sum(self.rank_le)
        self.min_nonedge = comm.sum(self.min_nonedge)


def _upper_values(rect: torch.Tensor, tri: torch.Tensor) -> np.ndarray:
    """A fresh float64 numpy copy of a block's upper values (``_Block.upper_pieces``),
    written in one pass (a reshape of the strided ``rect`` and a concatenation would copy
    twice)."""
    if rect.device.type != "cpu":
        return torch.cat([rect.reshape(-1), tri]).double().cpu().numpy()
    r = rect.numel()
    out = np.empty(r + tri.numel(), dtype=np.float64)
    if r:
        out[:r].reshape(rect.shape)[...] = rect.numpy()
    out[r:] = tri.numpy()
    return out


def _merge_intervals(lo: np.ndarray, hi: np.ndarray) -> tuple:
    """The union of intervals [lo_i, hi_i] (sorted by lo) as disjoint sorted intervals."""
    run_hi = np.maximum.accumulate(hi)
    new = np.ones(lo.shape[0], dtype=bool)
    new[1:] = lo[1:] > run_hi[:-1]
    return lo[new], np.maximum.reduceat(hi, np.flatnonzero(new))


class _PairCounts(_Consumer):
    """Over all unordered pairs i < j: how many distances are <= and < each threshold.

    Without edges (a histogram only), upper-triangle distances are copied into a
    buffer of ``capacity`` values; a full buffer is sorted (in place, per thread) and
    counted against the sorted bin edges with binary searches.

    With edges, the thresholds are the exact edge distances and each block is counted
    on its own: its sorted fast values are counted with binary searches, and so is the
    number of them in each threshold's rounding band. When the band holds only the
    block's edges, the fast counts are right for every non-edge, and each edge's own
    count is corrected to its exact value; otherwise (a non-edge within rounding of an
    edge distance: a tie) the block's band members are recomputed exactly.
    """

    def __init__(self, thresholds: torch.Tensor, hist_edges: torch.Tensor | None,
                 capacity: int, workers: int = 1, space: PairSpace | None = None, edges=None):
        # thresholds: the sorted exact edge distances (float64). The buffers hold fast values,
        # counted against the thresholds rounded to the block dtype; each edge's own count is
        # then corrected to its exact value (edges: CSR indptr, indices, exact values)
        self.space = space
        self.on_cpu = thresholds.device.type == "cpu"
        self.t64 = thresholds.double().cpu().numpy()
        fast = thresholds if space is None else thresholds.to(space.dtype)
        self.t = fast.cpu().numpy() if self.on_cpu else fast
        self.h = None
        if hist_edges is not None:
            self.h = hist_edges.cpu().numpy() if self.on_cpu else hist_edges
        self.capacity = max(1, int(capacity) // max(1, workers))
        self.buffers: dict = {}  # worker thread -> [buffer, fill]
        self.lock = threading.Lock()
        self.le = np.zeros(len(self.t), dtype=np.int64)
        self.lt = np.zeros(len(self.t), dtype=np.int64)
        self.h_le = None if self.h is None else np.zeros(len(self.h), dtype=np.int64)
        self.members: list = []  # (fast values, exact values) of pairs to correct
        self.n_members = 0
        self.edges = edges if thresholds.numel() else None
        self.n_resolved_blocks = 0  # blocks whose bands held a non-edge
        self.keys = None  # sorted i * n + j of the edges, built when a tie needs them
        if edges is not None and thresholds.numel():
            err = space.row_error(0, space.n_queries).max()
            lo, hi = space.band(thresholds, err)
            self.lo64, self.hi64 = lo.cpu().numpy(), hi.cpu().numpy()

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
        if self.edges is None:
            self._push(rect)
            self._push(tri)
            return
        srt = _upper_values(rect, tri)
        srt.sort()  # a fresh copy: sorted in place
        t, N = self.t64, srt.size
        le = np.searchsorted(srt, t, side="right")
        lt = le.copy()
        busy = np.zeros(0, dtype=np.int64)
        if N:
            # one binary search per threshold: the < count differs only where a value equals
            # it, and a band is non-empty only where a neighbour of that position lies in it
            below = srt[np.maximum(le - 1, 0)]
            above = srt[np.minimum(le, N - 1)]
            eq = np.flatnonzero((le > 0) & (below == t))
            lt[eq] = np.searchsorted(srt, t[eq], side="left")
            near = ((le > 0) & (below >= self.lo64)) | ((le < N) & (above <= self.hi64))
            busy = np.flatnonzero(near)
        in_band = (np.searchsorted(srt, self.hi64[busy], side="right")
                   - np.searchsorted(srt, self.lo64[busy], side="left"))
        h_le = None if self.h is None else np.searchsorted(srt, self._h_np(), side="right")
        if self.space.fast_is_exact:  # the fast counts are the exact ones, ties included
            with self.lock:
                self.le += le
                self.lt += lt
                if h_le is not None:
                    self.h_le += h_le
            return
        # the block's own upper edges: their fast values and exact distances
        indptr, indices, exact = self.edges
        p0, p1 = int(indptr[blk.r0]), int(indptr[blk.r1])
        rows = torch.repeat_interleave(
            torch.arange(blk.r1 - blk.r0, device=blk.D.device),
            torch.as_tensor(np.diff(indptr[blk.r0:blk.r1 + 1]), device=blk.D.device))
        cols = indices[p0:p1]
        up = cols > blk.r0 + rows
        f = blk.D[rows[up], cols[up]].double().cpu().numpy()
        ex = exact[p0:p1][up].cpu().numpy()
        fs = np.sort(f)
        edges_in_band = (np.searchsorted(fs, self.hi64[busy], side="right")
                         - np.searchsorted(fs, self.lo64[busy], side="left"))
        bad = busy[in_band > edges_in_band]
        resolved = bool(bad.size)
        if resolved:  # a tie: the non-edges in those bands, exactly
            nf, nex = self._nonedge_members(blk, rect, tri, bad)
            f, ex = np.concatenate([f, nf]), np.concatenate([ex, nex])
        with self.lock:
            self.le += le
            self.lt += lt
            if h_le is not None:
                self.h_le += h_le
            self.n_resolved_blocks += int(resolved)
            self.members.append((f, ex))
            self.n_members += f.size
            if self.n_members >= self.capacity:
                self._correct()

    def _h_np(self) -> np.ndarray:
        return self.h if self.on_cpu else self.h.cpu().numpy()

    def _nonedge_members(self, blk, rect, tri, bad):
        """Fast and exact values of the block's non-edges whose fast value lies in the band
        of one of the thresholds ``bad``."""
        lo, hi = self.lo64[bad], self.hi64[bad]

        def inside(v):
            v = v.double()
            if bad.size <= 64:  # a few bands: one pass each
                m = torch.zeros(v.shape, dtype=torch.bool, device=v.device)
                for a, c in zip(lo.tolist(), hi.tolist(), strict=True):
                    m |= (v >= a) & (v <= c)
                return m.cpu().numpy()
            starts, ends = _merge_intervals(lo, hi)
            vn = v.cpu().numpy()
            q = np.searchsorted(ends, vn, side="left")
            return (q < ends.size) & (starts[np.minimum(q, ends.size - 1)] <= vn)

        dev = blk.D.device
        rr, cc = np.nonzero(inside(rect))
        qi, cj = blk.r0 + rr, blk.r1 + cc
        b = blk.r1 - blk.r0
        if tri.numel():
            iu = np.triu_indices(b, 1)
            k = np.flatnonzero(inside(tri))
            qi = np.concatenate([qi, blk.r0 + iu[0][k]])
            cj = np.concatenate([cj, blk.r0 + iu[1][k]])
        indptr, indices, _ = self.edges
        n = indptr.size - 1
        if self.keys is None:
            self.keys = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr)) * n + (
                indices.cpu().numpy())
        key = qi.astype(np.int64) * n + cj
        at = np.minimum(np.searchsorted(self.keys, key), max(self.keys.size - 1, 0))
        nonedge = self.keys[at] != key if self.keys.size else np.ones(key.shape, dtype=bool)
        qi_t = torch.as_tensor(qi[nonedge], dtype=torch.int64, device=dev)
        cj_t = torch.as_tensor(cj[nonedge], dtype=torch.int64, device=dev)
        f = blk.D[qi_t - blk.r0, cj_t].double().cpu().numpy()
        return f, self.space.exact(qi_t, cj_t).cpu().numpy()

    def _correct(self) -> None:
        """Replace the edges' fast counts by their exact ones (called under the lock)."""
        if not self.members:
            return
        f = np.sort(np.concatenate([m[0] for m in self.members]))
        ex = np.sort(np.concatenate([m[1] for m in self.members]))
        self.le += (np.searchsorted(ex, self.t64, side="right")
                    - np.searchsorted(f, self.t64, side="right"))
        self.lt += (np.searchsorted(ex, self.t64, side="left")
                    - np.searchsorted(f, self.t64, side="left"))
        self.members = []
        self.n_members = 0

    def reduce(self, comm: Comm) -> None:
        for st in self.buffers.values():
            self._flush(st)
        self.buffers = {}
        self._correct()
        self.le = comm.sum(torch.as_tensor(self.le))
        self.lt = comm.sum(torch.as_tensor(self.lt))
        if self.h is not None:
            self.h_le = comm.sum(torch.as_tensor(self.h_le))


class _Uniformity(_Consumer):
    """log-sum-exp of -t |x - y|^2 over unordered pairs, one value per block (log space)."""

    def __init__(self, space: PairSpace, ts: Sequence[float], normalize: bool, n_blocks: int):
        self.space = space
        self.ts = tuple(float(t) for t in ts)
        self.normalize = normalize
        self.lse = torch.full((len(self.ts), n_blocks), -math.inf, dtype=torch.float64)
        if normalize and space.inv_q is None:
            space.inv_q = space.inv_r = inverse_norms(space.Q, "embeddings")
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
def _sweep(space: PairSpace, consumers: list, *, chunk_size: int, comm: Comm, progress,
           desc: str = "distances", workers: int = 1, exclude_self: bool | None = None) -> int:
    """Feed every block of query rows this rank owns to the consumers, then reduce them.

    ``exclude_self`` (default: the space is square) puts a point's pair with itself at +inf.
    Returns the number of blocks.
    """
    exclude_self = space.same if exclude_self is None else bool(exclude_self)
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
    # consumers that all decide on the expansion itself skip the full passes of finish
    # (adding |q|^2, the refit of tiny values, square roots)
    unfinished = fold and all(c.takes_expanded for c in consumers)

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
        if unfinished:
            space.mask_pairs(G, r0, r1, exclude_self=exclude_self)
            D = G
        else:
            D = space.finish(G, r0, r1, exclude_self=exclude_self, expanded=fold)
        blk = _Block(bi, r0, r1, D, space.same,
                     None if sort_buf is None else sort_buf[: r1 - r0], expanded=unfinished)
        for c in consumers:
            c.update(blk)

    with torch.no_grad(), single_thread_if_small(work, space.device):
        run_blocks(mine, process, workers=workers, progress=progress, desc=desc,
                   rank=comm.rank)
    for c in consumers:
        c.reduce(comm)
    return len(starts)


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
    """All pairs with exact dissimilarity < radius (``strict``) or <= radius, per row
    ordered by (distance, index)."""

    def __init__(self, radius: float, space: PairSpace, *, strict: bool = True):
        self.radius = radius
        self.strict = strict
        self.space = space
        self.parts: list = []

    def update(self, blk: _Block) -> None:
        rows, cols, ex = self.space.within(blk.D, blk.r0, self.radius, strict=self.strict)
        self.parts.append((blk.index, blk.r0 + rows, cols, ex.to(self.space.dtype)))
