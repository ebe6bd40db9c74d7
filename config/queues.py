"""Task queue names: one worker process per queue, so each can be scaled on its own."""

ORDERS = "orders"
WMS = "wms"
CARRIERS = "carriers"
PAYMENTS = "payments"
CHANNELS = "channels"  # writing waybills and refunds back to the marketplaces

ALL = (ORDERS, WMS, CARRIERS, PAYMENTS, CHANNELS)
