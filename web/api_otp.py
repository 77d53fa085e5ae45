"""API routes of the credential's life: code verification and phone codes for relying
applications, resync and support reset, seed import, application registration.

Relying applications authenticate with their own API key as Bearer token, never with a
person's login: they act for an application, and its policy is what applies. A request
is one unit of work, so a refused code still commits the failure it counts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import jsonify, request

from service_layer import applications, tokens, verification

from .api_support import actor, authenticated, body, bp, field, system
from .problems import ApiError

MAX_CODE = 32
REFUSALS = {
    "not_found": (404, "Not found"),
    "revoked": (409, "Token revoked"),
    "rate_limited": (429, "Too many attempts"),
    "no_match": (422, "Codes not accepted"),
}


def api_key() -> str:
    """The API key the calling application sent as Bearer token, or 401."""
    header = request.headers.get("Authorization", "")
    key = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    if not key:
        raise _unauthorized()
    return key


def _unauthorized() -> ApiError:
    return ApiError(
        401, "Unauthorized", "Send the application's API key: `Authorization: Bearer <key>`."
    )


def _username_and_code(data: dict[str, Any]) -> tuple[str, str]:
    username, code = field(data, "username", str), field(data, "code", str)
    if len(code) > MAX_CODE:
        raise ApiError(422, "Invalid input", "`code` is too long.", errors={"code": "too long"})
    return username, code


@bp.post("/otp/verify")
def verify_code() -> Any:
    """Verify a user's code under the calling application's policy."""
    key = api_key()
    username, code = _username_and_code(body())
    try:
        outcome = verification.verify_code(system(), key, username, code)
    except verification.UnknownApplication:
        raise _unauthorized() from None
    return jsonify(outcome.as_dict())


@bp.post("/otp/phone-code")
def send_phone_code() -> Any:
    """Send a user a sign-in code by SMS or voice, for the calling application."""
    key = api_key()
    username = field(body(), "username", str)
    try:
        return jsonify(verification.send_phone_code(system(), key, username))
    except verification.UnknownApplication:
        raise _unauthorized() from None
    except verification.TooManyCodes as exc:
        raise ApiError(429, "Too many codes", str(exc)) from None


@bp.post("/tokens/resync")
@authenticated("customer")
def resync_token() -> Any:
    """Resynchronize (and unlock) one's own token with two consecutive codes."""
    data = body()
    serial = field(data, "serial", str)
    code1, code2 = field(data, "code1", str), field(data, "code2", str)
    try:  # a refusal still commits: the failed attempt counts
        state = tokens.resync(system(), actor(), serial, code1, code2)
    except tokens.TokenRefused as exc:
        raise _refusal(exc) from None
    return jsonify({"serial": state.serial, "status": state.status})


@bp.post("/tokens/<serial>/reset")
@authenticated("support")
def reset_token(serial: str) -> Any:
    """Support: unlock a token; with `code1` and `code2`, re-learn its clock too."""
    data = body() if request.get_data() else {}
    code1, code2 = field(data, "code1", str, False), field(data, "code2", str, False)
    if (code1 is None) != (code2 is None):
        raise ApiError(422, "Invalid input", "Send both codes or neither.")
    codes = (code1, code2) if code1 is not None and code2 is not None else None
    try:
        state = tokens.support_reset(system(), actor().name, serial, codes)
    except tokens.TokenRefused as exc:
        raise _refusal(exc) from None
    return jsonify({"serial": state.serial, "status": state.status})


def _refusal(exc: tokens.TokenRefused) -> ApiError:
    status, title = REFUSALS[exc.kind]
    extra = {"errors": {"code2": exc.message}} if exc.kind == "no_match" else {}
    return ApiError(status, title, exc.message, **extra)


@bp.post("/tokens/import")
@authenticated("admin")
def import_tokens() -> Any:
    """Import a PSKC (RFC 6030) seed file: every token in it, or none."""
    upload = request.files.get("file")
    if upload is None:
        raise ApiError(400, "Bad request", "Send the seed file as multipart field `file`.")
    name = Path(upload.filename or "upload.pskc").name
    if request.form.get("psk") and request.form.get("password"):
        raise ApiError(422, "Invalid input", "Give the pre-shared key or the password, not both.")
    try:
        psk = bytes.fromhex(request.form["psk"]) if request.form.get("psk") else None
        iv = bytes.fromhex(request.form["iv"]) if request.form.get("iv") else None
    except ValueError:
        raise ApiError(422, "Invalid input", "`psk` and `iv` must be hexadecimal.") from None
    try:
        serials = tokens.import_tokens(
            system(),
            upload.read(),
            batch=request.form.get("batch") or Path(name).stem,
            actor=actor().name,
            psk=psk,
            password=request.form.get("password") or None,
            iv=iv,
        )
    except tokens.PskcImportError as exc:
        raise ApiError(422, "Seed file refused", f"{name}: {exc}") from None
    return jsonify({"imported": len(serials), "serials": serials})


@bp.get("/apps")
@authenticated("admin")
def list_apps() -> Any:
    """Registered relying applications and their policies."""
    return jsonify([_app_view(app) for app in applications.list_applications(system())])


@bp.post("/apps")
@authenticated("admin")
def create_app() -> Any:
    """Register a relying application; its API key is in this answer only."""
    data = body()
    name = field(data, "name", str)
    accepts = data.get("accepts")
    if isinstance(accepts, list) and all(isinstance(kind, str) for kind in accepts):
        accepts = ",".join(accepts)
    if not isinstance(accepts, str):
        raise ApiError(422, "Invalid input", "`accepts` lists credential kinds.")
    try:
        app, api_key = applications.register_application(system(), actor().name, name, accepts)
    except applications.AppError as exc:
        raise ApiError(422, "Invalid input", str(exc)) from None
    return jsonify({**_app_view(app), "api_key": api_key}), 201


@bp.post("/apps/<name>/deactivate")
@authenticated("admin")
def deactivate_app(name: str) -> Any:
    """Refuse the application's API key from now on (every web process within seconds)."""
    try:
        app = applications.deactivate_application(system(), actor().name, name)
    except applications.AppError as exc:
        raise ApiError(404, "Not found", str(exc)) from None
    return jsonify(_app_view(app))


def _app_view(app: applications.Application) -> dict[str, Any]:
    return {
        "name": app.name,
        "accepts": list(app.kinds),
        "active": app.active,
        "created_at": app.created_at.isoformat(),
    }
