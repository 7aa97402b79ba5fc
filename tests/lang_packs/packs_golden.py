"""Hand-checked golden words per pack: text -> expected phones (and visemes, tones) of each word.

Pack authors add rows here; test_packs_golden.py runs them and requires at least MIN_GOLDEN rows per pack.
Each row: (text, [[phone, ...] per word], {phone index in the flattened transcript: {attr: value}},
[expected visemes of the flattened phones] or None). Phone symbols are the pack's normalized IPA.
"""

MIN_GOLDEN = 4

GOLDEN: dict[str, list[tuple]] = {
    "cmn": [
        # 妈/麻/马/骂/吗 differ only in tone (1 2 3 4 neutral); espeak's IPA merges 1 and 4: mnemonics fix it
        ("妈", [["m", "ɑ"]], {1: {"tone": "1"}}, ["PP", "aa"]),
        ("麻", [["m", "ɑ"]], {1: {"tone": "2"}}, ["PP", "aa"]),
        ("马", [["m", "ɑ"]], {1: {"tone": "3"}}, ["PP", "aa"]),
        ("骂", [["m", "ɑ"]], {1: {"tone": "4"}}, ["PP", "aa"]),
        ("吗", [["m", "ɑ"]], {1: {"tone": "5"}}, ["PP", "aa"]),
        # retroflex initial + apical vowel; ong -> ʊ ŋ; aspirated ʈʂʰ
        ("是", [["ʂ", "ɻ̩"]], {1: {"tone": "4"}}, ["CH", "ih"]),
        ("中国", [["ʈʂ", "ʊ", "ŋ"], ["k", "w", "o"]], {1: {"tone": "1"}, 5: {"tone": "2"}}, ["CH", "ou", "kk", "kk", "ou", "oh"]),
        ("出", [["ʈʂʰ", "u"]], {1: {"tone": "1"}}, ["CH", "ou"]),
        # iao final split into glide + vowels, all vowels carry the tone; alveolo-palatal ɕ
        ("小", [["ɕ", "j", "ɑ", "u"]], {2: {"tone": "3"}, 3: {"tone": "3"}}, ["CH", "ih", "aa", "ou"]),
        ("自", [["ts", "ɹ̩"]], {1: {"tone": "4"}}, ["SS", "ih"]),
        ("女", [["n", "y"]], {1: {"tone": "3"}}, ["nn", "ou"]),
        ("月", [["ɥ", "ɛ"]], {1: {"tone": "4"}}, ["ou", "E"]),
    ],
    "ar": [
        # emphatics vs plain: ص/س, ط/ت, ض/د, ظ/ذ (ظ needs espeak's mnemonic Z)
        ("صَبَاح", [["sˤ", "ɑ", "b", "aː", "ħ"]], {1: {"stress": "primary"}}, ["SS", "aa", "PP", "aa", "kk"]),
        ("سَيْف", [["s", "a", "i", "f"]], {}, ["SS", "aa", "ih", "FF"]),
        ("طَالِب", [["tˤ", "ɑː", "l", "i", "b"]], {}, ["DD", "aa", "nn", "ih", "PP"]),
        ("تِين", [["t", "iː", "n"]], {1: {"stress": "primary"}}, ["DD", "ih", "nn"]),
        ("ضَوْء", [["dˤ", "ɑ", "u", "ʔ"]], {}, ["DD", "aa", "ou", "kk"]),
        ("ظَلَام", [["ðˤ", "ɑ", "l", "aː", "m"]], {}, ["TH", "aa", "nn", "aa", "PP"]),
        ("ذَهَب", [["ð", "a", "h", "a", "b"]], {}, ["TH", "aa", "kk", "aa", "PP"]),
        # shadda: one long consonant
        ("حُبّ", [["ħ", "u", "bː"]], {}, ["kk", "ou", "PP"]),
        ("عَيْن", [["ʕ", "a", "i", "n"]], {}, ["kk", "aa", "ih", "nn"]),
    ],
    "hi": [
        # aspirated vs plain stops
        ("पल", [["p", "ʌ", "l"]], {1: {"stress": "primary"}}, ["PP", "aa", "nn"]),
        ("फल", [["pʰ", "ʌ", "l"]], {}, ["PP", "aa", "nn"]),
        ("कमल", [["k", "ʌ", "m", "ə", "l"]], {}, ["kk", "aa", "PP", "aa", "nn"]),
        ("खाना", [["kʰ", "aː", "n", "aː"]], {}, ["kk", "aa", "nn", "aa"]),
        ("तन", [["t̪", "ʌ", "n"]], {}, ["DD", "aa", "nn"]),
        ("थन", [["t̪ʰ", "ʌ", "n"]], {}, ["DD", "aa", "nn"]),
        ("ठीक", [["ʈʰ", "iː", "k"]], {}, ["DD", "ih", "kk"]),
        ("ढोल", [["ɖʰ", "oː", "l"]], {}, ["DD", "oh", "nn"]),
        ("झंडा", [["dʒʰ", "ʌ", "ɳ", "ɖ", "aː"]], {}, ["CH", "aa", "nn", "DD", "aa"]),
        ("बच्चा", [["b", "ʌ", "tʃː", "aː"]], {}, ["PP", "aa", "CH", "aa"]),
        # nasalized vowels, ढ़ as one phone
        ("हाँ", [["h", "ã"]], {1: {"stress": "primary"}}, ["kk", "aa"]),
        ("नहीं", [["n", "ʌ", "h", "ĩ"]], {}, ["nn", "aa", "kk", "ih"]),
        ("पढ़ना", [["p", "ʌ", "ɽʰ", "ə", "n", "aː"]], {}, ["PP", "aa", "RR", "aa", "nn", "aa"]),
    ],
}
