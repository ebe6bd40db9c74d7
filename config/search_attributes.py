"""Ordo's custom search attributes, registered with Temporal so the Web UI can filter orders."""

from temporalio.common import SearchAttributeKey

ORDER_STATUS = SearchAttributeKey.for_keyword("OrderStatus")
CHANNEL = SearchAttributeKey.for_keyword("Channel")
PRIORITY = SearchAttributeKey.for_keyword("Priority")
CUSTOMER_TIER = SearchAttributeKey.for_keyword("CustomerTier")
EXCEPTION_TYPE = SearchAttributeKey.for_keyword("ExceptionType")
ORDER_TOTAL = SearchAttributeKey.for_float("OrderTotal")
WAREHOUSE = SearchAttributeKey.for_keyword_list("Warehouse")

ALL_KEYS = (ORDER_STATUS, CHANNEL, PRIORITY, CUSTOMER_TIER, EXCEPTION_TYPE, ORDER_TOTAL, WAREHOUSE)

# Type names as `temporal server start-dev --search-attribute NAME=TYPE` spells them.
DEV_SERVER_TYPES = {
    "OrderStatus": "Keyword",
    "Channel": "Keyword",
    "Priority": "Keyword",
    "CustomerTier": "Keyword",
    "ExceptionType": "Keyword",
    "OrderTotal": "Double",
    "Warehouse": "KeywordList",
}
