"""Connecting to Temporal the same way everywhere (pydantic payloads, optional TLS/API key)."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from config.settings import Settings


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        api_key=settings.temporal_api_key or None,
        tls=settings.temporal_tls or bool(settings.temporal_api_key),
    )
