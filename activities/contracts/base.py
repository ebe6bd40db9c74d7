"""One activity's contract, typed by its input and output so a caller cannot pass the wrong
model or misread the answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

In = TypeVar("In")
Out = TypeVar("Out")


@dataclass(frozen=True)
class Activity(Generic[In, Out]):
    """`local`: runs inside the orders worker as a local activity (one short database write
    or a rule evaluation); otherwise a remote activity on `queue`, whose worker talks to the
    outside system."""

    name: str
    input: type[In]
    output: type[Out]
    queue: str
    local: bool = False
