"""DHL Express MyDHL API: `POST /mydhlapi/shipments` (HTTP basic auth) with
`plannedShippingDateAndTime`, `productCode`, `customerReferences[{value, typeCode "CU"}]`,
`customerDetails{shipperDetails, receiverDetails}` (each `postalAddress` and
`contactInformation`) and `content{packages[{weight, dimensions}]}`; answers 201 with
`shipmentTrackingNumber` and the label under `documents`, or a problem document
(`status`, `title`, `detail`). MyDHL has no cancel call: a label that is never handed over
is not billed. DHL's tracking reaches Ordo through Kuaidi100."""

from __future__ import annotations

PRODUCT = {"express": "N", "standard": "N"}  # N: domestic express, the product DHL sells inside a country
