"""Support's `reset_token` task: unlock a token (and, with two codes the customer reads
out, re-learn its clock) through `domain.credentials.lockout`, or say on the form why not.
"""

from __future__ import annotations

from typing import Any

from domain.credentials.lockout import TokenRefused, support_reset
from engine.registry import FieldErrors, HandlerContext
from handlers import registry


@registry.validator()
def check_token_reset(ctx: HandlerContext, values: dict[str, Any]) -> dict[str, Any]:
    """Support's `reset_token` task: reset the token, or say why not on the form."""
    code1, code2 = values.get("code1"), values.get("code2")
    if bool(code1) != bool(code2):
        raise FieldErrors({"code2": "Enter both codes the customer reads out, or neither."})
    codes = (str(code1), str(code2)) if code1 and code2 else None
    try:
        token = support_reset(
            ctx.session,
            ctx.services.seed_key,
            str(values.get("serial_number") or ""),
            ctx.now,
            ctx.actor or "support",
            codes,
        )
    except TokenRefused as exc:
        field = "code2" if exc.kind == "no_match" else "serial_number"
        raise FieldErrors({field: exc.message}) from None
    return {"serial_number": token.serial, "code1": None, "code2": None, "token_status": "active"}
