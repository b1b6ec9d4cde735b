"""A denoising autoencoder objective L_M for bag-of-words vectors (Mult-DAE).

Why this L_M
------------
The masked-feature reconstruction of :class:`MaskedFeatureReconstruction`
scores every entry of a ~1%-dense binary vector with an unweighted binary
cross-entropy. Its loss is dominated by the absent words, and the constant
predictor of each word's corpus frequency is a deep plateau of it: on Cora
that predictor already scores 0.0582 nats per entry, and the case study's
40 epochs at lr 1e-3 end at 0.059, with embeddings of effective rank about 2.5
(measured by ``experiments/diagnostics/lm_only_baseline.py``). The encoder
has learned the corpus, not the documents.

The denoising autoencoder with a multinomial likelihood of Liang et al.
(2018, "Variational Autoencoders for Collaborative Filtering", WWW,
doi:10.1145/3178876.3186150; book key ``liang2018vae``), Mult-DAE, built
for exactly this kind of data (sparse bag-of-items rows), removes that
plateau: the decoder's logits go
through a softmax over the vocabulary, so the loss only asks *which* words a
document holds, as a distribution, and absent words cost nothing by
themselves. Its inputs are L2-normalized rows (documents of any length on
one scale) corrupted by dropout. The Bernoulli likelihood is kept as an
alternative, with the present words up-weighted so that they carry as much
of the loss as the absent ones.

What is implemented (per document ``x`` with decoder logits ``f``):

* corruption: each entry is zeroed with probability ``corruption`` and the
  survivors are multiplied by ``1 / (1 - corruption)`` (inverted dropout, as
  in Mult-DAE), so the corrupted input equals the clean one in expectation
  and the encoder sees the clean rows at evaluation without a shift;
* ``likelihood="multinomial"``: ``-sum_i (x_i / sum_j x_j) log softmax(f)_i``,
  the cross-entropy between the document's word distribution and the
  decoder's, averaged over the documents with at least one word. Each
  document weighs the same (Mult-DAE weights a document by its word count;
  with L2-normalized inputs the counts are not at hand, and the per-document
  form is invariant to the scale of ``x``);
* ``likelihood="bernoulli"``: binary cross-entropy on logits against
  ``1[x_i > 0]``, present entries weighted by ``pos_weight`` (``"balanced"``:
  the ratio of absent to present entries of the batch), averaged over the
  batch's entries.

Pass the features through :func:`l2_normalize_rows` before giving them to
the trainer (the trainer embeds its ``data`` as given, at training and at
evaluation).
"""

from __future__ import annotations

import torch
from torch import nn

from .._validation import check_one_of

__all__ = ["DenoisingAutoencoderObjective", "l2_normalize_rows"]


def l2_normalize_rows(x) -> torch.Tensor:
    """Rows scaled to unit Euclidean norm; all-zero rows stay zero.

    Parameters
    ----------
    x : array-like or torch.Tensor of shape (n, d)

    Returns
    -------
    torch.Tensor
        float32 (or the floating dtype of a tensor given).

    Examples
    --------
    >>> import torch
    >>> l2_normalize_rows(torch.tensor([[3.0, 4.0], [0.0, 0.0]]))
    tensor([[0.6000, 0.8000],
            [0.0000, 0.0000]])
    """
    t = torch.as_tensor(x)
    if not t.is_floating_point():
        t = t.float()
    if t.ndim != 2:
        raise ValueError(f"x must be 2-D (n, d), got shape {tuple(t.shape)}")
    if t.shape[1] == 0:
        return t
    # divide by the row's largest magnitude first: the norm of a row of tiny entries
    # underflows to 0 in float32 (1e-30 squares to 0)
    big = t.abs().amax(dim=1, keepdim=True)
    t = t / torch.where(big > 0, big, torch.ones_like(big))
    norm = torch.linalg.vector_norm(t, dim=1, keepdim=True)
    return t / torch.where(norm > 0, norm, torch.ones_like(norm))


class DenoisingAutoencoderObjective(nn.Module):
    """Denoising autoencoder L_M for bag-of-words rows: multinomial or Bernoulli likelihood.

    Parameters
    ----------
    embedding_dim : int
        Encoder output size (the decoder reads the embeddings).
    n_features : int
        Vocabulary size.
    likelihood : {"multinomial", "bernoulli"}, default "multinomial"
        See the module notes.
    corruption : float in [0, 1), default 0.5
        Input dropout probability (Mult-DAE's 0.5).
    pos_weight : float or "balanced", default "balanced"
        Weight of present entries in the Bernoulli likelihood (ignored by the
        multinomial one). ``"balanced"``: absent/present entries of the batch.
    hidden_size : int or None, default None
        Optional hidden layer (tanh, as in Mult-DAE) in the decoder.
    seed : int, default 0
        Initialization of the decoder.

    Notes
    -----
    The interface is that of :class:`MaskedFeatureReconstruction`:
    ``corrupt(x, generator) -> (corrupted, x)`` and
    ``loss(encoder_output, x) -> (loss, metrics)``. ``metrics["n_targets"]``
    counts the scored documents (multinomial) or entries (Bernoulli);
    ``metrics["n_correct"]`` the documents whose most probable word is one of
    theirs (multinomial) or the entries on the right side of 0 (Bernoulli).
    A batch without a scored target gives 0, never NaN.

    Examples
    --------
    >>> import torch
    >>> from sip_theory.models import MLPEncoder
    >>> enc = MLPEncoder(12, hidden_sizes=[8], out_features=4)
    >>> obj = DenoisingAutoencoderObjective(4, 12, corruption=0.5)
    >>> g = torch.Generator().manual_seed(0)
    >>> x = l2_normalize_rows((torch.rand(3, 12, generator=g) < 0.3).float())
    >>> xc, t = obj.corrupt(x, g)
    >>> loss, metrics = obj.loss(enc(xc), t)
    >>> bool(torch.isfinite(loss)), metrics["n_targets"]
    (True, 3)
    """

    def __init__(self, embedding_dim: int, n_features: int, *,
                 likelihood: str = "multinomial", corruption: float = 0.5,
                 pos_weight="balanced", hidden_size: int | None = None, seed=0):
        super().__init__()
        from ._layers import init_generator

        self.likelihood = check_one_of(likelihood, ("multinomial", "bernoulli"),
                                       name="likelihood")
        corruption = float(corruption)
        if not 0.0 <= corruption < 1.0:
            raise ValueError(f"corruption must be in [0, 1), got {corruption}")
        self.corruption = corruption
        if pos_weight != "balanced":
            if isinstance(pos_weight, (bool, str)) or not float(pos_weight) > 0:
                raise ValueError(f"pos_weight must be a positive float or 'balanced', "
                                 f"got {pos_weight!r}")
            pos_weight = float(pos_weight)
        self.pos_weight = pos_weight
        with torch.random.fork_rng(devices=[]):  # leave the global generator untouched
            if hidden_size is None:
                self.head = nn.Linear(embedding_dim, n_features)
            else:
                self.head = nn.Sequential(nn.Linear(embedding_dim, hidden_size), nn.Tanh(),
                                          nn.Linear(hidden_size, n_features))
        gen = init_generator(seed)
        with torch.no_grad():
            for mod in self.head.modules():
                if isinstance(mod, nn.Linear):
                    b = 1.0 / mod.in_features ** 0.5
                    mod.weight.copy_(torch.empty(mod.weight.shape).uniform_(-b, b, generator=gen))
                    mod.bias.copy_(torch.empty(mod.bias.shape).uniform_(-b, b, generator=gen))

    @property
    def config(self) -> dict:
        """The settings as a plain dict (``SIPTTrainer.fingerprint`` hashes its repr)."""
        return {"likelihood": self.likelihood, "corruption": self.corruption,
                "pos_weight": self.pos_weight}

    def extra_repr(self) -> str:
        return (f"likelihood={self.likelihood!r}, corruption={self.corruption}, "
                f"pos_weight={self.pos_weight!r}")

    def corrupt(self, x, generator):
        """Inverted dropout on ``x``; returns ``(corrupted, x)``."""
        if x.ndim != 2:
            raise ValueError(f"x must be 2-D (batch, n_features), got {tuple(x.shape)}")
        if self.corruption == 0.0:
            return x, x
        keep = torch.rand(x.shape, generator=generator, device=x.device) >= self.corruption
        return torch.where(keep, x / (1.0 - self.corruption), torch.zeros_like(x)), x

    def loss(self, output, targets):
        """The negative log-likelihood of the clean rows; returns ``(loss, metrics)``."""
        logits = self.head(output.embeddings).float()
        x = targets.float()
        if self.likelihood == "multinomial":
            mass = x.sum(1)
            rows = mass > 0
            n = int(rows.sum())
            if n == 0:
                return logits.sum() * 0.0, {"n_targets": 0, "n_correct": 0}
            w = x[rows] / mass[rows, None]
            logp = torch.log_softmax(logits[rows], dim=1)
            loss = -(w * logp).sum(1).mean()
            top = logits[rows].argmax(1)
            n_correct = int((x[rows].gather(1, top[:, None]) > 0).sum())
            return loss, {"n_targets": n, "n_correct": n_correct}
        t = (x > 0).float()
        n = t.numel()
        if n == 0:
            return logits.sum() * 0.0, {"n_targets": 0, "n_correct": 0}
        if self.pos_weight == "balanced":
            n_pos = float(t.sum())
            pw = (n - n_pos) / n_pos if n_pos > 0 else 1.0
        else:
            pw = self.pos_weight
        loss = nn.functional.binary_cross_entropy_with_logits(
            logits, t, pos_weight=torch.tensor(pw, device=logits.device))
        n_correct = int(((logits > 0) == (t > 0.5)).sum())
        return loss, {"n_targets": n, "n_correct": n_correct}
