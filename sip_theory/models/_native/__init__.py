"""Fused CPU kernels of the reference transformer layer, compiled on first use.

The reference encoders are tiny (the "tiny" preset has hidden size 10 and heads
of 5), so on a CPU a training step of the plain-torch layer is spent in
per-operator passes over the (batch, heads, length, length) attention tensor,
permutes and autograd bookkeeping rather than in arithmetic. This package
compiles ``encoder_kernels.c`` (the attention core and residual + LayerNorm,
forward and backward, in the layouts the linear maps produce) with the system
C compiler into a per-machine cache, loads it with :mod:`ctypes`, and binds it
as one :class:`torch.autograd.Function` per layer (:func:`fused_layer`) whose
backward is written out by hand; the linear maps stay in torch.

Nothing here is needed: without a C compiler, on a GPU, under autocast, with
hidden dropout or with heads wider than 64, :class:`~sip_theory.models.TransformerEncoder`
uses its plain-torch layer. The two compute the same function (the tests
compare outputs and gradients, dropout masks included) up to float32 rounding,
so a run is bit-identical only with the same kernel on the same machine and
thread count; records say which kernel ran (:func:`kernel_info`).

Environment: ``SIP_THEORY_NATIVE=0`` disables the kernels; ``SIP_THEORY_CACHE``
sets the cache folder (default ``~/.cache/sip_theory``); ``CC`` the compiler
(default ``cc``).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import torch

__all__ = ["LAYER_PARAMS", "MAX_HEAD_DIM", "fused_layer", "kernel_info", "native_available",
           "stacked_fused_layer"]

#: Widest attention head the fused kernel takes (its per-row query buffer).
MAX_HEAD_DIM = 64

#: A layer's parameters in the order the fused kernels take them (names within the layer).
LAYER_PARAMS = ("attn.qkv.weight", "attn.qkv.bias", "attn.out.weight", "attn.out.bias",
                "ln1.weight", "ln1.bias", "ff1.weight", "ff1.bias", "ff2.weight", "ff2.bias",
                "ln2.weight", "ln2.bias")

_SOURCE = Path(__file__).with_name("encoder_kernels.c")
# -march=native can fail on odd CPUs; -Wno-psabi: the 32-byte vector ABI note of GCC
_FLAG_SETS = (["-O3", "-march=native", "-Wno-psabi"], ["-O3", "-Wno-psabi"])
_lock = threading.Lock()
_state: dict = {}


def _cache_dir() -> Path:
    root = os.environ.get("SIP_THEORY_CACHE") or Path.home() / ".cache" / "sip_theory"
    return Path(root) / "native"


def _compile() -> tuple[ctypes.CDLL | None, str]:
    if os.environ.get("SIP_THEORY_NATIVE", "1") == "0":
        return None, "disabled by SIP_THEORY_NATIVE=0"
    cc = os.environ.get("CC", "cc")
    if shutil.which(cc) is None:
        return None, f"no C compiler ({cc!r} not found)"
    source = _SOURCE.read_bytes()
    try:
        version = subprocess.run([cc, "--version"], capture_output=True, text=True,
                                 timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as err:
        return None, f"C compiler {cc!r} failed to run: {err}"
    errors = []
    for flags in _FLAG_SETS:
        key = hashlib.sha256(source + repr((flags, version, platform.machine(),
                                             platform.node())).encode()).hexdigest()[:16]
        lib = _cache_dir() / f"encoder_kernels_{key}.so"
        if not lib.exists():
            try:
                _build(cc, flags, lib)
            except (OSError, subprocess.SubprocessError) as err:
                errors.append(f"{' '.join(flags)}: {err}")
                continue
        try:
            return _bind(ctypes.CDLL(str(lib))), f"{cc} {' '.join(flags)} ({lib})"
        except OSError as err:
            errors.append(f"{' '.join(flags)}: {err}")
    return None, "compilation failed: " + "; ".join(errors)


def _build(cc: str, flags: list, lib: Path) -> None:
    """Compile the kernels into ``lib``; raises OSError or SubprocessError on failure."""
    lib.parent.mkdir(parents=True, exist_ok=True)
    # compile beside the target and rename: concurrent workers never load a partial file
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=lib.parent)
    os.close(fd)
    try:
        res = subprocess.run([cc, *flags, "-fPIC", "-shared", str(_SOURCE), "-o", tmp, "-lm"],
                             capture_output=True, text=True, timeout=300)
        if res.returncode != 0:
            raise OSError(res.stderr.strip()[:200] or f"{cc} exited with {res.returncode}")
        os.replace(tmp, lib)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _bind(dll: ctypes.CDLL) -> ctypes.CDLL:
    p, i, f = ctypes.c_void_p, ctypes.c_int64, ctypes.c_float
    dll.attention_forward.argtypes = [p, p, p, i, i, i, i, f, f, p, p, p]
    dll.attention_backward.argtypes = [p, p, p, p, i, i, i, i, f, f, p, p]
    dll.add_layernorm_forward.argtypes = [p, p, p, p, i, i, f, p, p, p]
    dll.layernorm_backward.argtypes = [p, p, p, p, i, i, p, p, p]
    for fn in ("attention_forward", "attention_backward", "add_layernorm_forward",
               "layernorm_backward"):
        getattr(dll, fn).restype = None
    return dll


def _library() -> ctypes.CDLL | None:
    with _lock:
        if "lib" not in _state:
            _state["lib"], _state["how"] = _compile()
    return _state["lib"]


def native_available() -> bool:
    """Whether the fused kernels are compiled and loaded (compiling them on first call).

    Examples
    --------
    >>> isinstance(native_available(), bool)
    True
    """
    return _library() is not None


def kernel_info() -> dict:
    """``{"available": bool, "how": str}``: the compiler and flags used, or why not.

    Examples
    --------
    >>> sorted(kernel_info())
    ['available', 'how']
    """
    available = native_available()
    return {"available": available, "how": _state["how"]}


def _ptr(t: torch.Tensor | None):
    return None if t is None else t.data_ptr()


def _padded(t: int) -> int:
    """Sequence length rounded up to the kernels' 8-lane vectors."""
    return -(-t // 8) * 8


class _FusedLayer(torch.autograd.Function):
    """One post-LayerNorm BERT layer (no hidden dropout) with a hand-written backward."""

    @staticmethod
    def forward(ctx, x, pad, drop, n_heads, q_scale, drop_scale, eps1, eps2,
                w_qkv, b_qkv, w_out, b_out, g1, beta1, w1, b1, w2, b2, g2, beta2):
        lib = _state["lib"]
        bsz, t, h = x.shape
        n, d = bsz * t, h // n_heads
        x2 = x.reshape(n, h)
        qkv = torch.addmm(b_qkv, x2, w_qkv.t())
        probs = torch.empty((bsz, n_heads, t, t))
        att = torch.empty((n, h))
        scratch = torch.empty((2 * d + 4) * _padded(t))
        lib.attention_forward(_ptr(qkv), _ptr(pad), _ptr(drop), bsz, t, n_heads, d, q_scale,
                              drop_scale, _ptr(probs), _ptr(att), _ptr(scratch))
        a = torch.addmm(b_out, att, w_out.t())
        y1, xhat1, rstd1 = torch.empty((n, h)), torch.empty((n, h)), torch.empty(n)
        lib.add_layernorm_forward(_ptr(x2), _ptr(a), _ptr(g1), _ptr(beta1), n, h, eps1,
                                  _ptr(y1), _ptr(xhat1), _ptr(rstd1))
        pre = torch.addmm(b1, y1, w1.t())
        act = torch.nn.functional.gelu(pre)
        f = torch.addmm(b2, act, w2.t())
        y2, xhat2, rstd2 = torch.empty((n, h)), torch.empty((n, h)), torch.empty(n)
        lib.add_layernorm_forward(_ptr(y1), _ptr(f), _ptr(g2), _ptr(beta2), n, h, eps2,
                                  _ptr(y2), _ptr(xhat2), _ptr(rstd2))
        ctx.shape = (bsz, t, h, n_heads, q_scale, drop_scale)
        ctx.save_for_backward(x2, drop, qkv, probs, att, y1, xhat1, rstd1, pre, act, xhat2,
                              rstd2, w_qkv, w_out, g1, w1, w2, g2)
        return y2.view(bsz, t, h)

    @staticmethod
    def backward(ctx, grad):
        lib = _state["lib"]
        (x2, drop, qkv, probs, att, y1, xhat1, rstd1, pre, act, xhat2, rstd2,
         w_qkv, w_out, g1, w1, w2, g2) = ctx.saved_tensors
        bsz, t, h, n_heads, q_scale, drop_scale = ctx.shape
        n = bsz * t
        dy2 = grad.reshape(n, h).contiguous()
        du2 = torch.empty((n, h))
        dg2, dbeta2 = torch.empty(h), torch.empty(h)
        lib.layernorm_backward(_ptr(dy2), _ptr(xhat2), _ptr(rstd2), _ptr(g2), n, h, _ptr(du2),
                               _ptr(dg2), _ptr(dbeta2))
        dw2, db2 = du2.t() @ act, du2.sum(0)
        dpre = torch.ops.aten.gelu_backward(du2 @ w2, pre)
        dw1, db1 = dpre.t() @ y1, dpre.sum(0)
        dy1 = torch.addmm(du2, dpre, w1)  # the residual path plus the FFN's input gradient
        du1 = torch.empty((n, h))
        dg1, dbeta1 = torch.empty(h), torch.empty(h)
        lib.layernorm_backward(_ptr(dy1), _ptr(xhat1), _ptr(rstd1), _ptr(g1), n, h, _ptr(du1),
                               _ptr(dg1), _ptr(dbeta1))
        dw_out, db_out, datt = du1.t() @ att, du1.sum(0), du1 @ w_out
        dqkv = torch.empty((n, 3 * h))
        scratch = torch.empty((4 * (h // n_heads) + 3) * _padded(t))
        lib.attention_backward(_ptr(qkv), _ptr(drop), _ptr(probs), _ptr(datt), bsz, t, n_heads,
                               h // n_heads, q_scale, drop_scale, _ptr(dqkv), _ptr(scratch))
        dw_qkv, db_qkv = dqkv.t() @ x2, dqkv.sum(0)
        dx = torch.addmm(du1, dqkv, w_qkv)  # the residual path plus the attention's
        return (dx.view(bsz, t, h), None, None, None, None, None, None, None,
                dw_qkv, db_qkv, dw_out, db_out, dg1, dbeta1, dw1, db1, dw2, db2, dg2, dbeta2)


def _each(lib_fn, m_count, *tensors_and_scalars):
    """Call a per-row kernel once per member, slicing the member axis of the tensors."""
    for m in range(m_count):
        lib_fn(*(_ptr(a[m]) if isinstance(a, torch.Tensor) else a
                 for a in tensors_and_scalars))


class _StackedFusedLayer(torch.autograd.Function):
    """:class:`_FusedLayer` for M models at once: parameters and rows carry a member axis.

    The linear maps are batched matrix products over the member axis; the
    attention core runs once over all members' sequences (it has no
    parameters); residual + LayerNorm runs per member (its scale and shift
    differ). Member m's rows see only member m's weights, so each member's
    output and gradients are the single-model layer's, up to float32 rounding.
    """

    @staticmethod
    def forward(ctx, x, pad, drop, n_seq, t, n_heads, q_scale, drop_scale, eps1, eps2,
                w_qkv, b_qkv, w_out, b_out, g1, beta1, w1, b1, w2, b2, g2, beta2):
        lib = _state["lib"]
        m_count, n, h = x.shape
        d = h // n_heads
        qkv = torch.baddbmm(b_qkv.unsqueeze(1), x, w_qkv.transpose(1, 2))
        probs = torch.empty((n_seq, n_heads, t, t))
        att = torch.empty((m_count, n, h))
        scratch = torch.empty((2 * d + 4) * _padded(t))
        lib.attention_forward(_ptr(qkv), _ptr(pad), _ptr(drop), n_seq, t, n_heads, d, q_scale,
                              drop_scale, _ptr(probs), _ptr(att), _ptr(scratch))
        a = torch.baddbmm(b_out.unsqueeze(1), att, w_out.transpose(1, 2))
        y1, xhat1 = torch.empty((m_count, n, h)), torch.empty((m_count, n, h))
        rstd1 = torch.empty((m_count, n))
        _each(lib.add_layernorm_forward, m_count, x, a, g1, beta1, n, h, eps1, y1, xhat1, rstd1)
        pre = torch.baddbmm(b1.unsqueeze(1), y1, w1.transpose(1, 2))
        act = torch.nn.functional.gelu(pre)
        f = torch.baddbmm(b2.unsqueeze(1), act, w2.transpose(1, 2))
        y2, xhat2 = torch.empty((m_count, n, h)), torch.empty((m_count, n, h))
        rstd2 = torch.empty((m_count, n))
        _each(lib.add_layernorm_forward, m_count, y1, f, g2, beta2, n, h, eps2, y2, xhat2, rstd2)
        ctx.shape = (n_seq, t, n_heads, q_scale, drop_scale)
        ctx.save_for_backward(x, drop, qkv, probs, att, y1, xhat1, rstd1, pre, act, xhat2,
                              rstd2, w_qkv, w_out, g1, w1, w2, g2)
        return y2

    @staticmethod
    def backward(ctx, grad):
        lib = _state["lib"]
        (x, drop, qkv, probs, att, y1, xhat1, rstd1, pre, act, xhat2, rstd2,
         w_qkv, w_out, g1, w1, w2, g2) = ctx.saved_tensors
        n_seq, t, n_heads, q_scale, drop_scale = ctx.shape
        m_count, n, h = x.shape
        dy2 = grad.contiguous()
        du2 = torch.empty((m_count, n, h))
        dg2, dbeta2 = torch.empty((m_count, h)), torch.empty((m_count, h))
        _each(lib.layernorm_backward, m_count, dy2, xhat2, rstd2, g2, n, h, du2, dg2, dbeta2)
        dw2, db2 = torch.bmm(du2.transpose(1, 2), act), du2.sum(1)
        dpre = torch.ops.aten.gelu_backward(torch.bmm(du2, w2), pre)
        dw1, db1 = torch.bmm(dpre.transpose(1, 2), y1), dpre.sum(1)
        dy1 = torch.baddbmm(du2, dpre, w1)
        du1 = torch.empty((m_count, n, h))
        dg1, dbeta1 = torch.empty((m_count, h)), torch.empty((m_count, h))
        _each(lib.layernorm_backward, m_count, dy1, xhat1, rstd1, g1, n, h, du1, dg1, dbeta1)
        dw_out, db_out = torch.bmm(du1.transpose(1, 2), att), du1.sum(1)
        datt = torch.bmm(du1, w_out)
        dqkv = torch.empty((m_count, n, 3 * h))
        scratch = torch.empty((4 * (h // n_heads) + 3) * _padded(t))
        lib.attention_backward(_ptr(qkv), _ptr(drop), _ptr(probs), _ptr(datt), n_seq, t,
                               n_heads, h // n_heads, q_scale, drop_scale, _ptr(dqkv),
                               _ptr(scratch))
        dw_qkv, db_qkv = torch.bmm(dqkv.transpose(1, 2), x), dqkv.sum(1)
        dx = torch.baddbmm(du1, dqkv, w_qkv)
        return (dx, None, None, None, None, None, None, None, None, None,
                dw_qkv, db_qkv, dw_out, db_out, dg1, dbeta1, dw1, db1, dw2, db2, dg2, dbeta2)


def stacked_fused_layer(x, key_pad, drop, n_heads, q_scale, drop_scale, eps1, eps2, params):
    """One encoder layer for M models at once through the fused kernels.

    Parameters
    ----------
    x : torch.Tensor of shape (M, S, T, H)
        Member m's S sequences of length T (float32, CPU).
    key_pad : torch.BoolTensor of shape (M, S, T)
    drop : torch.BoolTensor of shape (M, S, heads, T, T) or None
        Attention-probability drop masks (True = dropped), drawn by the caller.
    params : sequence of 12 tensors
        The layer's weights with a leading member axis, in :data:`LAYER_PARAMS` order.

    Returns
    -------
    torch.Tensor of shape (M, S, T, H)
    """
    m_count, s, t, h = x.shape
    pad = key_pad.contiguous().view(torch.uint8)
    drop8 = None if drop is None else drop.contiguous().view(torch.uint8)
    y = _StackedFusedLayer.apply(
        x.reshape(m_count, s * t, h).contiguous(), pad, drop8, m_count * s, t, n_heads,
        q_scale, drop_scale if drop is not None else 1.0, eps1, eps2,
        *(p.contiguous() for p in params))
    return y.view(m_count, s, t, h)


def fused_layer(layer, x: torch.Tensor, key_pad: torch.Tensor) -> torch.Tensor:
    """Apply a :class:`~sip_theory.models.TransformerEncoder` layer through the fused kernels.

    The caller checks that the kernels apply (:meth:`TransformerEncoder.uses_native`):
    CPU float32, no autocast, no active hidden dropout, head width at most
    :data:`MAX_HEAD_DIM`. The attention dropout mask is drawn from the layer's
    own :class:`~sip_theory.models.GeneratorDropout`, with the same shape and
    at the same point as the plain layer draws it, so both consume a generator
    identically.
    """
    attn = layer.attn
    bsz, t, h = x.shape
    drop = None
    if attn.attn_drop.active:
        mask = attn.attn_drop.mask((bsz, attn.n_heads, t, t), x.device)
        drop = mask.contiguous().view(torch.uint8)
    pad = key_pad.contiguous().view(torch.uint8)
    params = [layer.get_parameter(name) for name in LAYER_PARAMS]
    return _FusedLayer.apply(
        x.contiguous(), pad, drop, attn.n_heads, attn.head_dim ** -0.5,
        attn.attn_drop.scale if drop is not None else 1.0, layer.ln1.eps, layer.ln2.eps,
        *(p.contiguous() for p in params))
