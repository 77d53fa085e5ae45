"""Importing a vendor's PSKC seed file (RFC 6030) into the token inventory.

A seed file is all or nothing: any key that cannot be read, decrypted, authenticated or
used refuses the whole file with one human sentence, so an operator never ends up with
half a batch in stock. The XML is screened (size, DOCTYPE and entities, encryption
algorithms) before python-pskc sees it, because python-pskc parses with lxml, which
expands entities, and names an unknown algorithm only as a failed decryption.

A vendor's `<TimeDrift>` (in time steps, negative when the token's clock is slow) is
kept as the token's learnt drift: a token that has drifted two hours at 60 s steps would
otherwise fall outside every window and never register.
"""

from __future__ import annotations

import io
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError

from cryptography.utils import CryptographyDeprecationWarning
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring
from pskc import PSKC
from pskc.exceptions import DecryptionError, KeyDerivationError, PSKCError
from pskc.key import Key
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.tokens.models import HardwareToken
from domain.tokens.seed_crypto import seal

MAX_PSKC_BYTES = 5 * 1024 * 1024
# RFC 4226 section 4 (R6): the shared secret MUST be at least 128 bits.
MIN_SECRET_BYTES = 16
MAX_SERIAL_CHARS = 64
DEFAULT_TOTP_PERIOD = 30
# A file may name any PBKDF2 cost; these bounds stop one upload from pinning a CPU
# or exhausting memory while still allowing far more than vendors use.
MAX_PBKDF2_ITERATIONS = 10_000_000
MAX_DERIVED_KEY_BYTES = 64
SUPPORTED_DIGITS = (6, 8)
# Far beyond any vendor's measured drift (two months at 60 s), and within the column.
MAX_TIME_DRIFT_STEPS = 100_000
# The encryptions python-pskc decrypts, by the fragment of their URI (xmlenc, xmlenc11
# and xmldsig-more spell the same names).
SUPPORTED_ENCRYPTIONS = (
    "aes128-cbc",
    "aes192-cbc",
    "aes256-cbc",
    "kw-aes128",
    "kw-aes192",
    "kw-aes256",
    "tripledes-cbc",
    "kw-tripledes",
    "camellia128-cbc",
    "camellia192-cbc",
    "camellia256-cbc",
    "kw-camellia128",
    "kw-camellia192",
    "kw-camellia256",
)

_PSKC_NS = "{urn:ietf:params:xml:ns:keyprov:pskc}"
_XENC_NS = "{http://www.w3.org/2001/04/xmlenc#}"
_KINDS = {
    "urn:ietf:params:xml:ns:keyprov:pskc:hotp": "hotp",
    "urn:ietf:params:xml:ns:keyprov:pskc#hotp": "hotp",
    "urn:ietf:params:xml:ns:keyprov:pskc:totp": "totp",
    "urn:ietf:params:xml:ns:keyprov:pskc#totp": "totp",
}
_HASHES = ("SHA1", "SHA256", "SHA512")
# Stays under every backend's limit on bound parameters in one IN (...) query.
_LOOKUP_CHUNK = 500


class PskcImportError(Exception):
    """The seed file was refused as a whole; the message says why in one line."""


@dataclass(frozen=True)
class TokenSeed:
    """One token read from a seed file. The secret stays out of repr and logs."""

    serial: str
    kind: str
    algorithm: str
    digits: int
    period: int | None
    counter: int
    secret: bytes = field(repr=False)
    drift_steps: int = 0  # TOTP: the vendor's measured drift of the token's clock


def read_pskc(
    data: bytes,
    psk: bytes | None = None,
    password: str | None = None,
    iv: bytes | None = None,
) -> list[TokenSeed]:
    """Every token in the PSKC document `data`, or `PskcImportError` for the whole file.

    An encrypted file needs its pre-shared key (`psk`, raw bytes) or its password; a
    CBC file whose values do not start with their IV (`aes128-cbc-noiv`) also needs the
    IV the vendor gave separately.
    """
    if psk is not None and password is not None:
        raise ValueError("give the pre-shared key or the password, not both")
    _screen_xml(data)
    with _legacy_ciphers_quiet():
        try:
            container = PSKC(io.BytesIO(data))
        except (PSKCError, ValueError) as exc:
            raise PskcImportError(f"the file is not a readable PSKC document ({exc})") from None
        _unlock(container, psk, password)
        if iv is not None:
            container.encryption.iv = iv
        if not container.keys:
            raise PskcImportError("the file holds no keys")
        seeds = [
            _seed_from(key, position, iv is not None)
            for position, key in enumerate(container.keys, 1)
        ]
    repeated = _first_repeated(seed.serial for seed in seeds)
    if repeated:
        raise PskcImportError(f"serial {repeated} appears more than once in the file")
    return seeds


def import_tokens(
    session: Session, seeds: list[TokenSeed], seed_key: bytes, batch: str
) -> list[str]:
    """Add `seeds` to the inventory as available tokens, secrets sealed; their serials.

    Refuses the whole batch if any serial is already known, so re-importing a file (or
    two vendor files that overlap) changes nothing. Flushes but does not commit: the
    caller's unit of work decides.
    """
    serials = [seed.serial for seed in seeds]
    repeated = _first_repeated(serials)
    if repeated:
        raise PskcImportError(f"serial {repeated} appears more than once in the batch")
    known = _known_serials(session, serials)
    if known:
        raise PskcImportError(
            f"{len(known)} serial(s) already in the inventory, e.g. {', '.join(known[:3])};"
            " nothing was imported"
        )
    session.add_all(
        HardwareToken(
            serial=seed.serial,
            kind=seed.kind,
            algorithm=seed.algorithm,
            digits=seed.digits,
            period=seed.period,
            counter=seed.counter,
            drift_steps=seed.drift_steps,
            sealed_secret=seal(seed_key, seed.secret, seed.serial),
            status="available",
            batch=batch,
        )
        for seed in seeds
    )
    try:
        session.flush()
    except IntegrityError:
        # Another import added one of these serials since we looked.
        raise PskcImportError(
            "a serial in this batch was imported concurrently; nothing was imported"
        ) from None
    return serials


def _first_repeated(serials: Iterable[str]) -> str | None:
    repeated = sorted(serial for serial, n in Counter(serials).items() if n > 1)
    return repeated[0] if repeated else None


def _known_serials(session: Session, serials: list[str]) -> list[str]:
    known: list[str] = []
    for start in range(0, len(serials), _LOOKUP_CHUNK):
        chunk = serials[start : start + _LOOKUP_CHUNK]
        query = select(HardwareToken.serial).where(HardwareToken.serial.in_(chunk))
        known.extend(session.scalars(query))
    return sorted(known)


def _screen_xml(data: bytes) -> None:
    """Refuse what python-pskc should never parse: huge, DTD-bearing or non-PSKC input."""
    if len(data) > MAX_PSKC_BYTES:
        raise PskcImportError(f"the file is larger than {MAX_PSKC_BYTES // (1024 * 1024)} MB")
    try:
        root = defused_fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise PskcImportError(
            "the file declares a DOCTYPE or entities, which are refused"
        ) from None
    except (ParseError, LookupError):  # LookupError: an unknown declared encoding
        raise PskcImportError("the file is not well-formed XML") from None
    if root.tag != f"{_PSKC_NS}KeyContainer":
        raise PskcImportError("the file is not a PSKC KeyContainer (RFC 6030)")
    unsupported = sorted(
        {
            method.get("Algorithm", "")
            for method in root.iter(f"{_XENC_NS}EncryptionMethod")
            if method.get("Algorithm", "").rpartition("#")[2] not in SUPPORTED_ENCRYPTIONS
        }
    )
    if unsupported:
        raise PskcImportError(
            f"the file is encrypted with {', '.join(repr(a) for a in unsupported)}, which is "
            f"not supported (supported: {', '.join(SUPPORTED_ENCRYPTIONS)})"
        )
    for secret in root.iter(f"{_PSKC_NS}Secret"):
        if _cbc_encrypted(secret) and secret.find(f"{_PSKC_NS}ValueMAC") is None:
            # CBC has no integrity of its own; RFC 6030 section 6.1.1 requires the MAC.
            raise PskcImportError("an encrypted secret has no MAC, so it cannot be trusted")


def _cbc_encrypted(secret: Element) -> bool:
    method = secret.find(f"{_PSKC_NS}EncryptedValue/{_XENC_NS}EncryptionMethod")
    return method is not None and "cbc" in method.get("Algorithm", "").lower()


@contextmanager
def _legacy_ciphers_quiet() -> Iterator[None]:
    """python-pskc reaches 3DES and Camellia where `cryptography` now warns that they
    moved to its `decrepit` module; an operator importing a vendor's file should see the
    result, not those lines. Only that warning, only around python-pskc."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        yield


def _unlock(container: PSKC, psk: bytes | None, password: str | None) -> None:
    if psk is not None:
        container.encryption.key = psk
    elif password is not None:
        derivation = container.encryption.derivation
        iterations = derivation.pbkdf2_iterations or 0
        key_length = derivation.pbkdf2_key_length or 0
        if iterations > MAX_PBKDF2_ITERATIONS or key_length > MAX_DERIVED_KEY_BYTES:
            raise PskcImportError("the file's PBKDF2 parameters are out of bounds")
        try:
            container.encryption.derive_key(password)
        except KeyDerivationError as exc:
            raise PskcImportError(f"cannot derive the key from the password ({exc})") from None
    elif container.encryption.is_encrypted:
        raise PskcImportError("the file is encrypted: give its pre-shared key or password")


def _seed_from(key: Key, position: int, iv_given: bool) -> TokenSeed:
    """A validated `TokenSeed` for one key, or `PskcImportError` naming the key."""
    serial = str(key.serial or key.id or "").strip()
    label = f"serial {serial}" if serial else f"key {position}"
    try:
        secret, counter, interval = key.secret, key.counter, key.time_interval
        drift = key.time_drift
    except DecryptionError as exc:
        algorithm = key.device.pskc.encryption.algorithm
        raise PskcImportError(_decryption_message(label, exc, algorithm, iv_given)) from None
    except PSKCError as exc:
        raise PskcImportError(f"{label}: cannot read its data ({exc})") from None
    except ValueError as exc:  # from `cryptography`: an IV of the wrong size
        raise PskcImportError(f"{label}: cannot decrypt the secret ({exc})") from None

    def refuse(reason: str) -> PskcImportError:
        return PskcImportError(f"{label}: {reason}")

    if not serial:
        raise refuse("no serial number (DeviceInfo/SerialNo or Key Id)")
    if len(serial) > MAX_SERIAL_CHARS:
        raise refuse(f"the serial is longer than {MAX_SERIAL_CHARS} characters")
    if not secret:
        raise refuse("no secret")
    if len(secret) < MIN_SECRET_BYTES:
        raise refuse(f"the secret is shorter than {MIN_SECRET_BYTES * 8} bits")
    kind = _KINDS.get((key.algorithm or "").strip())
    if kind is None:
        raise refuse(f"unsupported algorithm {key.algorithm!r} (HOTP or TOTP only)")
    algorithm = _hash_of(key.algorithm_suite)
    if algorithm is None:
        raise refuse(f"unsupported hash {key.algorithm_suite!r} (SHA1, SHA256 or SHA512 only)")
    if key.response_length not in SUPPORTED_DIGITS:
        raise refuse(f"{key.response_length} digits (6 or 8 only)")
    if (key.response_encoding or "DECIMAL").upper() != "DECIMAL":
        raise refuse(f"{key.response_encoding} codes (decimal only)")
    if counter is not None and counter < 0:
        raise refuse("a negative counter")
    period = None
    if kind == "totp":
        period = DEFAULT_TOTP_PERIOD if interval is None else interval
        if period <= 0:
            raise refuse("a time interval that is not positive")
        if drift is not None and abs(drift) > MAX_TIME_DRIFT_STEPS:
            raise refuse(f"a time drift beyond {MAX_TIME_DRIFT_STEPS} steps")
    return TokenSeed(
        serial=serial,
        kind=kind,
        algorithm=algorithm,
        digits=key.response_length,
        period=period,
        counter=(counter or 0) if kind == "hotp" else 0,
        secret=secret,
        drift_steps=(drift or 0) if kind == "totp" else 0,
    )


def _hash_of(suite: str | None) -> str | None:
    """'SHA256' from suites written 'HMAC-SHA256', 'SHA-256' or 'sha256'; SHA1 if absent."""
    if not suite or not suite.strip():
        return "SHA1"
    name = suite.strip().upper().removeprefix("HMAC-").replace("-", "")
    return name if name in _HASHES else None


def _decryption_message(
    label: str, exc: DecryptionError, algorithm: str | None, iv_given: bool
) -> str:
    name = (algorithm or "").rpartition("#")[2]
    if "MAC" in str(exc):
        noiv = ""
        if name.endswith("-cbc") and not iv_given:
            # Such a file names plain CBC: only the failed MAC shows the IV is elsewhere.
            noiv = f", or its values are {name}-noiv, whose IV the vendor gives separately"
        return f"{label}: the MAC check failed (the file was altered, the key is wrong{noiv})"
    return f"{label}: cannot decrypt the secret (wrong pre-shared key or password?)"
