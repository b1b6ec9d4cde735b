"""Reference encoders, per-sample objectives L_M, and the SIPT trainer.

* encoders: :class:`TransformerEncoder` (BERT-style, [CLS] pooling, presets
  ``"tiny"`` and ``"manifold"``), :class:`MLPEncoder`, :class:`LookupEncoder`;
* per-sample objectives: :class:`MaskedTokenLM` (:func:`mask_tokens`),
  :class:`MaskedFeatureReconstruction` (:func:`mask_features`) and
  :class:`DenoisingAutoencoderObjective` (Mult-DAE for bag-of-words rows, on
  :func:`l2_normalize_rows` inputs);
* :class:`SIPTTrainer` with :class:`TrainerConfig`: L = (1 - lambda_SI) L_M +
  lambda_SI L_SI, explicit seeds, checkpoints that resume bit-identically on the
  same machine and thread count;
* :func:`train_together`: several runs advanced in lockstep as one stacked
  computation (the experiments' CPU speed path; each run follows its own
  trajectory up to float32 rounding).

Everything is plain torch (no ``transformers`` dependency).
"""

from ._autoencoder import DenoisingAutoencoderObjective, l2_normalize_rows
from ._ensemble import together_blocker, train_together
from ._layers import (
    EncoderOutput,
    GeneratorDropout,
    drop_mask,
    effective_drop_probability,
    init_generator,
    set_dropout_generator,
)
from ._mlp import LookupEncoder, MLPEncoder
from ._objectives import MaskedFeatureReconstruction, MaskedTokenLM, mask_features, mask_tokens
from ._trainer import SIPTTrainer, TrainerConfig
from ._transformer import PRESETS, TransformerConfig, TransformerEncoder

__all__ = [
    "PRESETS",
    "DenoisingAutoencoderObjective",
    "EncoderOutput",
    "GeneratorDropout",
    "LookupEncoder",
    "MLPEncoder",
    "MaskedFeatureReconstruction",
    "MaskedTokenLM",
    "SIPTTrainer",
    "TrainerConfig",
    "TransformerConfig",
    "TransformerEncoder",
    "drop_mask",
    "effective_drop_probability",
    "init_generator",
    "l2_normalize_rows",
    "mask_features",
    "mask_tokens",
    "set_dropout_generator",
    "together_blocker",
    "train_together",
]
