"""Qimen (奇门) OMS<->WMS messages: XML bodies signed with md5(secret + sorted params + body + secret)."""

from __future__ import annotations

import hashlib

# builds XML only: parsing goes through defusedxml
import xml.etree.ElementTree as ET  # nosec B405
from typing import Any

from defusedxml import ElementTree as defused


def sign(params: dict[str, str], body: str, secret: str) -> str:
    joined = "".join(f"{k}{v}" for k, v in sorted(params.items()) if k != "sign")
    return hashlib.md5(f"{secret}{joined}{body}{secret}".encode()).hexdigest().upper()


def _build(parent: ET.Element, value: Any, tag: str) -> None:
    if isinstance(value, dict):
        node = ET.SubElement(parent, tag)
        for k, v in value.items():
            _build(node, v, k)
    elif isinstance(value, list):
        holder = ET.SubElement(parent, tag)
        child = tag[:-1] if tag.endswith("s") else tag + "Item"
        for item in value:
            _build(holder, item, child)
    else:
        ET.SubElement(parent, tag).text = "" if value is None else str(value)


def to_xml(root: str, data: dict[str, Any]) -> str:
    element = ET.Element(root)
    for k, v in data.items():
        _build(element, v, k)
    return ET.tostring(element, encoding="unicode")


def _parse(node: ET.Element) -> Any:
    children = list(node)
    if not children:
        return node.text or ""
    tags = [c.tag for c in children]
    if len(children) > 1 and len(set(tags)) == 1 and node.tag in (tags[0] + "s", tags[0] + "Item"):
        return [_parse(c) for c in children]
    if len(children) == 1 and node.tag == tags[0] + "s":
        return [_parse(children[0])]
    return {c.tag: _parse(c) for c in children}


def from_xml(text: str) -> dict[str, Any]:
    root = defused.fromstring(text)  # no entities, no external references: the body is a stranger's
    parsed = _parse(root)
    return parsed if isinstance(parsed, dict) else {}


def response(flag: str, code: str, message: str, **extra: Any) -> str:
    return to_xml("response", {"flag": flag, "code": code, "message": message, **extra})
