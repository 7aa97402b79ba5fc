"""A submission's fields -> a validated :class:`~visemes.service.execution.JobSpec`, or a 4xx saying why not.

Cheap checks happen here, before anything is queued: known fields, language, formats, frame rate,
viseme set, text length, audio readable and not too long, server-side paths inside the allowed root,
webhook URL allowed; and model weights or an adapter (server-side paths too) loaded once to prove they
are a model and an adapter that fits it (cached while the files are unchanged). Uploads are written
to ``<jobs>/<job id>/input/audio.<ext>``, where the job id is the server's (a UUID) and the extension
comes from the detected audio format, never from the client.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
from collections.abc import Mapping
from functools import lru_cache
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import soundfile as sf

from visemes import models
from visemes.core.curves import check_fps
from visemes.core.errors import AudioError, InputError, UnknownLanguageError, VisemesError
from visemes.core.media import container_extension, decode_audio_track
from visemes.core.vocabulary import check_set
from visemes.formats import expand_formats
from visemes.pipeline.animator import load_pack, read_timings
from visemes.service.config import Limits
from visemes.service.execution import JobSpec
from visemes.service.webhooks import UrlPolicy

#: The fields a job takes (multipart form fields or JSON keys), besides the ``audio`` upload.
FIELDS = ("text", "phones", "lang", "formats", "fps", "viseme_set", "use_model", "model", "adapter", "plot",
          "preview", "name", "webhook_url", "audio_path")
_AUDIO_FORMATS = {"WAV": "wav", "WAVEX": "wav", "FLAC": "flac", "OGG": "ogg", "AIFF": "aiff", "MP3": "mp3"}
_NAME_BAD = re.compile(r"[^A-Za-z0-9._-]+")
CHUNK = 1 << 20


class ApiError(Exception):
    """An HTTP error with a JSON body ``{"error": {"code", "message", "field"}}``."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None):
        self.status, self.code, self.message, self.field = status, code, message, field
        super().__init__(message)

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            err["field"] = self.field
        return {"error": err}


def from_visemes_error(exc: VisemesError, field: str | None = None) -> ApiError:
    """A library error as a 4xx: bad input is 422 (unknown language: its own code), the rest 422 too
    (the request asked for something this server cannot do), never a 500."""
    if isinstance(exc, UnknownLanguageError):
        return ApiError(422, "unknown_language", str(exc), field or "lang")
    if isinstance(exc, InputError):
        return ApiError(422, "invalid_input", str(exc), field)
    return ApiError(422, "cannot_process", f"{type(exc).__name__}: {exc}", field)


def _bool(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ApiError(422, "invalid_input", f"{field} must be true or false, got {value!r}.", field)


def safe_name(value: Any) -> str:
    """A download file stem: letters, digits and ._- only (never used as a server path)."""
    name = _NAME_BAD.sub("_", str(value if value is not None else "").strip()).strip("._")[:64]
    return name or "visemes"


@dataclass(frozen=True)
class JobFields:
    """Checked fields of one job (before its audio is placed)."""

    options: dict[str, Any]       # JobSpec fields except job_dir/audio
    audio_path: Path | None       # a checked server-side path
    webhook_url: str | None


class Validator:
    def __init__(self, limits: Limits, allowed_root: Path | None, policy: UrlPolicy):
        self.limits = limits
        self.allowed_root = allowed_root.resolve() if allowed_root is not None else None
        self.policy = policy

    def fields(self, raw: Mapping[str, Any], where: str = "", *, has_timings: bool = False) -> JobFields:
        """Check one job's fields (``where`` prefixes field names in errors, e.g. ``jobs[2].``).
        ``has_timings``: timings are uploaded, so no transcript is taken and the language may come from them."""
        unknown = sorted(set(raw) - set(FIELDS))
        if unknown:
            raise ApiError(422, "unknown_field", f"Unknown field(s) {', '.join(unknown)}; a job takes "
                           f"audio (file), {', '.join(FIELDS)}.", where + unknown[0])
        text = raw.get("text") or None
        phones = raw.get("phones") or None
        for key, value in (("text", text), ("phones", phones)):
            if value is not None and not isinstance(value, str):
                raise ApiError(422, "invalid_input", f"{key} must be a string.", where + key)
            if value is not None and len(value) > self.limits.max_text_chars:
                raise ApiError(422, "text_too_long", f"{key} has {len(value)} characters; this server takes at most "
                               f"{self.limits.max_text_chars}. Split the audio and submit a batch.", where + key)
        if text is not None and phones is not None:
            raise ApiError(422, "invalid_input", "Give text or phones, not both.", where + "phones")
        if has_timings and (text is not None or phones is not None):
            raise ApiError(422, "invalid_input", "Give timings or a transcript (text/phones), not both.",
                           where + ("text" if text is not None else "phones"))
        if text is None and phones is None and not has_timings:
            raise ApiError(422, "missing_field", "Give what is said: text (words) or phones (IPA, ' | ' between "
                           "words), or upload timings (a TextGrid or alignment JSON).", where + "text")
        lang = raw.get("lang")
        if has_timings and lang in (None, ""):
            lang = None  # taken from the timings (checked when they are read)
        elif not isinstance(lang, str) or not lang.strip():
            raise ApiError(422, "missing_field", "Give the language: lang=CODE (e.g. en-US, cmn, ar, hi; "
                           "`visemes langs` lists them).", where + "lang")
        else:
            try:
                load_pack(lang.strip())
            except VisemesError as exc:
                raise from_visemes_error(exc, where + "lang") from None
            lang = lang.strip()
        viseme_set = str(raw.get("viseme_set") or "oculus")
        try:
            check_set(viseme_set)
        except InputError as exc:
            raise ApiError(422, "invalid_input", str(exc), where + "viseme_set") from None
        try:
            fps = check_fps(float(raw.get("fps", 30.0) or 30.0))
        except (InputError, ValueError, TypeError):
            raise ApiError(422, "invalid_input", f"fps must be a number from 1 to 1000, got {raw.get('fps')!r}.",
                           where + "fps") from None
        spec_formats = raw.get("formats") or "json"
        if isinstance(spec_formats, list):
            spec_formats = ",".join(map(str, spec_formats))
        try:
            formats = expand_formats(str(spec_formats), has_audio=True, viseme_set=viseme_set)
        except InputError as exc:
            raise ApiError(422, "invalid_input", str(exc), where + "formats") from None
        webhook_url = raw.get("webhook_url") or None
        if webhook_url is not None:
            try:
                self.policy.check(str(webhook_url))
            except InputError as exc:
                raise ApiError(422, "webhook_refused", str(exc), where + "webhook_url") from None
        audio_path = self.server_path(raw["audio_path"], where) if raw.get("audio_path") else None
        model, adapter, use_model = self.weights(raw, where)
        options = {"lang": lang, "text": text, "phones": phones, "fps": fps, "viseme_set": viseme_set,
                   "use_model": use_model, "model": model, "adapter": adapter,
                   "formats": formats, "plot": _bool(raw.get("plot", False), where + "plot"),
                   "preview": _bool(raw.get("preview", False), where + "preview"),
                   "name": safe_name(raw.get("name"))}
        return JobFields(options, audio_path, str(webhook_url) if webhook_url else None)

    def inside_root(self, value: Any, field: str, what: str) -> Path:
        """A server-side path: only inside the allowed root (after resolving links and ``..``)."""
        name = field.rpartition(".")[2]
        if self.allowed_root is None:
            raise ApiError(403, "server_paths_disabled", f"This server takes no server-side paths (its operator "
                           f"set no --allowed-root), so no {name}.", field)
        if not isinstance(value, str) or "\x00" in value:
            raise ApiError(422, "invalid_input", f"{name} must be a path string.", field)
        path = Path(value)
        path = (self.allowed_root / path) if not path.is_absolute() else path
        resolved = path.resolve()
        if resolved != self.allowed_root and self.allowed_root not in resolved.parents:
            raise ApiError(403, "path_not_allowed", f"{name} {value!r} is outside the folder this server "
                           "serves files from; give a path inside it (relative paths are taken from it).", field)
        if not resolved.is_file():
            raise ApiError(422, f"invalid_{what}", f"{name} {value!r} is not a file under the allowed root.", field)
        return resolved

    def server_path(self, value: Any, where: str = "") -> Path:
        """A server-side audio path inside the allowed root, readable and not too long."""
        resolved = self.inside_root(value, where + "audio_path", "audio")
        self.check_audio(resolved, where + "audio_path")
        return resolved

    def weights(self, raw: Mapping[str, Any], where: str = "") -> tuple[str | None, str | None, bool]:
        """(model path, adapter path, use the neural model?) as ``visemes animate --model/--adapter``
        reads them: weights or an adapter ask for the neural model; ``use_model=false`` with them is a
        contradiction. Both are loaded here, once per file version, so a bad file is a 422 at submit."""
        given = raw.get("use_model")
        use_model = None if given in (None, "") else _bool(given, where + "use_model")
        paths: dict[str, Path | None] = {}
        for key in ("model", "adapter"):
            value = raw.get(key)
            paths[key] = self.inside_root(value, where + key, "model") if value not in (None, "", False) else None
        model, adapter = paths["model"], paths["adapter"]
        if (model or adapter) and use_model is False:
            field = where + ("adapter" if adapter else "model")
            raise ApiError(422, "invalid_input", "model and adapter are weights of the neural model; drop "
                           "use_model=false (the coarticulation model has no weights or adapters).", field)
        if model is not None:
            _check_weights(model, where + "model")
        if adapter is not None:
            _check_weights(model, where + "model", adapter, where + "adapter")
        return (str(model) if model else None, str(adapter) if adapter else None,
                bool(use_model) or model is not None or adapter is not None)

    def check_audio(self, path: Path, field: str = "audio") -> str:
        """The audio's format extension, after checking it is readable and not too long. Audio files are
        read by libsndfile; a video (MP4/MOV/M4A, MKV/WebM, AVI: known by its first bytes, the upload's name
        is not used) by the bundled ffmpeg, as the CLI reads it."""
        try:
            info = sf.info(str(path))
        except (sf.LibsndfileError, RuntimeError):
            return self._check_video(path, field)
        ext = _AUDIO_FORMATS.get(info.format)
        if ext is None:
            raise ApiError(422, "invalid_audio", f"Audio format {info.format} is not taken; send WAV, FLAC or OGG.",
                           field)
        self._check_seconds(info.frames / info.samplerate if info.samplerate else math.inf, field)
        return ext

    def _check_video(self, path: Path, field: str) -> str:
        ext = container_extension(path)
        if ext is None:
            raise ApiError(422, "invalid_audio", "The audio cannot be read; send WAV, FLAC or OGG audio, or a "
                           "video with sound (MP4, MOV, MKV, WebM, AVI).", field)
        try:
            samples, rate = decode_audio_track(path)
        except AudioError as exc:  # no audio track, or ffmpeg cannot read it: its message says which
            raise ApiError(422, "invalid_audio", str(exc).replace(str(path), "The upload"), field) from None
        self._check_seconds(len(samples) / rate if rate else math.inf, field)
        return ext

    def _check_seconds(self, seconds: float, field: str) -> None:
        if seconds > self.limits.max_audio_seconds:
            raise ApiError(422, "audio_too_long", f"The audio is {seconds:.1f} s long; this server takes at most "
                           f"{self.limits.max_audio_seconds:g} s per job. Split it and submit a batch.", field)


def _stamp(path: Path | None) -> tuple[Any, ...]:
    """What says a weights file (with its JSON sidecar) changed: their sizes and modification times."""
    if path is None:
        return ()
    return tuple((st.st_size, st.st_mtime_ns) if (st := _stat(p)) else None for p in (path, path.with_suffix(".json")))


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


@lru_cache(maxsize=32)
def _checked(model: Path | None, model_stamp: tuple, adapter: Path | None, adapter_stamp: tuple) -> str:
    return models.check_model(model, adapter)


def _check_weights(model: Path | None, model_field: str, adapter: Path | None = None,
                   adapter_field: str | None = None) -> None:
    """Load the weights (and adapter) once, as ``animate-corpus`` does up front: a 422 naming the file."""
    field = adapter_field if adapter is not None else model_field
    try:
        _checked(model, _stamp(model), adapter, _stamp(adapter))
    except VisemesError as exc:
        raise ApiError(422, "invalid_model", f"{field.rpartition('.')[2]}: {exc}", field) from None
    except (OSError, ValueError) as exc:  # a reader's complaint about a file that is not what it claims
        raise ApiError(422, "invalid_model", f"{field.rpartition('.')[2]}: not a visemes model file ({exc}).",
                       field) from None


def save_upload(source: IO[bytes], job_dir: Path, validator: Validator, field: str = "audio") -> tuple[Path, str]:
    """Copy an upload into ``job_dir/input/audio.<ext>`` (name chosen here); returns the path and its SHA-256."""
    inbox = job_dir / "input"
    inbox.mkdir(parents=True, exist_ok=True)
    tmp = inbox / "upload.part"
    digest = hashlib.sha256()
    size = 0
    with open(tmp, "wb") as out:
        while chunk := source.read(CHUNK):
            size += len(chunk)
            if size > validator.limits.max_upload_bytes:
                raise ApiError(413, "upload_too_large", f"The upload is over {validator.limits.max_upload_bytes} "
                               "bytes, this server's limit.", field)
            digest.update(chunk)
            out.write(chunk)
    if size == 0:
        raise ApiError(422, "invalid_audio", "The audio upload is empty (0 bytes).", field)
    ext = validator.check_audio(tmp, field)
    final = inbox / f"audio.{ext}"
    os.replace(tmp, final)
    return final, digest.hexdigest()


def save_timings(source: IO[bytes], job_dir: Path, validator: Validator, lang: str | None,
                 field: str = "timings") -> tuple[Path, str, str]:
    """Copy uploaded timings into ``job_dir/input/timings.<TextGrid|json>`` (the kind sniffed from the
    content) and read them back; returns the path, its SHA-256 and the language (given or the timings')."""
    limit = validator.limits.max_upload_bytes
    data = source.read(limit + 1)
    if len(data) > limit:
        raise ApiError(413, "upload_too_large", f"The timings file is over {limit} bytes.", field)
    head = data[:400].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{"):
        suffix = ".json"
    elif b"ooTextFile" in head or b"o\x00o\x00T\x00e\x00x\x00t\x00" in data[:400]:
        suffix = ".TextGrid"
    else:
        raise ApiError(422, "invalid_timings", "The timings are neither a Praat TextGrid nor a visemes alignment "
                       "JSON document.", field)
    inbox = job_dir / "input"
    inbox.mkdir(parents=True, exist_ok=True)
    path = inbox / f"timings{suffix}"
    path.write_bytes(data)
    try:
        alignment = read_timings(path)
    except (VisemesError, ValueError, KeyError, TypeError) as exc:  # a reader's complaint about a bad file
        raise ApiError(422, "invalid_timings", f"The timings cannot be used: {exc}", field) from None
    if alignment.duration > validator.limits.max_audio_seconds:
        raise ApiError(422, "audio_too_long", f"The timings span {alignment.duration:.1f} s; this server takes at "
                       f"most {validator.limits.max_audio_seconds:g} s per job.", field)
    lang = lang or alignment.lang
    if not lang:
        raise ApiError(422, "missing_field", "These timings name no language: give lang=CODE.", "lang")
    try:
        load_pack(lang)
    except VisemesError as exc:
        raise from_visemes_error(exc, "lang") from None
    return path, hashlib.sha256(data).hexdigest(), lang


def request_digest(options: Mapping[str, Any], uploads: list[str]) -> str:
    """What an Idempotency-Key is bound to: the fields and the uploads' digests."""
    text = json.dumps({"options": options, "uploads": uploads}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build_spec(fields: JobFields, job_dir: Path, audio: Path | None, uploaded: bool,
               timings: Path | None = None, lang: str | None = None) -> dict[str, Any]:
    options = {**fields.options, "lang": lang or fields.options["lang"]}
    spec = JobSpec(job_dir=str(job_dir), audio=str(audio) if audio else None,
                   timings=str(timings) if timings else None, **options).to_dict()
    spec["uploaded"] = uploaded
    return spec


def discard(job_dir: Path) -> None:
    shutil.rmtree(job_dir, ignore_errors=True)
