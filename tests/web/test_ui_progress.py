"""The order's progress steps and the form widgets: pure functions, no database."""

from __future__ import annotations

import pytest

from web.ui import formdata, progress


def states(view: dict, order: dict | None = None, completed: tuple = ()) -> dict[str, str]:
    return {s.key: s.state for s in progress.steps(view, order, completed)}


def view(active: list[str], status: str = "running", **variables) -> dict:
    return {"active": active, "status": status, "variables": variables}


def test_a_new_order_is_at_checkout_with_everything_else_ahead():
    got = states(view(["call_purchase", "choose_product"]))
    assert got == {
        "paid": "current",
        "shipped": "todo",
        "key": "todo",
        "proofing": "todo",
        "activation": "todo",
        "registered": "todo",
    }


def test_an_unpaid_invoice_says_which_invoice_waits():
    steps = progress.steps(
        view(["call_purchase", "wait_for_payment"], invoice_number="INV-1", product="x"), None, ()
    )
    assert steps[0].state == "current" and "INV-1" in steps[0].detail


def test_a_cancelled_order_shows_the_payment_step_failed():
    assert states(view([], "completed", order_status="cancelled"))["paid"] == "failed"


@pytest.mark.parametrize(
    ("active", "variables", "title"),
    [
        (["call_purchase", "checkout"], {}, "Check out"),
        (["call_purchase", "wait_for_payment"], {"invoice_number": "INV-1"}, "Payment"),
        (["call_shipping"], {"order_status": "paid", "paid_at": "2026-12-07"}, "Paid"),
        ([], {"order_status": "cancelled", "refunded_at": "2026-12-07"}, "Cancelled"),
    ],
)
def test_the_first_step_is_titled_by_its_state_and_never_paid_before_payment(
    active, variables, title
):
    first = progress.steps(view(active, **variables), None, ())[0]
    assert first.title == title


def test_after_payment_shipping_and_key_are_done_and_the_key_is_to_be_entered():
    steps = progress.steps(
        view(
            ["call_shipping", "enter_license_key"],
            order_status="paid",
            payment_method="card",
            paid_at="2026-01-15T10:00:00+00:00",
            tracking_number="1ZX",
            estimated_delivery="2026-01-20",
            license_key_sent_at="2026-01-15T10:00:01+00:00",
            product="token_without_proofing",
        ),
        None,
        (),
    )
    by_key = {s.key: s for s in steps}
    assert by_key["paid"].detail == "Paid by card on 15 Jan 2026."
    assert by_key["shipped"].detail == "Tracking number 1ZX. Expected by 20 Jan 2026."
    assert by_key["key"].state == "current" and "Enter it now" in by_key["key"].detail
    assert by_key["proofing"].state == "skipped"


def test_the_sales_order_row_fills_in_what_the_variables_lack():
    got = progress.steps(
        view(["activate_token"]),
        {"paid_at": "2026-01-15T10:00:00+00:00", "tracking_number": "1ZY"},
        (),
    )
    assert got[0].state == "done" and "1ZY" in got[1].detail


@pytest.mark.parametrize(
    ("active", "variables", "completed", "expected"),
    [
        (["call_identity_proofing", "schedule_video_proofing"], {}, (), "current"),
        (
            ["call_identity_proofing"],
            {"appointment_at": "2026-02-01T09:00:00+00:00"},
            (),
            "current",
        ),
        (["activate_token"], {"proofing_result": "passed"}, (), "done"),
        ([], {"proofing_result": "failed"}, (), "failed"),
    ],
)
def test_identity_proofing_follows_the_proofing_subprocess(active, variables, completed, expected):
    got = states(view(active, product="token_with_proofing", **variables), None, completed)
    assert got["proofing"] == expected


def test_an_instant_identity_check_reads_identity_verified_and_the_token_is_activated():
    variables = {
        "proofing_result": "passed",
        "activation_code_required": False,
        "activated_at": "2026-01-15T10:00:00+00:00",
    }
    got = progress.steps(view(["fulfilment_join"], order_status="paid", **variables), None, ())
    by_key = {s.key: s for s in got}
    assert by_key["proofing"].detail == "Identity verified."
    assert by_key["activation"].state == "done"
    assert "as soon as your token arrives" in by_key["registered"].detail


def test_activation_waits_for_delivery_before_registration_opens():
    got = progress.steps(view(["fulfilment_join"], order_status="paid"), None, ("activate_token",))
    by_key = {s.key: s for s in got}
    assert by_key["activation"].state == "done"
    assert by_key["registered"].state == "current"
    assert "as soon as your token arrives" in by_key["registered"].detail


def test_a_registered_credential_shows_its_expiry_and_the_hint_says_all_done():
    steps = progress.steps(
        view(
            [], "completed", order_status="paid", credential_expires_at="2027-01-15T10:00:00+00:00"
        ),
        None,
        ("register_token",),
    )
    assert steps[-1].state == "done" and "15 Jan 2027" in steps[-1].detail
    assert progress.next_hint(steps, "completed").startswith("All done")


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ({"type": "boolean"}, "checkbox"),
        ({"type": "enum", "options": [{"id": "a"}, {"id": "b"}]}, "radio"),
        ({"type": "enum", "options": [{"id": str(n)} for n in range(9)]}, "select"),
        ({"type": "long"}, "number"),
        ({"type": "date"}, "date"),
        ({"type": "string", "maxlength": "2000"}, "textarea"),
        ({"type": "string", "maxlength": "64"}, "text"),
    ],
)
def test_each_field_type_gets_its_widget(field, expected):
    assert formdata.widget(field) == expected


def test_a_posted_form_keeps_only_its_fields_and_unticked_boxes_are_false():
    fields = [{"id": "a", "type": "string"}, {"id": "b", "type": "boolean"}]
    assert formdata.submitted(fields, {"a": "x", "csrf_token": "t", "evil": "1"}) == {
        "a": "x",
        "b": False,
    }


def test_labels_with_a_shared_prefix_are_grouped_and_lone_ones_are_not():
    fields = formdata.decorate(
        [
            {"id": "ship_name", "label": "Shipping address: name", "type": "string"},
            {"id": "ship_city", "label": "Shipping address: city", "type": "string"},
            {"id": "approved", "label": "Approve: identity proven", "type": "boolean"},
        ]
    )
    groups = formdata.groups(fields)
    assert [(legend, [f["short_label"] for f in items]) for legend, items in groups] == [
        ("Shipping address", ["Name", "City"]),
        (None, [None]),
    ]


def test_sensitive_values_are_never_echoed_into_the_form():
    fields = [{"id": "card_number", "sensitive": True}, {"id": "ship_name"}]
    assert formdata.echo(fields, {"card_number": "4242", "ship_name": "Jane"}) == {
        "ship_name": "Jane"
    }


def test_a_customer_with_a_key_bought_elsewhere_skips_payment_and_shipping():
    steps = progress.steps(
        view(["enter_license_key", "resend_requested"], product="already_purchased"), None, ()
    )
    by_key = {s.key: s for s in steps}
    assert (by_key["paid"].state, by_key["shipped"].state) == ("skipped", "skipped")
    assert by_key["paid"].detail == "Someone else bought your token."
    assert by_key["shipped"].detail == "The buyer hands your token over to you."
    assert by_key["key"].state == "current"
    assert by_key["key"].detail == "Enter the license key you were given."
    assert by_key["proofing"].state == "todo"


def test_once_the_key_is_accepted_the_steps_name_the_order_and_token_it_came_from():
    steps = progress.steps(
        view(
            ["activate_token"],
            product="token_without_proofing",
            purchase_skipped=True,
            order_number="SO-10001",
            order_status="paid",
            paid_at="2026-01-15T10:00:00+00:00",
            token_serial="TF000001",
        ),
        None,
        ("enter_license_key", "confirm_profile"),
    )
    by_key = {s.key: s for s in steps}
    assert (by_key["paid"].state, by_key["paid"].detail) == (
        "done",
        "Paid with order SO-10001 on 15 Jan 2026, whose license key you entered.",
    )
    assert (by_key["shipped"].state, by_key["shipped"].detail) == (
        "skipped",
        "The buyer hands token TF000001 over to you.",
    )
    assert by_key["key"].state == "done"
    assert by_key["proofing"].state == "skipped"


def test_a_booked_interview_names_its_day_and_time():
    booked = view(
        ["call_identity_proofing", "appointment_wait"],
        product="token_with_proofing",
        appointment_at="2026-12-08T09:30:00+00:00",
    )
    by_key = {s.key: s for s in progress.steps(booked, None, ())}
    assert by_key["proofing"].detail == "Video interview booked for 8 Dec 2026, 09:30 UTC."
