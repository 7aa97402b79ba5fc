"""Coverage of a pack: which normalized phones its frequent words produce, and how many it lists."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from visemes.core.errors import PackError

from visemes.lang_packs.pack import LanguagePack
from visemes.lang_packs.samples import sample_sentences

N_WORDS = 2000


@dataclass(frozen=True)
class Coverage:
    code: str
    words: str           # "wordfreq:<lang>:<n>" or "sentences/<code>.txt"
    counts: Counter      # normalized phone symbol -> occurrences
    missing: tuple[str, ...]  # symbols the pack does not list explicitly, most frequent first

    @property
    def tokens(self) -> int:
        return sum(self.counts.values())

    @property
    def ratio(self) -> float:
        miss = sum(self.counts[s] for s in self.missing)
        return 1.0 - miss / self.tokens if self.tokens else 0.0


def coverage_text(pack: LanguagePack, n: int = N_WORDS) -> tuple[str, str]:
    """The text a pack's coverage is measured on: wordfreq's top-n words, else its shipped sentences."""
    if pack.wordfreq:
        try:
            import wordfreq  # heavy/optional: a test extra, only for the coverage check
        except ImportError as exc:
            raise PackError(pack.source, "pack.wordfreq", "the coverage check needs `pip install wordfreq`.") from exc
        # words in other scripts (a Cyrillic "и" in the Chinese list) are not the language's: left out
        words = [w for w in wordfreq.top_n_list(pack.wordfreq, n) if pack.reads(w)]
        return " ".join(words), f"wordfreq:{pack.wordfreq}:{n}"
    sentences = sample_sentences(pack.code)
    if not sentences:
        raise PackError(pack.source, "pack.wordfreq",
                        f"no wordfreq language and no lang_packs/data/sentences/{pack.code}.txt to measure coverage on.")
    return "\n".join(sentences), f"sentences/{pack.code}.txt"


def measure(pack: LanguagePack, n: int = N_WORDS) -> Coverage:
    text, label = coverage_text(pack, n)
    counts = Counter(p.symbol for p in pack.phonemize(text).phones)
    missing = tuple(s for s, _ in counts.most_common() if s not in pack.inventory)
    return Coverage(pack.code, label, counts, missing)
