"""Workflow changes made with `workflow.patched`, one id each, so that histories recorded
before a change still replay (tests/replay/ holds such histories; README "Versioning").

An id stays here, and its old branch in the code, until no workflow started before the
change can still be running (then: `workflow.deprecate_patch`, and later remove both).
"""

# Issue 13: a cancellation that arrives while a carrier or the WMS is being asked is a
# cancellation, not an outage: stop trying other carriers, and undo what may have been
# booked even though its answer never came (the carrier's booking, the WMS order).
CANCEL_UNANSWERED_BOOKING = "cancel-unanswered-booking"

# Issue 13 (found by `ordo chaos`): a carrier that refuses to cancel a booking because its
# courier has already collected the parcel is not an error that ends the parcel's workflow
# with the goods on the road and the order cancelled: the parcel travels on and is followed,
# and the order's cancellation is refused.
COLLECTED_PARCEL_GOES_ON = "collected-parcel-goes-on"

# Issue 16: status changes made back to back with only local work between them (received,
# validated, prioritised; payment authorised then fulfilling) are written together with the
# next one, in one local activity and one search-attribute upsert: fewer markers, upserts
# and activations per order, the same timeline.
BATCHED_STATUS_WRITES = "batched-status-writes"

# Issue 16: how a parcel follows its journey, two changes under one id (each id costs every
# run a marker and a search-attribute upsert). (1) The parcel moves its order along its
# travel (shipped, in transit, out for delivery) in the write that records its own step,
# and tells the order's workflow only of its waybill; the order rebuilds its travel
# timeline from the parcel's steps when the parcel ends: three signals, three order
# activations and three status writes fewer per parcel. (2) Waiting for tracking, it keeps
# one timer running to its late deadline instead of cancelling it and starting another on
# every carrier event (two history events and two timer writes each); when the timer fires
# early because events moved the deadline on, a new one runs to the new deadline.
PARCEL_JOURNEY = "parcel-journey"
