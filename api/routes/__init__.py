"""One router per resource; each route parses the request, calls a service, and returns
what it answered (errors are mapped once, in `api.errors`)."""
