from __future__ import annotations

import gc

from tokenflow import gc_tuning


def test_tuning_freezes_what_exists_and_garbage_made_later_is_still_collected():
    try:
        gc_tuning.tune()
        assert gc.get_freeze_count() > 0

        class Node:
            pass

        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle only the collector frees
        del a, b
        assert gc.collect() >= 2
    finally:
        gc.unfreeze()
