"""Jobs through the corpus runner of ``animate-corpus``: a batch is aligned with pooled adaptation and gives
byte-identical outputs to ``animate-corpus`` on the same files; per-stage timings; model/adapter options
checked at submit and used; job retention with an injected clock."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the service tests need the [service] extra: pip install '.[service]'")
pytest.importorskip("standardwebhooks", reason="the service tests need the [service] extra: pip install '.[service]'")
pytest.importorskip("multipart", reason="the service tests need the [service] extra: pip install '.[service]'")

from service_helpers import TOKENS, auth, wait_done  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from visemes.formats import FORMATS  # noqa: E402
from visemes.pipeline.animator import animate  # noqa: E402
from visemes.pipeline.jobs import AnimateOptions, animate_corpus  # noqa: E402
from visemes.service.app import create_app  # noqa: E402
from visemes.service.config import ServiceConfig, parse_clients  # noqa: E402

SENTENCES = ["hello world, how are you", "good morning to you all", "thank you very much indeed"]
WEIGHTS = Path(__file__).resolve().parents[2] / "models" / "weights" / "base.safetensors"


def wait_batch(client, batch_id: str, timeout: float = 240.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = client.get(f"/v1/batches/{batch_id}?expand=jobs", headers=auth()).json()
        if batch["done"]:
            return batch
        time.sleep(0.1)
    raise AssertionError(f"batch {batch_id} not done after {timeout} s")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Three spoken clips (espeak-ng) with their transcripts: a corpus as animate-corpus reads it."""
    import soundfile as sf

    folder = tmp_path_factory.mktemp("media") / "corpus"
    folder.mkdir()
    for i, text in enumerate(SENTENCES):
        spoken = animate(text=text, lang="en-US", use_model=False)
        sf.write(folder / f"clip{i}.wav", spoken.audio, spoken.sample_rate, subtype="PCM_16")
        (folder / f"clip{i}.txt").write_text(text + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def live(corpus, tmp_path_factory):
    root = tmp_path_factory.mktemp("svc")
    # two slots: a batch's corpus run gets a pool of two processes, as animate-corpus --jobs 2
    config = ServiceConfig(data_dir=root / "data", clients=parse_clients(TOKENS, "test"), poll_seconds=0.05,
                           allowed_root=corpus.parent, workers=2)
    with TestClient(create_app(config)) as client:
        client.config = config
        yield client


@pytest.mark.slow
def test_a_batch_gives_exactly_what_animate_corpus_gives(live, corpus, tmp_path):
    reference = tmp_path / "cli-out"
    report = animate_corpus(corpus, reference, AnimateOptions(lang="en-US", formats=("json", "csv")), jobs=2)
    assert report.ok and len(report.done) == 3
    assert any("Adapted on 3 files" in n for n in report.notes), report.notes  # pooled, not per file

    wavs = sorted(corpus.glob("*.wav"))
    manifest = {"defaults": {"lang": "en-US", "formats": "json,csv"},
                "jobs": [{"audio_path": f"corpus/{w.name}", "text": w.with_suffix(".txt").read_text().strip(),
                          "name": w.stem} for w in wavs]}
    r = live.post("/v1/batches", json=manifest, headers=auth())
    assert r.status_code == 201, r.text
    batch = wait_batch(live, r.json()["id"])
    assert batch["counts"]["succeeded"] == 3, batch
    assert batch["timings"]["queued_seconds"] >= 0 and batch["timings"]["run_seconds"] > 0
    for wav, job in zip(wavs, batch["jobs"]):
        t = job["timings"]
        # one corpus run for the three: shared prepare/adapt stages, each file's own seconds
        assert t["group_jobs"] == 3 and t["group_processes"] == 2, t
        assert t["prepare_seconds"] > 0 and t["adapt_seconds"] > 0, t
        assert 0 < t["file_seconds"] <= t["group_seconds"] <= t["run_seconds"] + 0.5, t
        assert job["result"]["timing"] == "aligned"
        for fmt in ("json", "csv"):
            served = live.get(f"/v1/jobs/{job['id']}/outputs/{fmt}", headers=auth())
            assert served.status_code == 200
            cli = (reference / wav.stem / f"visemes{FORMATS[fmt].suffix}").read_bytes()
            assert served.content == cli, (wav.name, fmt)
    # and pooling is what made them: the same file alone is aligned differently
    one = tmp_path / "one"
    one.mkdir()
    for suffix in (".wav", ".txt"):
        shutil.copy(corpus / f"clip1{suffix}", one / f"clip1{suffix}")
    animate_corpus(one, tmp_path / "one-out", AnimateOptions(lang="en-US", formats=("json",)), jobs=1)
    alone = (tmp_path / "one-out" / "clip1" / "visemes.json").read_bytes()
    assert alone != live.get(f"/v1/jobs/{batch['jobs'][1]['id']}/outputs/json", headers=auth()).content


@pytest.mark.slow
def test_a_single_job_is_a_one_file_corpus(live, corpus, tmp_path):
    one = tmp_path / "one"
    one.mkdir()
    for suffix in (".wav", ".txt"):
        shutil.copy(corpus / f"clip1{suffix}", one / f"clip1{suffix}")
    report = animate_corpus(one, tmp_path / "out", AnimateOptions(lang="en-US", formats=("json",)), jobs=1)
    assert report.ok
    r = live.post("/v1/jobs", json={"audio_path": "corpus/clip1.wav", "text": SENTENCES[1], "lang": "en-US",
                                    "name": "clip1"}, headers=auth())
    job = wait_done(live, r.json()["id"], timeout=240)
    assert job["state"] == "succeeded" and job["timings"]["group_jobs"] == 1, job
    assert job["timings"]["group_processes"] == 1
    served = live.get(f"/v1/jobs/{job['id']}/outputs", headers=auth()).content
    assert served == (tmp_path / "out" / "clip1" / "visemes.json").read_bytes()


def _error(response, status: int, code: str, field: str) -> None:
    assert response.status_code == status, (response.status_code, response.text)
    err = response.json()["error"]
    assert err["code"] == code and err.get("field") == field and err["message"], err


def _adapter(folder: Path, fingerprint: str, base_arrays: dict) -> Path:
    """A small, non-zero LoRA adapter on one attention layer (so its curves differ from the base's)."""
    from visemes.models.config import LoRAConfig
    from visemes.models.lora import Adapter

    d_in, d_out = base_arrays["layers.0.attn.q.kernel"].shape
    rng = np.random.default_rng(0)
    arrays = {"layers.0.attn.q.lora_a": rng.normal(0, 0.5, (d_in, 4)).astype(np.float32),
              "layers.0.attn.q.lora_b": rng.normal(0, 0.5, (4, d_out)).astype(np.float32)}
    return Adapter("test-style", arrays, LoRAConfig(), fingerprint).save(folder / "style.safetensors")


@pytest.mark.slow
@pytest.mark.skipif(not WEIGHTS.is_file(), reason="needs the shipped weights (models/weights/base.safetensors)")
def test_model_and_adapter_are_checked_at_submit_and_used(live, corpus, tmp_path):
    from visemes import models

    media = corpus.parent
    weights = media / "weights"
    weights.mkdir(exist_ok=True)
    for suffix in (".safetensors", ".json"):
        shutil.copy(WEIGHTS.with_suffix(suffix), weights / f"mine{suffix}")
    base = models.load(weights / "mine.safetensors")
    adapter = _adapter(weights, base.fingerprint, base.base_arrays)
    job = {"audio_path": "corpus/clip0.wav", "text": SENTENCES[0], "lang": "en-US", "name": "clip0"}

    # refused at submit, each with the field and the reason
    outside = tmp_path / "elsewhere.safetensors"
    outside.write_bytes(WEIGHTS.read_bytes())
    _error(live.post("/v1/jobs", json={**job, "model": str(outside)}, headers=auth()), 403, "path_not_allowed", "model")
    _error(live.post("/v1/jobs", json={**job, "adapter": "../../etc/passwd"}, headers=auth()), 403, "path_not_allowed",
           "adapter")
    _error(live.post("/v1/jobs", json={**job, "model": "weights/none.safetensors"}, headers=auth()), 422,
           "invalid_model", "model")
    (weights / "junk.safetensors").write_bytes(b"not a model at all")
    _error(live.post("/v1/jobs", json={**job, "model": "weights/junk.safetensors"}, headers=auth()), 422,
           "invalid_model", "model")
    _error(live.post("/v1/jobs", json={**job, "model": "corpus/clip0.wav"}, headers=auth()), 422, "invalid_model",
           "model")
    _error(live.post("/v1/jobs", json={**job, "adapter": "weights/mine.safetensors"}, headers=auth()), 422,
           "invalid_model", "adapter")  # a model is not an adapter
    from visemes.models.config import LoRAConfig
    from visemes.models.lora import Adapter

    forged = Adapter("other", {"x.lora_a": np.zeros((2, 2), np.float32)}, LoRAConfig(), "0123456789abcdef").save(
        weights / "other.safetensors")
    r = live.post("/v1/jobs", json={**job, "adapter": f"weights/{forged.name}"}, headers=auth())
    _error(r, 422, "invalid_model", "adapter")
    assert "fine-tune" in r.json()["error"]["message"]
    _error(live.post("/v1/jobs", json={**job, "adapter": "weights/style.safetensors", "use_model": False},
                     headers=auth()), 422, "invalid_input", "adapter")
    batch = live.post("/v1/batches", json={"defaults": {"lang": "en-US"}, "jobs": [
        {**job, "model": "weights/mine.safetensors"}, {**job, "model": "weights/junk.safetensors"}]}, headers=auth())
    _error(batch, 422, "invalid_model", "jobs[1].model")

    # accepted and used: the same curves as the library with that model and adapter
    r = live.post("/v1/jobs", json={**job, "model": "weights/mine.safetensors", "adapter": "weights/style.safetensors",
                                    "formats": "csv"}, headers=auth())
    assert r.status_code == 201, r.text
    assert r.json()["request"]["model"] == "mine.safetensors" and r.json()["request"]["adapter"] == "style.safetensors"
    done = wait_done(live, r.json()["id"], timeout=300)
    assert done["state"] == "succeeded", done
    assert done["result"]["curves"].startswith("model"), done["result"]
    served = live.get(f"/v1/jobs/{done['id']}/outputs/csv", headers=auth()).content
    reference = tmp_path / "ref"
    report = animate_corpus(corpus, reference, AnimateOptions(lang="en-US", formats=("csv",), use_model=True,
                                                              model=str(weights / "mine.safetensors"),
                                                              adapter=str(adapter)), jobs=1)
    assert report.ok
    # one file alone is adapted on itself, so compare with a one-file corpus of it
    one = tmp_path / "one"
    one.mkdir()
    for suffix in (".wav", ".txt"):
        shutil.copy(corpus / f"clip0{suffix}", one / f"clip0{suffix}")
    animate_corpus(one, tmp_path / "one-out", AnimateOptions(lang="en-US", formats=("csv",), use_model=True,
                                                             model=str(weights / "mine.safetensors"),
                                                             adapter=str(adapter)), jobs=1)
    assert served == (tmp_path / "one-out" / "clip0" / "visemes.csv").read_bytes()
    plain = animate_corpus(one, tmp_path / "plain-out", AnimateOptions(lang="en-US", formats=("csv",), use_model=True,
                                                                       model=str(weights / "mine.safetensors")),
                           jobs=1)
    assert plain.ok and served != (tmp_path / "plain-out" / "clip0" / "visemes.csv").read_bytes()  # the adapter counts


def test_retention_deletes_files_keeps_the_record(tmp_path):
    now = [time.time()]
    config = ServiceConfig(data_dir=tmp_path / "data", clients=parse_clients(TOKENS, "test"), poll_seconds=0.05,
                           retention_seconds=3600.0)
    with TestClient(create_app(config, background=False)) as c:
        service = c.app.state.service
        service.worker.clock = lambda: now[0]  # the injected clock
        ids = [c.post("/v1/jobs", json={"text": t, "lang": "en-US"}, headers=auth()).json()["id"] for t in ("a b", "c d")]
        queued = c.post("/v1/jobs", json={"text": "e f", "lang": "en-US"}, headers=auth()).json()["id"]
        for _ in ids:
            job = service.store.claim(30.0)
            out = Path(job.spec["job_dir"]) / f"out-{job.run_id}"
            out.mkdir()
            (out / "visemes.json").write_text("{}")
            assert service.store.finish(job, "succeeded", summary={"outputs": ["visemes.json"]}, output_dir=out.name)
        assert c.get(f"/v1/jobs/{ids[0]}/outputs", headers=auth()).status_code == 200
        now[0] += 3599.0  # not yet
        assert service.worker.sweep() == 0
        assert all((config.jobs_dir / i).is_dir() for i in ids)
        now[0] += 2.0  # past the retention period
        assert service.worker.sweep() == 2 and service.worker.sweep() == 0
        for job_id in ids:
            assert not (config.jobs_dir / job_id).exists()
            view = c.get(f"/v1/jobs/{job_id}", headers=auth()).json()
            assert view["state"] == "succeeded" and view["expired_at"] and view["outputs"] == {}
            r = c.get(f"/v1/jobs/{job_id}/outputs", headers=auth())
            assert r.status_code == 410 and r.json()["error"]["code"] == "expired"
        # a queued job is not finished: it keeps its folder whatever the clock says
        assert (config.jobs_dir / queued).is_dir()
        assert c.get(f"/v1/jobs/{queued}", headers=auth()).json()["expired_at"] is None


def test_without_retention_nothing_is_deleted(tmp_path):
    config = ServiceConfig(data_dir=tmp_path / "data", clients=parse_clients(TOKENS, "test"))
    with TestClient(create_app(config, background=False)) as c:
        service = c.app.state.service
        service.worker.clock = lambda: time.time() + 10 * 365 * 86400
        job_id = c.post("/v1/jobs", json={"text": "a b", "lang": "en-US"}, headers=auth()).json()["id"]
        service.store.finish(service.store.claim(30.0), "failed", error="x")
        assert service.worker.sweep() == 0 and (config.jobs_dir / job_id).is_dir()


@pytest.mark.slow
def test_a_multipart_batch_with_timings_uploads(live, corpus, tmp_path):
    """Audio and given timings uploaded per job (jobs[i].upload, jobs[i].timings_upload): animated on those
    timings, as animate-corpus animates NAME.wav beside NAME.TextGrid."""
    import json

    given = tmp_path / "given"
    given.mkdir()
    for i in (0, 2):
        aligned = animate(corpus / f"clip{i}.wav", text=SENTENCES[i], lang="en-US")
        aligned.save(given, ["textgrid"], stem=f"clip{i}", summary=False)
        shutil.copy(corpus / f"clip{i}.wav", given / f"clip{i}.wav")
    reference = tmp_path / "ref"
    assert animate_corpus(given, reference, AnimateOptions(lang="en-US", formats=("json",)), jobs=1).ok
    manifest = {"defaults": {"lang": "en-US"},
                "jobs": [{"upload": f"a{i}", "timings_upload": f"t{i}", "name": f"clip{i}"} for i in (0, 2)]}
    files = {}
    for i in (0, 2):
        files[f"a{i}"] = (f"clip{i}.wav", (given / f"clip{i}.wav").read_bytes())
        files[f"t{i}"] = (f"clip{i}.TextGrid", (given / f"clip{i}.TextGrid").read_bytes())
    r = live.post("/v1/batches", data={"manifest": json.dumps(manifest)}, files=files, headers=auth())
    assert r.status_code == 201, r.text
    batch = wait_batch(live, r.json()["id"])
    assert batch["counts"]["succeeded"] == 2, batch
    for i, job in zip((0, 2), batch["jobs"]):
        assert job["result"]["timing"] == "given" and job["request"]["timings"], job
        assert job["timings"]["group_jobs"] == 2
        served = live.get(f"/v1/jobs/{job['id']}/outputs", headers=auth()).content
        assert served == (reference / f"clip{i}" / "visemes.json").read_bytes()
    both = {"jobs": [{"upload": "a0", "timings_upload": "t0"}, {"upload": "a2", "timings_upload": "t0"}],
            "defaults": {"lang": "en-US"}}
    _error(live.post("/v1/batches", data={"manifest": json.dumps(both)}, files=files, headers=auth()), 422,
           "duplicate_field", "t0")
    _error(live.post("/v1/batches", data={"manifest": json.dumps({"jobs": [{"upload": "a0", "timings_upload": "zz",
                                                                              "lang": "en-US"}]})},
                     files={"a0": files["a0"]}, headers=auth()), 422, "missing_upload", "jobs[0].timings_upload")


def test_a_server_file_removed_after_submit_fails_only_its_job(corpus, tmp_path):
    """In a group, a job whose server-side audio is gone fails with the reason; the others run."""
    from visemes.service.jobspec import JobSpec
    from visemes.service.pooled import run_pooled

    gone = tmp_path / "gone.wav"
    shutil.copy(corpus / "clip0.wav", gone)
    specs = [JobSpec(job_dir=str(tmp_path / f"job{i}"), lang="en-US", audio=str(audio), text=SENTENCES[0], name="clip0")
             for i, audio in enumerate((gone, corpus / "clip0.wav"))]
    for spec in specs:
        Path(spec.job_dir).mkdir()
    gone.unlink()
    lost, ok = run_pooled(specs, ["r0", "r1"])
    assert not lost.ok and lost.error_type == "AudioError" and "gone.wav" in lost.error
    assert ok.ok and (tmp_path / "job1" / "out-r1" / "visemes.json").is_file() and ok.timings["group_jobs"] == 2
    assert not list(tmp_path.glob("job0/*")) and not list(tmp_path.glob("job*/.corpus-*"))
    assert [o.error_type for o in run_pooled(specs[:1], ["r2"])] == ["AudioError"]  # alone: no corpus run at all
