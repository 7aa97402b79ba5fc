"""The /v1 API in process (Starlette's TestClient): submit, poll, download, cancel, page, batches,
idempotency, ownership, and every bad request answered with a 4xx JSON error."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the service tests need the [service] extra: pip install '.[service]'")
pytest.importorskip("standardwebhooks", reason="the service tests need the [service] extra: pip install '.[service]'")
pytest.importorskip("multipart", reason="the service tests need the [service] extra: pip install '.[service]'")

from starlette.testclient import TestClient  # noqa: E402

from service_helpers import ALICE, BOB, TOKENS, auth, wait_done  # noqa: E402
from visemes.formats import FORMATS  # noqa: E402
from visemes.pipeline.animator import animate  # noqa: E402
from visemes.service.app import create_app  # noqa: E402
from visemes.service.config import Limits, ServiceConfig, parse_clients  # noqa: E402

TEXT_JOB = {"text": "hello world", "lang": "en-US", "use_model": False}


def make_config(tmp_path: Path, **kw) -> ServiceConfig:
    return ServiceConfig(data_dir=tmp_path / "data", clients=parse_clients(TOKENS, "test"), poll_seconds=0.05, **kw)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """An app with its worker running (one local worker process, kept for the module)."""
    root = tmp_path_factory.mktemp("live")
    (root / "media").mkdir()
    config = make_config(root, allowed_root=root / "media",
                         limits=Limits(max_upload_bytes=2_000_000, max_audio_seconds=30, max_text_chars=500))
    with TestClient(create_app(config)) as client:
        client.config = config
        yield client


@pytest.fixture()
def idle(tmp_path):
    """An app whose worker does not run: jobs stay queued (for cancel, paging, recovery)."""
    config = make_config(tmp_path)
    with TestClient(create_app(config, background=False)) as client:
        client.config = config
        yield client


def test_health_and_openapi_cover_every_route(live):
    health = live.get("/v1/health").json()
    assert health["status"] == "ok" and health["journal_mode"] == "wal"
    doc = live.get("/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    routes = {r.path for r in live.app.routes if r.path.startswith("/v1")}
    assert routes == set(doc["paths"]), routes ^ set(doc["paths"])


def test_text_only_job_matches_the_library(live):
    r = live.post("/v1/jobs", json={**TEXT_JOB, "formats": "json,csv,textgrid", "plot": True}, headers=auth())
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"/v1/jobs/{r.json()['id']}"
    job = wait_done(live, r.json()["id"])
    assert job["state"] == "succeeded", job
    assert set(job["outputs"]) == {"json", "csv", "textgrid", "summary", "plot"}
    assert job["timings"]["run_seconds"] >= 0 and job["timings"]["queued_seconds"] >= 0
    assert job["qa_flags"] == [] and job["progress"] == 1.0

    doc = live.get(f"/v1/jobs/{job['id']}/outputs", headers=auth())  # the JSON document by default
    assert doc.status_code == 200 and doc.headers["content-type"].startswith("application/json")
    path = Path(live.config.data_dir) / "download.json"
    path.write_bytes(doc.content)
    served = FORMATS["json"].read(path)
    reference = animate(text="hello world", lang="en-US", use_model=False)
    assert [i.label for i in served.alignment.visemes] == [i.label for i in reference.visemes]
    assert served.animation.n_frames == reference.animation.n_frames == job["result"]["frames"]

    png = live.get(f"/v1/jobs/{job['id']}/outputs/plot", headers=auth())
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    csv = live.get(f"/v1/jobs/{job['id']}/outputs/csv", headers=auth()).text.strip().splitlines()
    assert len(csv) - 1 == reference.animation.n_frames
    missing = live.get(f"/v1/jobs/{job['id']}/outputs/moho", headers=auth())
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "no_such_output"


def test_upload_is_aligned_and_stored_under_a_server_named_folder(live, speech_wav):
    with open(speech_wav, "rb") as fh:
        r = live.post("/v1/jobs", data={"text": "hello world", "lang": "en-US", "use_model": "false",
                                        "formats": "json,rhubarb"},
                      files={"audio": ("../../../../evil name.wav", fh, "audio/wav")}, headers=auth())
    assert r.status_code == 201, r.text
    job = wait_done(live, r.json()["id"])
    assert job["state"] == "succeeded", job
    assert job["result"]["timing"] == "aligned" and job["request"]["audio"] == "upload"
    data = Path(live.config.data_dir)
    inputs = sorted(p.relative_to(data).as_posix() for p in data.rglob("*.wav"))
    assert f"jobs/{job['id']}/input/audio.wav" in inputs
    assert not any("evil" in p for p in inputs)
    tsv = live.get(f"/v1/jobs/{job['id']}/outputs/rhubarb-tsv", headers=auth())
    assert tsv.status_code == 200 and tsv.text.count("\n") >= 3


def _video(path: Path, wav: Path | None) -> bytes:
    """A tiny MP4 (black 32x32 frames) made by the bundled ffmpeg, with ``wav`` as its sound track."""
    import subprocess

    from visemes.core.media import find_ffmpeg

    exe = find_ffmpeg()
    if exe is None:
        pytest.skip("imageio-ffmpeg binary not installed")
    cmd = [exe, "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=black:s=32x32:r=25:d=1.5"]
    if wav is not None:
        cmd += ["-i", str(wav), "-map", "0:v", "-map", "1:a", "-c:a", "pcm_s16le"]
    subprocess.run([*cmd, "-c:v", "mpeg4", "-t", "1.5", str(path)], check=True, capture_output=True, timeout=120)
    return path.read_bytes()


def test_video_upload_gives_its_sound_track_and_a_silent_video_is_refused(live, speech_wav, tmp_path):
    # the upload's name says nothing (clip.bin): the container is known by its first bytes
    video = _video(tmp_path / "clip.mov", speech_wav)
    r = live.post("/v1/jobs", data={"text": "hello world", "lang": "en-US", "use_model": "false", "formats": "json"},
                  files={"audio": ("clip.bin", video, "application/octet-stream")}, headers=auth())
    assert r.status_code == 201, r.text
    job = wait_done(live, r.json()["id"])
    assert job["state"] == "succeeded", job
    assert job["result"]["timing"] == "aligned"
    data = Path(live.config.data_dir)
    assert (data / "jobs" / job["id"] / "input" / "audio.mp4").is_file()
    silent = _video(tmp_path / "silent.mov", None)
    response = live.post("/v1/jobs", data={"text": "hi", "lang": "en-US"}, files={"audio": ("s.mov", silent)},
                         headers=auth())
    _error(response, 422, "invalid_audio", "audio")
    assert "audio track" in response.json()["error"]["message"]
    assert str(tmp_path) not in response.json()["error"]["message"]


def test_server_path_inside_the_allowed_root(live, speech_wav):
    media = live.config.allowed_root
    (media / "clip.wav").write_bytes(speech_wav.read_bytes())
    r = live.post("/v1/jobs", json={**TEXT_JOB, "audio_path": "clip.wav"}, headers=auth())
    assert r.status_code == 201, r.text
    assert wait_done(live, r.json()["id"])["state"] == "succeeded"
    for bad in ("../outside.wav", str(speech_wav), "/etc/passwd"):
        r = live.post("/v1/jobs", json={**TEXT_JOB, "audio_path": bad}, headers=auth())
        assert r.status_code == 403 and r.json()["error"]["code"] == "path_not_allowed", (bad, r.text)


def test_idempotency_key_returns_the_same_job(live):
    key = {"Idempotency-Key": "retry-me-1", **auth()}
    first = live.post("/v1/jobs", json=TEXT_JOB, headers=key)
    again = live.post("/v1/jobs", json=TEXT_JOB, headers=key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    other = live.post("/v1/jobs", json={**TEXT_JOB, "text": "goodbye"}, headers=key)
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    # the key is per owner: bob's identical key makes bob's own job
    bobs = live.post("/v1/jobs", json=TEXT_JOB, headers={"Idempotency-Key": "retry-me-1", **auth(BOB)})
    assert bobs.status_code == 201 and bobs.json()["id"] != first.json()["id"]


def test_jobs_are_visible_only_to_their_owner(live):
    job_id = live.post("/v1/jobs", json=TEXT_JOB, headers=auth()).json()["id"]
    assert live.get(f"/v1/jobs/{job_id}", headers=auth(BOB)).status_code == 404
    assert live.delete(f"/v1/jobs/{job_id}", headers=auth(BOB)).status_code == 404
    assert live.get(f"/v1/jobs/{job_id}/outputs", headers=auth(BOB)).status_code == 404
    listed = {j["id"] for j in live.get("/v1/jobs?per_page=100", headers=auth(BOB)).json()["jobs"]}
    assert job_id not in listed
    wait_done(live, job_id)


def _error(response, status: int, code: str, field: str | None = None) -> None:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    err = response.json()["error"]
    assert err["code"] == code and err["message"], err
    if field is not None:
        assert err.get("field") == field, err


def test_bad_requests_get_a_4xx_json_error_naming_the_problem(live, speech_wav, tmp_path):
    c = live
    _error(c.post("/v1/jobs", json=TEXT_JOB), 401, "unauthorized")
    _error(c.post("/v1/jobs", json=TEXT_JOB, headers=auth("not-a-valid-token")), 401, "invalid_token")
    _error(c.get("/v1/jobs", headers={"authorization": "Basic abc"}), 401, "unauthorized")
    _error(c.post("/v1/jobs", content=b"hello", headers={**auth(), "content-type": "text/plain"}), 415,
           "unsupported_media_type")
    _error(c.post("/v1/jobs", content=b'{"text": ', headers={**auth(), "content-type": "application/json"}), 400,
           "malformed_json")
    _error(c.post("/v1/jobs", content=b'[1, 2]', headers={**auth(), "content-type": "application/json"}), 400,
           "malformed_json")
    _error(c.post("/v1/jobs", json={**TEXT_JOB, "lang": "xx-QQ"}, headers=auth()), 422, "unknown_language", "lang")
    _error(c.post("/v1/jobs", json={"text": "hi"}, headers=auth()), 422, "missing_field", "lang")
    _error(c.post("/v1/jobs", json={"lang": "en-US"}, headers=auth()), 422, "missing_field", "text")
    _error(c.post("/v1/jobs", json={**TEXT_JOB, "formats": "json,nope"}, headers=auth()), 422, "invalid_input", "formats")
    _error(c.post("/v1/jobs", json={**TEXT_JOB, "fps": "fast"}, headers=auth()), 422, "invalid_input", "fps")
    _error(c.post("/v1/jobs", json={**TEXT_JOB, "viseme_set": "klingon"}, headers=auth()), 422, "invalid_input",
           "viseme_set")
    _error(c.post("/v1/jobs", json={**TEXT_JOB, "colour": "red"}, headers=auth()), 422, "unknown_field", "colour")
    _error(c.post("/v1/jobs", json={**TEXT_JOB, "text": "la " * 400}, headers=auth()), 422, "text_too_long", "text")
    _error(c.post("/v1/jobs", json={**TEXT_JOB, "webhook_url": "http://127.0.0.1:9/x"}, headers=auth()), 422,
           "webhook_refused", "webhook_url")
    # uploads: not audio, too long, too large
    _error(c.post("/v1/jobs", data={"text": "hi", "lang": "en-US"}, files={"audio": ("a.wav", b"not audio")},
                  headers=auth()), 422, "invalid_audio", "audio")
    import numpy as np
    import soundfile as sf

    long_wav = tmp_path / "long.wav"
    sf.write(long_wav, np.zeros(16000 * 31, np.int16), 16000, subtype="PCM_16")  # 31 s > 30 s limit, 1 MB
    _error(c.post("/v1/jobs", data={"text": "hi", "lang": "en-US"}, files={"audio": ("a.wav", long_wav.read_bytes())},
                  headers=auth()), 422, "audio_too_long", "audio")
    big = tmp_path / "big.wav"
    sf.write(big, np.zeros(16000 * 25, np.int32), 16000, subtype="PCM_32")  # 1.6 MB ... under 2 MB
    huge = big.read_bytes() * 2  # 3.2 MB > 2 MB
    _error(c.post("/v1/jobs", data={"text": "hi", "lang": "en-US"}, files={"audio": ("a.wav", huge)}, headers=auth()),
           413, "upload_too_large")
    _error(c.post("/v1/jobs", data={"text": "hi", "lang": "en-US"}, files={"sound": ("a.wav", b"x")}, headers=auth()),
           422, "unknown_field", "sound")
    # routes and states
    _error(c.get("/v1/nothing-here", headers=auth()), 404, "not_found")
    _error(c.get("/v1/jobs/job_does_not_exist", headers=auth()), 404, "not_found")
    _error(c.get("/v1/jobs?state=done", headers=auth()), 422, "invalid_input", "state")
    _error(c.get("/v1/jobs?page=0", headers=auth()), 422, "invalid_input", "page")
    _error(c.put("/v1/jobs", headers=auth()), 405, "method_not_allowed")


def test_chunked_upload_over_the_limit_is_refused_while_read(live):
    """No Content-Length (a streamed body): the limit is enforced while the body is read."""
    def chunks():
        for _ in range(40):
            yield b"x" * 100_000  # 4 MB in all

    r = live.post("/v1/jobs", content=chunks(), headers={**auth(), "content-type": "multipart/form-data; boundary=zz"})
    _error(r, 413, "upload_too_large")


def test_cancel_paging_and_a_finished_job_is_never_run_again(idle):
    c = idle
    ids = [c.post("/v1/jobs", json=TEXT_JOB, headers=auth()).json()["id"] for _ in range(5)]
    pages, seen, page = [], [], 1
    while page is not None and len(pages) < 10:
        body = c.get(f"/v1/jobs?per_page=2&page={page}&state=queued", headers=auth()).json()
        pages.append(len(body["jobs"]))
        seen += [j["id"] for j in body["jobs"]]
        assert body["total"] == 5
        page = body["next_page"]
    assert pages == [2, 2, 1] and seen == ids[::-1]  # newest first, each once

    canceled = c.delete(f"/v1/jobs/{ids[0]}", headers=auth())
    assert canceled.status_code == 200 and canceled.json()["state"] == "canceled"
    _error(c.delete(f"/v1/jobs/{ids[0]}", headers=auth()), 409, "already_finished")
    assert [j["id"] for j in c.get("/v1/jobs?state=canceled", headers=auth()).json()["jobs"]] == [ids[0]]
    _error(c.get(f"/v1/jobs/{ids[0]}/outputs", headers=auth()), 409, "not_ready")

    store = c.app.state.service.store
    claimed = [store.claim(30.0) for _ in range(6)]
    assert [j.id for j in claimed if j] == ids[1:]  # oldest first, the canceled one never
    assert claimed[-1] is None
    assert store.finish(claimed[0], "succeeded", summary={"outputs": []})
    assert not store.finish(claimed[0], "failed", error="late")  # a second outcome is refused
    assert store.claim(30.0) is None
    assert store.get_job(None, claimed[0].id).state == "succeeded"


def test_recovery_requeues_then_fails_jobs_a_dead_server_left_running(idle):
    service = idle.app.state.service
    store, worker = service.store, service.worker
    job_id = idle.post("/v1/jobs", json=TEXT_JOB, headers=auth()).json()["id"]
    for attempt in (1, 2):
        job = store.claim(0.01)  # a lease that runs out at once: as if the server died
        assert job.id == job_id and job.attempts == attempt
        time.sleep(0.05)
        assert worker.recover() == 1
        view = idle.get(f"/v1/jobs/{job_id}", headers=auth()).json()
        if attempt < service.config.max_attempts:
            assert view["state"] == "queued" and "re-queued" in view["note"]
    assert view["state"] == "failed" and view["error"]["type"] == "Interrupted"
    assert "stopped while running this job, 2 times" in view["error"]["message"]


def test_batches_json_and_multipart(live, speech_wav):
    r = live.post("/v1/batches", json={"defaults": {"lang": "en-US", "use_model": False},
                                       "jobs": [{"text": "one"}, {"text": "two", "formats": "csv"}]}, headers=auth())
    assert r.status_code == 201, r.text
    batch_id = r.json()["id"]
    assert len(r.json()["jobs"]) == 2
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (b := live.get(f"/v1/batches/{batch_id}", headers=auth()).json())["done"]:
        time.sleep(0.05)
    assert b["state"] == "completed" and b["counts"]["succeeded"] == 2 and b["progress"] == 1.0
    assert live.get(f"/v1/batches/{batch_id}", headers=auth(BOB)).status_code == 404
    expanded = live.get(f"/v1/batches/{batch_id}?expand=jobs", headers=auth()).json()
    assert [j["request"]["formats"] for j in expanded["jobs"]] == [["json"], ["csv"]]

    manifest = {"defaults": {"lang": "en-US", "use_model": False},
                "jobs": [{"upload": "clip", "text": "hello world"}, {"text": "no audio"}]}
    with open(speech_wav, "rb") as fh:
        r = live.post("/v1/batches", data={"manifest": json.dumps(manifest)}, files={"clip": ("x.wav", fh)},
                      headers=auth())
    assert r.status_code == 201, r.text
    jobs = [wait_done(live, j) for j in r.json()["jobs"]]
    assert [j["state"] for j in jobs] == ["succeeded", "succeeded"]
    assert [j["result"]["timing"] for j in jobs] == ["aligned", "synthesized"]
    bad = live.post("/v1/batches", json={"jobs": [{"text": "a", "lang": "en-US"}, {"text": "b", "lang": "zz"}]},
                    headers=auth())
    _error(bad, 422, "unknown_language", "jobs[1].lang")
    _error(live.post("/v1/batches", json={"jobs": []}, headers=auth()), 422, "invalid_input", "jobs")


def test_the_same_batch_twice_without_a_key_is_two_batches(idle):
    body = {"defaults": {"lang": "en-US"}, "jobs": [{"text": "one"}]}
    first, second = (idle.post("/v1/batches", json=body, headers=auth()) for _ in range(2))
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] != second.json()["id"] and "idempotent-replayed" not in second.headers
    keyed = [idle.post("/v1/batches", json=body, headers={**auth(), "Idempotency-Key": "b-1"}) for _ in range(2)]
    assert [r.status_code for r in keyed] == [201, 200] and keyed[0].json()["id"] == keyed[1].json()["id"]


def test_me_shows_the_owner_and_a_stable_webhook_secret(tmp_path):
    config = make_config(tmp_path)
    with TestClient(create_app(config, background=False)) as c:
        me = c.get("/v1/me", headers=auth()).json()
    with TestClient(create_app(config, background=False)) as c:  # a restart keeps the secret
        again = c.get("/v1/me", headers=auth()).json()
    assert me["owner"] == "alice" and me["webhook_secret"].startswith("whsec_")
    assert again["webhook_secret"] == me["webhook_secret"]
    # tokens are stored hashed: the database file never holds a token
    raw = config.db_path.read_bytes() + b"".join(p.read_bytes() for p in config.data_dir.glob("*-wal"))
    assert ALICE.encode() not in raw and BOB.encode() not in raw


def test_web_page_is_served(live):
    page = live.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert '<label for="audio"' in page.text and "app.js" in page.text
    assert live.get("/app.js").status_code == 200


def test_web_page_sends_only_fields_the_api_takes():
    """The page's script builds the multipart form by hand: every field it sends must be one the API takes."""
    import re

    from visemes.service.submit import FIELDS

    script = (Path(__file__).resolve().parents[2] / "visemes" / "service" / "static" / "app.js").read_text()
    sent = set(re.findall(r'form\.append\("([a-z_]+)"', script))
    sent |= set(re.findall(r'\["([a-z_", ]+)"\]\) form\.append', script)[0].replace('"', "").replace(" ", "").split(","))
    assert sent and sent <= set(FIELDS) | {"audio"}, sent - set(FIELDS)
    assert {"audio", "text", "lang", "formats"} <= sent


def test_a_run_whose_job_was_canceled_meanwhile_is_discarded(idle):
    from visemes.service.execution import RunOutcome

    service = idle.app.state.service
    job_id = idle.post("/v1/jobs", json=TEXT_JOB, headers=auth()).json()["id"]
    job = service.store.claim(30.0)
    out = Path(job.spec["job_dir"]) / f"out-{job.run_id}"
    out.mkdir()
    (out / "visemes.json").write_text("{}")
    assert idle.delete(f"/v1/jobs/{job_id}", headers=auth()).json()["state"] == "canceled"
    service.worker._record(job, RunOutcome(True, out.name, {"outputs": ["visemes.json"]}))
    view = idle.get(f"/v1/jobs/{job_id}", headers=auth()).json()
    assert view["state"] == "canceled" and view["outputs"] == {}
    assert not out.exists()


def test_two_servers_on_one_database_never_claim_the_same_job(idle):
    """Claims are one guarded UPDATE: threads with their own connections (as separate API processes
    would have) split the queue without a duplicate."""
    import threading

    from visemes.service.store import NewJob, Store

    path = idle.config.db_path
    first = Store(path)
    for n in range(60):
        first.add_job("alice", NewJob(f"job_{n:03d}", {"job_dir": "/nonexistent", "lang": "en-US"}))
    claimed: list[list[str]] = [[] for _ in range(4)]

    def drain(slot: int) -> None:
        store = Store(path)
        for _ in range(100):  # bounded: 60 jobs in all
            job = store.claim(30.0)
            if job is None:
                return
            claimed[slot].append(job.id)

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    every = [j for c in claimed for j in c]
    assert sorted(every) == [f"job_{n:03d}" for n in range(60)]  # each exactly once


ODD_VALUES = [None, 0, 5, -1.5, True, False, "", "x", "../../etc/passwd", [], [1], {}, {"a": 1}, "é" * 3, 1e308]


def test_no_field_value_of_any_type_makes_a_500(idle):
    """Every job field, batch field and query parameter, given values of every JSON type: a 2xx or a
    4xx with a JSON error, never a server error."""
    from visemes.service.submit import FIELDS

    c = idle
    for field in FIELDS:
        for value in ODD_VALUES:
            r = c.post("/v1/jobs", json={**TEXT_JOB, field: value}, headers=auth())
            assert r.status_code < 500, (field, value, r.text)
            assert r.status_code in (200, 201) or "error" in r.json(), (field, value, r.text)
            r = c.post("/v1/jobs", data={**{k: str(v) for k, v in TEXT_JOB.items()}, field: str(value)}, headers=auth())
            assert r.status_code < 500, (field, value, r.text)
    for value in ODD_VALUES:
        for body in ({"jobs": value}, {"jobs": [value]}, {"jobs": [{**TEXT_JOB, "upload": value}]},
                     {"jobs": [TEXT_JOB], "defaults": value}, {"jobs": [TEXT_JOB], "webhook_url": value}):
            r = c.post("/v1/batches", json=body, headers=auth())
            assert r.status_code < 500, (body, r.text)
        for query in ("state", "page", "per_page"):
            r = c.get("/v1/jobs", params={query: str(value)}, headers=auth())
            assert r.status_code < 500, (query, value, r.text)
        if str(value).isascii():  # a header value is ASCII on the wire
            r = c.post("/v1/jobs", json=TEXT_JOB, headers={**auth(), "Idempotency-Key": str(value) or "k"})
            assert r.status_code < 500, (value, r.text)


def test_given_timings_instead_of_a_transcript(live, tmp_path):
    """A job's TextGrid and JSON outputs, uploaded back as timings, give the same visemes (round trip)."""
    first = wait_done(live, live.post("/v1/jobs", json={**TEXT_JOB, "formats": "json,textgrid"}, headers=auth())
                      .json()["id"])
    grid = live.get(f"/v1/jobs/{first['id']}/outputs/textgrid", headers=auth()).content
    doc = live.get(f"/v1/jobs/{first['id']}/outputs/json", headers=auth()).content
    reference = (tmp_path / "first.json")
    reference.write_bytes(doc)
    expected = [i.label for i in FORMATS["json"].read(reference).alignment.visemes]
    for upload, data in (("t.TextGrid", {"lang": "en-US", "use_model": "false"}), ("t.json", {"use_model": "false"})):
        body = grid if upload.endswith("TextGrid") else doc  # the JSON document names its language
        r = live.post("/v1/jobs", data=data, files={"timings": (upload, body)}, headers=auth())
        assert r.status_code == 201, r.text
        job = wait_done(live, r.json()["id"])
        assert job["state"] == "succeeded" and job["result"]["timing"] == "given" and job["request"]["timings"], job
        out = tmp_path / f"again-{upload}.json"
        out.write_bytes(live.get(f"/v1/jobs/{job['id']}/outputs", headers=auth()).content)
        assert [i.label for i in FORMATS["json"].read(out).alignment.visemes] == expected
    _error(live.post("/v1/jobs", data={"lang": "en-US"}, files={"timings": ("t.txt", b"just words")}, headers=auth()),
           422, "invalid_timings", "timings")
    _error(live.post("/v1/jobs", data={"lang": "en-US", "text": "hi"}, files={"timings": ("t.TextGrid", grid)},
                     headers=auth()), 422, "invalid_input", "text")
    _error(live.post("/v1/jobs", data={}, files={"timings": ("t.TextGrid", grid)}, headers=auth()), 422,
           "missing_field", "lang")
