from __future__ import annotations

import pytest

from engine.stepper import _check_output


def test_a_short_secret_inside_an_unrelated_value_is_not_a_leak():
    _check_output({"charge_id": "ch_8a123f"}, {"card_cvc": "123"})


@pytest.mark.parametrize(
    "result",
    [
        {"cvc": "123"},
        {"nested": {"list": ["x", "123"]}},
        {"message": "card 4242424242424242 declined"},
        {"number": 4242424242424242},
    ],
)
def test_a_sensitive_value_handed_back_into_task_data_is_refused(result):
    with pytest.raises(ValueError, match="sensitive"):
        _check_output(result, {"card_cvc": "123", "card_number": "4242424242424242"})


def test_values_a_workflow_cannot_store_are_refused():
    with pytest.raises(TypeError):
        _check_output({"when": object()}, {})
