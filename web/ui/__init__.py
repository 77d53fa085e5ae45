"""The HTML pages: server-rendered, one blueprint per audience. JavaScript only improves
a page that works without it (`static/local-time.js` shows times in the browser's zone).

| blueprint | module | pages |
| --- | --- | --- |
| `auth` | `auth.py` | `/signup`, `/login`, `/logout` |
| `account` | `account.py` | `/account`: sessions, API tokens, log out everywhere, password |
| `customer` | `customer.py` | `/` (home), `/orders` (start), `/orders/<id>`, `/credentials` |
| `tasks` | `tasks.py` | `/tasks/<id>` (form), `/tasks/<id>/claim`, `/tasks/<id>/unclaim` |
| `agent` | `agent.py` | `/inbox` (assigned to me), `/inbox/<role>`, `/finance/payments` |
| `admin` | `admin.py` | `/admin/instances`, `/admin/instances/<id>` and its actions |
| `groups` | `groups.py` | `/admin/groups`: candidate groups and their staff |
| `starting` | `starting.py` | `/start/<key>`: a process's start form, and starting it |
| `shop` | `shop.py` | `/terms`, `/orders/<id>/receipt` and `/invoice`, `/catalog` (prices) |
| `appointments` | `appointments.py` | `/orders/<id>/appointment/move`, `.../cancel` (interview) |

Every view is either `guard.public` (sign-up, log-in, terms of sale) or `guard.login_required`;
`register` refuses to start an app with a view that is neither.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, request

from . import (
    account,
    admin,
    agent,
    appointments,
    auth,
    customer,
    filters,
    groups,
    guard,
    shop,
    starting,
    tasks,
)

BLUEPRINTS: tuple[Blueprint, ...] = (
    auth.bp,
    account.bp,
    customer.bp,
    tasks.bp,
    agent.bp,
    admin.bp,
    groups.bp,
    shop.bp,
    appointments.bp,
    starting.bp,
)
bp = customer.bp  # the home page's blueprint, for callers that want one name


def register(app: Flask) -> None:
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    filters.register(app)
    app.context_processor(_navigation)
    for endpoint, view in app.view_functions.items():
        if endpoint.split(".")[0] in {b.name for b in BLUEPRINTS}:
            guarded = getattr(view, "login_required", False) or getattr(view, "public", False)
            if not guarded:
                raise RuntimeError(f"UI view {endpoint} has no authorization decorator")


def _navigation() -> dict[str, Any]:
    if request.path.startswith("/api/"):
        return {}
    who = guard.current_actor()
    lanes = [lane for lane in agent.LANES if who and who.may_work_lane(lane)]
    return {
        "me": who,
        "nav_lanes": [(lane, agent.LANES[lane]) for lane in lanes],
        "is_customer": bool(who and "customer" in who.roles),
        "has_analyst": "analyst" in current_app.blueprints,
    }
