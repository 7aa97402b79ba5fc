"""`visemes langs` and `visemes phonemize`: thin CLI over lang_packs.available() / load().phonemize()."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from visemes import lang_packs


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
def langs(as_json: bool) -> None:
    """List the language packs: code, name, parent, G2P backend, phones, coverage.

    Coverage is read from lang_packs/data/_coverage.toml, written by `python -m visemes.lang_packs.tools.coverage`
    (share of phone tokens of the pack's 2,000 most frequent words that the pack lists explicitly).
    Any other espeak-ng voice also loads, as a generic pack from the feature-based fallback.
    """
    infos = lang_packs.available()
    if as_json:
        click.echo(json.dumps([i.to_dict() for i in infos], ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{len(infos)} language packs (other espeak-ng voices load as generic packs)")
    for col in ("code", "name", "parent", "g2p", "voice", "phones", "coverage"):
        table.add_column(col, justify="right" if col in ("phones", "coverage") else "left")
    for i in infos:
        cov = "-" if i.coverage is None else f"{100 * i.coverage:.1f}%"
        table.add_row(i.code, i.name, i.parent or "", i.backend, i.voice, str(i.phone_count), cov)
    Console().print(table)


@click.command()
@click.argument("text")
@click.option("--lang", "-l", required=True, help="Language code, e.g. cmn, ar, hi, ar-EG (see `visemes langs`).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: words with phones, attrs and visemes.")
def phonemize(text: str, lang: str, as_json: bool) -> None:
    """Print TEXT's words with their IPA phones; stress as ˈ ˌ, tone in braces after the phone (mˈɑ{1})."""
    pack = lang_packs.load(lang)
    transcript = pack.phonemize(text)
    if as_json:
        words = [
            {
                "text": w.text,
                "phones": [
                    {"symbol": p.symbol, "viseme": pack.phone(p.symbol).viseme, **({"attrs": dict(p.attrs)} if p.attrs else {})}
                    for p in w.phones
                ],
            }
            for w in transcript.words
        ]
        click.echo(json.dumps({"lang": pack.code, "words": words}, ensure_ascii=False, indent=2))
        return
    for w in transcript.words:
        click.echo(f"{w.text}\t{' '.join(_show(p) for p in w.phones)}")


def _show(phone) -> str:
    mark = {"primary": "ˈ", "secondary": "ˌ"}.get(phone.attrs.get("stress"), "")
    tone = phone.attrs.get("tone")
    return f"{mark}{phone.symbol}" + (f"{{{tone}}}" if tone else "")
