"""Messages of the inventory workflows (transfers, reconciliation, rebalancing)."""

from __future__ import annotations

from pydantic import BaseModel, computed_field


class TransferRequest(BaseModel):
    transfer_id: str
    sku: str
    from_warehouse: str
    to_warehouse: str
    quantity: int
    reason: str = ""
    overdue_hours: float = 72.0  # an alert is raised if the goods have not arrived by then


class TransferResult(BaseModel):
    transfer_id: str
    status: str  # received | refused
    received: int = 0
    reason: str = ""
    resumed: list[str] = []  # backordered orders signalled when the goods arrived


class TransferArrival(BaseModel):
    received: int


class SnapshotItem(BaseModel):
    warehouse: str
    sku: str
    quantity: int
    inventory_type: str = "ZP"  # ZP sellable, CC defective


class SnapshotRequest(BaseModel):
    warehouses: list[str]


class StockSnapshot(BaseModel):
    items: list[SnapshotItem]


class Difference(BaseModel):
    """The WMS counts `wms` units where Ordo expects `ordo`: for sellable (ZP) stock, on hand
    less what the WMS already holds for accepted delivery orders; for defective (CC) stock,
    Ordo's defective count."""

    sku: str
    warehouse: str
    ordo: int
    wms: int
    inventory_type: str = "ZP"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def delta(self) -> int:
        """The correction that brings Ordo to the WMS's count."""
        return self.wms - self.ordo


class Differences(BaseModel):
    checked: int
    differences: list[Difference]


class ReconcileRequest(BaseModel):
    confirm_seconds: float = 60.0  # a difference must still be there this much later
    alert_units: int = 5  # corrections larger than this also raise an alert


class CorrectionRequest(BaseModel):
    run_id: str
    differences: list[Difference]
    alert_units: int


class CorrectionResult(BaseModel):
    corrected: list[Difference] = []
    refused: list[str] = []
    alerts: int = 0


class ReconcileReport(BaseModel):
    checked: int
    seen: int  # differences in the first comparison
    transient: int  # gone (or changed) by the second: stock in motion, not drift
    corrected: list[Difference] = []
    refused: list[str] = []
    alerts: int = 0


class RebalanceReport(BaseModel):
    transfers: list[TransferRequest] = []


class DifferencesRequest(BaseModel):
    snapshot: StockSnapshot
    warehouses: list[str]


class TransferReceipt(BaseModel):
    transfer_id: str
    received: int


class TransferCancel(BaseModel):
    transfer_id: str
    reason: str


class InventoryAlert(BaseModel):
    kind: str
    sku: str
    warehouse: str
    detail: str


class SkuRequest(BaseModel):
    sku: str


class RebalanceRequest(BaseModel):
    run_id: str


def transfer_workflow_id(transfer_id: str) -> str:
    """One TransferWorkflow per transfer id, so a retried request is one transfer."""
    return f"transfer-{transfer_id}"
