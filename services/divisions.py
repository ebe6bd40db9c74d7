"""China's administrative divisions (province > city > district) for the console's address
choosers, read from the `cpca` package's adcodes table: the data the free-text channel
already resolves addresses with, so a chosen address is one the carriers' zones know."""

from __future__ import annotations

import csv
import importlib.util
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel

from services.errors import Invalid


class Division(BaseModel):
    code: str
    name: str


def _table() -> Path:
    spec = importlib.util.find_spec("cpca")  # finds the package without importing it (pandas, ~1 s)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the cpca package is not installed; run `make setup`")
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / "adcodes.csv"


@lru_cache(maxsize=1)
def _children() -> dict[str, list[Division]]:
    names: dict[str, str] = {}
    with _table().open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            names[row["adcode"]] = row["name"]
    tree: dict[str, list[Division]] = {"": []}
    for code, name in sorted(names.items()):
        if code.endswith("0000000000"):
            tree[""].append(Division(code=code, name=name))
        elif code.endswith("00000000"):
            province = code[:2] + "0" * 10
            shown = names.get(province, name) if name in ("市辖区", "县") else name  # 北京市, not 市辖区
            tree.setdefault(province, []).append(Division(code=code, name=shown))
        elif code.endswith("000000") and name != "市辖区":
            tree.setdefault(code[:4] + "0" * 8, []).append(Division(code=code, name=name))
    return tree


def divisions(parent: str = "") -> list[Division]:
    """The provinces (no parent), a province's cities, or a city's districts."""
    if parent and (len(parent) != 12 or not parent.isdigit()):
        raise Invalid("parent: a 12-digit division code from this list, or nothing for the provinces",
                      field="parent")
    return _children().get(parent, [])
