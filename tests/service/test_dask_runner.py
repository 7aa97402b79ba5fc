"""Jobs on a Dask cluster (`visemes serve --cluster`): the same run function, another runner."""

from __future__ import annotations

import pytest

pytest.importorskip("starlette", reason="the service tests need the [service] extra: pip install '.[service]'")
distributed = pytest.importorskip("dask.distributed", reason="needs the [cluster] extra: pip install '.[cluster]'")

from service_helpers import TOKENS, auth, wait_done  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from visemes.core.errors import BackendUnavailableError  # noqa: E402
from visemes.service.app import create_app  # noqa: E402
from visemes.service.config import ServiceConfig, parse_clients  # noqa: E402
from visemes.service.execution import DaskRunner  # noqa: E402


@pytest.mark.slow
def test_jobs_run_on_a_dask_cluster(tmp_path):
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        runner = DaskRunner(cluster.scheduler_address)
        assert runner.capacity == 1
        config = ServiceConfig(data_dir=tmp_path / "data", clients=parse_clients(TOKENS, "t"), poll_seconds=0.05)
        with TestClient(create_app(config, runner=runner)) as c:
            ids = [c.post("/v1/jobs", json={"text": t, "lang": "en-US", "use_model": False, "formats": "json,csv"},
                          headers=auth()).json()["id"] for t in ("hello world", "good morning")]
            jobs = [wait_done(c, i) for i in ids]
    assert [j["state"] for j in jobs] == ["succeeded", "succeeded"], jobs
    assert all(set(j["outputs"]) == {"json", "csv", "summary"} for j in jobs)


def test_an_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(BackendUnavailableError, match="Dask scheduler"):
        DaskRunner("tcp://127.0.0.1:9", capacity=1, connect_timeout=2)
