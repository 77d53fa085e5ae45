from __future__ import annotations

import re

import pytest

from domain.crockford import ALPHABET
from domain.license_keys.keys import derive_key, format_key, key_hash, normalize

SEED_KEY = bytes(range(32))
KEY_SHAPE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}")


def test_the_alphabet_is_crockfords_base32_without_i_l_o_u():
    assert len(ALPHABET) == 32 == len(set(ALPHABET))
    assert not set("ILOU") & set(ALPHABET)


def test_a_derived_key_is_four_groups_of_four_crockford_characters():
    for sequence in range(1, 50):
        key = derive_key(SEED_KEY, "instance-1", "SO-10001", sequence)
        assert KEY_SHAPE.fullmatch(key), key


def test_a_key_is_the_same_each_time_it_is_derived_and_differs_per_order_and_sequence():
    first = derive_key(SEED_KEY, "instance-1", "SO-10001", 1)
    assert derive_key(SEED_KEY, "instance-1", "SO-10001", 1) == first
    others = {
        derive_key(SEED_KEY, "instance-1", "SO-10001", 2),
        derive_key(SEED_KEY, "instance-2", "SO-10001", 1),
        derive_key(SEED_KEY, "instance-1", "SO-10002", 1),
        derive_key(bytes(32), "instance-1", "SO-10001", 1),
    }
    assert first not in others and len(others) == 4


@pytest.mark.parametrize(
    "typed",
    [
        "7QK2-M9XD-4TRA-B1CZ",
        "7qk2-m9xd-4tra-b1cz",
        "7QK2M9XD4TRAB1CZ",
        " 7QK2 M9XD 4TRA B1CZ ",
        "7QK2--M9XD - 4TRA-B1CZ",
        "7QK2-M9XD-4TRA-BICZ",  # I read as 1
        "7QK2-M9XD-4TRA-BlCZ",  # l read as 1
    ],
)
def test_entry_ignores_case_spaces_and_dashes_and_reads_aliases(typed):
    assert normalize(typed) == "7QK2M9XD4TRAB1CZ"


def test_the_letter_o_is_read_as_zero():
    assert normalize("OOOO-0000-OOOO-0000") == "0" * 16


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "7QK2-M9XD-4TRA",
        "7QK2-M9XD-4TRA-B1CZ-0000",
        "7QK2-M9XD-4TRA-B1CU",
        "7QK2-M9XD-4TRA-B1C!",
        None,
        42,
    ],
)
def test_anything_but_sixteen_alphabet_characters_is_no_key(typed):
    assert normalize(typed) is None


def test_format_key_groups_sixteen_characters_by_four():
    assert format_key("7QK2M9XD4TRAB1CZ") == "7QK2-M9XD-4TRA-B1CZ"


def test_the_stored_hash_depends_on_the_server_key_and_never_contains_the_key():
    compact = "7QK2M9XD4TRAB1CZ"
    digest = key_hash(SEED_KEY, compact)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert key_hash(bytes(32), compact) != digest
    assert compact.lower() not in digest
