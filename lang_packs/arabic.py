"""Arabic short vowels for text written without them (tashkeel restoration before espeak-ng).

Arabic script leaves the short vowels (fatha a, damma u, kasra i), sukun, shadda and tanwin unwritten;
espeak-ng knows them only for the words of its dictionary and otherwise guesses or drops them (the
mouth then stays closed where the speaker opens it). This module writes the marks back, and espeak-ng
reads the vocalized words (it reads marks well once they are in its order: lang_packs.marks):

* running text (two words or more): words with one dominant reading in the Arramooz lexicon
  (``arramooz-pysqlite``, GPL-3.0: 37,714 vocalized words with corpus frequencies and parts of speech;
  nouns, adjectives and particles, bare or after wa- fa- bi- li- ka- al-; never verbs, whose spellings
  are also passives, plurals and imperfects) are read from it; the others go to the neural diacritizer
  of ``dengjen-tashkeel-py`` (MIT OR Apache-2.0; its ONNX model ships inside the wheel and runs on
  onnxruntime, offline), in windows of at most ``WINDOW`` words with a word of context either side, so
  that each word is read in its sentence (كتب kataba / kutub / kutiba);
* a text of one word (no context: a citation form, as in a dictionary): the most frequent reading of
  that spelling in the lexicon (then its dictionary's 25,330 noun and 10,104 verb lemmas, then a regular
  derivation of one), cited as Arabic dictionaries cite words: nouns in pause, verbs as the 3rd person
  masculine perfect with its final -a (كَتَبَ kataba; Ryding, A Reference Grammar of Modern Standard
  Arabic, 2005, ch. 19); the diacritizer when the lexicon has nothing.

Words that already carry vowel marks are used as written (the diacritizer only sees them as context).

Pause (waqf): before a pause (punctuation, the end of the text) and in a word said alone, Arabic drops
the final short vowel and tanwin of a word, says -an as -aː, and says ة (taa marbuta) as -a, not -at
(Ryding 2005, §2.6; Holes, Modern Arabic, 2004, §3.2.5). The dialect packs (no case endings at all in
Egyptian or Levantine Arabic: Watson 2002, ch. 1; Woidich 2006) put every word in pause. After a word
that ends in a vowel the article's a- is not said, nor its l before a sun letter (:func:`elided`).

Without the diacritizer (no wheel for Python 3.10) the lexicon still reads what it knows and espeak-ng
the rest, with a :class:`DiacritizerWarning`.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
import sqlite3
import threading
import warnings
from collections.abc import Sequence

from visemes.core.errors import BackendUnavailableError

from visemes.lang_packs.marks import has_vowel_marks

WINDOW = 24  # words per diacritizer window: context enough for a clause; its cost grows faster than linearly

FATHA, DAMMA, KASRA, SUKUN, SHADDA = "\u064e", "\u064f", "\u0650", "\u0652", "\u0651"
TANWIN_FATHA, TANWIN_DAMMA, TANWIN_KASRA = "\u064b", "\u064c", "\u064d"
TAA_MARBUTA, ALIF, ALIF_MAQSURA = "\u0629", "\u0627", "\u0649"
_FINAL_VOWELS = FATHA + DAMMA + KASRA + SUKUN + TANWIN_DAMMA + TANWIN_KASRA + TANWIN_FATHA
_ARABIC_LETTER = re.compile("[\u0621-\u064a\u0671-\u06d3]")
_MARKS = re.compile("[\u064b-\u065f\u0670\u0640]")  # harakat, shadda, sukun, dagger alif, tatweel
# a pause after a word: sentence or clause punctuation (Arabic and Latin), or a line break
_PAUSE = re.compile("[.!?؟،,;؛:\n…()\"«»]")

_lock = threading.Lock()


def letters(word: str) -> str:
    """``word`` without its vowel marks (and tatweel): the letters a reader sees."""
    return _MARKS.sub("", word)


def in_arabic_script(word: str) -> bool:
    """True when ``word`` has a letter of the Arabic script (Arabic, Persian, Urdu letters)."""
    return bool(_ARABIC_LETTER.search(word))


def needs_vowels(word: str) -> bool:
    """True for an Arabic-script word written without vowel marks."""
    return bool(_ARABIC_LETTER.search(word)) and not has_vowel_marks(word)


def pausal(word: str) -> str:
    """A vocalized word as said before a pause: no final short vowel or tanwin, -an -> -aː, ة -> -a."""
    w, run = _last_marks(word)
    w += SHADDA if SHADDA in run else ""
    if w[-1:] in (ALIF, ALIF_MAQSURA) and TANWIN_FATHA in w[-4:]:  # كِتَابًا: the tanwin before the alif
        w = w[:-4] + w[-4:-1].replace(TANWIN_FATHA, FATHA) + w[-1]
    if w.endswith(TAA_MARBUTA) and len(w) > 1:
        # pausal -a: the vowel before ة (fatha, written or not) is heard; ـاة (حياة) keeps its long aː
        base, before = _last_marks(w[:-1])
        w = base if base.endswith(ALIF) else base + (SHADDA if SHADDA in before else "") + FATHA
    return w


_TRAILING_MARKS = re.compile("[\u064b-\u0652]*$")


def _last_marks(word: str) -> tuple[str, str]:
    """(``word`` without the marks on its last letter, those marks): in any order (typed, NFC, NFD)."""
    m = _TRAILING_MARKS.search(word)
    return word[:m.start()], m.group(0)


def citation(vocalized: str, part_of_speech: str) -> str:
    """A lexicon reading as a word said alone: verbs as the perfect with its final -a, the rest in pause."""
    if part_of_speech == "verb" and vocalized and vocalized[-1] not in (ALIF, ALIF_MAQSURA, "\u064a", "\u0648"):
        base = vocalized.rstrip(_FINAL_VOWELS)
        if _ARABIC_LETTER.match(base[-1]) or base.endswith(SHADDA):
            return base + FATHA
    return pausal(vocalized)


def lexicon() -> dict[str, tuple[str, str]]:
    """Unvocalized spelling -> (a vocalized reading, part of speech), from Arramooz: the most frequent
    reading in its word-frequency list, else its dictionary's noun or verb (lemmas without frequencies)."""
    return _lexicons()[0]


@functools.lru_cache(maxsize=1)
def _lexicons() -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]]]:
    try:
        data = importlib.resources.files("arramooz") / "data"
    except ModuleNotFoundError as exc:
        raise BackendUnavailableError(
            "The Arabic lexicon is not installed: pip install arramooz-pysqlite (a dependency of visemes)."
        ) from exc
    rows = _rows(data / "wordfreq.sqlite", "SELECT vocalized, unvocalized, word_type, freq FROM wordfreq")
    top: dict[str, tuple[str, str, int]] = {}
    totals: dict[str, int] = {}
    for vocalized, plain, pos, freq in rows:
        totals[plain] = totals.get(plain, 0) + freq
        if plain not in top or freq > top[plain][2]:
            top[plain] = (vocalized, pos, freq)
    same: dict[str, int] = {}  # frequency of the top reading's spelling, whatever its part of speech
    for vocalized, plain, _, freq in rows:
        if vocalized == top[plain][0]:
            same[plain] = same.get(plain, 0) + freq
    every = {plain: (_fatha_before_alif(voc), pos) for plain, (voc, pos, _) in top.items()}
    # verbs are never sure: a perfect's spelling is also its passive (kutiba), often a broken plural (كتب
    # kutub) and, with أ, the imperfect's first person (أحب ʔuħibbu)
    sure = {plain: every[plain] for plain in top
            if totals[plain] and same[plain] >= SURE * totals[plain] and top[plain][1] != "verb"}
    dictionary = data / "arabicdictionary.sqlite"
    for table, pos in (("nouns", "noun"), ("verbs", "verb")):
        for vocalized, plain in _rows(dictionary, f"SELECT vocalized, unvocalized FROM {table}"):
            if plain and vocalized and plain not in every:
                every[plain] = (_fatha_before_alif(vocalized), pos)
    return every, sure


def _rows(resource, query: str) -> list[tuple]:
    with importlib.resources.as_file(resource) as path:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)  # read-only: the package's own file
        try:
            return con.execute(query).fetchall()
        finally:
            con.close()


# a letter with no mark, then alif (not و before a final alif: the silent alif of -uː)
_BARE_BEFORE_ALIF = re.compile("([\u0628-\u064a])(?=\u0627)(?<!\u0648(?=\u0627$))")


def _fatha_before_alif(word: str) -> str:
    """Arramooz often leaves the fatha before ا unwritten (كان, حَياة); ā is always fatha + alif, and
    espeak-ng reads a bare letter before alif as a separate vowel (ħ a i aː), so the fatha is written."""
    return _BARE_BEFORE_ALIF.sub("\\1" + FATHA, word)


class DiacritizerWarning(UserWarning):
    """Arabic text is read without the diacritizer (not installed): fewer short vowels."""


@functools.lru_cache(maxsize=1)
def _diacritizer():
    """The diacritizer's function, or None when it is not installed (Python 3.10: no wheel): then words
    the lexicon does not know keep espeak-ng's own guesses, and a warning says so once."""
    try:
        # a native library with an ONNX model: imported and loaded once, at the first text that needs it
        from dengjen_tashkeel_py import init, tashkeel
    except ImportError:
        warnings.warn(
            "Arabic text without vowel marks is read without the diacritizer (pip install dengjen-tashkeel-py; "
            "Python >= 3.11): words outside the lexicon get espeak-ng's guessed vowels. Give vocalized text "
            "(tashkeel) where vowels matter.", DiacritizerWarning, stacklevel=3)
        return None
    try:
        init()  # load the bundled model now (the backend's start), not inside the first sentence
    except RuntimeError:
        pass  # already loaded (by another user of the library in this process)
    return tashkeel


_CACHE = 20_000  # windows remembered (texts repeat phrases; a window's reading depends only on its words)
_seen: dict[tuple[str, ...], list[str]] = {}


def diacritize(words: Sequence[str]) -> list[str]:
    """The diacritizer's reading of consecutive words (one window of a text). A word whose letters it
    changed (it normalizes some spellings) keeps its unvocalized spelling; if it split or merged words,
    each word is read on its own."""
    key = tuple(words)
    if not key:
        return []
    if key in _seen:
        return list(_seen[key])
    tashkeel = _diacritizer()
    if tashkeel is None:
        return list(key)
    with _lock:  # one engine per process
        out = tashkeel(" ".join(key)).split()
    if len(out) == len(key):
        read = _checked(out, list(key))
    elif len(key) == 1:
        read = list(key)
    else:
        read = [diacritize([w])[0] for w in key]
    if len(_seen) < _CACHE:
        _seen[key] = read
    return list(read)


_SENTENCE = " . "  # the diacritizer reads each sentence of its input on its own


def diacritize_all(windows: Sequence[Sequence[str]]) -> list[list[str]]:
    """:func:`diacritize` for many windows, in few calls: windows of one length go in one call as
    sentences (one call costs about as much as a few words: 54 calls -> about a dozen for 1,000 words)."""
    keys = [tuple(w) for w in windows]
    tashkeel = _diacritizer()
    todo: dict[int, list[tuple[str, ...]]] = {}
    for key in dict.fromkeys(keys):
        if key and key not in _seen and tashkeel is not None:
            todo.setdefault(len(key), []).append(key)
    for group in todo.values():
        with _lock:
            parts = tashkeel(_SENTENCE.join(" ".join(k) for k in group)).split(_SENTENCE)
        if len(parts) != len(group):
            continue  # the sentences did not come back one for one: each window is read on its own below
        for key, part in zip(group, parts):
            out = part.strip(" .").split()
            if len(out) == len(key) and len(_seen) < _CACHE:
                _seen[key] = _checked(out, list(key))
    return [diacritize(k) for k in keys]


def _checked(read: list[str], words: list[str]) -> list[str]:
    return [v if letters(v) == letters(w) else w for v, w in zip(read, words)]


def pause_after(text: str, chunks: Sequence[str]) -> list[bool]:
    """For each orthographic word of ``text`` (in order), whether a pause follows it: punctuation or a line
    break before the next word, or the end of the text."""
    out, pos = [], 0
    for i, chunk in enumerate(chunks):
        at = text.find(chunk, pos)
        end = at + len(chunk) if at >= 0 else pos
        nxt = text.find(chunks[i + 1], end) if i + 1 < len(chunks) else len(text)
        out.append(i + 1 == len(chunks) or bool(_PAUSE.search(text[end:nxt if nxt >= 0 else len(text)])))
        pos = end
    return out


# Proclitics written on the word, longest first: conjunction (wa-, fa-), preposition (bi-, li-, ka-) and
# article (al-, li- + al- = lil-), with their vowels (Ryding 2005, ch. 8 and 16).
_PROCLITICS = tuple(sorted({
    "و": "وَ", "ف": "فَ", "ب": "بِ", "ك": "كَ", "ل": "لِ", "ال": "ال", "لل": "لِل",
    "وال": "وَال", "فال": "فَال", "بال": "بِال", "كال": "كَال", "ولل": "وَلِل", "فلل": "فَلِل",
    "وب": "وَبِ", "فب": "فَبِ", "ول": "وَلِ", "فل": "فَلِ", "وك": "وَكَ",
}.items(), key=lambda kv: -len(kv[0])))
_SUN = frozenset("تثدذرزسشصضطظلن")  # the article's l assimilates to these (ash-shams)
SURE = 0.9  # share of a spelling's corpus frequency its top reading needs to be used without context


def sure_readings() -> dict[str, tuple[str, str]]:
    """Spellings whose most frequent Arramooz reading has at least ``SURE`` of their corpus frequency (their
    other readings are rare): read without the diacritizer. Others need their sentence."""
    return _lexicons()[1]


# Enclitic pronouns and the commonest inflectional endings: a spelling that can be a shorter word plus one of
# these (بكم bi-kum, not only bakam) is not read from the lemma list without context.
_SUFFIXES = ("ه", "ها", "هم", "هما", "هن", "ك", "كم", "كما", "كن", "ي", "نا", "ني", "ة", "ات", "ون", "ين", "ان", "وا", "ت")


def _segmentable(word: str) -> bool:
    """True when ``word`` can also be read as a clitic or ending on another word of the lexicon."""
    lex = lexicon()
    return (any(word.startswith(c) and len(word) - len(c) >= 2 and word[len(c):] in lex for c, _ in _PROCLITICS)
            or any(word.endswith(x) and len(word) - len(x) >= 2 and word[:-len(x)] in lex for x in _SUFFIXES))


def known(word: str) -> str | None:
    """A reading of ``word`` that needs no context, or None: the word itself, or a stem after its
    proclitics, whose spelling has one dominant reading in the lexicon and cannot be read as a shorter
    word with clitics. Cited as a word said alone (:func:`citation`): with no case ending, which a
    lemma list cannot give (speakers often drop case endings in reading too)."""
    sure = sure_readings()
    if word in sure:
        return citation(*sure[word]) if not _segmentable(word) else None
    if word in lexicon():  # an ambiguous spelling: not taken apart (ولد is walad, not wa- + lad)
        return None
    for clitic, vocalized in _PROCLITICS:
        stem = word[len(clitic):]
        if not word.startswith(clitic) or len(stem) < 2 or stem not in sure or _segmentable(stem):
            continue
        reading, pos = sure[stem]
        article = clitic.endswith(("ال", "لل"))
        if article and pos.startswith(("verb", "prep", "pron", "part", "conj", "adv")):
            continue  # the article goes only on nouns and adjectives
        if clitic.endswith("لل") and stem.startswith("ل"):
            continue  # li + al + l... is spelled with three lams' worth of ambiguity: left to the model
        stem_read = citation(reading, pos)
        if article:
            first, rest = stem_read[0], stem_read[1:]
            stem_read = first + SHADDA + rest.lstrip(SUKUN + SHADDA) if first in _SUN else SUKUN + stem_read
        return vocalized + stem_read
    return None


# Regular derivations of a lexicon word (Ryding 2005, ch. 8, 9 and 11): the feminine -a, the sound
# feminine plural -āt (of a word in -a, or of the bare stem), the nisba adjective -iyy and its feminine -iyya.
_DERIVATIONS = (
    ("\u064a\u0629", "", KASRA + "\u064a" + SHADDA + FATHA + TAA_MARBUTA),  # ـية: -iyya
    ("\u0627\u062a", TAA_MARBUTA, FATHA + "\u0627\u062a"),                 # ـات of a word in ـة
    ("\u0627\u062a", "", FATHA + "\u0627\u062a"),                          # ـات of the stem
    (TAA_MARBUTA, "", FATHA + TAA_MARBUTA),                                  # ـة: feminine
    ("\u064a", "", KASRA + "\u064a" + SHADDA),                               # ـي: -iyy
)
_NOMINAL = ("noun", "adj")


def derived(word: str) -> tuple[str, str] | None:
    """A reading of a word said alone that the lexicon lacks but derives regularly: an ending above on a
    noun or adjective it has, or the article on one (al- + noun). None when no such parse exists."""
    lex = lexicon()
    for ending, base_end, vocalized_end in _DERIVATIONS:
        stem = word[: len(word) - len(ending)] + base_end
        if word.endswith(ending) and len(stem) >= 2 + len(base_end) and stem in lex and lex[stem][1].startswith(_NOMINAL):
            reading = lex[stem][0]
            if base_end:  # drop the stem's ة (and the vowel before it) before the plural ending
                reading = _last_marks(_last_marks(reading)[0][:-1])[0]
            else:
                reading = _last_marks(reading)[0] + (SHADDA if SHADDA in _last_marks(reading)[1] else "")
            return reading + vocalized_end, "noun"
    if word.startswith("\u0627\u0644") and len(word) > 3:
        stem = word[2:]
        entry = lex.get(stem) or (derived(stem) if not stem.startswith("\u0627\u0644") else None)
        if entry is not None and entry[1].startswith(_NOMINAL + ("noun_prop",)):
            first = entry[0][0]
            body = entry[0][1:]
            return "\u0627\u0644" + (first + SHADDA + body.lstrip(SUKUN + SHADDA) if first in _SUN else SUKUN + entry[0]), "noun"
    return None


def restore(text: str, chunks: Sequence[str], every_word_pausal: bool = False) -> list[str]:
    """What espeak-ng should read for each orthographic word of ``text``: the word with its vowel marks.

    Words with vowel marks, and words in other scripts, are returned as they are. Words with one dominant
    reading (:func:`known`) take it; the others go to the diacritizer in runs of consecutive words with
    one word of context on each side (the model's time grows with the words it is given)."""
    todo = [i for i, c in enumerate(chunks) if needs_vowels(c)]
    if not todo:
        pauses = pause_after(text, chunks)
        said = list(chunks)
        for i in range(1, len(said)):
            if not pauses[i - 1]:
                said[i] = elided(said[i - 1], said[i])
        return said
    spoken = list(chunks)
    pauses = pause_after(text, chunks)
    _diacritizer()  # start the backend with the first Arabic text (as espeak-ng starts on the first word)
    if len(chunks) == 1:
        entry = lexicon().get(chunks[0]) or derived(chunks[0])
        if entry is not None:  # the dialects cite verbs without the MSA -a too (Cairene ʔaːl, katab)
            return [dialect_article(pausal(entry[0])) if every_word_pausal else citation(*entry)]
    unknown = []
    final = set()  # words already in the form to say (known readings: no case ending)
    for i in todo:
        reading = known(chunks[i])
        if reading is None:
            unknown.append(i)
        else:
            spoken[i] = reading
            final.add(i)
    # runs of unknown words (cut at pauses and at WINDOW words), each with a word of context either side
    runs: list[list[int]] = []
    for i in unknown:
        if runs and i - runs[-1][-1] <= 3 and not pauses[runs[-1][-1]] and len(runs[-1]) < WINDOW:
            runs[-1].extend(range(runs[-1][-1] + 1, i + 1))
        else:
            runs.append([i])
    windows = []
    for run in runs:
        lo = run[0] - 1 if run[0] > 0 and not pauses[run[0] - 1] else run[0]
        hi = run[-1] + 1 if run[-1] + 1 < len(chunks) and not pauses[run[-1]] else run[-1]
        windows.append(range(lo, hi + 1))
    for run, window, read in zip(runs, windows, diacritize_all([[chunks[j] for j in w] for w in windows])):
        targets = set(run) - final  # a run spans known words between unknown ones: they keep their reading
        for j, vocalized in zip(window, read):
            if j in targets:
                spoken[j] = vocalized
    said = [pausal(s) if (pauses[i] or every_word_pausal) and needs_vowels(chunks[i]) and i not in final else s
            for i, s in enumerate(spoken)]
    for i in range(1, len(said)):  # vocalized words too: the elision is how the text is said, not written
        if not pauses[i - 1]:
            said[i] = elided(said[i - 1], said[i])
    if every_word_pausal:
        said = [dialect_article(w) if needs_vowels(c) else w for c, w in zip(chunks, said)]
    return said


def dialect_article(word: str) -> str:
    """The dialects' article is il- (Cairene and Levantine: Watson 2002, ch. 8; Cowell 1964): a vocalized
    word that starts with al- (not elided) is written with إِ (espeak-ng reads ʔi), and before a sun letter
    without the assimilated l (iʃ-ʃams)."""
    if not word.startswith("\u0627\u0644") or len(word) < 3 or not has_vowel_marks(word):
        return word
    marks = re.match("[\u064b-\u0652]*", word[3:]).group(0)
    if word[2] in _SUN and SHADDA in marks:
        return "\u0625" + KASRA + word[2:]
    return "\u0625" + KASRA + word[1:]

ALIF_WASLA = "\u0671"


def _ends_in_vowel(word: str) -> bool:
    return bool(word) and (word[-1] in (FATHA, DAMMA, KASRA) or word[-1] in "\u0627\u0649\u064a\u0648")


def elided(previous: str, word: str) -> str:
    """The article's a- after a word that ends in a vowel is not said (fī ṣ-ṣabāḥ, ʔilā l-madrasa: the
    hamzat al-wasl; Ryding 2005, §2.7): written with alif wasla (espeak-ng then reads no ʔa), and before a
    sun letter without the assimilated l. After a consonant the a- stays (a helping vowel is said)."""
    if (not word.startswith("\u0627\u0644") or not _ends_in_vowel(previous) or len(word) < 3
            or not has_vowel_marks(word)):  # unvocalized, espeak-ng reads the word from its dictionary
        return word
    marks = re.match("[\u064b-\u0652]*", word[3:]).group(0)
    if word[2] in _SUN and SHADDA in marks:
        return ALIF_WASLA + word[2:]
    return ALIF_WASLA + word[1:]
