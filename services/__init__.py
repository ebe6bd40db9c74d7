"""Use cases: one function or small class each, shared by the API and the `ordo` command, so
both do a thing the same way (and, from issue 14 on, obey the same permissions)."""
