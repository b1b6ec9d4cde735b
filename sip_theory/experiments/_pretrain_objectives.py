"""The per-sample objectives L_M of ``sip-theory pretrain``, by name.

A factory is ``factory(encoder, data, *, seed, **options) -> nn.Module`` (an
objective with the trainer's ``corrupt``/``loss`` contract); it reads what it
needs from the encoder (its ``embedding_dim``, or a transformer's vocabulary)
and from the data (a :class:`~._pretrain_data.PretrainData`: feature count,
value range). Adding an objective is one call of
:func:`register_objective`, e.g. for a denoising autoencoder with the same
constructor as :class:`~sip_theory.models.MaskedFeatureReconstruction`::

    register_objective("dae", "features", feature_head(DenoisingAutoencoder))
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["OBJECTIVES", "feature_head", "get_objective", "register_objective"]

#: name -> (kind of data, factory)
OBJECTIVES: dict[str, tuple[str, Callable]] = {}
#: the objective used when none is named, by kind of data
DEFAULT_OBJECTIVE = {"features": "masked", "text": "mlm"}


def register_objective(name: str, kind: str, factory: Callable) -> Callable:
    """Make ``factory`` available as ``--objective name`` for data of ``kind``.

    Examples
    --------
    >>> "masked" in OBJECTIVES and OBJECTIVES["mlm"][0]
    'text'
    """
    if kind not in ("features", "text"):
        raise ValueError(f"kind must be 'features' or 'text', got {kind!r}")
    OBJECTIVES[name] = (kind, factory)
    return factory


def get_objective(name: str | None, kind: str) -> tuple[str, Callable]:
    """``(name, factory)`` of objective ``name`` (default: that of ``kind``), checked against it."""
    name = DEFAULT_OBJECTIVE[kind] if name is None else name
    if name not in OBJECTIVES:
        raise ValueError(f"--objective must be one of {sorted(OBJECTIVES)}, got {name!r}")
    want, factory = OBJECTIVES[name]
    if want != kind:
        raise ValueError(f"--objective {name!r} is for {want} input, but FEATURES is {kind}")
    return name, factory


def feature_defaults(x: np.ndarray) -> dict:
    """Masked-reconstruction settings that fit the values of ``x``.

    Values in [0, 1] are scored by binary cross-entropy, others by squared
    error. Mostly-zero rows (under half the entries non-zero: bag of words) hide
    only present entries and score the whole vector, the Cora study's choice
    (hiding anywhere would mostly hide zeros, which the corrupted input cannot
    tell from absent words); dense rows hide any entry and score the hidden ones.

    Examples
    --------
    >>> feature_defaults(np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]))
    {'rate': 0.15, 'loss': 'bce', 'scope': 'nonzero', 'loss_on': 'all'}
    """
    unit = bool(x.size) and float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    sparse = np.count_nonzero(x) < 0.5 * x.size
    return {"rate": 0.15, "loss": "bce" if unit else "mse",
            "scope": "nonzero" if sparse else "all", "loss_on": "all" if sparse else "masked"}


def feature_head(cls) -> Callable:
    """A factory for an objective built as ``cls(embedding_dim, n_features, seed=, **options)``.

    ``options`` default to :func:`feature_defaults` of the data (given ones win).
    """
    def factory(encoder, data, *, seed, **options):
        opts = {**feature_defaults(data.inputs), **options}
        return cls(encoder.embedding_dim, data.inputs.shape[1], seed=seed, **opts)

    factory.defaults = feature_defaults
    return factory


def _mlm(encoder, data, *, seed, **options):
    from ..models import MaskedTokenLM

    return MaskedTokenLM(encoder, seed=seed, **{"rate": 0.15, **options})


def _masked_features():
    from ..models import MaskedFeatureReconstruction

    return feature_head(MaskedFeatureReconstruction)


register_objective("masked", "features", _masked_features())
register_objective("mlm", "text", _mlm)
