"""The universal phone vocabulary (and language / dialect ids) the model embeds.

It is built once, deterministically, from panphon's base segments plus every language pack's inventory,
and frozen into ``models/weights/phone_vocab.json`` which ships with the weights: a model's ids never
change under it. Unknown phones map to ``<unk>`` (their feature vectors still carry information).

Rebuild (only when training a new base model): ``python -m visemes.models.vocab --out models/weights/phone_vocab.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

from visemes.core.atomic import atomic_write_text
from visemes.core.errors import ModelError
from visemes import lang_packs

VOCAB_FORMAT_VERSION = 1
PAD, UNK = "<pad>", "<unk>"
VOCAB_FILE = "phone_vocab.json"

#: Tone attribute values -> ids (0 = no tone). Digits are tone numbers (Chao letters / pinyin numbers).
TONE_IDS: dict[str, int] = {str(d): d + 1 for d in range(10)}
OTHER_TONE = 11
#: Stress attribute values -> ids (0 = unstressed / unmarked).
STRESS_IDS: dict[str, int] = {"1": 1, "primary": 1, "ˈ": 1, "2": 2, "secondary": 2, "ˌ": 2}
OTHER_STRESS = 3


def tone_id(value: object) -> int:
    if value is None or value == "" or value == 0:
        return 0
    return TONE_IDS.get(str(value), OTHER_TONE)


def stress_id(value: object) -> int:
    if value is None or value == "" or value == 0 or value is False:
        return 0
    if value is True:
        return 1
    return STRESS_IDS.get(str(value), OTHER_STRESS)


def split_lang(code: str | None) -> tuple[str | None, str | None]:
    """``"ar-EG"`` -> ("ar", "ar-EG"); ``"fr"`` -> ("fr", None)."""
    if not code:
        return None, None
    code = code.replace("_", "-")
    base = code.split("-")[0].lower()
    return base, (code if "-" in code else None)


@dataclass(frozen=True)
class Vocab:
    phones: tuple[str, ...]
    langs: tuple[str, ...]
    dialects: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.phones[:2] != (PAD, UNK) or self.langs[:1] != (UNK,) or self.dialects[:1] != (UNK,):
            raise ModelError("Phone vocabulary is malformed (reserved entries missing); rebuild it.")
        object.__setattr__(self, "_phone_index", {p: i for i, p in enumerate(self.phones)})
        object.__setattr__(self, "_lang_index", {p.lower(): i for i, p in enumerate(self.langs)})
        object.__setattr__(self, "_dialect_index", {p.lower(): i for i, p in enumerate(self.dialects)})

    def phone_id(self, symbol: str) -> int:
        index = self._phone_index  # type: ignore[attr-defined]
        if symbol in index:
            return index[symbol]
        return index.get(unicodedata.normalize("NFD", symbol), 1)

    def lang_ids(self, code: str | None) -> tuple[int, int]:
        base, dialect = split_lang(code)
        lang = self._lang_index.get(base or "", 0)  # type: ignore[attr-defined]
        dial = self._dialect_index.get((dialect or "").lower(), 0)  # type: ignore[attr-defined]
        return lang, dial

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "visemes.phone_vocab",
            "format_version": VOCAB_FORMAT_VERSION,
            "phones": list(self.phones),
            "langs": list(self.langs),
            "dialects": list(self.dialects),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Vocab":
        if not isinstance(data, Mapping):
            raise ModelError("The phone vocabulary must be a JSON object; the model's JSON is damaged.")
        if data.get("format_version") != VOCAB_FORMAT_VERSION:
            raise ModelError(
                f"Phone vocabulary format_version {data.get('format_version')!r} is not supported "
                f"(expected {VOCAB_FORMAT_VERSION}); upgrade visemes."
            )
        lists = [data.get(k) for k in ("phones", "langs", "dialects")]
        if not all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in lists):
            raise ModelError("The phone vocabulary needs lists of strings 'phones', 'langs' and 'dialects'; "
                             "the model's JSON is damaged.")
        return cls(*(tuple(v) for v in lists))

    def save(self, path: str | os.PathLike, overwrite: bool = False) -> Path:
        return atomic_write_text(path, json.dumps(self.to_dict(), ensure_ascii=False, indent=1), overwrite)

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> "Vocab":
        try:
            if path is None:
                text = resources.files("visemes.models").joinpath("weights", VOCAB_FILE).read_text("utf-8")
            else:
                text = Path(path).read_text("utf-8")
        except (OSError, FileNotFoundError) as exc:
            raise ModelError(f"Cannot read the phone vocabulary ({exc}); reinstall visemes or rebuild it.") from None
        return cls.from_dict(json.loads(text))


def panphon_base_segments() -> list[str]:
    import panphon  # heavy: panphon's __init__ loads pandas (~0.3 s); only when building a vocabulary

    path = Path(panphon.__file__).parent / "data" / "ipa_bases.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return [unicodedata.normalize("NFD", r[0]) for r in rows[1:] if r and r[0]]


def pack_inventories() -> tuple[list[str], list[str]]:
    """(phones, pack codes) from every available language pack; empty if lang_packs is not usable."""
    try:
        infos = lang_packs.available()
    except Exception:  # packs are optional at build time: the panphon list alone is a valid vocabulary
        return [], []
    phones: list[str] = []
    codes: list[str] = []
    for info in infos:
        codes.append(info.code)
        try:
            pack = lang_packs.load(info.code)
            phones.extend(unicodedata.normalize("NFD", str(p)) for p in pack.inventory)
        except Exception:  # a broken pack must not block the vocabulary; its phones fall back to UNK
            continue
    return phones, codes


def build_vocab(extra_phones: list[str] = (), extra_langs: list[str] = ()) -> Vocab:
    pack_phones, codes = pack_inventories()
    phones = sorted(set(panphon_base_segments()) | set(pack_phones) | set(extra_phones))
    all_codes = sorted({c.replace("_", "-") for c in [*codes, *extra_langs]})
    langs = sorted({split_lang(c)[0] for c in all_codes if c})
    dialects = sorted({c for c in all_codes if "-" in c})
    return Vocab((PAD, UNK, *phones), (UNK, *langs), (UNK, *dialects))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).parent / "weights" / VOCAB_FILE))
    parser.add_argument("--lang", action="append", default=[], help="extra language codes")
    args = parser.parse_args(argv)
    vocab = build_vocab(extra_langs=args.lang)
    vocab.save(args.out, overwrite=True)
    print(f"{len(vocab.phones)} phones, {len(vocab.langs)} languages, {len(vocab.dialects)} dialects -> {args.out}")


if __name__ == "__main__":
    main()
