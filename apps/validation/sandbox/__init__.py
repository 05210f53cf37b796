"""The check process: the engine runs in a child process with limits on memory and CPU time.

``child`` is the process itself (``python -m apps.validation.sandbox.child``): it reads its job
as JSON on stdin, runs the engine under resource limits and writes JSON lines back. ``parent``
is the worker's half: it starts the child, feeds it the job, relays its progress, kills it at the
time limit or once the claim is lost, and turns the way it ended into an outcome a person can read.

Nothing here may import Django at module level: the child imports this package first.
"""
