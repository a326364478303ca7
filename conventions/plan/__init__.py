"""``python -m conventions plan``: what a pending migration will lock, rewrite and block.

A scratch database is built at the target's revision from the history (``scratch``),
the pending revisions run on it through the house runtime with a statement tracer
on the migration connection (``tracer``, ``probe``, ``watch``), the target's table
sizes are read without locks (``sizes``), and a documented model (``model``) turns
scratch timings into estimated lock holds on the target. ``report`` holds the plan
as data, ``render`` prints it, ``gate`` is ``--check``. Nothing here writes to the
target: it is read through a ``default_transaction_read_only`` session.
"""
