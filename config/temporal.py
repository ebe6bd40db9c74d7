"""Connecting to Temporal the same way everywhere (pydantic payloads, optional TLS, mTLS
with a client certificate, or an API key)."""

from __future__ import annotations

from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import TLSConfig
from temporalio.worker import UnsandboxedWorkflowRunner, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from config import queues
from config.codec import with_codec
from config.sealing import sealer
from config.settings import Settings


def tls_config(settings: Settings) -> TLSConfig | bool:
    """mTLS when a client certificate is configured (a self-hosted cluster that asks for
    one), plain TLS for Temporal Cloud with an API key or `ORDO_TEMPORAL_TLS`, else none."""
    if settings.temporal_tls_cert and settings.temporal_tls_key:
        return TLSConfig(
            client_cert=Path(settings.temporal_tls_cert).read_bytes(),
            client_private_key=Path(settings.temporal_tls_key).read_bytes(),
            server_root_ca_cert=(Path(settings.temporal_tls_ca).read_bytes()
                                 if settings.temporal_tls_ca else None),
        )
    return settings.temporal_tls or bool(settings.temporal_api_key)


def data_converter(settings: Settings) -> DataConverter:
    """Pydantic payloads, encrypted unless `ORDO_PAYLOAD_ENCRYPTION=false` (the benchmark's
    comparison); every process of one stack shares the keys under var/keys/codec-*.key."""
    keys = sealer(settings.var_dir, "codec") if settings.payload_encryption else None
    return with_codec(pydantic_data_converter, keys)


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        api_key=settings.temporal_api_key or None,
        tls=tls_config(settings),
        runtime=runtime,
    )


def metrics_port(settings: Settings, queue_names: list[str]) -> int | None:
    """The port a worker of these queues serves its metrics on (a worker of every queue
    takes the first)."""
    if not settings.worker_metrics_ports:
        return None
    index = queues.ALL.index(queue_names[0]) if len(queue_names) == 1 else 0
    return settings.worker_metrics_ports[index] if index < len(settings.worker_metrics_ports) else None


def worker_runtime(port: int | None) -> Runtime | None:
    """A runtime exporting the SDK's metrics (and Ordo's own, recorded through the activity
    metric meter) for Prometheus on loopback: reachable only through the API's /metrics."""
    if port is None:
        return None
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(
        bind_address=f"127.0.0.1:{port}", durations_as_seconds=True)))


def workflow_runner(settings: Settings) -> WorkflowRunner:
    """How the orders worker runs workflow code (`ORDO_WORKFLOW_SANDBOX`). The strict sandbox
    re-imports and recompiles every non-passed-through module for each new workflow run: a
    sixth of the orders worker's time under load (issue 16). Ordo's workflows import only
    deterministic modules, and the tests run them in the strict sandbox, so production may
    skip that work."""
    if settings.workflow_sandbox == "off":
        return UnsandboxedWorkflowRunner()
    if settings.workflow_sandbox == "passthrough":
        passthrough = SandboxRestrictions.default.with_passthrough_all_modules()
        return SandboxedWorkflowRunner(restrictions=passthrough)
    return SandboxedWorkflowRunner()
