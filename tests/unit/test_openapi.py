"""The OpenAPI document generated clients and validators are built from: valid, and every
`$ref` in it resolves (the raw-body routes used to point at schemas that were not there)."""

from __future__ import annotations

from typing import Any

from openapi_spec_validator import validate

from api.app import create_app


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [r for k, v in node.items() if k != "$ref"
                                                               for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def test_the_document_is_valid_and_every_reference_resolves() -> None:
    doc = create_app().openapi()
    validate(doc)  # type: ignore[arg-type]
    dangling = sorted({r for r in _refs(doc) if _resolve(doc, r) is None})
    assert dangling == []


def test_the_order_and_return_bodies_are_described_by_their_models() -> None:
    doc = create_app().openapi()
    body = doc["paths"]["/v1/orders"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    order = _resolve(doc, body["$ref"])
    wanted = {"channel", "external_id", "customer", "lines", "shipping_address", "total"}
    assert wanted <= set(order["properties"])
    line = _resolve(doc, order["properties"]["lines"]["items"]["$ref"])
    assert {"sku", "quantity", "unit_price"} <= set(line["properties"])
    returns = doc["paths"]["/v1/orders/{order_id}/returns"]["post"]["requestBody"]["content"]
    assert "lines" in _resolve(doc, returns["application/json"]["schema"]["$ref"])["properties"]
