"""The Montreal Forced Aligner backend (``"mfa"``): runs the ``mfa`` command when it works here.

How it works: our language pack's G2P (or the given IPA) becomes an MFA pronunciation dictionary
(``word<TAB>phone phone ...``), the audio and ``.lab`` files are laid out as a temporary MFA corpus,
``mfa align CORPUS DICT ACOUSTIC_MODEL OUT --clean --overwrite`` runs once over all of it (so MFA's
speaker adaptation sees the whole corpus), and the TextGrids it writes are read back into Alignments
whose labels repeat our transcript exactly (MFA's ``<eps>``/``sil``/``sp``/``spn`` become gaps).

The acoustic model is the user's choice (an installed name such as ``english_mfa`` or a path): its
phone set must cover the phones our G2P produces, otherwise MFA rejects or skips those words.

Dictionary keys: words are normalized as MFA does on reading text (lower case, punctuation and symbols
removed) so that MFA never splits or rewrites them; a word spoken with several pronunciations in one
corpus gets one key per pronunciation (``word``, ``word2`` ...) so MFA cannot choose a pronunciation
other than the transcript's.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from visemes.alignment.base import Aligner, BatchItem, register_aligner
from visemes.core.audio import load_audio
from visemes.core.errors import AlignmentError, BackendUnavailableError, InputError, VisemesError
from visemes.core.textgrid import read_textgrid
from visemes.core.timeline import SILENCE_LABELS, PHONES, WORDS, Alignment, Interval, Tier, Transcript

DEFAULT_EXECUTABLE = "mfa"
#: What MFA writes where nobody speaks (or for unknown words): all become gaps on import.
MFA_SILENCE_LABELS = SILENCE_LABELS | {"<unk>"}
#: Seconds allowed for ``mfa version`` (MFA's start-up imports are slow on a cold disk).
VERSION_TIMEOUT_S = 120


# --- availability -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def mfa_version(executable: str = DEFAULT_EXECUTABLE) -> tuple[str | None, str]:
    """(version, "") when ``<executable> version`` succeeds, else (None, reason). Cached per executable."""
    path = shutil.which(executable)
    if path is None:
        return None, (
            f"the {executable!r} command is not on PATH; install the Montreal Forced Aligner "
            "(conda install -c conda-forge montreal-forced-aligner) or use the builtin backend"
        )
    try:
        done = subprocess.run([path, "version"], capture_output=True, text=True, timeout=VERSION_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"`{executable} version` could not run ({exc})"
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return None, f"`{executable} version` failed with exit code {done.returncode}: {tail[0]}"
    return done.stdout.strip() or "unknown", ""


# --- dictionary ---------------------------------------------------------------------------------


def normalize_word(text: str) -> str:
    """The form MFA reads a word in: NFC, lower case, without punctuation, symbols or spaces.

    Dropping every punctuation character (apostrophes and hyphens included) keeps MFA from splitting
    clitics and compounds, which would change the word count we map back by.
    """
    text = unicodedata.normalize("NFC", text).lower()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LMN")


@dataclass(frozen=True)
class Lexicon:
    """Dictionary keys -> pronunciation, and each transcript's words as keys (for its ``.lab``)."""

    entries: tuple[tuple[str, tuple[str, ...]], ...]
    labs: tuple[tuple[str, ...], ...]

    def text(self) -> str:
        """MFA dictionary format: ``key<TAB>phone phone ...``, one pronunciation per line."""
        return "".join(f"{key}\t{' '.join(phones)}\n" for key, phones in self.entries)


def build_lexicon(transcripts: Sequence[Transcript]) -> Lexicon:
    """Dictionary entries covering every word of ``transcripts`` with exactly its pronunciation."""
    pronunciations: dict[str, list[tuple[str, ...]]] = {}
    for transcript in transcripts:
        for word in transcript.words:
            norm = normalize_word(word.text) or "w"
            prons = pronunciations.setdefault(norm, [])
            pron = tuple(unicodedata.normalize("NFC", s) for s in word.symbols)
            if pron not in prons:
                prons.append(pron)
    taken = set(pronunciations)
    keys: dict[tuple[str, tuple[str, ...]], str] = {}
    for norm, prons in pronunciations.items():
        keys[(norm, prons[0])] = norm
        suffix = 2
        for pron in prons[1:]:
            while f"{norm}{suffix}" in taken:
                suffix += 1
            key = f"{norm}{suffix}"
            taken.add(key)
            keys[(norm, pron)] = key
    labs = tuple(
        tuple(
            keys[(normalize_word(w.text) or "w", tuple(unicodedata.normalize("NFC", s) for s in w.symbols))]
            for w in t.words
        )
        for t in transcripts
    )
    entries = tuple(sorted((key, pron) for (norm, pron), key in keys.items()))
    return Lexicon(entries, labs)


# --- the command ------------------------------------------------------------------------------------


def mfa_align_command(
    corpus_dir: Path,
    dictionary_path: Path,
    acoustic_model: str,
    output_dir: Path,
    *,
    executable: str = DEFAULT_EXECUTABLE,
    jobs: int = 1,
    beam: int | None = None,
    retry_beam: int | None = None,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """The argument list for ``mfa align`` (no shell involved, so paths need no quoting)."""
    cmd = [
        executable, "align", str(corpus_dir), str(dictionary_path), acoustic_model, str(output_dir),
        "--clean", "--overwrite", "--output_format", "long_textgrid", "--num_jobs", str(max(1, int(jobs))),
    ]
    if beam is not None:
        cmd += ["--beam", str(int(beam))]
    if retry_beam is not None:
        cmd += ["--retry_beam", str(int(retry_beam))]
    return cmd + list(extra_args)


# --- reading MFA's output back ------------------------------------------------------------------------


def import_mfa_textgrid(path: str | os.PathLike, transcript: Transcript) -> Alignment:
    """Read one TextGrid from MFA and relabel it with ``transcript``'s words and phones.

    Raises :class:`AlignmentError` when MFA's non-silent words or phones do not match the transcript
    one to one (e.g. it marked a word as unknown, ``spn``).
    """
    path = Path(path)
    raw = read_textgrid(path, silence_labels=MFA_SILENCE_LABELS)
    if not (raw.has_tier(WORDS) and raw.has_tier(PHONES)):
        raise AlignmentError(f"{path.name} from MFA lacks a words or phones tier (it has {raw.tier_names}).")
    words, phones = raw.words, raw.phones
    want_words, want_phones = transcript.words, transcript.phones
    if len(words) != len(want_words):
        raise AlignmentError(
            f"MFA aligned {len(words)} words in {path.name} but the transcript has {len(want_words)} "
            f"({' '.join(w.text for w in want_words)!r} vs {' '.join(words.labels)!r}); a word was probably "
            "unknown to the acoustic model's phone set (spn)."
        )
    got = [unicodedata.normalize("NFC", s) for s in phones.labels]
    want = [unicodedata.normalize("NFC", p.symbol) for p in want_phones]
    if got != want:
        raise AlignmentError(
            f"MFA's phones in {path.name} differ from the transcript's: {' '.join(got)!r} vs {' '.join(want)!r}; "
            "check that the acoustic model's phone set covers these phones."
        )
    word_tier = Tier(WORDS, tuple(Interval(iv.start, iv.end, w.text) for iv, w in zip(words, want_words)))
    phone_tier = Tier(
        PHONES, tuple(Interval(iv.start, iv.end, p.symbol, p.attrs) for iv, p in zip(phones, want_phones))
    )
    meta = {"aligner": "mfa"}
    if transcript.lang:
        meta["lang"] = transcript.lang
    return Alignment((word_tier, phone_tier), raw.duration, meta)


def _unaligned_reasons(output_dir: Path) -> dict[str, str]:
    """MFA lists files it could not align in ``unaligned.txt`` (``name<TAB or space>reason``)."""
    reasons: dict[str, str] = {}
    for path in output_dir.rglob("unaligned.txt"):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            name, _, reason = line.strip().partition("\t") if "\t" in line else line.strip().partition(" ")
            if name:
                reasons[Path(name).stem] = reason.strip() or "no reason given"
    return reasons


# --- the backend --------------------------------------------------------------------------------------


class MFAAligner(Aligner):
    """Montreal Forced Aligner through its command line (``mfa align``)."""

    name = "mfa"
    executable = DEFAULT_EXECUTABLE

    def __init__(
        self,
        acoustic_model: str | os.PathLike | None = None,
        *,
        beam: int | None = None,
        retry_beam: int | None = None,
        extra_args: Sequence[str] = (),
        timeout_s: float | None = None,
    ):
        self.acoustic_model = str(acoustic_model) if acoustic_model is not None else None
        self.beam = beam
        self.retry_beam = retry_beam
        self.extra_args = tuple(extra_args)
        self.timeout_s = timeout_s

    @classmethod
    def is_available(cls) -> bool:
        return mfa_version(cls.executable)[0] is not None

    @classmethod
    def unavailable_reason(cls) -> str:
        return mfa_version(cls.executable)[1]

    def align_transcript(self, audio: np.ndarray, sample_rate: int, transcript: Transcript) -> Alignment:
        with tempfile.TemporaryDirectory(prefix="visemes-mfa-audio-") as tmp:
            wav = Path(tmp) / "utterance.wav"
            sf.write(str(wav), audio, sample_rate, subtype="PCM_16")
            outcome = self.align_many([BatchItem("utterance", wav, transcript)])["utterance"]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def align_many(self, items: Sequence[BatchItem], jobs: int = 1) -> dict[str, Alignment | Exception]:
        """Align every item in one ``mfa align`` run; per-item errors are returned, not raised."""
        version, reason = mfa_version(self.executable)
        if version is None:
            raise BackendUnavailableError(f"The MFA backend cannot run: {reason}.")
        if not self.acoustic_model:
            raise InputError(
                "The MFA backend needs an acoustic model: pass acoustic_model='english_mfa' (an installed "
                "model name, see `mfa model list acoustic`) or a path (CLI: --acoustic-model)."
            )
        if not items:
            return {}
        lexicon = build_lexicon([item.transcript for item in items])
        with tempfile.TemporaryDirectory(prefix="visemes-mfa-") as tmp:
            root = Path(tmp)
            corpus, out = root / "corpus", root / "aligned"
            dictionary = root / "dictionary.txt"
            dictionary.write_text(lexicon.text(), encoding="utf-8")
            for item, lab in zip(items, lexicon.labs):
                _place_audio(item, corpus)
                (corpus / f"{item.key}.lab").write_text(" ".join(lab) + "\n", encoding="utf-8")
            cmd = mfa_align_command(
                corpus, dictionary, self.acoustic_model, out, executable=self.executable, jobs=jobs,
                beam=self.beam, retry_beam=self.retry_beam, extra_args=self.extra_args,
            )
            try:
                done = subprocess.run(cmd, capture_output=True, text=True, timeout=self.timeout_s)
            except subprocess.TimeoutExpired:
                raise AlignmentError(f"`mfa align` ran longer than {self.timeout_s} s and was stopped.") from None
            if done.returncode != 0:
                tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
                raise AlignmentError(
                    f"`mfa align` failed (exit code {done.returncode}); its last output lines:\n{tail}"
                )
            reasons = _unaligned_reasons(out)
            results: dict[str, Alignment | Exception] = {}
            for item in items:
                grid = _find_output(out, item.key)
                if grid is None:
                    why = reasons.get(Path(item.key).name, "it wrote no TextGrid for it")
                    results[item.key] = AlignmentError(f"MFA could not align {item.key}: {why}.")
                    continue
                try:
                    alignment = import_mfa_textgrid(grid, item.transcript)
                    results[item.key] = alignment.with_meta(acoustic_model=self.acoustic_model, mfa_version=version)
                except VisemesError as exc:
                    results[item.key] = exc
        return results


#: Formats every MFA version reads; anything else is converted to a WAV copy first.
MFA_NATIVE_AUDIO = (".wav", ".flac")


def _place_audio(item: BatchItem, corpus: Path) -> None:
    """Put the audio into the temporary corpus under its key's folders (MFA's speakers): a link (or
    copy) of WAV/FLAC files, a 16-bit WAV conversion of other formats."""
    suffix = item.audio_path.suffix.lower()
    if suffix not in MFA_NATIVE_AUDIO:
        target = corpus / (item.key + ".wav")
        target.parent.mkdir(parents=True, exist_ok=True)
        audio, rate = load_audio(item.audio_path)
        sf.write(str(target), audio, rate, subtype="PCM_16")
        return
    target = corpus / (item.key + suffix)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.symlink(item.audio_path.resolve(), target)
    except OSError:  # file systems without symlinks
        shutil.copyfile(item.audio_path, target)


def _find_output(out: Path, key: str) -> Path | None:
    direct = out / f"{key}.TextGrid"
    if direct.is_file():
        return direct
    name = Path(key).name + ".TextGrid"
    matches = sorted(out.rglob(name))
    return matches[0] if len(matches) == 1 else None


register_aligner(MFAAligner.name, MFAAligner)
