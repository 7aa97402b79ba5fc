"""Build the shipped prior (``data/prior.json``) from synthetic espeak-ng speech (license-safe).

    python -m visemes.alignment.builtin.make_prior [--out alignment/builtin/data/prior.json]

Each synthetic phone (exact espeak-ng times) is split into equal thirds, one per HMM state; frames are
pooled per broad class and state. Silence comes from the padding, closures from the first third of
non-initial stops. Only ``PRIOR_LANGS`` with the default voice are used (never the benchmark's).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from visemes.alignment.builtin import features as F
from visemes.alignment.builtin.hmm import CLOSURE, N_STATES, NOISE, SIL, Prior, Stats
from visemes.alignment.builtin.phones import CLOSURE_CLASSES, broad_class
from visemes.alignment.builtin.priors import prior_to_json
from visemes.alignment.builtin.synthetic import CLEAN, PRIOR_LANGS, Condition, iter_set
from visemes.core.atomic import atomic_write_text

#: Voice variants here are disjoint from the benchmark's (+f2, +f3, +m3).
PRIOR_CONDITIONS = (
    CLEAN, Condition(rate=150, pitch=40, snr_db=30.0), Condition(rate=200, pitch=60),
    Condition("+m1", 160, 45, 35.0), Condition("+f1", 185, 65, 30.0),
    Condition("+m5", 170, 40, 25.0), Condition("+f4", 150, 70, None),
    Condition("+m2", 130, 50, 20.0), Condition("+f5", 230, 55, 20.0), Condition("+m4", 190, 30, 30.0),
)


def frame_index(t: float) -> int:
    return int(round((t - (F.WIN / 2 - F.HOP / 2) / F.SAMPLE_RATE) / F.FRAME_SECONDS))


def build_prior(langs=PRIOR_LANGS, conditions=PRIOR_CONDITIONS) -> Prior:
    stats = Stats(F.N_DIMS)
    for item in iter_set(langs, conditions, seed=7):
        x = F.resample(item.audio, item.sample_rate)
        feats, _, _ = F.normalize(F.raw_features(x))
        t = len(feats)
        labels: list[str | None] = [SIL] * t
        phones = list(item.alignment.phones)
        for i, ph in enumerate(phones):
            a, b = max(0, frame_index(ph.start)), min(t, frame_index(ph.end))
            if b - a < N_STATES:
                for f in range(a, b):
                    labels[f] = None
                continue
            cls = broad_class(ph.label)
            cuts = np.linspace(a, b, N_STATES + 1).round().astype(int)
            for k in range(N_STATES):
                key = CLOSURE if (k == 0 and i > 0 and cls in CLOSURE_CLASSES) else f"c:{cls}|{k}"
                for f in range(cuts[k], cuts[k + 1]):
                    labels[f] = key
        keys = sorted({k for k in labels if k})
        idx = {k: i for i, k in enumerate(keys)}
        stats.add_grouped(keys, np.array([idx[k] if k else -1 for k in labels]), feats)
    means, variances = {}, {}
    for key, n in stats.n.items():
        if n < 20:
            continue
        mean = stats.s1[key] / n
        means[key] = mean
        variances[key] = np.maximum(stats.s2[key] / n - mean**2, 0.05)
    # the breath/noise slot: silence's mean with a wide variance (catches clicks and breaths)
    means[NOISE] = means[SIL]
    variances[NOISE] = variances[SIL] * 4.0
    return Prior(means, variances)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("data") / "prior.json")
    args = ap.parse_args(argv)
    prior = build_prior()
    atomic_write_text(args.out, prior_to_json(prior, "synthetic espeak-ng speech: " + ", ".join(PRIOR_LANGS)) + "\n",
                      overwrite=True)
    print(f"wrote {len(prior.means)} Gaussians to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
