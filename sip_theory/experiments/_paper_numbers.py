"""The paper's published numbers that the synthetic reproduction is compared with.

McDermott, Yap, Szolovits, Zitnik, *Structure-inducing pre-training*, Nature
Machine Intelligence 5 (2023): Fig. 5a (:data:`PAPER_FIG5A`), the mechanistic
FT-task grid (:data:`PAPER_MECHANISTIC`) and the CLIQUES noise curve
(:data:`PAPER_NOISE_CURVE`); :data:`PAPER_SOURCE` says where they were read.
"""

from __future__ import annotations

import numpy as np

from ._profiles import NOISE_LEVELS

__all__ = [
    "PAPER_FIG5A",
    "PAPER_MEAN_HIGH_LC_GAIN",
    "PAPER_MECHANISTIC",
    "PAPER_NOISE_CURVE",
    "PAPER_SOURCE",
]

PAPER_SOURCE = (
    "McDermott, Yap, Szolovits, Zitnik, Structure-inducing pre-training, Nature Machine "
    "Intelligence 5 (2023), Fig. 5a and the official reproduction notebooks, as transcribed "
    "in shared/spec/experiments.md section 4 (noise curve read off the original plot)"
)

#: Paper Fig. 5a: 3-NN macro AUROC, LM-only PT -> SIPT (lambda = 0.1), and the LC class.
#: Row -> (experiment, evaluated label set, LC class, LM, SIPT).
PAPER_FIG5A = {
    "CLIQUES": ("cliques_p00", "topic", "high", 0.62, 0.94),
    "PLANE": ("plane", "vertex", "high", 0.51, 0.94),
    "MOBIUS": ("mobius", "vertex", "high", 0.55, 0.89),
    "SPHERE": ("sphere", "vertex", "high", 0.51, 0.86),
    "TORUS": ("torus", "vertex", "high", 0.54, 0.77),
    "NEIGHBORHOOD": ("mech_neighborhood", "neighborhood", "high", 0.94, 0.99),
    "MOTIF": ("mech_motif", "motif", "high", 0.73, 0.88),
    "STRUCTURAL": ("mech_structural", "structural", "low", 0.90, 0.79),
}

#: Paper: AUROC lambda=0 -> 0.1 with the text following one label set (key) and
#: each label set evaluated (inner key).
PAPER_MECHANISTIC = {
    "motif": {"motif": (0.725, 0.884), "structural": (0.662, 0.690),
              "neighborhood": (0.643, 0.760)},
    "structural": {"motif": (0.601, 0.741), "structural": (0.905, 0.790),
                   "neighborhood": (0.556, 0.643)},
    "neighborhood": {"motif": (0.632, 0.826), "structural": (0.465, 0.597),
                     "neighborhood": (0.937, 0.990)},
}

#: Paper: CLIQUES 3-NN AUROC per noise level (read off the original plot, 6 seeds).
PAPER_NOISE_CURVE = {
    "p": NOISE_LEVELS,
    "sipt": (0.94, 0.83, 0.82, 0.74, 0.65),
    "lm": (0.62, 0.63, 0.62, 0.61, 0.65),
}

#: The paper's mean SIPT gain over its seven high-LC rows of Fig. 5a.
PAPER_MEAN_HIGH_LC_GAIN = float(np.mean([si - lm for _e, _t, c, lm, si in PAPER_FIG5A.values()
                                         if c == "high"]))
