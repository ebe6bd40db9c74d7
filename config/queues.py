"""Task queue names: one worker process per queue, so each can be scaled on its own."""

ORDERS = "orders"
WMS = "wms"
CARRIERS = "carriers"
PAYMENTS = "payments"

ALL = (ORDERS, WMS, CARRIERS, PAYMENTS)
