"""Page render times with 10,000 instances in the database (SQLite).

Builds a real system (processes/, handlers, migrations), walks a few instances through
the engine, then clones them in bulk to 10,000 instances with one work item each, spread
over the customer, support and proofing-agent lanes. Times the pages people open all
day: the admin instance list (first page, a deep page, a filter) and the staff inboxes.
Target: each under 150 ms.

    .venv/bin/python bench/pages.py [--instances 10000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select

from domain.accounts.users import create_user
from engine.actors import SYSTEM, Actor
from engine.clock import clock
from engine.db import unit_of_work
from engine.models import ProcessInstance, WorkItem
from service_layer.config import Config
from tokenflow.schema import upgrade
from tokenflow.system import build_system
from web.app import create_app

PROCESSES = Path(__file__).resolve().parent.parent / "processes"
PASSWORD = "bench password 1"  # noqa: S105
LANES = [
    ("customer", "choose_product", "Choose a product"),
    ("support", "license_key_sla_breach", "Handle late license key email"),
    ("proofing_agent", "video_proofing_interview", "Video proofing interview"),
]


def build(workdir: Path, count: int):
    config = Config.from_env(
        {
            "TOKENFLOW_INSTANCE_DIR": str(workdir),
            "TOKENFLOW_DATABASE_URL": f"sqlite:///{workdir / 'pages.db'}",
        }
    )
    upgrade(config.database_url)
    system = build_system(config)
    system.engine.deploy(
        [
            (p.name, p.read_bytes())
            for p in sorted([*PROCESSES.glob("*.bpmn"), *PROCESSES.glob("*.dmn")])
        ],
        SYSTEM,
    )
    with unit_of_work(system.session_factory) as s:
        users = {
            name: create_user(s, name, PASSWORD, [role]).id
            for name, role in [
                ("cust", "customer"),
                ("sup", "support"),
                ("agent", "proofing_agent"),
                ("adm", "admin"),
            ]
        }
    customer = Actor("cust", frozenset({"customer"}), user_id=users["cust"])
    template = system.engine.start("hardware_token", customer)
    with unit_of_work(system.session_factory) as s:
        row = s.get(ProcessInstance, template["id"])
        base = {c.name: getattr(row, c.name) for c in ProcessInstance.__table__.columns}
    instances, items = [], []
    start = clock.now() - timedelta(days=60)
    for n in range(count):
        iid = str(uuid.uuid4())
        created = start + timedelta(minutes=n * 8)
        instances.append(
            {
                **base,
                "id": iid,
                "business_key": f"SO-{20000 + n}",
                "created_at": created,
                "updated_at": created,
                "status": "running" if n % 7 else "completed",
            }
        )
        lane, name, title = LANES[n % len(LANES)]
        items.append(
            {
                "id": str(uuid.uuid4()),
                "instance_id": iid,
                "name": name,
                "title": title,
                "lane": lane,
                "owner_id": users["cust"],
                "business_key": f"SO-{20000 + n}",
                "status": "ready",
                "created_at": created,
            }
        )
    with unit_of_work(system.session_factory) as s:
        s.execute(insert(ProcessInstance), instances)
        s.execute(insert(WorkItem), items)
    return system, config


def login(client, username: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code in (302, 303), response.status_code


def timed(client, url: str, repeat: int) -> float:
    client.get(url)  # warm up
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        response = client.get(url)
        samples.append(time.perf_counter() - began)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        system, _config = build(Path(tmp), args.instances)
        with unit_of_work(system.session_factory) as s:
            total = len(list(s.scalars(select(ProcessInstance.id))))
        app = create_app(system)
        pages = [
            ("adm", "/admin/instances"),
            ("adm", "/admin/instances?offset=5000"),
            ("adm", "/admin/instances?business_key=SO-25000"),
            ("adm", "/admin/instances?status=running&process=hardware_token"),
            ("sup", "/inbox/support"),
            ("agent", "/inbox/proofing_agent"),
        ]
        print(f"{total} instances on SQLite; median of {args.repeat} renders:")
        for user, url in pages:
            client = app.test_client()
            login(client, user)
            ms = timed(client, url, args.repeat)
            flag = "ok" if ms < 150 else "OVER 150 ms"
            print(f"  {url:<55} {ms:7.1f} ms  {flag}")
        system.close()


if __name__ == "__main__":
    main()
