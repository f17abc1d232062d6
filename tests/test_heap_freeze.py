"""The running bot leaves its start-up objects out of later garbage collections."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_freezing_the_start_up_heap_leaves_full_collections_little_to_walk() -> None:
    # In a process of its own: a frozen heap stays frozen for the process's life.
    script = textwrap.dedent(
        """
        import gc
        import bot.app, bot.runner  # what start-up imports
        before = sum(len(gc.get_objects(g)) for g in range(3))
        bot.runner.freeze_startup_heap()
        after = sum(len(gc.get_objects(g)) for g in range(3))
        print(gc.get_freeze_count(), before, after)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()
    frozen, before, after = (int(x) for x in out)
    assert frozen > 50_000  # the libraries' objects are in the permanent generation
    assert after < before / 10  # a full collection now walks a small fraction
