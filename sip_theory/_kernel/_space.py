"""The sweep kernel: fast distance blocks, their rounding bounds, and exact decisions.

:class:`PairSpace` holds query points Q and reference points R prepared for one
metric. A caller sweeps Q in row blocks; for each block it asks for the *fast*
dissimilarities (one matrix product, :meth:`PairSpace.fast_block`) and then
decides with one of the graph-free selectors, each of which follows the
kernel's exactness rule (a decision is taken on fast values only where the
rounding bound proves the exact values take it alike; every other pair is
recomputed with :func:`~sip_theory._kernel.exact_dissimilarities`):

* :meth:`PairSpace.k_nearest`: the k nearest per row, by (exact value, index);
* :meth:`PairSpace.within`: every pair below (or at) a threshold, exact values;
* :meth:`PairSpace.exactify`: the block, with exact values wherever a fast value
  could fall on the other side of one of the given thresholds;
* :meth:`PairSpace.row_min`: each row's exact minimum over a mask.

The same class serves numpy arrays (``graphs`` and ``theory``: importing them
never imports torch) and torch tensors on CPU or GPU (``geometry``, whose
consumers build on the same blocks and bounds). Fast values:

* ``"euclidean"``/``"sqeuclidean"``: |q|^2 + |r|^2 - 2 q.r (optionally on points
  centred on the reference mean, so that a translation costs no precision);
  tiny or negative values, which cancellation may have destroyed, are
  recomputed from q - r (so duplicates sit at exactly 0);
* ``"cosine"``: 1 - q.r / (|q||r|), clamped to [0, 2];
* ``"dot"``: -q.r.
"""

from __future__ import annotations

import math

import numpy as np

from ._backends import ops_for
from ._exact import band, fast_error_factor
from ._metrics import check_metric

__all__ = ["PairSpace", "inverse_norms"]

_REFINE_VALUES = 1 << 18  # pair x feature values gathered at once by the tiny-distance refit
_GROUP = 32  # columns per group in k_nearest (a reduction over 32 rows of a block vectorizes)


def _zero_rows_error(name: str, rows: list) -> ValueError:
    shown = ", ".join(map(str, rows[:5])) + (" ..." if len(rows) > 5 else "")
    return ValueError(
        f"{name} has {len(rows)} zero row(s) (zero norm, rows {shown}); the cosine distance "
        "and normalised embeddings are undefined for them"
    )


def inverse_norms(x, name: str = "embeddings"):
    """1 / |x_i| per row (numpy array or torch tensor), or a one-line error naming the
    zero rows.

    Examples
    --------
    >>> import numpy as np
    >>> inverse_norms(np.array([[3.0, 4.0]])).tolist()
    [0.2]
    """
    ops = ops_for(x)
    norms = ops.row_sq(x) ** 0.5
    zero = norms == 0
    if bool(zero.any()):
        rows = [int(i) for i in ops.to_numpy(ops.nonzero(zero[None, :])[1])]
        raise _zero_rows_error(name, rows)
    return 1.0 / norms


def exact_integer_limit(dtype) -> float:
    """The largest max_i ``|x_i|^2`` for which the fast values of integer points are exact.

    For integer rows x, y every intermediate of ``|x|^2 + |y|^2 - 2 x.y`` (and of
    x.y) is an integer of magnitude at most 4 max ``|x|^2`` (Cauchy-Schwarz), so
    in any summation order it is represented exactly while that is at most
    2^p, p the dtype's significand bits: the limit is 2^(p - 2), 2^22 for float32
    and 2^51 for float64. (Such entries are at most 2^11 in magnitude for
    float32, so a TF32 product would also hold them exactly.)

    Examples
    --------
    >>> exact_integer_limit(np.float32) == 2.0**22, exact_integer_limit(np.float64) == 2.0**51
    (True, True)
    """
    if isinstance(dtype, (type, np.dtype, str)):
        eps = float(np.finfo(np.dtype(dtype)).eps)
    else:  # a torch dtype
        import torch

        eps = float(torch.finfo(dtype).eps)
    return 0.5 / eps  # eps = 2^(1 - p)


def _integer_sq_max(x) -> float:
    """max_i ``|x_i|^2`` (in float64) when every entry of ``x`` is a finite integer, else +inf."""
    ops = ops_for(x)
    if int(x.shape[0]) * int(x.shape[1]) == 0:
        return 0.0
    xp = ops.xp
    if not bool(xp.isfinite(x).all()) or not bool((x == xp.round(x)).all()):
        return math.inf
    return float(ops.row_sq(ops.float64(x)).max())


class PairSpace:
    """Query and reference points prepared for one metric.

    Parameters
    ----------
    queries : ndarray or torch.Tensor of shape (n_queries, d)
        Real, finite values; the fast products run in its dtype.
    reference : same kind, shape (n_columns, d), optional
        Default: the queries themselves (a square space: a point's pair with itself
        is excluded where the caller asks).
    metric : {"euclidean", "sqeuclidean", "cosine", "dot"}
    centre : bool, default False
        For the Euclidean metrics, take the fast products on points centred on the
        reference mean (in float64, then cast): the rounding bound then scales with
        the spread of the points, not their offset. Exact values always read the
        points as given.
    need_inv_norm : bool, default False
        Precompute inverse norms (always done for ``"cosine"``).
    exclude : (indptr, indices), optional
        Pairs (a CSR over the query rows) that every block and every exact value
        puts at +inf, so that no selector ever sees them.
    name : str
        Names the queries in error messages.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0], [1.0], [3.0]])
    >>> s = PairSpace(x, metric="euclidean")
    >>> d = s.fast_block(0, 3, exclude_self=True)
    >>> idx, dist = s.k_nearest(d, 0, 1)
    >>> idx.ravel().tolist(), dist.ravel().tolist()
    ([1, 0, 1], [1.0, 1.0, 2.0])
    """

    def __init__(self, queries, reference=None, metric: str = "euclidean", *,
                 centre: bool = False,
                 need_inv_norm: bool = False, exclude=None, name: str = "embeddings"):
        check_metric(metric)
        self.ops = ops = ops_for(queries)
        self.metric = metric
        self.same = reference is None
        self.raw_q = queries
        self.raw_r = queries if reference is None else reference
        self.n_queries = int(queries.shape[0])
        self.n_columns = int(self.raw_r.shape[0])
        self.dtype = queries.dtype
        self.device = getattr(queries, "device", None)  # torch tensors only
        d = int(queries.shape[1])
        # integer points whose every partial sum the dtype holds exactly: the fast values
        # are the exact ones (then centring, which would break integrality, is pointless)
        self.sq_max = math.inf  # max |x|^2 over the points when they are all integers
        if metric != "cosine":
            self.sq_max = _integer_sq_max(queries) if self.same else max(
                _integer_sq_max(queries), _integer_sq_max(self.raw_r))
        self.native_is_exact = self.sq_max <= exact_integer_limit(self.dtype)
        self.centred = bool(centre) and metric in ("euclidean", "sqeuclidean") \
            and self.n_columns > 0 and not self.native_is_exact
        # euclidean: a finished value is the root rounded to the dtype; it is the exact
        # (float64) root only when the dtype is float64
        self.fast_is_exact = self.native_is_exact and (
            metric != "euclidean" or ops.eps(self.dtype) == 2.0**-52)
        if self.centred:
            mean = ops.float64(self.raw_r).mean(0)
            self.Q = ops.cast(ops.float64(queries) - mean, queries)
            self.R = self.Q if self.same else ops.cast(ops.float64(self.raw_r) - mean, queries)
        else:
            self.Q, self.R = queries, self.raw_r
        self.sq_q = self.sq_r = None
        self.inv_q = self.inv_r = None
        self._sq_r_max = 0.0
        if metric in ("euclidean", "sqeuclidean"):
            self.sq_q = ops.row_sq(self.Q)
            self.sq_r = self.sq_q if self.same else ops.row_sq(self.R)
            self._sq_r_max = float(self.sq_r.max()) if self.n_columns else 0.0
        if metric == "cosine" or need_inv_norm:
            self.inv_q = inverse_norms(self.Q, name)
            self.inv_r = self.inv_q if self.same else inverse_norms(self.R, "reference")
        self.eps = ops.eps(self.dtype)
        # relative size below which |q|^2 + |r|^2 - 2 q.r is recomputed from q - r
        self.rel_tol = 8.0 * max(d, 16) * self.eps
        # the norms in the bound are fast values themselves (x 1.01); centring rounds each
        # coordinate once more, which moves a squared distance by <= 8 eps (|q|^2 + |r|^2)
        self.error_factor = fast_error_factor(d, self.dtype) * 1.01 + (
            10.0 * self.eps if self.centred else 0.0)
        self._row_error = None
        self._factors = None  # numpy, Euclidean: augmented factors of the one-product block
        self._ex_indptr = self._ex_cols = self._ex_keys = None
        if exclude is not None:
            indptr, indices = exclude
            self._ex_indptr = np.asarray(indptr, dtype=np.int64)
            self._ex_cols = ops.index(indices, queries)
            rows = ops.index(np.repeat(np.arange(self.n_queries), np.diff(self._ex_indptr)),
                             queries)
            self._ex_keys = rows * self.n_columns + self._ex_cols  # sorted: CSR is row-major

    # ------------------------------------------------------------------ fast blocks
    def gram(self, r0: int, r1: int, c0: int = 0, c1: int | None = None, out=None):
        """Q[r0:r1] @ R[c0:c1].T in the points' dtype."""
        return self.ops.matmul(self.Q[r0:r1], self.R[c0:c1], out=out)

    def expanded(self, r0: int, r1: int, out=None):
        """|r|^2 - 2 q.r for a full-width block (Euclidean metrics), the column norms folded
        into the product where the backend can."""
        if self.ops.name == "torch":
            return self.ops.xp.addmm(self.sq_r[None, :], self.Q[r0:r1], self.R.T, beta=1.0,
                                     alpha=-2.0, out=out)
        g = self.gram(r0, r1, out=out)
        g *= -2.0
        g += self.sq_r[None, :]
        return g

    def finish(self, G, r0: int, r1: int, c0: int = 0, *, exclude_self: bool,
               expanded: bool = False):
        """Turn a Gram block of rows [r0, r1) and columns [c0, c0 + G.shape[1]) (or, with
        ``expanded``, the output of :meth:`expanded`; with ``expanded="full"`` the whole
        expansion |q|^2 + |r|^2 - 2 q.r) into fast dissimilarities, in place.

        With ``exclude_self`` a point's pair with itself is set to +inf; excluded pairs
        (the ``exclude`` graph, full-width blocks only) likewise.
        """
        ops = self.ops
        c1 = c0 + int(G.shape[1])
        if self.metric in ("euclidean", "sqeuclidean"):
            if not expanded:
                G *= -2.0
                G += self.sq_r[None, c0:c1]
            if expanded != "full":
                G += self.sq_q[r0:r1, None]
            # no clamp at 0 needed: a negative value is below the refit bound, so
            # _refine_small recomputes it from q - r like every tiny one
            if exclude_self:
                self._set_self(G, r0, r1, c0, c1)
            self._refine_small(G, r0, r1, c0)
            if self.metric == "euclidean":
                ops.sqrt_(G)
        elif self.metric == "cosine":
            G *= self.inv_q[r0:r1, None]
            G *= self.inv_r[None, c0:c1]
            ops.neg_(G)
            G += 1.0
            ops.clamp_(G, 0.0, 2.0)
            if exclude_self:
                self._set_self(G, r0, r1, c0, c1)
        else:
            ops.neg_(G)
            if exclude_self:
                self._set_self(G, r0, r1, c0, c1)
        self.mask_excluded(G, r0, r1)
        return G

    def fast_block(self, r0: int, r1: int, c0: int = 0, c1: int | None = None, *,
                   exclude_self: bool, out=None, native: bool = False):
        """Fast dissimilarities of query rows [r0, r1) to reference columns [c0, c1).

        ``native=True`` (numpy, Euclidean metrics) returns the raw squared expansion
        instead: no square root, no refit of tiny values. Its error is the same rigorous
        bound, so :meth:`within` (with ``native=True``) selects from it alike, at less cost.
        """
        if self.ops.name == "numpy" and self.metric in ("euclidean", "sqeuclidean"):
            # one product of augmented factors gives |q|^2 + |r|^2 - 2 q.r directly (a dot
            # product of length d + 2, which the error factor already covers)
            a, b = self._augmented()
            G = np.matmul(a[r0:r1], b[c0:c1].T, out=out)
            if native:
                if exclude_self:
                    self._set_self(G, r0, r1, c0, c0 + G.shape[1])
                self.mask_excluded(G, r0, r1)
                return G
            return self.finish(G, r0, r1, c0, exclude_self=exclude_self, expanded="full")
        if native and self.metric in ("euclidean", "sqeuclidean"):
            raise ValueError("native blocks are built on the numpy backend only")
        return self.finish(self.gram(r0, r1, c0, c1, out=out), r0, r1, c0,
                           exclude_self=exclude_self)

    def _augmented(self):
        if self._factors is None:
            one_q = np.ones((self.n_queries, 1), dtype=self.dtype)
            one_r = np.ones((self.n_columns, 1), dtype=self.dtype)
            a = np.hstack([-2.0 * self.Q, one_q, self.sq_q[:, None]])  # -2 q: exact scaling
            b = np.hstack([self.R, self.sq_r[:, None], one_r])
            self._factors = (a.astype(self.dtype, copy=False), b.astype(self.dtype, copy=False))
        return self._factors

    def _set_self(self, G, r0, r1, c0, c1) -> None:
        lo, hi = max(r0, c0), min(r1, c1)
        if hi > lo:
            i = self.ops.arange(hi - lo, G) + lo
            G[i - r0, i - c0] = math.inf

    def _refine_small(self, D2, r0: int, r1: int, c0: int) -> None:
        """Recompute squared distances that the expansion may have cancelled away (from
        q - r in the points' dtype), so that duplicates sit at exactly 0."""
        ops = self.ops
        if D2.shape[1] == 0 or D2.shape[0] == 0 or self.native_is_exact:
            return  # exact integers: nothing was cancelled, nothing is negative
        c1 = c0 + int(D2.shape[1])
        row_min = D2.min(1) if ops.name == "numpy" else D2.min(dim=1).values
        bound = self.rel_tol * (self.sq_q[r0:r1] + self._sq_r_max)
        rows = ops.nonzero((row_min <= bound)[None, :])[1]
        if rows.shape[0] == 0:
            return
        sub = D2[rows]
        mask = sub <= self.rel_tol * (self.sq_q[r0 + rows][:, None] + self.sq_r[None, c0:c1])
        rr, cc = ops.nonzero(mask)
        qi = r0 + rows[rr]
        out = ops.full((qi.shape[0],), 0.0, D2)
        step = max(1, _REFINE_VALUES // max(1, int(self.Q.shape[1])))
        for s in range(0, int(qi.shape[0]), step):
            diff = self.Q[qi[s:s + step]] - self.R[c0 + cc[s:s + step]]
            out[s:s + step] = (diff * diff).sum(1)
        D2[rows[rr], cc] = out

    def mask_excluded(self, D, r0: int, r1: int) -> None:
        """Set the excluded pairs of full-width block rows [r0, r1) to +inf in place."""
        if self._ex_indptr is None:
            return
        if int(D.shape[1]) != self.n_columns:
            raise ValueError("an exclude graph needs full-width blocks")
        p0, p1 = int(self._ex_indptr[r0]), int(self._ex_indptr[r1])
        if p1 == p0:
            return
        rows = self.ops.index(
            np.repeat(np.arange(r1 - r0), np.diff(self._ex_indptr[r0:r1 + 1])), D)
        D[rows, self._ex_cols[p0:p1]] = math.inf

    # ------------------------------------------------------------------ exact values, bounds
    def exact(self, qi, rj):
        """Exact float64 dissimilarities of the pairs (Q[qi], R[rj]) (the kernel's formula
        on the points as given); +inf for excluded pairs."""
        out = self.ops.exact(self.raw_q, qi, rj, self.metric,
                             None if self.same else self.raw_r)
        keys = self._ex_keys
        if keys is not None and keys.shape[0] and out.shape[0]:
            key = qi * self.n_columns + rj
            at = self.ops.searchsorted(keys, key, right=False)
            at[at > keys.shape[0] - 1] = keys.shape[0] - 1
            out[keys[at] == key] = math.inf
        return out

    def row_error(self, r0: int, r1: int):
        """Per query row, a float64 bound (native units) on |fast - exact| over all columns."""
        if self._row_error is None:
            ops, f = self.ops, self.error_factor
            if self.native_is_exact:  # native values are exact (a float32 root is padded)
                err = ops.full((self.n_queries,), 0.0, self.Q, dtype=ops.float64_dtype)
            elif self.metric in ("euclidean", "sqeuclidean"):
                err = f * (ops.float64(self.sq_q) + self._sq_r_max)
            elif self.metric == "cosine":
                err = ops.full((self.n_queries,), 2.0 * f, self.Q, dtype=ops.float64_dtype)
            else:
                nq = ops.row_sq(ops.float64(self.Q)) ** 0.5
                nr = nq if self.same else ops.row_sq(ops.float64(self.R)) ** 0.5
                err = f * nq * (float(nr.max()) if self.n_columns else 0.0)
            self._row_error = err
        return self._row_error[r0:r1]

    def band(self, values, err) -> tuple:
        """float64 interval holding the exact value of a pair whose fast value is ``values``
        (and the fast value of a pair whose exact value it is): ``values`` itself when
        :attr:`fast_is_exact`."""
        if self.fast_is_exact:
            v = self.ops.float64(values)
            return v, v
        return band(self.ops.float64(values), err, self.metric, self.eps, xp=self.ops.xp)

    def exact_at(self, D, rows, cols, r0: int, c0: int = 0, *, native: bool = False):
        """Exact values of the entries ``D[rows, cols]`` of a fast block of query rows from
        ``r0`` and columns from ``c0``: read from the block when its values are exact
        (:attr:`fast_is_exact`; with ``native``, a native block's squared values and
        :attr:`native_is_exact`), else recomputed with :meth:`exact`. Masked entries of a
        block are +inf, as :meth:`exact` gives for excluded pairs."""
        squared = native and self.metric == "euclidean"
        if self.native_is_exact if squared else self.fast_is_exact:
            ex = self.ops.float64(D[rows, cols])
            return self.ops.sqrt_(ex) if squared else ex
        return self.exact(r0 + rows, c0 + cols)

    def to_fast(self, bound, up: bool):
        """A float64 bound in the points' dtype, rounded outwards (up or down)."""
        t = self.ops.cast(bound, self.Q)
        wrong_side = self.ops.float64(t) < bound if up else self.ops.float64(t) > bound
        if bool(wrong_side.any()):
            toward = self.ops.full(t.shape, math.inf if up else -math.inf, t)
            t[wrong_side] = self.ops.nextafter(t, toward)[wrong_side]
        return t

    # ------------------------------------------------------------------ selectors
    def candidates(self, D, r0: int, cap, c0: int = 0, *, native: bool = False):
        """(local row, column, exact value) of every entry with fast value <= cap[row], in
        row-major order: the pairs whose exact value may decide a row's result.
        ``native``: ``D`` is a native block of :meth:`fast_block`."""
        rows, cols = self.ops.nonzero(D <= cap[:, None])
        return rows, cols + c0, self.exact_at(D, rows, cols, r0, c0, native=native)

    def k_nearest(self, D, r0: int, k: int, *, native: bool = False,
                  expanded: bool = False):
        """The k nearest columns of each row of a full-width fast block, by (exact value,
        index): ``(indices, exact values)``, both of shape (rows, k).

        ``native``: ``D`` is a native block of :meth:`fast_block` (squared values).
        ``expanded``: ``D`` is the output of :meth:`expanded` (|r|^2 - 2 q.r, Euclidean
        metrics) after :meth:`mask_pairs`, so that no full pass adds |q|^2, refits tiny
        values or takes square roots; it is shifted back by |q|^2 per row here.
        A row with fewer than k finite fast values gets +inf for the missing ones.

        The columns are split into groups; the k-th smallest group minimum T is an upper
        bound of the row's k-th smallest fast value (k distinct columns lie at or below
        it), so the k nearest by exact value lie in the groups whose minimum is within two
        error bounds of T. Only their members are compared, and only the members that can
        be among the k are recomputed exactly: one pass over the block (the minima), where
        a full-row selection costs several.
        """
        ops = self.ops
        b, n = int(D.shape[0]), int(D.shape[1])
        err = self.row_error(r0, r0 + b)
        squared = (native or expanded) and self.metric == "euclidean"
        band = self._band_squared if squared else self.band
        shift = ops.float64(self.sq_q[r0:r0 + b]) if expanded else None
        group = max(1, min(_GROUP, n // (8 * k)))
        ng = n // group
        n0 = ng * group
        main = D[:, :n0].reshape(b, group, ng)  # column j (< n0) is in group j mod ng
        minima = ops.min_axis(main, 1)
        if n0 < n:
            minima = ops.concat([minima, ops.min_axis(D[:, n0:], 1)[:, None]], 1)
        T = ops.float64(ops.kth_smallest(minima, min(k, int(minima.shape[1]))))
        short_rows = T == math.inf  # fewer than k finite values: every finite one is taken
        T[short_rows] = 0.0
        if shift is not None:
            T = T + shift
        _, hi = band(T, err)  # every one of the k has exact value <= hi
        if squared:
            # distances are rounded roots: a pair tied with the k-th in distance can lie
            # up to about 2 ulps above it in squared distance
            hi = hi * (1.0 + 8.0 * 2.0**-52)
        _, cap = band(hi, err)  # a pair with exact value <= hi has fast value <= cap
        if shift is not None:  # back to |r|^2 - 2 q.r, rounded up
            cap = cap - shift
            cap = cap + 4.0 * 2.0**-52 * (abs(cap) + shift)
        cap[short_rows] = math.inf
        cap = self.to_fast(cap, up=True)
        g_rows, g_idx = ops.nonzero(minima <= cap[:, None])
        inner = g_idx < ng
        rg, gg = g_rows[inner], g_idx[inner]
        vals = main[rg, :, gg]  # (groups, group): the members of each candidate group
        mi, ti = ops.nonzero((vals <= cap[rg][:, None]) & (vals < math.inf))
        rows, cols = rg[mi], gg[mi] + ng * ti
        rt = g_rows[~inner]
        if int(rt.shape[0]):
            tail = D[rt, n0:]
            mi, ti = ops.nonzero((tail <= cap[rt][:, None]) & (tail < math.inf))
            rows = ops.concat([rows, rt[mi]], 0)
            cols = ops.concat([cols, n0 + ti], 0)
        if self.native_is_exact if (native or expanded) else self.fast_is_exact:
            ex = ops.float64(D[rows, cols])  # the fast values are the exact ones
            if shift is not None:
                ex += shift[rows]  # exact: integers the dtype holds
            if squared:
                ex = ops.sqrt_(ex)
        else:
            ex = self.exact(r0 + rows, cols)
        perm = ops.order_within_rows(rows, ex, cols, cols_sorted=False)
        counts = ops.bincount(rows, b)
        starts = ops.cumsum(counts) - counts
        pos = starts[:, None] + ops.arange(k, rows)[None, :]
        short = pos >= (starts + counts)[:, None]  # fewer candidates than k (masked pairs)
        take = perm[ops.clamp_(pos, 0, max(int(rows.shape[0]) - 1, 0))]
        idx, dist = cols[take], ex[take]
        if bool(short.any()):
            idx[short] = -1
            dist[short] = math.inf
        return idx, dist

    def mask_pairs(self, G, r0: int, r1: int, *, exclude_self: bool) -> None:
        """Put a point's pair with itself (``exclude_self``) and the excluded pairs of the
        full-width block rows [r0, r1) at +inf, in place (for :meth:`expanded` blocks)."""
        if exclude_self:
            self._set_self(G, r0, r1, 0, int(G.shape[1]))
        self.mask_excluded(G, r0, r1)

    def _band_squared(self, values, err) -> tuple:
        """:meth:`band` for native (squared) values of the Euclidean metric."""
        if self.native_is_exact:
            v = self.ops.float64(values)
            return v, v
        return band(self.ops.float64(values), err, "sqeuclidean", self.eps, xp=self.ops.xp)

    def within(self, D, r0: int, threshold: float, *, strict: bool, c0: int = 0,
               native: bool = False):
        """Every pair of the block with exact value < ``threshold`` (``strict``) or <= it:
        ``(local rows, columns, exact values)``, ordered by (row, value, column).
        ``native``: ``D`` is a native block of :meth:`fast_block`."""
        ops = self.ops
        b = int(D.shape[0])
        err = self.row_error(r0, r0 + b)
        t = ops.full((b,), float(threshold), err)
        _, cap = self.band(t, err)  # a pair with exact value <= threshold has fast <= cap
        if native and self.metric == "euclidean":
            # a fast distance is the rounded root of the native value: native <= (cap (1+eps))^2
            cap = cap * cap * (1.0 + 8.0 * self.eps)
        rows, cols, ex = self.candidates(D, r0, self.to_fast(cap, up=True), c0, native=native)
        keep = ex < threshold if strict else ex <= threshold
        rows, cols, ex = rows[keep], cols[keep], ex[keep]
        order = ops.order_within_rows(rows, ex, cols)
        return rows[order], cols[order], ex[order]

    def exactify(self, D, r0: int, thresholds, c0: int = 0):
        """``D`` (float64) with the exact value in every entry whose fast value lies within
        the rounding bound of one of the sorted float64 ``thresholds``."""
        ops = self.ops
        D = ops.float64(D)
        if thresholds.shape[0] == 0 or D.shape[0] * D.shape[1] == 0 or self.fast_is_exact:
            return D
        err = self.row_error(r0, r0 + int(D.shape[0]))
        lo, hi = self.band(D, err[:, None])
        # an entry is undecided when some threshold lies in its band [lo, hi]
        undecided = (ops.searchsorted(thresholds, lo, right=False)
                     < ops.searchsorted(thresholds, hi, right=True))
        qi, cj = ops.nonzero(undecided)
        if qi.shape[0]:
            D = D.copy() if ops.name == "numpy" else D.clone()
            D[qi, cj] = self.exact(r0 + qi, cj + c0)
        return D

    def row_min(self, D, r0: int, mask, c0: int = 0):
        """Per row of the block, the exact minimum over the entries where ``mask`` holds
        (+inf for a row without one)."""
        ops = self.ops
        b = int(D.shape[0])
        masked = ops.float64(D).copy() if ops.name == "numpy" else ops.float64(D).clone()
        masked[~mask] = math.inf
        out = ops.full((b,), math.inf, masked)
        fmin = masked.min(1) if ops.name == "numpy" else masked.min(dim=1).values
        ok = fmin < math.inf
        if not bool(ok.any()):
            return out
        err = self.row_error(r0, r0 + b)
        base = fmin.copy() if ops.name == "numpy" else fmin.clone()
        base[~ok] = 0.0
        _, hi = self.band(base, err)  # that pair's exact value is <= hi
        _, cap = self.band(hi, err)  # so the minimum's fast value is <= cap
        cap[~ok] = -math.inf
        if self.fast_is_exact:
            out[ok] = fmin[ok]
            return out
        qi, cj = ops.nonzero(masked <= cap[:, None])
        return ops.scatter_min(out, qi, self.exact(r0 + qi, cj + c0))
