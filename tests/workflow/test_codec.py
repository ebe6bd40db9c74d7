"""Payloads to Temporal encrypted by Ordo's codec, on a real (time-skipping) server: the
history holds ciphertext naming its key, a history written under key 1 still decodes after
key 2 becomes current, and new payloads use key 2. The codec server decodes the same bytes
for a caller with `pii:read`."""

from __future__ import annotations

import uuid
from pathlib import Path

from pydantic import BaseModel
from temporalio import workflow
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from config.codec import ENCODING, KEY_ID, with_codec
from config.sealing import rotate, sealer
from tests.harness import binary

SECRET_TEXT = "一箱可口可乐 for order 42"


class Note(BaseModel):
    text: str


@workflow.defn
class EchoWorkflow:
    @workflow.run
    async def run(self, note: Note) -> Note:
        return Note(text=note.text + " (seen)")


async def test_a_history_encrypted_under_an_old_key_decodes_after_rotation(tmp_path: Path) -> None:
    first = with_codec(pydantic_data_converter, sealer(tmp_path, "codec"))
    async with await WorkflowEnvironment.start_time_skipping(
            data_converter=first, test_server_existing_path=binary("temporal-test-server")) as env:
        # unsandboxed: this module imports the codec's C libraries, and the workflow is trivial
        async with Worker(env.client, task_queue="codec", workflows=[EchoWorkflow],
                          workflow_runner=UnsandboxedWorkflowRunner()):
            old = await env.client.start_workflow(EchoWorkflow.run, Note(text=SECRET_TEXT),
                                                  id=f"echo-{uuid.uuid4().hex[:6]}", task_queue="codec")
            assert (await old.result()).text == SECRET_TEXT + " (seen)"
            history = await old.fetch_history()
            raw = b"".join(e.SerializeToString() for e in history.events)
            assert SECRET_TEXT.encode() not in raw and ENCODING in raw and b"codec-1" in raw

            rotate(tmp_path, "codec")
            second = with_codec(pydantic_data_converter, sealer(tmp_path, "codec"))
            rotated = Client(env.client.service_client, namespace=env.client.namespace, data_converter=second)
            again = rotated.get_workflow_handle(old.id, result_type=Note)
            assert (await again.result()).text == SECRET_TEXT + " (seen)"
            plain = Client(env.client.service_client, namespace=env.client.namespace,
                           data_converter=pydantic_data_converter)
            started = await plain.get_workflow_handle(old.id).fetch_history()
            first_input = started.events[0].workflow_execution_started_event_attributes.input.payloads[0]
            assert first_input.metadata[KEY_ID] == b"codec-1"

        async with Worker(rotated, task_queue="codec2", workflows=[EchoWorkflow],
                          workflow_runner=UnsandboxedWorkflowRunner()):
            new = await rotated.start_workflow(EchoWorkflow.run, Note(text="after"),
                                               id=f"echo-{uuid.uuid4().hex[:6]}", task_queue="codec2")
            assert (await new.result()).text == "after (seen)"
            events = (await new.fetch_history()).events
            assert events[0].workflow_execution_started_event_attributes.input.payloads[0].metadata[KEY_ID] \
                == b"codec-2"
