"""Mouth motion against real speakers: predicted articulation vs electromagnetic articulography (EMA).

    python benchmarks/mouth_realism.py                      # data: ../shared/devdata/ema_haskins
    python benchmarks/mouth_realism.py --data DIR --no-model --per-recording

For every recording ``NAME`` in ``--data`` (``NAME_ema.npz``, ``NAME_phones.tsv``, ``NAME_words.tsv``,
``NAME.wav``; see that folder's README) the ARPAbet phones are turned into en-US pack IPA (stress digits
kept as the ``stress`` attribute: 1 -> "primary", 2 -> "secondary", 0 -> none, as the pack's G2P writes
them), an Alignment (words + phones tiers, pauses as gaps) is built from the TSV times, and curves are
predicted at 60 fps by

* ``rules``: the coarticulation model (``visemes.mouth.coarticulation.animate_phones``, the en-US pack),
  given the audio as ``animate`` gives it (loudness scales the jaw, long silence rests),
* ``rules-noaudio``: the same from the timings alone,
* ``model``: the shipped neural model (``visemes.models.load().predict``, with the audio, as ``animate`` does),
* ``step``: each phone's pack target held over the phone, rest in pauses (no coarticulation, no smoothing),
* ``delay300``: the rules delayed by 300 ms (a deliberately wrong baseline: every timing measure must
  show it),
* ``oculus``: the rules' Oculus-15 viseme weights put through a fixed per-viseme conversion (each class's
  canonical en-US phone target: sil rest, PP p, FF f, TH θ, DD t, kk k, CH ʃ, SS s, nn n, RR ɹ, aa ɑː,
  E ɛ, ih ɪ, oh ɔː, ou uː -> aperture, jaw_open, lip_protrude), i.e. what an engine that only receives
  viseme weights can show.

Measured quantities (sensors low-passed at 15 Hz, 4th-order Butterworth, zero phase):

* lip aperture: distance UL-LL (3-D);
* jaw opening: -z of JAW;
* protrusion: mean x of UL and LL (forward positive);
* mouth width: |y(ML) - mean y(UL, LL)| (only where the ML sensor exists).

Predicted counterparts: the *preview aperture* (the inner mouth opening that ``visemes.formats.preview`` draws,
in pixels of a 320-wide panel, checked against ``visemes.formats.preview.mouth_geometry`` at run time)::

    open  = 64 * jaw_open * (1 - lip_close) * (1 - 0.6 * lower_lip_tuck)
    up    = 0.33 * open + (7 * upper_lip_raise + 5 * lower_lip_tuck) * (1 - lip_close)
    down  = 0.67 * open;  down = (1 - tuck) * down + tuck * min(down, 5)
    aperture = up + down

``jaw_open``; ``lip_protrude`` (row "protrusion") and ``(lip_protrude + lip_round) / 2`` (row
"protrusion (prot+round)"), ``lip_protrude - lip_spread / 2`` (row "protrusion (prot-spread/2)": spread
lips retract behind neutral, which lip_protrude >= 0 cannot show); ``lip_spread`` for width. Predictions are linearly interpolated to the
100 Hz sensor frames.

Scores, per recording over the speech span (first to last non-pause phone), combined across recordings
by the Fisher-z mean: Pearson r at lag 0; the lag (ms, positive = prediction late) at which the
Fisher-z-mean cross-correlation peaks within +-300 ms. Closure timing: for each /p b m/ the measured
closure instant is the centre of the frames within 2 % (of the recording's aperture range) of the
measured aperture minimum inside the phone +-80 ms; the predicted instant is the same on the predicted
aperture (for curves whose aperture plateaus at 0 that is the plateau's centre); where the predicted
aperture does not close there (no minimum inside the window in its lowest 10 %), the closure is
"missed" (counted) and the nearest closed stretch within +-300 ms is used. Reported: median
|error| and median signed error (ms, positive = prediction late). Bilabial rows: the Oculus PP weight at
the measured closure instant (median over bilabials) and the share of bilabials whose ARKit
``mouthClose >= jawOpen - 0.02`` at that instant (lips visibly shut in an ARKit rig).

Deterministic (no randomness; JAX on CPU). About 30-60 s on 2 CPU cores, most of it loading JAX.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scipy.signal import butter, sosfiltfilt  # noqa: E402

from visemes import lang_packs  # noqa: E402
from visemes.core.articulation import ARTICULATION_PARAMS, REST_TARGET  # noqa: E402
from visemes.core.audio import load_audio  # noqa: E402
from visemes.core.curves import frame_count  # noqa: E402
from visemes.core.timeline import Alignment, Interval, Tier  # noqa: E402
from visemes.core.vocabulary import OCULUS_15  # noqa: E402
from visemes.formats.preview import mouth_geometry  # noqa: E402
from visemes.mouth.arkit import ARKIT_MOUTH, articulation_to_arkit  # noqa: E402
from visemes.mouth.coarticulation import animate_phones  # noqa: E402
from visemes.mouth.viseme_weights import lip_aperture, viseme_shapes  # noqa: E402

AP = ARTICULATION_PARAMS

FPS = 60.0
EMA_CUTOFF_HZ = 15.0
MAX_LAG_S = 0.30
CLOSURE_WINDOW_S = 0.08
PAUSES = {"sp", "sil", "spn", ""}
BILABIALS = {"p", "b", "m"}

#: ARPAbet (no stress digit) -> en-US pack IPA; diphthongs the pack splits become two halves.
ARPABET: dict[str, tuple[str, ...]] = {
    "AA": ("ɑː",), "AE": ("æ",), "AH": ("ʌ",), "AO": ("ɔː",), "AW": ("a", "ʊ"), "AY": ("a", "ɪ"),
    "EH": ("ɛ",), "ER": ("ɝ",), "EY": ("eɪ",), "IH": ("ɪ",), "IY": ("iː",), "OW": ("oʊ",), "OY": ("ɔ", "ɪ"),
    "UH": ("ʊ",), "UW": ("uː",),
    "B": ("b",), "CH": ("tʃ",), "D": ("d",), "DH": ("ð",), "F": ("f",), "G": ("ɡ",), "HH": ("h",),
    "JH": ("dʒ",), "K": ("k",), "L": ("l",), "M": ("m",), "N": ("n",), "NG": ("ŋ",), "P": ("p",),
    "R": ("ɹ",), "S": ("s",), "SH": ("ʃ",), "T": ("t",), "TH": ("θ",), "V": ("v",), "W": ("w",),
    "Y": ("j",), "Z": ("z",), "ZH": ("ʒ",),
}
#: unstressed forms that General American (and the pack's G2P) writes differently
UNSTRESSED: dict[str, tuple[str, ...]] = {"AH": ("ə",), "ER": ("ɚ",), "IY": ("i",)}
STRESS = {"1": "primary", "2": "secondary"}

# --- reading a recording ----------------------------------------------------------------------------


def read_tsv(path: Path) -> list[tuple[float, float, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        if line.strip():
            a, b, label = line.split("\t")[:3]
            rows.append((float(a), float(b), label.strip()))
    return rows


def arpabet_to_ipa(label: str) -> tuple[tuple[str, ...], dict]:
    base, digit = (label[:-1], label[-1]) if label[-1:].isdigit() else (label, None)
    base = base.upper()
    if base not in ARPABET:
        raise ValueError(f"unknown ARPAbet phone {label!r}")
    symbols = UNSTRESSED.get(base, ARPABET[base]) if digit == "0" else ARPABET[base]
    attrs = {"stress": STRESS[digit]} if digit in STRESS else {}
    return symbols, attrs


def build_alignment(name: str, data: Path, duration: float):

    phones = []
    for start, end, label in read_tsv(data / f"{name}_phones.tsv"):
        if label.lower() in PAUSES:
            continue
        symbols, attrs = arpabet_to_ipa(label)
        step = (end - start) / len(symbols)
        for k, sym in enumerate(symbols):  # a split diphthong: two equal halves, the stress on both
            phones.append(Interval(start + k * step, start + (k + 1) * step, sym, attrs))
    words = [Interval(s, e, w.lower()) for s, e, w in read_tsv(data / f"{name}_words.tsv") if w.lower() not in PAUSES]
    end = max(duration, phones[-1].end)
    return Alignment((Tier("words", tuple(words)), Tier("phones", tuple(phones))), end, {"lang": "en-US"})


def lowpass(x: np.ndarray, rate: float, cutoff: float = EMA_CUTOFF_HZ) -> np.ndarray:

    sos = butter(4, cutoff, fs=rate, output="sos")
    return sosfiltfilt(sos, x, axis=0)


@dataclass
class Measured:
    rate: float
    aperture: np.ndarray
    jaw: np.ndarray
    protrusion: np.ndarray
    width: np.ndarray | None


def read_ema(path: Path) -> Measured:
    d = np.load(path)
    rate = float(d["rate"])
    s = {k: lowpass(np.asarray(d[k], np.float64), rate) for k in ("UL", "LL", "JAW", "ML") if k in d.files}
    aperture = np.linalg.norm(s["UL"] - s["LL"], axis=1)
    jaw = -s["JAW"][:, 2]
    protrusion = 0.5 * (s["UL"][:, 0] + s["LL"][:, 0])
    width = np.abs(s["ML"][:, 1] - 0.5 * (s["UL"][:, 1] + s["LL"][:, 1])) if "ML" in s else None
    return Measured(rate, aperture, jaw, protrusion, width)


# --- predicted quantities ---------------------------------------------------------------------------


def preview_aperture(values: np.ndarray) -> np.ndarray:
    """The inner opening ``visemes.formats.preview.mouth_geometry`` draws (pixels, 320-wide panel)."""
    return lip_aperture(values)


def check_preview_aperture(values: np.ndarray) -> None:

    rows = values[:: max(1, len(values) // 25)]
    ours = preview_aperture(rows)
    theirs = np.array([mouth_geometry(r, 320, 240).aperture_height for r in rows])
    if not np.allclose(ours, theirs, atol=1e-3):
        raise SystemExit("preview_aperture no longer matches visemes.preview.mouth_geometry; update it.")


@dataclass
class Prediction:
    times: np.ndarray       # frame times (s)
    values: np.ndarray      # [T, 9] articulation
    visemes: np.ndarray     # [T, 15] oculus weights
    arkit: np.ndarray       # [T, len(ARKIT_MOUTH)]
    quantities: dict[str, np.ndarray]


def quantities_of(values: np.ndarray) -> dict[str, np.ndarray]:

    return {
        "aperture": preview_aperture(values),
        "jaw": values[:, AP.index("jaw_open")].astype(np.float64),
        "protrusion": values[:, AP.index("lip_protrude")].astype(np.float64),
        "protrusion (prot+round)": 0.5 * (values[:, AP.index("lip_protrude")] + values[:, AP.index("lip_round")]),
        # signed: spread lips are retracted behind neutral (lip_protrude cannot go below 0)
        "protrusion (prot-spread/2)": values[:, AP.index("lip_protrude")] - 0.5 * values[:, AP.index("lip_spread")],
        "width": values[:, AP.index("lip_spread")].astype(np.float64),
    }


def make_prediction(times, values, visemes, arkit=None) -> Prediction:

    arkit = articulation_to_arkit(values) if arkit is None else arkit
    return Prediction(times, np.asarray(values, np.float64), np.asarray(visemes, np.float64), np.asarray(arkit, np.float64),
                      quantities_of(np.asarray(values, np.float64)))


def step_values(alignment, pack, times):

    rest = np.array([REST_TARGET[p] for p in ARTICULATION_PARAMS])
    values = np.tile(rest, (len(times), 1))
    vis = np.zeros((len(times), len(OCULUS_15)))
    vis[:, OCULUS_15.index("sil")] = 1.0
    for iv in alignment.phones:
        spec = pack.phone(iv.label)
        sel = (times >= iv.start) & (times < iv.end)
        values[sel] = [float(spec.target.get(p, REST_TARGET[p])) for p in ARTICULATION_PARAMS]
        vis[sel] = 0.0
        vis[sel, OCULUS_15.index(spec.viseme)] = 1.0
    return values, vis


def oculus_route(weights: np.ndarray) -> dict[str, np.ndarray]:
    """What an engine that receives only the Oculus weights shows: the per-class quantities of the
    fixed viseme shapes (``visemes.mouth.viseme_weights.viseme_shapes``), mixed by the weights."""
    q = quantities_of(viseme_shapes())
    return {k: weights @ v for k, v in q.items()}


def predictions(alignment, pack, audio, rate, model, rules_params=None) -> dict[str, Prediction]:

    times = np.arange(frame_count(alignment.duration, FPS)) / FPS
    rules = animate_phones(alignment.phones, pack, FPS, alignment.duration, viseme_set="oculus", params=rules_params,
                           audio=audio, sample_rate=rate)
    out = {"rules": make_prediction(times, rules.articulation.values, rules.visemes.values)}
    silent = animate_phones(alignment.phones, pack, FPS, alignment.duration, viseme_set="oculus", params=rules_params)
    out["rules-noaudio"] = make_prediction(times, silent.articulation.values, silent.visemes.values)
    if model is not None:
        m = model.predict(alignment, fps=FPS, pack=pack, audio=audio, sample_rate=rate, viseme_set="oculus")

        vis = m.visemes.select(OCULUS_15).values

        out["model"] = make_prediction(times, m.articulation.select(ARTICULATION_PARAMS).values, vis,
                                       m.blendshapes.select(ARKIT_MOUTH).values)
    sv, svis = step_values(alignment, pack, times)
    out["step"] = make_prediction(times, sv, svis)
    shift = int(round(0.3 * FPS))
    delayed = lambda a: np.concatenate([np.repeat(a[:1], shift, axis=0), a[:-shift]])  # noqa: E731
    r = out["rules"]
    out["delay300"] = make_prediction(times, delayed(r.values), delayed(r.visemes), delayed(r.arkit))
    route = make_prediction(times, r.values, r.visemes, r.arkit)
    route.quantities = oculus_route(r.visemes)
    out["oculus"] = route
    return out


# --- scoring ----------------------------------------------------------------------------------------


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    den = math.sqrt(float((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 0 else 0.0


def lagged_r(measured: np.ndarray, predicted_at, t0: float, t1: float, rate: float) -> np.ndarray:
    """r(lag) for lag = -L..L sensor frames; positive lag: the prediction is late (compare measured(t)
    with predicted(t + lag))."""
    n_lag = int(round(MAX_LAG_S * rate))
    idx = np.arange(int(math.ceil(t0 * rate)), int(math.floor(t1 * rate)) + 1)
    idx = idx[(idx >= 0) & (idx < len(measured))]
    t = idx / rate
    return np.array([pearson(measured[idx], predicted_at(t + k / rate)) for k in range(-n_lag, n_lag + 1)])


def fisher_mean(rs) -> float:
    rs = np.clip(np.asarray(rs, np.float64), -0.999999, 0.999999)
    return float(np.tanh(np.arctanh(rs).mean()))


def closure_instant(t: np.ndarray, y: np.ndarray, tol: float) -> float:
    """Centre of the contiguous run of samples within ``tol`` of the minimum that holds the minimum."""
    i = int(np.argmin(y))
    ok = y <= y[i] + tol
    lo = i
    while lo > 0 and ok[lo - 1]:
        lo -= 1
    hi = i
    while hi < len(y) - 1 and ok[hi + 1]:
        hi += 1
    return 0.5 * (t[lo] + t[hi])


def nearest_closure(iv, times: np.ndarray, ap: np.ndarray, closed: float, tol: float) -> float:
    """A missed closure: the closed stretch (aperture <= ``closed``) nearest the phone within +-300 ms
    (its minimum's plateau centre), or the phone centre + 300 ms when there is none."""
    fine = np.arange(iv.start - MAX_LAG_S, iv.end + MAX_LAG_S + 1e-9, 0.001)
    y = np.interp(fine, times, ap)
    shut = y <= closed
    if not shut.any():
        return iv.midpoint + MAX_LAG_S
    edges = np.flatnonzero(np.diff(np.concatenate([[0], shut.astype(np.int8), [0]])))
    runs = list(zip(edges[::2], edges[1::2]))
    a, b = min(runs, key=lambda r: abs(0.5 * (fine[r[0]] + fine[r[1] - 1]) - iv.midpoint))
    return closure_instant(fine[a:b], y[a:b], tol)


@dataclass
class RecordingScores:
    r: dict[str, dict[str, np.ndarray]]            # system -> quantity -> r(lag)
    closure_err: dict[str, list[float]]            # system -> signed errors (s)
    pp_weight: dict[str, list[float]]
    arkit_closed: dict[str, list[bool]]
    outside: dict[str, list[bool]]
    pp_at_pred: dict[str, list[float]]             # the same two at the predicted closure instant
    arkit_at_pred: dict[str, list[bool]]
    route_vs_source: dict[str, float]              # quantity -> r(oculus route, rules' own curve)


def score_recording(meas: Measured, alignment, preds: dict[str, Prediction]) -> RecordingScores:

    speech = [iv for iv in alignment.phones]
    t0, t1 = speech[0].start, speech[-1].end
    measured = {"aperture": meas.aperture, "jaw": meas.jaw, "protrusion": meas.protrusion,
                "protrusion (prot+round)": meas.protrusion, "protrusion (prot-spread/2)": meas.protrusion,
                "width": meas.width}
    rate = meas.rate
    ema_t = np.arange(len(meas.aperture)) / rate
    tol_meas = 0.02 * float(np.ptp(meas.aperture))
    out = RecordingScores({}, {}, {}, {}, {}, {}, {}, {})
    if "oculus" in preds:  # the route against the curves it came from, over the speech span
        span = (preds["rules"].times >= t0) & (preds["rules"].times <= t1)
        out.route_vs_source = {q: pearson(preds["oculus"].quantities[q][span], preds["rules"].quantities[q][span])
                               for q in ROWS}
    for name, p in preds.items():
        out.r[name] = {}
        for q, m in measured.items():
            if m is None:
                continue
            y = p.quantities[q]
            out.r[name][q] = lagged_r(m, lambda tt, y=y: np.interp(tt, p.times, y), t0, t1, rate)
        errs, pp, shut, outside, pp_pred, shut_pred = [], [], [], [], [], []
        ap = p.quantities["aperture"]
        tol_pred = 0.02 * float(np.ptp(ap)) + 1e-9
        closed = float(ap.min()) + 0.1 * float(np.ptp(ap))  # "closed": in the lowest 10 % of the range
        k_pp = OCULUS_15.index("PP")
        k_close, k_jaw = ARKIT_MOUTH.index("mouthClose"), ARKIT_MOUTH.index("jawOpen")
        for iv in speech:
            if iv.label not in BILABIALS:
                continue
            lo, hi = iv.start - CLOSURE_WINDOW_S, iv.end + CLOSURE_WINDOW_S
            sel = (ema_t >= lo) & (ema_t <= hi)
            t_meas = closure_instant(ema_t[sel], meas.aperture[sel], tol_meas)
            # predicted aperture on a fine grid (1 ms) so that the plateau centre is not frame-quantised
            fine = np.arange(lo, hi + 1e-9, 0.001)
            y = np.interp(fine, p.times, ap)
            t_pred = closure_instant(fine, y, tol_pred)
            if y.min() > closed or t_pred <= lo + 0.0015 or t_pred >= hi - 0.0015:
                t_pred = nearest_closure(iv, p.times, ap, closed, tol_pred)
                outside.append(True)
            else:
                outside.append(False)
            errs.append(t_pred - t_meas)
            pp.append(float(np.interp(t_meas, p.times, p.visemes[:, k_pp])))
            c = np.interp(t_meas, p.times, p.arkit[:, k_close])
            j = np.interp(t_meas, p.times, p.arkit[:, k_jaw])
            shut.append(bool(c >= j - 0.02))
            pp_pred.append(float(np.interp(t_pred, p.times, p.visemes[:, k_pp])))
            c = np.interp(t_pred, p.times, p.arkit[:, k_close])
            j = np.interp(t_pred, p.times, p.arkit[:, k_jaw])
            shut_pred.append(bool(c >= j - 0.02))
        out.closure_err[name], out.pp_weight[name], out.arkit_closed[name] = errs, pp, shut
        out.outside[name] = outside
        out.pp_at_pred[name], out.arkit_at_pred[name] = pp_pred, shut_pred
    return out


ROWS = ("aperture", "jaw", "protrusion", "protrusion (prot+round)", "protrusion (prot-spread/2)", "width")


def table(all_scores: list[RecordingScores], systems: list[str], rate: float) -> str:
    n_lag = int(round(MAX_LAG_S * rate))
    lags_ms = (np.arange(-n_lag, n_lag + 1) / rate) * 1000
    lines = []
    head = f"| measure | {' | '.join(systems)} |"
    lines += [head, "|" + "---|" * (len(systems) + 1)]

    def row(label, fn):
        lines.append(f"| {label} | " + " | ".join(fn(s) for s in systems) + " |")

    for q in ROWS:
        def r0(s, q=q):
            rs = [sc.r[s][q][n_lag] for sc in all_scores if q in sc.r[s]]
            return f"{fisher_mean(rs):.3f}" if rs else "-"

        def lag(s, q=q):
            curves = [sc.r[s][q] for sc in all_scores if q in sc.r[s]]
            if not curves:
                return "-"
            z = np.arctanh(np.clip(np.array(curves), -0.999999, 0.999999)).mean(axis=0)
            return f"{lags_ms[int(np.argmax(z))]:+.0f}"

        n = sum(q in sc.r[systems[0]] for sc in all_scores)
        row(f"{q} r (n={n})", r0)
        row(f"{q} peak lag ms", lag)
    errs = {s: np.concatenate([sc.closure_err[s] for sc in all_scores]) * 1000 for s in systems}
    nb = len(errs[systems[0]])
    row(f"closure median abs err ms (n={nb})", lambda s: f"{np.median(np.abs(errs[s])):.1f}")
    row("closure median signed err ms", lambda s: f"{np.median(errs[s]):+.1f}")
    out = {s: np.concatenate([sc.outside[s] for sc in all_scores]) for s in systems}
    row("closures not within phone +-80 ms", lambda s: f"{int(out[s].sum())}")
    pp = {s: np.concatenate([sc.pp_weight[s] for sc in all_scores]) for s in systems}
    row("PP weight at closure (median)", lambda s: f"{np.median(pp[s]):.2f}")
    shut = {s: np.concatenate([sc.arkit_closed[s] for sc in all_scores]) for s in systems}
    row("ARKit mouthClose>=jawOpen-0.02 at closure", lambda s: f"{100 * shut[s].mean():.0f}%")
    pp = {s: np.concatenate([sc.pp_at_pred[s] for sc in all_scores]) for s in systems}
    row("PP weight at predicted closure (min)", lambda s: f"{np.min(pp[s]):.2f}")
    shut = {s: np.concatenate([sc.arkit_at_pred[s] for sc in all_scores]) for s in systems}
    row("ARKit closed at predicted closure", lambda s: f"{100 * shut[s].mean():.0f}%")
    if all(sc.route_vs_source for sc in all_scores):
        lines += ["", "Oculus route against the rules' own curves (r over the speech span, Fisher-z mean):", "",
                  "| quantity | r(route, rules) |", "|---|---|"]
        for q in ROWS:
            lines.append(f"| {q} | {fisher_mean([sc.route_vs_source[q] for sc in all_scores]):.3f} |")
    return "\n".join(lines)


def per_recording(names, all_scores, systems, rate) -> str:
    n_lag = int(round(MAX_LAG_S * rate))
    lines = []
    for name, sc in zip(names, all_scores):
        parts = []
        for s in systems:
            rs = " ".join(f"{q[:4]}={sc.r[s][q][n_lag]:.2f}" for q in ("aperture", "jaw", "protrusion") if q in sc.r[s])
            ce = np.median(np.abs(sc.closure_err[s])) * 1000 if sc.closure_err[s] else float("nan")
            parts.append(f"{s}: {rs} clos={ce:.0f}ms")
        lines.append(f"{name}: " + "; ".join(parts))
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "devdata" / "ema_haskins")
    parser.add_argument("--no-model", action="store_true", help="skip the neural model (no JAX)")
    parser.add_argument("--model", type=Path, default=None, help="model weights (default: the shipped ones)")
    parser.add_argument("--per-recording", action="store_true")
    args = parser.parse_args(argv)

    t_start = time.perf_counter()
    data = args.data.resolve()
    names = sorted(p.name[: -len("_ema.npz")] for p in data.glob("*_ema.npz"))
    if not names:
        raise SystemExit(f"No *_ema.npz recordings in {data}.")
    pack = lang_packs.load("en-US")
    model = None
    if not args.no_model:
        from visemes import models

        model = models.load(args.model)
    all_scores, systems, rate = [], None, None
    for name in names:
        meas = read_ema(data / f"{name}_ema.npz")
        audio, sr = load_audio(data / f"{name}.wav")
        alignment = build_alignment(name, data, len(meas.aperture) / meas.rate)
        preds = predictions(alignment, pack, audio, sr, model)
        check_preview_aperture(preds["rules"].values)
        sc = score_recording(meas, alignment, preds)
        all_scores.append(sc)
        systems, rate = list(preds), meas.rate
    print(f"mouth realism: {len(names)} recordings in {data}, predictions at {FPS:g} fps, "
          f"sensors low-passed at {EMA_CUTOFF_HZ:g} Hz\n")
    print(table(all_scores, systems, rate))
    if args.per_recording:
        print()
        print(per_recording(names, all_scores, systems, rate))
    print(f"\n({time.perf_counter() - t_start:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
