from __future__ import annotations

import gc

from tokenflow import gc_tuning


def test_tuning_freezes_what_exists_and_collects_young_objects_less_often():
    before = gc.get_threshold()
    try:
        gc_tuning.tune()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == gc_tuning.THRESHOLDS
        assert gc.get_threshold()[0] > before[0]
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_garbage_made_after_tuning_is_still_collected():
    before = gc.get_threshold()
    try:
        gc_tuning.tune()

        class Node:
            pass

        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle only the collector frees
        del a, b
        assert gc.collect() >= 2
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
