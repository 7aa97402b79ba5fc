"""Text samples of a language: wordfreq's frequent words and the sentences shipped with the packs.

One owner for two things the coverage check (``lang_packs.coverage``), the model's teacher data
(``visemes.models.teacher``) and the benchmarks all need: which wordfreq list belongs to a language, and
the sample sentences in ``lang_packs/data/sentences/<code>.txt`` (for languages wordfreq lacks).
"""

from __future__ import annotations

from importlib import resources

from visemes.lang_packs.pack import LanguagePack

#: wordfreq's code for base language codes that wordfreq spells differently and no pack file names
#: (packs name theirs in ``[pack] wordfreq``: cmn and yue say "zh").
WORDFREQ_CODES: dict[str, str] = {"cmn": "zh", "yue": "zh", "no": "nb", "tl": "fil"}


def wordfreq_code(lang: str, pack: LanguagePack | None = None) -> str:
    """The wordfreq language of ``lang``: the pack's ``[pack] wordfreq`` when it names one, else the base
    language code (``pt-BR`` -> ``pt``), mapped by :data:`WORDFREQ_CODES`. wordfreq may still lack it."""
    if pack is not None and pack.wordfreq:
        return pack.wordfreq
    base = lang.split("-")[0].lower()
    return WORDFREQ_CODES.get(base, base)


def sample_sentences(code: str) -> list[str]:
    """The shipped sample sentences of pack ``code``, one per non-empty line (stripped); [] if none."""
    path = resources.files("visemes.lang_packs") / "data" / "sentences" / f"{code}.txt"
    if not path.is_file():
        return []
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
