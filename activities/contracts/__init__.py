"""What a workflow or the API may know of an activity: its name, its one input model, its
output, and the task queue whose worker runs it. Implementations (`activities/*.py`) import
these; nothing here imports an implementation, a database engine or an HTTP client."""
