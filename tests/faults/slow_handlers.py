"""Handlers for the fault tests, loaded by the processes under test through the
extension point every operator has: `TOKENFLOW_EXTRA_HANDLERS=tests.faults.slow_handlers`.

Each does a real side effect through a sandbox (a card charge, an email), keyed by the
task's idempotency key like Tokenflow's own, and then takes `FAULTS_HANDLER_SECONDS`
(default 0) before returning, so a test can kill the process between the side effect
and the commit. Each start is appended to `<instance dir>/fault-attempts.log`, so a
test can tell a handler that ran twice from a side effect that happened twice.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from engine.registry import HandlerContext
from handlers import registry

ATTEMPTS = "fault-attempts.log"


def _attempt(ctx: HandlerContext, topic: str) -> None:
    log = Path(os.environ["TOKENFLOW_INSTANCE_DIR"]) / ATTEMPTS
    with log.open("a") as f:  # one short append: whole lines even from several processes
        f.write(f"{os.getpid()} {topic} {ctx.instance_id}\n")


def _take_time() -> None:
    time.sleep(float(os.environ.get("FAULTS_HANDLER_SECONDS", "0")))


@registry.handler()
def slow_charge(ctx: HandlerContext) -> dict[str, Any]:
    """Charges the sandbox's approved test card 10.00 USD, once per task."""
    _attempt(ctx, "slow_charge")
    result = ctx.services.adapters.payment.charge(
        ctx.instance_id,
        1000,
        "USD",
        "4242424242424242",
        "12/39",
        "737",
        idempotency_key=ctx.idempotency_key,
    )
    _take_time()
    return {"charged": result.approved}


@registry.handler()
def slow_receipt(ctx: HandlerContext) -> dict[str, Any]:
    """Emails a receipt, once per task."""
    _attempt(ctx, "slow_receipt")
    ctx.services.adapters.email.send(
        f"customer-{ctx.owner_id}@customers.tokenflow.local",
        f"Receipt for {ctx.instance_id}",
        "Thank you.",
        idempotency_key=ctx.idempotency_key,
    )
    _take_time()
    return {"receipt_sent": True}
