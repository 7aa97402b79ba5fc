"""G2P quality per language pack on WikiPron words: viseme error rate, vowel recall, phone error rate.

For each ``<code>.tsv`` in the folder (``word<TAB>IPA segments``; several lines = several accepted
pronunciations, scored against the closest) whose code is a pack (``fa_narrow`` -> ``fa``), every word is
phonemized with ``visemes.lang_packs.load(code)`` and compared with the gold phones:

* VER, viseme error rate: gold and predicted phones mapped to Oculus-15 classes through the pack
  (``pack.phone(symbol).viseme``; the universal fallback for symbols the pack does not list), adjacent
  repeats merged, edit distance / gold length (summed over words);
* vowel recall: the share of gold vowels aligned (minimum edit alignment of the phones' viseme classes,
  so that notation differences such as ɐ/ʌ do not shift it) to a predicted vowel; short vowels (no length mark) apart, since a missing short vowel closes the mouth where the
  speaker opens it;
* a diphthong the pack lists as one phone (en-US eɪ oʊ) is compared as one phone: WikiPron writes it as
  two segments (e ɪ);
* PER, phone error rate after removing notation that does not move the mouth (stress, syllable and tie
  marks, the no-audible-release mark ̚, tone letters and digits, and the glottal marks inside a tone string: Vietnamese ngã ˦ˀ˥ and the
  ʔ of nặng ˧˨ʔ), with length marks kept and (PER-len) removed.

    python benchmarks/g2p.py /work/shared/devdata/wikipron_dev [--langs ar,he] [--limit 1000] [--repo PATH]
    python benchmarks/g2p.py /work/shared/devdata/wikipron_dev --speed ar,he,ja,cmn
    python benchmarks/g2p.py /work/shared/devdata/wikipron_dev --langs ta --worst 30   # error analysis

``--repo`` scores another checkout of the project (e.g. the main branch, for a before/after table).
``--speed`` times ``phonemize`` of one text of 1,000 words per pack: the first pass (the backend already
started on another word, but no word of the text seen: packs may remember words) and the median of 3
more. The text is the file's words, or wordfreq's most frequent words where there is no file (cmn) or
the file is kana only (ja: wordfreq's words are mostly kanji).
"""

from __future__ import annotations

import argparse
import sys
import time
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

_HERE = Path(__file__).resolve().parent

# U+031A (no audible release, p̚ t̚ k̚): the closure is the same; only its release is not heard
_DROP = set("ˈˌ.‿|‖ˑ") | set("˥˦˧˨˩") | set("0123456789¹²³⁴⁵⁶⁷⁸⁹⁰") | {"\u0361", "\u035c", "\u031a"}
_TONE_MARKS = {"\u0300", "\u0301", "\u0302", "\u0304", "\u030c", "\u030b", "\u030f"}  # on vowels: tone letters


def clean(symbol: str, keep_length: bool = True) -> str:
    s = "".join(ch for ch in unicodedata.normalize("NFD", symbol) if ch not in _DROP and ch not in _TONE_MARKS)
    s = s.replace("g", "ɡ")
    if not keep_length:
        s = s.replace("ː", "")
    return unicodedata.normalize("NFC", s)


def edit_distance(a: list[str], b: list[str]) -> int:
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y))
        prev = cur
    return prev[-1]


def aligned_pairs(gold: list[str], pred: list[str]) -> list[tuple[int, int | None]]:
    """Gold index -> aligned predicted index (None: deleted), from one minimum edit alignment (the
    library's, as `eval-align` matches phones)."""
    from visemes.alignment.evaluate import match_labels  # visemes comes from --repo: imported after sys.path is set

    of_gold = {g: p for p, g in match_labels(pred, gold).pairs}
    return [(g, of_gold.get(g)) for g in range(len(gold))]


def merged(seq: list[str]) -> list[str]:
    return [v for k, v in enumerate(seq) if k == 0 or v != seq[k - 1]]


@dataclass
class Score:
    words: int = 0
    failed: int = 0
    gold_phones: int = 0
    phone_edits: int = 0
    phone_edits_nolen: int = 0
    gold_visemes: int = 0
    viseme_edits: int = 0
    vowels: int = 0
    vowels_found: int = 0
    short: int = 0
    short_found: int = 0
    seconds: float = 0.0

    def row(self, code: str) -> str:
        def r(a: int, b: int) -> str:
            return f"{a / b:.3f}" if b else "  -  "

        return (f"| {code:<8} | {self.words:>5} | {r(self.viseme_edits, self.gold_visemes)} | "
                f"{r(self.vowels_found, self.vowels)} | {r(self.short_found, self.short)} | "
                f"{r(self.phone_edits, self.gold_phones)} | {r(self.phone_edits_nolen, self.gold_phones)} | "
                f"{self.failed:>4} | {1000 * self.seconds / max(self.words, 1):5.2f} |")


_TONE_LETTERS = set("˥˦˧˨˩")
_IMPLOSIVES = ("ɓ", "ɗ")


def tone_notation_dropped(segments: list[str]) -> list[str]:
    """Segments less the glottal marks that are notation, not segments, split off by WikiPron: a segment
    of tone letters and ˀ (Vietnamese ngã ˦ˀ˥); a ʔ right after a tone-letter segment that is not an onset
    (not before a vowel or an implosive: Vietnamese nặng ˧˨ʔ, written after the rhyme); and the ʔ of a
    preglottalized implosive (Vietnamese ʔɓ ʔɗ: one consonant, the glottal closure simultaneous with the
    oral one). Onset and coda glottal stops (Thai ʔaː, lɛʔ˦˥; Vietnamese ʔa) are kept: they are segments."""
    out: list[str] = []
    for k, seg in enumerate(segments):
        if seg == "ʔ" and k + 1 < len(segments) and segments[k + 1].startswith(_IMPLOSIVES):
            continue
        if seg and set(seg) <= _TONE_LETTERS | {"ˀ"}:
            out.append(seg)  # removed by clean() (tone letters) or here (ˀ) below
            continue
        if seg == "ʔ" and k and set(segments[k - 1]) <= _TONE_LETTERS | {"ˀ"}:
            nxt = segments[k + 1] if k + 1 < len(segments) else ""
            if not nxt or not (_is_vowel(nxt) or nxt.startswith(_IMPLOSIVES)):
                continue
        out.append(seg)
    return [seg.replace("ˀ", "") if set(seg) <= _TONE_LETTERS | {"ˀ"} else seg for seg in out]


def _is_vowel(segment: str) -> bool:
    from visemes.lang_packs.features import is_syllabic

    return is_syllabic(clean(segment))


def read_gold(path: Path) -> dict[str, list[list[str]]]:
    gold: dict[str, list[list[str]]] = defaultdict(list)
    for line in path.read_text(encoding="utf-8").splitlines():
        if "\t" not in line:
            continue
        word, ipa = line.split("\t", 1)
        phones = [c for c in (clean(p) for p in tone_notation_dropped(ipa.split())) if c]
        if phones:
            gold[word.strip()].append(phones)
    return gold


def viseme_pairs(gold: list[str], pred: list[str]) -> list[tuple[str, str]]:
    """(gold, predicted) phone pairs where the alignment disagrees ("" = nothing on that side)."""
    out: list[tuple[str, str]] = []
    used: set[int] = set()
    for gi, pj in aligned_pairs(gold, pred):
        if pj is None:
            out.append((gold[gi], ""))
        else:
            used.add(pj)
            if gold[gi] != pred[pj]:
                out.append((gold[gi], pred[pj]))
    out += [("", pred[j]) for j in range(len(pred)) if j not in used]
    return out


def _diphthong_parts(symbol: str) -> tuple[str, str] | None:
    """``symbol`` as (vowel, offglide) when it is a two-vowel diphthong written as one phone (eɪ, oʊ, əʊ),
    the offglide a high vowel (ɪ ʊ i u, or marked non-syllabic)."""
    from visemes.lang_packs.features import is_syllabic

    for k in range(1, len(symbol)):
        first, second = symbol[:k], symbol[k:]
        if unicodedata.category(second[0]).startswith("M") or second[0] == "ː":
            continue
        glide = second.rstrip("\u032f")
        if is_syllabic(first) and glide in ("ɪ", "ʊ", "i", "u", "ɪ̯", "ʊ̯") and (is_syllabic(glide) or "\u032f" in second):
            return first, second
    return None


def joined_diphthongs(gold: list[str], diphthongs: set[str]) -> list[str]:
    """WikiPron writes a diphthong as two segments (e ɪ, o ʊ); a pack whose inventory has it as one phone
    (eɪ, oʊ) is transcribing the same diphthong: join the gold's two segments into that phone."""
    out: list[str] = []
    k = 0
    while k < len(gold):
        if k + 1 < len(gold) and gold[k] + gold[k + 1] in diphthongs:
            out.append(gold[k] + gold[k + 1])
            k += 2
        else:
            out.append(gold[k])
            k += 1
    return out


def score_pack(code: str, gold: dict[str, list[list[str]]], limit: int,
               worst: int = 0) -> Score:
    from visemes import lang_packs
    from visemes.core.errors import VisemesError
    from visemes.lang_packs.features import is_syllabic

    pack = lang_packs.load(code)
    viseme = lambda s: pack.phone(s).viseme  # noqa: E731
    diphthongs = {s for s in pack.inventory if _diphthong_parts(s)}
    sc = Score()
    confusions: dict[tuple[str, str], int] = defaultdict(int)  # viseme-changing phone pairs (--worst)
    words: list[tuple[int, str, list[str], list[str]]] = []
    for word, variants in list(gold.items())[:limit]:
        sc.words += 1
        t0 = time.perf_counter()
        try:
            pred = [c for c in (clean(p.symbol) for p in pack.phonemize(word).phones) if c]
        except VisemesError:
            pred = []
            sc.failed += 1
        sc.seconds += time.perf_counter() - t0
        # the closest gold pronunciation (by phone edits), as the dev set's README asks
        variants = [joined_diphthongs(g, diphthongs) for g in variants]
        best = min(variants, key=lambda g: edit_distance(g, pred))
        sc.gold_phones += len(best)
        sc.phone_edits += edit_distance(best, pred)
        sc.phone_edits_nolen += edit_distance([clean(p, False) for p in best], [clean(p, False) for p in pred])
        gv, pv = merged([viseme(p) for p in best]), merged([viseme(p) for p in pred])
        sc.gold_visemes += len(gv)
        sc.viseme_edits += edit_distance(gv, pv)
        if worst:
            words.append((edit_distance(gv, pv), word, best, pred))
            for g, p in viseme_pairs(best, pred):
                if (viseme(g) if g else "") != (viseme(p) if p else ""):
                    confusions[(g, p)] += 1
        # aligned on viseme classes (not symbols), so notation differences (ɐ/ʌ) do not shift the alignment
        for gi, pj in aligned_pairs([viseme(p) for p in best], [viseme(p) for p in pred]):
            if not is_syllabic(best[gi]):
                continue
            found = pj is not None and is_syllabic(pred[pj])
            sc.vowels += 1
            sc.vowels_found += found
            if "ː" not in best[gi]:
                sc.short += 1
                sc.short_found += found
    if worst:
        top = sorted(confusions.items(), key=lambda kv: -kv[1])[:worst]
        print(f"  {code}: viseme-changing phone pairs (gold>pred: count): "
              + ", ".join(f"{g or '-'}>{p or '-'}:{n}" for (g, p), n in top), file=sys.stderr)
        for d, word, best, pred in sorted(words, key=lambda w: -w[0])[:worst]:
            print(f"    {d}  {word}  gold {' '.join(best)}  pred {' '.join(pred)}", file=sys.stderr)
    return sc


HEADER = ("| pack     | words |  VER  | vowel recall | short-vowel recall |  PER  | PER-len | fail | ms/word |\n"
          "|----------|------:|------:|------:|------:|------:|------:|-----:|------:|")


def speed(folder: Path, codes: list[str], n: int = 1000) -> None:
    import statistics

    from visemes import lang_packs
    from visemes.core.errors import VisemesError
    from visemes.lang_packs.text import is_han

    print("| pack | text | words | first pass, s | again, s |\n|---|---|---:|---:|---:|")
    for code in codes:
        path = folder / f"{code}.tsv"
        if path.is_file() and code != "ja":
            words, source = list(read_gold(path))[:n], path.name
        else:
            from wordfreq import top_n_list  # a test dependency, only for this mode

            words = top_n_list({"cmn": "zh"}.get(code, code), 3 * n)
            if code == "ja":  # words in Japanese scripts only (wordfreq's list has some Latin and Greek)
                words = [w for w in words if all(is_han(c) or "\u3040" <= c <= "\u30ff" for c in w)]
            words, source = words[:n], "wordfreq"
        text = " ".join(words)
        pack = lang_packs.load(code)
        warm = {"ar": "كتاب", "he": "ספר", "ja": "東京", "cmn": "中国", "yue": "中國", "th": "สวัสดี"}.get(code, "hello")
        t0 = time.perf_counter()
        try:
            pack.phonemize(warm)  # start the backend (and readers) on a word that is not in the text
            t0 = time.perf_counter()
            pack.phonemize(text)
        except VisemesError as exc:
            print(f"| {code} | {source} | {len(words)} | refused: {str(exc)[:60]}... | |")
            continue
        first = time.perf_counter() - t0
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            pack.phonemize(text)
            times.append(time.perf_counter() - t0)
        print(f"| {code} | {source} | {len(words)} | {first:.3f} | {statistics.median(times):.3f} |", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path, help="the WikiPron dev folder (code.tsv files)")
    ap.add_argument("--langs", default=None, help="comma-separated file stems (default: all)")
    ap.add_argument("--limit", type=int, default=1000, help="words per file")
    ap.add_argument("--repo", type=Path, default=_HERE.parent, help="the checkout to score (default: this one)")
    ap.add_argument("--worst", type=int, default=0, metavar="N",
                    help="also print (stderr) each pack's N most frequent viseme-changing phone pairs and worst words")
    ap.add_argument("--speed", default=None, metavar="CODES", help="time phonemize on 1,000-word texts instead")
    args = ap.parse_args(argv)
    # Run as a script, this folder comes first on sys.path (benchmarks/alignment.py would shadow the
    # alignment package): put the chosen checkout's root there instead.
    sys.path[:] = [str(args.repo.resolve())] + [p for p in sys.path if Path(p or ".").resolve() != _HERE]
    from visemes.lang_packs.registry import pack_files

    import visemes

    if args.speed:
        print(f"visemes from {Path(visemes.__file__).parent.parent}")
        speed(args.folder, args.speed.split(","))
        return 0
    codes = {pf.code.lower(): pf.code for pf in pack_files().values()}
    wanted = set(args.langs.split(",")) if args.langs else None
    print(f"visemes from {Path(visemes.__file__).parent.parent}; words per file <= {args.limit}")
    print(HEADER)
    total = Score()
    for path in sorted(args.folder.glob("*.tsv")):
        stem = path.stem
        code = codes.get(stem.split("_")[0].lower())
        if code is None or (wanted and stem not in wanted):
            continue
        sc = score_pack(code, read_gold(path), args.limit, args.worst)
        print(sc.row(stem), flush=True)
        for name in vars(total):
            setattr(total, name, getattr(total, name) + getattr(sc, name))
    print(total.row("all"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
