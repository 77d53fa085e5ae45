"""Task forms through the API and the pages: defaults, read-only fields, dates, and a
form key without formData."""

from __future__ import annotations

import pytest

from domain.accounts.users import create_user
from engine.db import unit_of_work
from engine.registry import Registry
from tests.builders import engine_system
from tests.web.builders_api import JsonApi
from tests.web.builders_pages import PASSWORD, Browser
from web.app import create_app


@pytest.fixture
def app(config):
    system = engine_system(config, Registry(), "forms.bpmn")
    with unit_of_work(system.session_factory) as s:
        create_user(s, "alice", PASSWORD, ["customer"])
        create_user(s, "sam", PASSWORD, ["support"])
        create_user(s, "root", PASSWORD, ["admin"])
    app = create_app(system)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def api(app):
    return JsonApi(app, "alice")


@pytest.fixture
def sam(app):
    return JsonApi(app, "sam")


def start(api) -> str:
    r = api.post("/api/v1/process-instances", {"process": "forms", "data": {}})
    assert r.status_code == 201, r.json
    return r.json["id"]


def task(api, instance_id: str) -> dict:
    [found] = api.get(f"/api/v1/tasks?instance_id={instance_id}").json
    return found


def variables(api, instance_id: str) -> dict:
    return api.get(f"/api/v1/process-instances/{instance_id}").json["variables"]


def test_an_api_client_leaving_out_a_field_gets_its_default_not_false(api):
    instance_id = start(api)
    interview = task(api, instance_id)
    r = api.post(f"/api/v1/tasks/{interview['id']}/complete", {"data": {"approved": True}})
    assert r.status_code == 200, r.json
    seen = variables(api, instance_id)
    assert seen["attended"] is True and seen["approved"] is True
    assert seen["seen_on"] == "2027-02-01"


def test_the_api_describes_a_date_default_as_iso_and_a_readonly_field_as_readonly(api):
    fields = {f["id"]: f for f in task(api, start(api))["fields"]}
    assert fields["seen_on"]["default"] == "2027-02-01"
    assert fields["reference"]["readonly"] is True
    assert fields["attended"]["readonly"] is False


def test_the_api_refuses_a_value_for_a_readonly_field(api):
    interview = task(api, start(api))
    r = api.post(f"/api/v1/tasks/{interview['id']}/complete", {"data": {"reference": "R-2"}})
    assert r.status_code == 422
    assert r.json["errors"] == {"reference": "This field is read-only: leave it out."}


def test_a_date_in_camundas_pattern_is_stored_as_iso(api):
    instance_id = start(api)
    interview = task(api, instance_id)
    body = {"data": {"seen_on": "28/02/2027"}}
    assert api.post(f"/api/v1/tasks/{interview['id']}/complete", body).status_code == 200
    assert variables(api, instance_id)["seen_on"] == "2027-02-28"


def test_an_unticked_box_in_the_html_form_stays_false_despite_its_default(app, api):
    instance_id = start(api)
    interview = task(api, instance_id)
    alice = Browser(app).login("alice")
    alice.get(f"/tasks/{interview['id']}")
    assert 'name="reference"' in alice.page and "readonly" in alice.page
    assert 'value="2027-02-01"' in alice.page  # the date input takes ISO
    response = alice.post(f"/tasks/{interview['id']}", {"seen_on": "2027-03-01"})
    assert response.status_code == 302, alice.text()[:500]
    seen = variables(api, instance_id)
    assert seen["attended"] is False and seen["approved"] is False
    assert seen["seen_on"] == "2027-03-01"


def complete(api, task_id: str, data: dict):
    return api.post(f"/api/v1/tasks/{task_id}/complete", {"data": data})


def to_staff_form(api, sam) -> tuple[str, dict]:
    instance_id = start(api)
    assert complete(api, task(api, instance_id)["id"], {"approved": True}).status_code == 200
    return instance_id, task(sam, instance_id)


def test_a_form_key_without_form_data_shows_the_current_simple_variables(api, sam):
    _, staff_form = to_staff_form(api, sam)
    fields = {f["id"]: (f["type"], f["default"]) for f in staff_form["fields"]}
    assert fields == {
        "approved": ("boolean", True),
        "attended": ("boolean", True),
        "seen_on": ("string", "2027-02-01"),
    }


def test_staff_may_complete_a_generic_form_with_new_plain_json_variables(api, sam):
    instance_id, staff_form = to_staff_form(api, sam)
    note = {"checked": ["passport"], "score": 3}
    r = complete(sam, staff_form["id"], {"case_note": note, "approved": "false"})
    assert r.status_code == 200, r.json
    seen = variables(sam, instance_id)
    assert seen["case_note"] == note and seen["approved"] is False


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {"_engine": 1},
            {
                "_engine": "Name a variable with letters, digits and _, starting "
                "with a letter, for example customer_note."
            },
        ),
        (
            {"class": 1},
            {
                "class": "Name a variable with letters, digits and _, starting "
                "with a letter, for example customer_note."
            },
        ),
        ({"secret_pin": "1"}, {"secret_pin": "This variable cannot be set on this task."}),
        (
            {"n" * 101: 1},
            {
                "n" * 100: "Name a variable with letters, digits and _, starting "
                "with a letter, for example customer_note."
            },
        ),
        ({"attended": "maybe"}, {"attended": "Enter true or false."}),
        ({"deep": [[[[[[1]]]]]]}, {"deep": "Nest lists and objects at most 5 deep."}),
    ],
)
def test_a_generic_form_refuses_bad_names_and_values_by_name(api, sam, data, errors):
    _, staff_form = to_staff_form(api, sam)
    r = complete(sam, staff_form["id"], data)
    assert r.status_code == 422 and r.json["errors"] == errors


def test_a_generic_form_refuses_too_much_data(api, sam):
    _, staff_form = to_staff_form(api, sam)
    r = complete(
        sam, staff_form["id"], {"blob": "x" * 1500, **{f"v{i}": "y" * 1500 for i in range(11)}}
    )
    assert r.status_code == 422 and "16 KiB" in r.json["detail"]
    r = complete(sam, staff_form["id"], {f"v{i}": i for i in range(51)})
    assert r.status_code == 422 and "at most 50 variables" in r.json["detail"]


def test_a_customers_generic_form_neither_shows_staff_variables_nor_takes_new_names(api, sam):
    instance_id, staff_form = to_staff_form(api, sam)
    assert complete(sam, staff_form["id"], {"case_note": "ok"}).status_code == 200
    free_form = task(api, instance_id)
    assert "case_note" not in {f["id"] for f in free_form["fields"]}
    refused = complete(api, free_form["id"], {"case_note": "mine", "promo": True})
    assert refused.json["errors"] == {
        "case_note": "This variable cannot be set on this task.",
        "promo": "This form has no such field.",
    }
    assert complete(api, free_form["id"], {"seen_on": "2027-04-01"}).status_code == 200
    assert variables(api, instance_id)["seen_on"] == "2027-04-01"


def test_the_generic_form_page_keeps_each_variables_type_and_leaves_unchanged_ones_alone(
    app, api, sam
):
    instance_id, staff_form = to_staff_form(api, sam)
    sam_browser = Browser(app).login("sam")
    sam_browser.get(f"/tasks/{staff_form['id']}")
    assert 'name="seen_on"' in sam_browser.page and 'type="checkbox"' in sam_browser.page
    form = {"attended": "true", "seen_on": "2027-02-01"}  # approved unticked
    response = sam_browser.post(f"/tasks/{staff_form['id']}", form)
    assert response.status_code == 302, sam_browser.text()[:500]
    assert variables(sam, instance_id)["approved"] is False
    customer_sees = variables(api, instance_id)
    assert customer_sees["seen_on"] == "2027-02-01"  # unchanged, so still the customer's
    assert "approved" not in customer_sees  # changed on a staff task: staff-only now


def test_a_task_lists_its_due_date_follow_up_date_and_priority(api, sam):
    _, staff_form = to_staff_form(api, sam)
    assert staff_form["due_at"] == "2027-01-31T09:00:00+00:00"
    assert staff_form["follow_up_at"] == "2027-02-01T00:00:00+00:00"  # from ${seen_on}
    assert staff_form["priority"] == 50  # ${rank} is unset: Camunda's default


def test_a_task_without_attributes_has_the_default_priority_and_no_dates(api):
    interview = task(api, start(api))
    assert (interview["due_at"], interview["follow_up_at"], interview["priority"]) == (
        None,
        None,
        50,
    )


def staff_task_with(api, rank: int, seen_on: str) -> str:
    """An admin starts with data (a customer may not) and answers the interview."""
    r = api.post("/api/v1/process-instances", {"process": "forms", "data": {"rank": rank}})
    interview = task(api, r.json["id"])
    done = complete(api, interview["id"], {"seen_on": seen_on})
    assert done.status_code == 200, done.json
    return r.json["id"]


def test_tasks_sort_by_priority_follow_up_or_age(app, sam):
    root = JsonApi(app, "root")
    first = staff_task_with(root, rank=10, seen_on="2027-03-01")
    second = staff_task_with(root, rank=90, seen_on="2027-02-01")

    def order(sort: str) -> list[str]:
        return [t["instance_id"] for t in sam.get(f"/api/v1/tasks?sort={sort}").json]

    assert order("created") == [first, second]
    assert order("priority") == [second, first]
    assert order("follow_up") == [second, first]
    assert order("due") == [first, second]  # same due date: oldest first
    assert sam.get("/api/v1/tasks?sort=name").status_code == 400
    inbox = Browser(app).login("sam")
    inbox.get("/inbox/support?sort=priority")
    text = inbox.text()
    assert "Follow-up" in text and "Priority" in text
    assert text.index(" 90 ") < text.index(" 10 ")
