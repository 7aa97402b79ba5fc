"""The built-in universal forced aligner: prepare -> adapt (Viterbi EM, MAP back-off) -> decode."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from visemes.alignment.base import Aligner
from visemes.alignment.builtin import features as F
from visemes.alignment.builtin.calibration import Calibration, load_calibration
from visemes.alignment.builtin.durations import apply_min_durations
from visemes.alignment.builtin.chunking import align_long, decode_long
from visemes.alignment.builtin.confidence import (
    MISMATCH_GAP,
    GapReference,
    frame_gaps,
    score_alignment,
    utterance_gap,
    word_scores,
)
from visemes.alignment.builtin.decode import DecodePlan, GaussTable, decode_paths
from visemes.alignment.builtin.dtw import template_path
from visemes.alignment.builtin.hmm import (
    NOISE,
    SIL,
    Chain,
    Emissions,
    MapWeights,
    Prior,
    Stats,
    affine_prior,
    build_chain,
    map_emissions,
)
from visemes.alignment.builtin.phones import VOWEL_CLASSES, broad_class
from visemes.alignment.builtin.prepared import Prepared
from visemes.alignment.builtin.transcript_check import loop_llr, single_file_mismatch
from visemes.alignment.builtin.priors import load_prior

from visemes.core.audio import validate_audio
from visemes.core.errors import AlignmentError, AudioError
from visemes.core.timeline import Alignment, Interval, Tier, Transcript

#: Frames that separate frame t-1 from frame t lie between their window centres.
EDGE_OFFSET = (F.WIN / 2 - F.HOP / 2) / F.SAMPLE_RATE
#: Longest utterance decoded in one piece; longer ones are chunked (chunking.py).
MAX_CHUNK_FRAMES = 4096


@dataclass(frozen=True)
class AlignerConfig:
    states_per_phone: int = 3
    iterations: int = 6
    sil_penalty: float = 2.0
    closure_tie: bool = True
    closure_key: str = "clo"  # "sil" ties closures to silence itself
    weights: MapWeights = MapWeights()
    use_prior: bool = True
    use_calibration: bool = True
    convention: str = "phonetic"  # boundary convention the calibration targets (calibration.CONVENTIONS)
    #: no phone shorter than its class minimum (durations.py), after calibration
    min_durations: bool = True
    #: first path: "prior" (the prior's Gaussians), "flat" (energy VAD + proportional split), "best" (both,
    #: keep the likelier result) or "auto": flat once the data are plenty, else best
    init: str = "auto"
    #: adapt per-language phone models on top of the pooled ones (files grouped by transcript.lang)
    group_by_lang: bool = False
    #: with little data, start EM from espeak-ng speech of the words warped onto the recording by DTW
    #: (where the words are text visemes.speech.synthesis speaks with the transcript's exact phones; else the
    #: flat start). Measured: +3.5 points single-file on synthetic speech; in corpus mode it cost 2 points
    #: on the tuning languages (0.833 vs 0.852), so corpora keep the flat start.
    use_template: bool = True  # measured: no gain on the tuning languages (0.830 vs 0.842)
    auto_flat_seconds: float = 60.0
    #: one file alone: the class level's MAP weight (frames), below the corpus one (weights.cls) because
    #: the prior's class Gaussians come from synthetic speech (0 or less: weights.cls)
    single_cls_weight: float = 50.0
    #: one global affine transform of the prior's speech Gaussians fitted to the file in every EM pass
    #: (hmm.affine_prior): "single" (one file alone), "always" or "off"
    affine: str = "single"
    affine_tau: float = 50.0
    #: EM starts tried with little data (init "best"); the likelier result is kept
    starts: str = "template+prior"
    #: EM passes of the single-file QA models (AdaptedParams.qa_emissions) from the final path
    qa_iterations: int = 5


@dataclass(frozen=True)
class AdaptedParams:
    emissions: Emissions
    n_files: int
    n_frames: int
    iterations: int
    config: AlignerConfig = field(default_factory=AlignerConfig)
    #: the corpus's per-file fit gaps under the final models (None: too few files): the mismatch
    #: decision of every file decoded with these parameters is relative to it (confidence.py)
    gap_reference: GapReference | None = None
    #: one file adapted alone: the models its fit gap and confidences are scored with, MAP-estimated
    #: from the final path with the corpus weights and no affine transform. The stronger single-file
    #: adaptation fits a wrong transcript better too; scoring with these keeps the single-file mismatch
    #: decision (transcript_check.py, calibrated on them) as it was. None: score with ``emissions``.
    qa_emissions: Emissions | None = None


def _check_audible(audio: np.ndarray) -> None:
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak < 1e-4:
        raise AudioError(
            f"The audio is silent (peak amplitude {peak:.2e}); nothing to align. Check the file and its gain."
        )


# --- initial segmentation ---------------------------------------------------------------------------

_INIT_WEIGHT = {"vowel": 1.4, "stop_voiceless": 1.0, "stop_voiced": 0.8, "glide": 0.7, "liquid": 0.7}


def speech_span(energy: np.ndarray) -> tuple[int, int]:
    """First and last frame above an energy threshold between the quiet and loud levels."""
    lo, hi = np.percentile(energy, 5), np.percentile(energy, 95)
    above = np.nonzero(energy > lo + 0.3 * (hi - lo))[0]
    if len(above) == 0:
        return 0, len(energy)
    return int(above[0]), int(above[-1]) + 1


def initial_path(prep: Prepared, chain: Chain) -> np.ndarray:
    """Energy-VAD speech span split among phones in proportion to typical class durations."""
    t = len(prep.feats)
    a, b = speech_span(prep.energy)
    n_ph = len(chain.symbols)
    spp = chain.states_per_phone
    if b - a < n_ph * spp:
        a, b = 0, t
    w = np.array(
        [_INIT_WEIGHT.get("vowel" if broad_class(s) in VOWEL_CLASSES else broad_class(s), 0.9) for s in chain.symbols]
    )
    edges = a + np.concatenate([[0], np.cumsum(w)]) / w.sum() * (b - a)
    # state index of phone i's first state (chain has silences between words)
    first_state = np.array([np.nonzero(chain.phone_of_state == i)[0][0] for i in range(n_ph)])
    path = np.zeros(t, np.int64)
    path[b:] = chain.n_states - 1
    for i in range(n_ph):
        s0, s1 = int(round(edges[i])), int(round(edges[i + 1]))
        s1 = max(s1, s0 + spp)
        sub = np.linspace(s0, s1, spp + 1).round().astype(int)
        for k in range(spp):
            path[sub[k] : sub[k + 1]] = first_state[i] + k
    return path[:t]


# --- the aligner -------------------------------------------------------------------------------------


class BuiltinAligner(Aligner):
    """Universal HMM aligner: MFCC (12.5 ms / 5 ms), 3-state phones tied by IPA symbol across languages."""

    name = "builtin"
    sample_rate = F.SAMPLE_RATE

    def __init__(self, config: AlignerConfig | None = None, prior: Prior | None = None,
                 calibration: Calibration | None = None) -> None:
        self.config = config or AlignerConfig()
        self._prior = prior
        self._calibration = calibration

    @property
    def prior(self) -> Prior:
        if self._prior is None:
            self._prior = load_prior() if self.config.use_prior else Prior({}, {})
        return self._prior

    @property
    def calibration(self) -> Calibration:
        if self._calibration is None:
            self._calibration = load_calibration(self.config.convention) if self.config.use_calibration else Calibration({})
        return self._calibration

    # -- protocol ---------------------------------------------------------------------------------
    def prepare(self, audio: np.ndarray, sr: int, transcript: Transcript) -> Prepared:
        audio = validate_audio(audio, sr)
        _check_audible(audio)
        duration = len(audio) / sr
        x = F.fill_empty_band(F.resample(audio, sr))
        raw = F.raw_features(x)
        feats, _, _ = F.normalize(raw)
        n_ph = len(transcript.phones)
        if n_ph > len(feats):
            raise AlignmentError(
                f"The audio ({duration * 1000:.0f} ms, {len(feats)} frames of 5 ms) is too short for "
                f"{n_ph} phones; check that the transcript belongs to this audio."
            )
        return Prepared(feats, raw[:, 0].copy(), duration, transcript)

    def chain_for(self, prep: Prepared) -> Chain:
        spp = self.config.states_per_phone
        n_ph = len(prep.transcript.phones)
        if n_ph * spp > len(prep.feats) - 2:
            spp = 1  # very fast speech or very short audio: one state per phone still fits
        return build_chain(
            prep.transcript, states_per_phone=spp, sil_penalty=self.config.sil_penalty,
            closure_tie=self.config.closure_tie, closure_key=self.config.closure_key,
            group=prep.transcript.lang if self.config.group_by_lang else None,
        )

    def adapt(self, prepared: Sequence[Prepared], *, iterations: int | None = None) -> AdaptedParams:
        iterations = self.config.iterations if iterations is None else iterations
        prepared = list(prepared)
        if not prepared:
            raise AlignmentError("adapt() needs at least one prepared file.")
        chains = [self.chain_for(p) for p in prepared]
        init = self.config.init
        if init == "auto":
            seconds = sum(len(p.feats) for p in prepared) * F.FRAME_SECONDS
            init = "flat" if seconds >= self.config.auto_flat_seconds or not self.prior.means else "best"
            if self.prior.means and any(len(p.feats) > MAX_CHUNK_FRAMES for p in prepared):
                init = "prior"  # a proportional split of a long recording is no starting point
        if init == "best":
            # little data: EM from either start can land in a poor optimum (the synthetic prior suits
            # clean speech, the flat start suits most human recordings); keep the likelier model
            candidates = [self._em(prepared, chains, start, iterations) for start in self.config.starts.split("+")]
            em, _, final = max(candidates, key=lambda c: c[1])
        else:
            em, _, final = self._em(prepared, chains, init, iterations)
        qa = None
        if self._single_adaptation(prepared) and final:
            stats = _Collector(prepared[0].feats.shape[1])
            table = GaussTable.from_emissions(em)
            for i, path, row in final:
                _accumulate(stats, prepared[i], chains[i], path, row, table)
            qa = map_emissions(stats.stats(), self.prior, self.config.weights)
            short = [i for i, _, _ in final]
            for _ in range(self.config.qa_iterations):
                # a few corpus-weight EM passes: the QA models near their own fixed point, as before
                q_table = GaussTable.from_emissions(qa)
                paths, rows, _ = decode_paths([prepared[i].feats for i in short], [chains[i] for i in short], qa,
                                              q_table)
                stats = _Collector(prepared[0].feats.shape[1])
                for i, path, row in zip(short, paths, rows):
                    _accumulate(stats, prepared[i], chains[i], path, row, q_table)
                qa = map_emissions(stats.stats(), self.prior, self.config.weights)
        reference = None
        if len(final) >= 2:
            # the last EM pass decoded every file under the final models: their gaps are the corpus's own
            # distribution (files longer than one chunk are left out of it)
            table = GaussTable.from_emissions(em)
            reference = GapReference.from_gaps([utterance_gap(prepared[i].feats, chains[i], path, row, table)
                                                for i, path, row in final])
        return AdaptedParams(em, len(prepared), sum(len(p.feats) for p in prepared), iterations, self.config,
                             reference, qa)

    def _single_adaptation(self, prepared: Sequence[Prepared]) -> bool:
        """One file short enough for one piece (long files keep the corpus settings: measured only on short ones)."""
        return len(prepared) == 1 and len(prepared[0].feats) <= MAX_CHUNK_FRAMES and bool(self.prior.means)

    def _em(self, prepared, chains, init: str, iterations: int) -> tuple[Emissions, float, list]:
        """Viterbi EM from ``init``; returns the emissions, the final total path log-likelihood and the
        final pass's ``(file index, path, rows)`` of every file short enough for one piece."""
        single = self._single_adaptation(prepared)
        weights = self.config.weights
        if single and self.config.single_cls_weight > 0:
            weights = replace(weights, cls=self.config.single_cls_weight)
        use_affine = self.config.affine == "always" or (self.config.affine == "single" and single)

        def estimate(st: Stats) -> Emissions:
            prior = affine_prior(st, self.prior, self.config.affine_tau) if use_affine else self.prior
            return map_emissions(st, prior, weights)

        stats = _Collector(prepared[0].feats.shape[1])
        if init == "prior" and self.prior.means:
            pass  # no statistics: the emissions are the prior itself (phones back off to their class)
        else:
            for p, c in zip(prepared, chains):
                path = template_path(p, c) if init == "template" and self.config.use_template else None
                if path is None:
                    path = initial_path(p, c)
                _accumulate(stats, p, c, path, rows=None, table=None)
        em = estimate(stats.stats())
        total = 0.0
        final: list = []
        short = [i for i, p in enumerate(prepared) if len(p.feats) <= MAX_CHUNK_FRAMES]
        # padded batches built once for all passes (only the emissions change between them)
        plan = DecodePlan([prepared[i].feats for i in short], [chains[i] for i in short]) if short else None
        for it in range(iterations + 1):
            table = GaussTable.from_emissions(em)
            stats = _Collector(prepared[0].feats.shape[1])
            if plan is not None:
                paths, rows, scores = plan.run(em, table)
                total = float(np.sum(scores))
                if it == iterations:
                    final = list(zip(short, paths, rows))
                    break  # the last pass only scores the final model
                for i, path, row in zip(short, paths, rows):
                    _accumulate(stats, prepared[i], chains[i], path, row, table)
            elif it == iterations:
                break
            for i, p in enumerate(prepared):
                if len(p.feats) > MAX_CHUNK_FRAMES:
                    for sub_prep, sub_chain, path, row in decode_long(self, p, em, table):
                        _accumulate(stats, sub_prep, sub_chain, path, row, table)
            em = estimate(stats.stats())
        return em, total, final


    def decode(self, prepared: Prepared, params: AdaptedParams) -> Alignment:
        return self.decode_many([prepared], params)[0]

    def decode_many(self, prepared: Sequence[Prepared], params: AdaptedParams) -> list[Alignment]:
        em = params.emissions
        table = GaussTable.from_emissions(em)
        qa_table = GaussTable.from_emissions(params.qa_emissions) if params.qa_emissions is not None else None
        out: list = [None] * len(prepared)
        short = [i for i, p in enumerate(prepared) if len(p.feats) <= MAX_CHUNK_FRAMES]
        if short:
            chains = [self.chain_for(prepared[i]) for i in short]
            paths, rows, _ = decode_paths([prepared[i].feats for i in short], chains, em, table)
            for i, c, path, row in zip(short, chains, paths, rows):
                scoring = None
                if qa_table is not None:
                    # the QA statistics on the QA models' own best path (a Viterbi path fits its models best)
                    qp, qr, _ = decode_paths([prepared[i].feats], [c], params.qa_emissions, qa_table)
                    scoring = (qp[0], qr[0], qa_table)
                out[i] = self.to_alignment(prepared[i], c, path, row, table, scoring)
                if params.n_files == 1 and self.prior.means:
                    # one file adapted to its own transcript hides a wrong one: test it against the free
                    # class loop as well (transcript_check.py; corpora compare with their own files)
                    llr = loop_llr(prepared[i].feats, prepared[i].energy, c, self.prior)
                    flag = single_file_mismatch(out[i].meta["fit_gap"], llr)
                    out[i] = _decided(out[i].with_meta(loop_llr=llr), flag, MISMATCH_GAP, "single-file")
        single = params.n_files == 1 and bool(self.prior.means)
        for i, p in enumerate(prepared):
            if out[i] is None:
                # a long single file gets the same check, piece by piece (bounded memory)
                out[i] = align_long(self, p, em, table, (lambda sub, c: loop_llr(sub.feats, sub.energy, c, self.prior))
                                    if single else None)
                if single:
                    out[i] = _decided(out[i], single_file_mismatch(out[i].meta["fit_gap"], out[i].meta["loop_llr"]),
                                      MISMATCH_GAP, "single-file")
        ref = params.gap_reference
        for i, a in enumerate(out):
            if ref is not None:
                gap = a.meta["fit_gap"]
                out[i] = _decided(a.with_meta(gap_z=round(ref.z(gap), 4)), ref.is_mismatch(gap), ref.threshold,
                                  "corpus")
            elif "mismatch_rule" not in a.meta:
                out[i] = _decided(a, a.meta["fit_gap"] > MISMATCH_GAP, MISMATCH_GAP, "fixed")
        return out

    def align_transcript(self, audio: np.ndarray, sample_rate: int, transcript: Transcript) -> Alignment:
        prep = self.prepare(audio, sample_rate, transcript)
        params = self.adapt([prep])
        return self.decode(prep, params)

    # -- output -----------------------------------------------------------------------------------
    def phone_frames(self, chain: Chain, path: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First frame and one-past-last frame of every phone on the path."""
        ph = chain.phone_of_state[path]
        n = len(chain.symbols)
        t = np.arange(len(path))
        valid = ph >= 0
        starts = np.full(n, len(path))
        ends = np.zeros(n, np.int64)
        np.minimum.at(starts, ph[valid], t[valid])
        np.maximum.at(ends, ph[valid], t[valid] + 1)
        return starts, ends

    def to_alignment(self, prep: Prepared, chain: Chain, path: np.ndarray, rows: np.ndarray,
                     table: GaussTable, scoring: tuple | None = None) -> Alignment:
        """The path as an alignment; confidences and the fit gap from ``scoring`` = (path, rows, table)
        when given (the QA models' own path), else from this path."""
        starts, ends = self.phone_frames(chain, path)
        n_total = len(prep.feats)

        def frame_time(t: int) -> float:
            if t <= 0:
                return 0.0
            if t >= n_total:
                return prep.duration
            return t * F.FRAME_SECONDS + EDGE_OFFSET

        t_start = np.array([frame_time(int(s)) for s in starts])
        t_end = np.array([frame_time(int(e)) for e in ends])
        t_start, t_end = self.calibration.apply(chain.symbols, starts, ends, t_start, t_end, prep.duration)
        if self.config.min_durations:
            t_start, t_end = apply_min_durations(chain.symbols, t_start, t_end, prep.duration)
        s_path, s_rows, s_table, s_starts, s_ends = path, rows, table, starts, ends
        if scoring is not None:
            s_path, s_rows, s_table = scoring
            s_starts, s_ends = self.phone_frames(chain, s_path)
        conf, utt_conf, gap = score_alignment(prep.feats, chain, s_path, s_rows, s_table, s_starts, s_ends)
        mismatch = gap > MISMATCH_GAP
        phones = []
        for i, sym in enumerate(chain.symbols):
            phones.append(Interval(t_start[i], t_end[i], sym, {"confidence": float(conf[i])}))
        word_conf, word_gap = word_scores(frame_gaps(prep.feats, s_rows, s_table), chain.word_of_phone, s_starts,
                                          s_ends)
        words = []
        for wi, word in enumerate(_words_of(prep.transcript, chain)):
            idx = np.nonzero(chain.word_of_phone == wi)[0]
            words.append(Interval(t_start[idx[0]], t_end[idx[-1]], word,
                                  {"confidence": float(word_conf[wi]), "fit_gap": float(word_gap[wi])}))
        meta = {"aligner": "builtin", "confidence": float(utt_conf), "mismatch": bool(mismatch), "fit_gap": float(gap)}
        if prep.transcript.lang:
            meta["lang"] = prep.transcript.lang
        return Alignment((Tier("words", tuple(words)), Tier("phones", tuple(phones))), prep.duration, meta)


def _decided(alignment: Alignment, flag: bool, word_threshold: float, rule: str) -> Alignment:
    """``alignment`` with the file's mismatch decision, the rule that made it, and per word whether its
    own fit gap exceeds ``word_threshold`` (``suspect``): which words do not fit the audio."""
    words = tuple(w.with_attrs(suspect=bool(w.attrs.get("fit_gap", 0.0) > word_threshold))
                  for w in alignment.words)
    return alignment.with_tier(Tier("words", words)).with_meta(
        mismatch=bool(flag), mismatch_rule=rule, mismatch_threshold=round(float(word_threshold), 5))


def _words_of(transcript: Transcript, chain: Chain) -> list[str]:
    return [w.text for w in transcript.words]


class _Collector:
    """Gathers (key, frames) of many files, then adds them to the statistics in one vectorised pass."""

    def __init__(self, dims: int) -> None:
        self.index: dict[str, int] = {}
        self.labels: list[np.ndarray] = []
        self.frames: list[np.ndarray] = []
        self.dims = dims

    def add_grouped(self, keys, labels, frames) -> None:
        ids = np.array([self.index.setdefault(k, len(self.index)) for k in keys] + [-1])
        self.labels.append(ids[labels])  # -1 stays -1 through the appended sentinel
        self.frames.append(frames)

    def stats(self) -> Stats:
        stats = Stats(self.dims)
        if self.labels:
            keys = sorted(self.index, key=self.index.get)
            stats.add_grouped(keys, np.concatenate(self.labels), np.concatenate(self.frames))
        return stats


def _accumulate(stats, prep: Prepared, chain: Chain, path: np.ndarray, rows, table) -> None:
    """Add frames to the statistics of their state's phone-level key (silence: the winning slot)."""
    first_key = [slots[0] for slots in chain.keys]
    key_list = sorted(set(first_key) | {SIL, NOISE})  # closure states carry their own key
    kidx = {k: i for i, k in enumerate(key_list)}
    labels = np.array([kidx[first_key[s]] for s in range(chain.n_states)])[path]
    if rows is not None:
        noise_row = table.index.get(NOISE, -2)
        rk = np.where(rows == noise_row, kidx[NOISE], kidx[SIL])
        is_sil = chain.phone_of_state[path] < 0
        labels = np.where(is_sil & (rk >= 0), rk, labels)
    else:
        # first pass: the louder third of silence frames seeds the noise/breath model
        sil = chain.phone_of_state[path] < 0
        if sil.sum() > 6:
            thr = np.percentile(prep.energy[sil], 67)
            labels = np.where(sil & (prep.energy > thr), kidx[NOISE], labels)
    stats.add_grouped(key_list, labels, prep.feats)
