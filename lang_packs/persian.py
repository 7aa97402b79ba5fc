"""Persian ezafe: the unwritten -e (-ye after a vowel) that links a noun to the words that modify it.

Persian script leaves the ezafe unwritten (کتاب خوب is ketɒːb-e xuːb, "a good book"; خانه بزرگ xɒːne-je
bozorg). espeak-ng reads words one by one and never adds it; it reads the ezafe when it is written as a
kasra (کتابِ), as ـهٔ after a silent h, or as ی after a vowel. This module writes it where the grammar
puts it, before espeak reads the words.

The ezafe joins the head of a noun phrase to a following modifier or possessor (nouns, adjectives,
pronouns after a noun) and compound prepositions (nouns in origin: zir-e miz) to their object; it never
follows a verb,
a simple preposition, a conjunction, the object marker را, a pronoun, a demonstrative or quantifier
before its noun, or a number, and never crosses a pause (Mahootian, Persian, 1997, §2.1.2.3; Samvelian,
"A (phrasal) affix analysis of the Persian Ezafe", J. Linguistics 43, 2007). Without a parser this is
decided from closed word classes: a word that is none of these, followed in the same clause by a word
that is none of these either, gets the ezafe. Its known limits: two noun phrases side by side with no
function word between (a subject before an object without را) get a wrong ezafe, and a verb that is
not marked by می/نمی or in the list of frequent forms is taken for a noun.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from visemes.lang_packs.arabic import in_arabic_script, pause_after
from visemes.lang_packs.marks import has_vowel_marks

KASRA, HAMZA_ABOVE, ZWNJ = "\u0650", "\u0654", "\u200c"

# pronouns: they follow an ezafe as possessors (ketɒːb-e man) but never take one
_PRONOUNS = frozenset("من تو او وی ما شما آنها ایشان اینها آنان خود خودم خودت خودش خودمان خودتان خودشان".split())
# words that never take the ezafe and never receive it as a modifier (closed classes, Mahootian 1997)
_FUNCTION = frozenset("""
از به با در بر تا بی جز مگر چون چو اگر که و یا ولی اما پس هم نیز بلکه زیرا تا را رو
این آن همین همان هر همه چند چندین هیچ چه کدام کدامین چنین چنان دیگر
یک دو سه چهار پنج شش هفت هشت نه ده صد هزار میلیون
خیلی بسیار کمی فقط حتی هنوز اکنون حالا امروز دیروز فردا امشب دیشب همیشه هرگز شاید البته بله نه آری
است هست نیست بود نبود شد نشد باشد نباشد بودم بودی بودیم بودید بودند شدم شدی شدیم شدید شدند
هستم هستی هستیم هستید هستند نیستم نیستی نیستیم نیستید نیستند ام ای ایم اید اند
کرد کردم کردی کردیم کردید کردند کند کنم کنی کنیم کنید کنند دارد دارم داری داریم دارید دارند
داشت داشتم داشتی داشتیم داشتید داشتند رفت آمد گفت خواست خواهد خواهم باید نباید توان
""".split())
_VERB_PREFIX = re.compile("^(?:ن?می|ن?بی?)\u200c")  # می‌رود، نمی‌خواهد (with ZWNJ)
_VERB_ENDING = re.compile("(?:ید|یم|ند|م)$")
# past stems of frequent verbs: the stem alone is the 3rd person singular past, with endings the others
_PAST_STEMS = frozenset("""
کرد بود شد داشت رفت آمد گفت دید خورد خرید خواند نوشت شنید گرفت داد زد ماند نشست ساخت شناخت دانست
توانست خواست آورد برد گذاشت افتاد رسید پرسید فهمید کشید پوشید دوید خوابید زیست مرد یافت انداخت
""".split())
_PERSON = ("", "م", "ی", "یم", "ید", "ند")
_ARABIC_DIGITS = re.compile("[0-9\u06f0-\u06f9\u0660-\u0669]")


def _is_verb(word: str) -> bool:
    if _VERB_PREFIX.match(word) or (word.startswith(("می", "نمی")) and _VERB_ENDING.search(word) and len(word) > 4):
        return True
    bare = word[1:] if word.startswith("ن") else word  # negation: نرفت
    return any(bare.endswith(p) and bare[:len(bare) - len(p)] in _PAST_STEMS for p in _PERSON)


def _takes(word: str) -> bool:
    """Can ``word`` be the head that an ezafe follows? Nouns, adjectives, compound prepositions."""
    return (word not in _FUNCTION and word not in _PRONOUNS and not _is_verb(word)
            and not _ARABIC_DIGITS.search(word)
            and not word.endswith(("ای", "وی")))  # ـای ـوی: the ezafe is already written (هوای، کتاب‌های، روی)


def _modifier(word: str) -> bool:
    """Can ``word`` follow an ezafe? Nouns, adjectives, pronouns (possessors)."""
    return word not in _FUNCTION and not _is_verb(word) and not _ARABIC_DIGITS.search(word)


def with_ezafe(word: str) -> str:
    """``word`` with the ezafe written as espeak-ng reads it: kasra after a consonant (and after the h of
    راه، کوه), ـهٔ after a silent h,
    ی + kasra after a vowel letter (ا و ی: -je)."""
    if word.endswith("ه") and not word.endswith(("اه", "وه")):  # silent h (-e); راه کوه end in a real h
        return word + HAMZA_ABOVE
    if word.endswith(("ا", "و", "ی")):
        return word + ZWNJ + "ی" + KASRA
    return word + KASRA


def restore(text: str, chunks: Sequence[str]) -> list[str]:
    """What espeak-ng should read for each orthographic word: the word, with the ezafe where it goes.
    Words written with vowel marks are taken as written (the writer marked the ezafe or chose not to)."""
    pauses = pause_after(text, chunks)
    out = list(chunks)
    for i, word in enumerate(chunks[:-1]):
        nxt = chunks[i + 1]
        if (pauses[i] or has_vowel_marks(word) or word.endswith(HAMZA_ABOVE) or not _modifier(nxt)
                or not in_arabic_script(word) or not in_arabic_script(nxt)):  # Latin-script loans: none
            continue
        if _takes(word):
            out[i] = with_ezafe(word)
    return out
