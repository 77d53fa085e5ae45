"""PSKC seed files (RFC 6030): what is read, and every way a whole file is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from domain.tokens.models import HardwareToken
from domain.tokens.pskc_import import (
    MAX_PSKC_BYTES,
    PskcImportError,
    TokenSeed,
    import_tokens,
    read_pskc,
)
from domain.tokens.seed_crypto import open_sealed
from tests.unit.builders import SECRET_20, document, key_package

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pskc"
RFC_SECRET = bytes.fromhex("3132333435363738393031323334353637383930")  # "1234...890"
RFC_PSK = bytes.fromhex("12345678901234567890123456789012")
SEED_KEY = bytes(range(32))
HOTP_URN = "urn:ietf:params:xml:ns:keyprov:pskc:hotp"


def figure(number: int) -> bytes:
    return (FIXTURES / f"rfc6030_figure{number}.pskcxml").read_bytes()


def seed(serial: str, secret: bytes = SECRET_20) -> TokenSeed:
    return TokenSeed(serial, "totp", "SHA1", 6, 30, 0, secret)


def test_rfc6030_figure3_plain_file_gives_its_hotp_token():
    assert read_pskc(figure(3)) == [
        TokenSeed("987654321", "hotp", "SHA1", 8, None, 0, b"12345678901234567890")
    ]


def test_rfc6030_figure6_decrypts_with_the_pre_shared_key_and_checks_the_mac():
    [token] = read_pskc(figure(6), psk=RFC_PSK)
    assert token.serial == "987654321"
    assert token.secret == RFC_SECRET
    assert (token.kind, token.digits, token.counter) == ("hotp", 8, 0)


def test_rfc6030_figure7_decrypts_with_the_password():
    [token] = read_pskc(figure(7), password="qwerty")
    assert token.serial == "987654321"
    assert token.secret == RFC_SECRET


def test_encrypted_file_without_key_or_password_is_refused():
    with pytest.raises(PskcImportError, match="encrypted"):
        read_pskc(figure(6))


@pytest.mark.parametrize("psk", [bytes(16), RFC_PSK[:-1] + b"\x00", bytes(15)])
def test_encrypted_file_with_a_wrong_pre_shared_key_is_refused(psk):
    with pytest.raises(PskcImportError, match="987654321"):
        read_pskc(figure(6), psk=psk)


def test_encrypted_file_with_a_wrong_password_is_refused():
    with pytest.raises(PskcImportError, match="987654321"):
        read_pskc(figure(7), password="azerty")


@pytest.mark.parametrize(
    ("original", "replacement"),
    [
        (b"<IterationCount>1000<", b"<IterationCount>1000000000<"),
        (b"<KeyLength>16<", b"<KeyLength>100000000<"),
    ],
)
def test_password_file_with_an_unbounded_pbkdf2_cost_is_refused(original, replacement):
    with pytest.raises(PskcImportError, match="PBKDF2 parameters are out of bounds"):
        read_pskc(figure(7).replace(original, replacement), password="qwerty")


def test_file_with_a_tampered_mac_is_refused():
    tampered = figure(6).replace(b"Su+NvtQfmvfJzF6bmQiJqoLRExc=", b"Tu+NvtQfmvfJzF6bmQiJqoLRExc=")
    with pytest.raises(PskcImportError, match="MAC check failed"):
        read_pskc(tampered, psk=RFC_PSK)


def test_file_with_a_tampered_ciphertext_is_refused():
    tampered = figure(6).replace(b"AAECAwQFBgcICQoLDA0OD+cI", b"AAECAwQFBgcICQoLDA0OD+cJ")
    with pytest.raises(PskcImportError):
        read_pskc(tampered, psk=RFC_PSK)


def test_cbc_encrypted_secret_without_a_mac_is_refused():
    stripped = figure(6).replace(b"<ValueMAC>Su+NvtQfmvfJzF6bmQiJqoLRExc=\n", b"<!--")
    stripped = stripped.replace(b"</ValueMAC>", b"-->")
    with pytest.raises(PskcImportError, match="no MAC"):
        read_pskc(stripped, psk=RFC_PSK)


def test_token_seed_repr_never_shows_the_secret():
    [token] = read_pskc(figure(3))
    assert "secret" not in repr(token)
    assert "1234567890" not in repr(token)


def test_totp_key_without_time_interval_gets_a_30_second_period():
    [token] = read_pskc(document(key_package()))
    assert (token.kind, token.period, token.counter) == ("totp", 30, 0)


def test_totp_key_keeps_its_60_second_period_8_digits_and_sha256_suite():
    package = key_package(interval=60, digits="8", suite="HMAC-SHA256")
    [token] = read_pskc(document(package))
    assert (token.period, token.digits, token.algorithm) == (60, 8, "SHA256")


def test_hotp_key_keeps_its_counter_and_has_no_period():
    [token] = read_pskc(document(key_package(algorithm=HOTP_URN, counter=42, suite="SHA-512")))
    assert (token.kind, token.counter, token.period, token.algorithm) == (
        "hotp",
        42,
        None,
        "SHA512",
    )


def test_key_id_serves_as_serial_when_the_device_has_no_serial_number():
    [token] = read_pskc(document(key_package(serial=None, key_id="KID-7")))
    assert token.serial == "KID-7"


@pytest.mark.parametrize(
    ("package", "reason"),
    [
        (key_package(secret=None), "no secret"),
        (key_package(secret=b"\x01" * 10), "shorter than 128 bits"),
        (key_package(serial=None), "no serial"),
        (key_package(serial="X" * 65), "longer than 64"),
        (key_package(algorithm="urn:ietf:params:xml:ns:keyprov:pskc:pin"), "unsupported algorithm"),
        (key_package(suite="HMAC-MD5"), "unsupported hash"),
        (key_package(digits="7"), "7 digits"),
        (key_package(digits=None), "None digits"),
        (key_package(interval=0), "not positive"),
    ],
)
def test_one_unusable_key_refuses_the_whole_file(package, reason):
    with pytest.raises(PskcImportError, match=reason):
        read_pskc(document(key_package(serial="TF-GOOD"), package))


def test_duplicate_serial_inside_the_file_refuses_the_whole_file():
    with pytest.raises(PskcImportError, match="TF-0001 appears more than once"):
        read_pskc(document(key_package(), key_package(secret=b"\x02" * 20)))


def test_file_without_keys_is_refused():
    with pytest.raises(PskcImportError, match="no keys"):
        read_pskc(document())


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not xml at all", "not well-formed XML"),
        (b'<?xml version="1.0" encoding="UTF-9"?><a/>', "not well-formed XML"),
        (b"<html><body/></html>", "not a PSKC KeyContainer"),
        (b"<KeyContainer Version='1.0'/>", "not a PSKC KeyContainer"),
        (
            b'<KeyContainer Version="2.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"/>',
            "not a readable PSKC document",
        ),
    ],
)
def test_file_that_is_not_pskc_is_refused(data, reason):
    with pytest.raises(PskcImportError, match=reason):
        read_pskc(data)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE KeyContainer [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">&lol3;</KeyContainer>
"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE KeyContainer [<!ENTITY serial SYSTEM "file:///etc/passwd">]>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">&serial;</KeyContainer>
"""
BARE_DOCTYPE = b"""<?xml version="1.0"?>
<!DOCTYPE KeyContainer>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"/>
"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY, BARE_DOCTYPE])
def test_file_with_a_doctype_or_entities_is_refused_before_parsing(data):
    with pytest.raises(PskcImportError, match="DOCTYPE or entities"):
        read_pskc(data)


def test_file_larger_than_5_mb_is_refused():
    padding = b"<!--" + b" " * MAX_PSKC_BYTES + b"-->"
    with pytest.raises(PskcImportError, match="larger than 5 MB"):
        read_pskc(document(key_package()) + padding)


def test_pre_shared_key_and_password_together_are_a_programming_error():
    with pytest.raises(ValueError, match="not both"):
        read_pskc(figure(6), psk=RFC_PSK, password="qwerty")


def test_imported_tokens_are_available_with_secrets_sealed_to_their_serial(session):
    seeds = read_pskc(document(key_package("TF-1", interval=60), key_package("TF-2")))
    assert import_tokens(session, seeds, SEED_KEY, batch="2024-05 vendor") == ["TF-1", "TF-2"]
    rows = session.scalars(select(HardwareToken).order_by(HardwareToken.serial)).all()
    assert [(r.serial, r.status, r.period, r.batch) for r in rows] == [
        ("TF-1", "available", 60, "2024-05 vendor"),
        ("TF-2", "available", 30, "2024-05 vendor"),
    ]
    for row in rows:
        assert SECRET_20 not in row.sealed_secret
        assert open_sealed(SEED_KEY, row.sealed_secret, row.serial) == SECRET_20
        assert "sealed" not in repr(row)


def test_import_does_not_commit_so_the_caller_owns_the_transaction(session):
    import_tokens(session, [seed("TF-1")], SEED_KEY, batch="b1")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(HardwareToken)) == 0


def test_batch_with_a_serial_already_in_the_inventory_is_refused_and_inserts_nothing(session):
    import_tokens(session, [seed("TF-1")], SEED_KEY, batch="b1")
    session.commit()
    with pytest.raises(PskcImportError, match="TF-1"):
        import_tokens(session, [seed("TF-0"), seed("TF-1"), seed("TF-2")], SEED_KEY, batch="b2")
    session.commit()
    assert session.scalars(select(HardwareToken.serial)).all() == ["TF-1"]


def test_batch_repeating_a_serial_is_refused_and_inserts_nothing(session):
    with pytest.raises(PskcImportError, match="TF-1 appears more than once"):
        import_tokens(session, [seed("TF-1"), seed("TF-1")], SEED_KEY, batch="b1")
    assert session.scalar(select(func.count()).select_from(HardwareToken)) == 0


@pytest.mark.parametrize("encoding", ["UTF-16", "UTF-16LE", "ISO-8859-1"])
def test_a_file_is_read_in_the_encoding_it_declares(encoding):
    text = figure(3).decode().replace("987654321", "98765ÄÖ21")
    data = text.replace('encoding="UTF-8"', f'encoding="{encoding}"').encode(encoding)
    [token] = read_pskc(data)
    assert token.serial == "98765ÄÖ21"


@pytest.mark.parametrize("encoding", ["UTF-16", "UTF-16LE", "ISO-8859-1"])
def test_a_doctype_is_refused_whatever_the_encoding(encoding):
    text = (
        figure(3)
        .decode()
        .replace(
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<?xml version="1.0" encoding="{encoding}"?><!DOCTYPE KeyContainer [<!ENTITY s "x">]>',
        )
    )
    with pytest.raises(PskcImportError, match="DOCTYPE"):
        read_pskc(text.encode(encoding))
