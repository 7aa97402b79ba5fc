"""lang_packs.samples: one owner for wordfreq codes and the shipped sample sentences."""

from pathlib import Path

from visemes import lang_packs
from visemes.lang_packs.samples import WORDFREQ_CODES, sample_sentences, wordfreq_code

DATA = Path(__file__).resolve().parents[2] / "lang_packs" / "data"


def test_the_pack_names_its_wordfreq_list_and_the_base_code_is_the_fallback():
    assert wordfreq_code("cmn", lang_packs.load("cmn")) == "zh"      # from cmn.toml
    assert wordfreq_code("pt-BR", lang_packs.load("pt-BR")) == "pt"  # inherited from the parent pack
    assert wordfreq_code("sv") == "sv"                               # generic pack: base code
    assert wordfreq_code("no-NO") == "nb" and WORDFREQ_CODES["no"] == "nb"


def test_every_pack_that_names_a_wordfreq_list_agrees_with_the_fallback_map():
    # the map only fills in for languages without a pack file; it must never contradict one
    for info in lang_packs.available():
        pack = lang_packs.load(info.code)
        base = info.code.split("-")[0].lower()
        if pack.wordfreq and base in WORDFREQ_CODES:
            assert pack.wordfreq == WORDFREQ_CODES[base], info.code


def test_sample_sentences_are_the_non_empty_lines_of_the_file():
    files = sorted((DATA / "sentences").glob("*.txt"))
    assert files, "the packs ship sample sentences"
    for path in files:
        expected = [ln.strip() for ln in path.read_text(encoding="utf-8").split("\n") if ln.strip()]
        assert sample_sentences(path.stem) == expected
    assert sample_sentences("xx-none") == []
