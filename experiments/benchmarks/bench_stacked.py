"""Same-run ratio: quick-profile runs trained alone against the same runs trained stacked.

For each experiment and arm, builds the quick profile's runs for seeds 0..M-1 and trains
them (a) one after another with ``SIPTTrainer.fit`` and (b) together with
``sip_theory.models.train_together``, alternating which goes first in each round, and
prints process CPU time per round and the ratio alone / stacked. Training only (data
generation and measurement are the same either way). One torch thread, as each worker of
``reproduce --jobs 2`` uses.

    python experiments/benchmarks/bench_stacked.py [--steps 400] [--members 5] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch


def _runs(name, arm, members, steps):
    from sip_theory.experiments import profile_specs
    from sip_theory.experiments._runner import RunSpec

    spec = next(s for s in profile_specs("quick") if s.name == name)
    params = {**spec.params, **spec.arms[arm]}
    params["train"] = {**params["train"], "max_steps": steps}
    return [RunSpec(experiment=name, task=spec.task, arm=arm, seed=s, params=params)
            for s in range(members)]


def _time(runs, stacked):
    from sip_theory.experiments._synthetic import _SyntheticRun
    from sip_theory.models import train_together

    jobs = [_SyntheticRun(r, "cpu") for r in runs]
    t0 = time.process_time()
    if stacked:
        train_together([j.trainer for j in jobs])
    else:
        for j in jobs:
            j.trainer.fit()
    return time.process_time() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--members", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out", default=str(Path(__file__).with_name("results") /
                                         "bench_stacked.json"))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    cases = [("cliques_p00", "lm"), ("cliques_p00", "sipt"), ("plane", "sipt"),
             ("mech_motif", "sipt"), ("mobius", "lm")]
    rows = []
    print(f"{'experiment/arm':<20} {'round':>5} {'alone s':>8} {'stacked s':>9} {'ratio':>6}")
    for name, arm in cases:
        runs = _runs(name, arm, args.members, args.steps)
        for r in range(args.rounds):
            order = (False, True) if r % 2 == 0 else (True, False)
            t = {stacked: _time(runs, stacked) for stacked in order}
            ratio = t[False] / t[True]
            rows.append({"experiment": name, "arm": arm, "round": r, "alone_s": t[False],
                         "stacked_s": t[True], "ratio": ratio})
            print(f"{name + '/' + arm:<20} {r:>5} {t[False]:>8.2f} {t[True]:>9.2f} "
                  f"{ratio:>6.2f}", flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"steps": args.steps, "members": args.members,
                               "torch": torch.__version__, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
