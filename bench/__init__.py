"""``make bench``: what users feel when the house conventions meet a big, busy table.

Every measurement runs ours and the naive alternative side by side in one run, on
the same scratch database and under the same concurrent writer, so the ratio
between them survives the noise of a shared machine even when absolute figures
do not. ``python -m bench`` writes ``docs/benchmarks.md`` and ``docs/bench/*.png``.
"""
