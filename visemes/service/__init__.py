"""``visemes serve``: an HTTP job service for dubbing pipelines (the optional ``[service]`` extra).

Layout (each module one job):

* :mod:`~visemes.service.config`: what the operator sets (limits, tokens, webhook allow-list); stdlib only.
* :mod:`~visemes.service.store`: jobs, batches and the webhook outbox in one SQLite file (WAL); stdlib only.
* :mod:`~visemes.service.execution`: the one place that runs a job (``JobRunner``: a local process pool
  around the pipeline's per-file function); swap it to run jobs elsewhere.
* :mod:`~visemes.service.worker`: claims queued jobs, keeps their leases, records outcomes, recovers
  jobs a killed server left running.
* :mod:`~visemes.service.webhooks`: Standard Webhooks signing, the URL policy, the outbox dispatcher.
* :mod:`~visemes.service.submit`: turns a request's fields into a validated job (limits, uploads, paths).
* :mod:`~visemes.service.app`: the Starlette application (``/v1`` API, OpenAPI document, web page).

Nothing in the core library imports this package; only ``visemes.cli.serve`` does, lazily.
"""
