from __future__ import annotations

import pytest

from engine.stepper import _check_output


@pytest.mark.parametrize(
    "result",
    [{"charge_id": "ch_8a123f"}, {"choices": [{"id": "1984", "name": "1984"}]}],
)
def test_a_short_secret_equal_to_an_unrelated_value_is_not_a_leak(result):
    _check_output(result, {"card_cvc": "123", "ssn_last4": "1984"})


@pytest.mark.parametrize(
    "result",
    [
        {"card_cvc": "123"},
        {"nested": {"list": [{"card_cvc": "x"}]}},
        {"message": "card 4242424242424242 declined"},
        {"number": 4242424242424242},
        {"digits": "x4242424242424242x"},
    ],
)
def test_a_sensitive_value_handed_back_into_task_data_is_refused(result):
    with pytest.raises(ValueError, match="sensitive"):
        _check_output(result, {"card_cvc": "123", "card_number": "4242424242424242"})


def test_values_a_workflow_cannot_store_are_refused():
    with pytest.raises(TypeError):
        _check_output({"when": object()}, {})
