"""SF Express open-platform envelope: form fields with msgData (JSON) and msgDigest."""

from __future__ import annotations

import base64
import hashlib
import urllib.parse


def digest(msg_data: str, timestamp: str, checkword: str) -> str:
    encoded = urllib.parse.quote_plus(msg_data + timestamp + checkword)
    return base64.b64encode(hashlib.md5(encoded.encode()).digest()).decode()


# Route opCodes (as seen in SF pushes) -> Ordo's shipment states.
OP_COLLECTED = ("50", "54")
OP_IN_TRANSIT = ("30", "36", "31", "130")
OP_OUT_FOR_DELIVERY = ("204",)
OP_DELIVERED = ("80",)
OP_RETURNED = ("631",)
