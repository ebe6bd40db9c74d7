"""A tracking push that names only a waybill number belongs to that carrier's parcel still on
its way: carriers reuse numbers, so an older, finished parcel with the same number must not
swallow it. A push for no live parcel is parked for a person and acknowledged; one for a
waybill not recorded yet is not acknowledged, so the carrier sends it again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import httpx

from api.app import create_app
from config.settings import Settings
from domain.messages import ParcelLine, Shipment, ShipmentRecord
from domain.status import ShipmentStatus
from domain.wire import kuaidi100
from store import inbox as inbox_store
from store import orders as order_store
from store.db import make_engine
from tests.factories import make_order
from tests.harness import prepare_database, serve_app

REUSED = "JDVA00000001"


async def _parcel(engine: object, order_id: str, status: ShipmentStatus, at: datetime) -> str:
    parcel = Shipment(shipment_id=f"{order_id}-p1", order_id=order_id, warehouse="SH-01",
                      lines=[ParcelLine(sku="COKE-330-24", quantity=1)], weight_g=9000, service="standard")
    await order_store.save_shipment(engine, ShipmentRecord(  # type: ignore[arg-type]
        order_id=order_id, shipment=parcel, status=status, carrier="jd", waybill_no=REUSED, at=at))
    return parcel.shipment_id


async def test_a_reused_waybill_number_finds_the_live_parcel_and_a_finished_one_is_parked(
    db_url: str, tmp_path: Path,
) -> None:
    await prepare_database(db_url)
    engine = make_engine(db_url)
    settings = Settings(database_url=db_url, var_dir=tmp_path)
    try:
        old, new = make_order("trk-old"), make_order("trk-new")
        for order in (old, new):
            await order_store.save_order(engine, order)
        now = datetime.now(UTC)
        finished = await _parcel(engine, old.order_id, ShipmentStatus.DELIVERED, now)

        # only a finished parcel has the number: parked for a person, acknowledged
        app = create_app(settings)
        async with serve_app(app) as api, httpx.AsyncClient(base_url=api, timeout=30) as http:
            form = kuaidi100.push_form("jd", REUSED, "0", [{"context": "运输中", "time": "t"}],
                                       settings.kuaidi100_salt)
            parked = await http.post("/v1/carriers/jd/events", data=form)
            assert parked.status_code == 200 and parked.json() == kuaidi100.ACK
            [letter] = [d for d in await inbox_store.dead_letters(engine, 10) if d.channel == "tracking"]
            assert letter.topic == "jd" and REUSED in letter.body
            assert finished in letter.errors[0]["reason"] and "has finished" in letter.errors[0]["reason"]

            unrecorded = kuaidi100.push_form("jd", "JDVA99999999", "0", [{"context": "x", "time": "t"}],
                                             settings.kuaidi100_salt)
            again = await http.post("/v1/carriers/jd/events", data=unrecorded)
            assert again.status_code == 503 and "JDVA99999999" in again.json()["error"]

            # the number reused by a parcel still being booked: its history (Beijing time, as
            # Kuaidi100 writes it) begins after the finished one ended, so it is not parked but
            # sent again until the new parcel is recorded (found by `ordo chaos`, waybill-reuse)
            later = (now + timedelta(minutes=2)).astimezone(timezone(timedelta(hours=8)))
            at = later.strftime("%Y-%m-%d %H:%M:%S")
            reused = kuaidi100.push_form("jd", REUSED, "1", [{"context": "已揽收", "ftime": at, "time": at}],
                                         settings.kuaidi100_salt)
            not_yet = await http.post("/v1/carriers/jd/events", data=reused)
            assert not_yet.status_code == 503 and REUSED in not_yet.json()["error"]
            letters = await inbox_store.dead_letters(engine, 10)
            assert len([d for d in letters if d.channel == "tracking"]) == 1  # still only the first

        # the number is reused by a parcel on its way, older than the finished one's last change
        live = await _parcel(engine, new.order_id, ShipmentStatus.IN_TRANSIT, now - timedelta(days=1))
        match = await order_store.shipment_for_waybill(engine, "jd", REUSED)
        assert (match.live, match.finished) == (live, "")
        other_carrier = await order_store.shipment_for_waybill(engine, "sf", REUSED)
        assert (other_carrier.live, other_carrier.finished) == ("", "")
    finally:
        await engine.dispose()
