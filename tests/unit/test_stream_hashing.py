"""The shard arithmetic of Kinesis streams: hash keys, even ranges, ids, sequence numbers."""

from __future__ import annotations

import hashlib

import pytest

from engine.services.streams import hashing


def test_hash_key_is_md5_of_the_partition_key_as_a_128_bit_integer() -> None:
    assert hashing.hash_key("a") == int(hashlib.md5(b"a").hexdigest(), 16)
    assert hashing.hash_key("é") == int(hashlib.md5("é".encode()).hexdigest(), 16)
    assert 0 <= hashing.hash_key("anything") <= 2**128 - 1


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7, 100, 500])
def test_even_ranges_cover_the_key_space_exactly_without_overlap(count: int) -> None:
    ranges = hashing.even_ranges(count)
    assert len(ranges) == count
    assert ranges[0][0] == 0
    assert ranges[-1][1] == 2**128 - 1
    for (_, end), (start, _) in zip(ranges, ranges[1:], strict=False):
        assert start == end + 1
    sizes = [end - start + 1 for start, end in ranges]
    assert max(sizes) - min(sizes) <= 1


def test_two_shards_split_at_two_to_the_127th() -> None:
    assert hashing.even_ranges(2) == [(0, 2**127 - 1), (2**127, 2**128 - 1)]


def test_owner_finds_the_shard_holding_a_key() -> None:
    shards = [
        {"shard_index": i, "starting_hash_key": str(lo), "ending_hash_key": str(hi)}
        for i, (lo, hi) in enumerate(hashing.even_ranges(4))
    ]
    assert hashing.owner(shards, 0) is shards[0]
    assert hashing.owner(shards, 2**128 - 1) is shards[3]
    assert hashing.owner(shards, 2**126) is shards[1]
    assert hashing.owner(shards, 2**126 - 1) is shards[0]


def test_shard_ids_round_trip() -> None:
    assert hashing.shard_id(0) == "shardId-000000000000"
    assert hashing.shard_id(12) == "shardId-000000000012"
    assert hashing.shard_index("shardId-000000000012") == 12
    assert hashing.shard_index("shardId-12") is None
    assert hashing.shard_index(12) is None


def test_sequence_numbers_are_56_digits_and_compare_as_numbers() -> None:
    numbers = [hashing.sequence_number(i, p) for i in (0, 1, 2) for p in (0, 1, 9, 10, 10**12)]
    assert all(len(n) == 56 and n.isdigit() and not n.startswith("0") for n in numbers)
    assert len(set(numbers)) == len(numbers)  # unique across shards
    assert sorted(numbers, key=int) == numbers  # numeric order is (shard, position) order
    assert sorted(numbers) == numbers  # and string order agrees
    # A child shard (higher index) numbers above everything of its parent.
    assert int(hashing.sequence_number(3, 1)) > int(hashing.sequence_number(2, 10**20))


def test_sequence_numbers_parse_back() -> None:
    assert hashing.parse_sequence_number(hashing.sequence_number(7, 12345)) == (7, 12345)
    assert hashing.parse_sequence_number("123") is None
    assert hashing.parse_sequence_number("5" * 56) is None
    assert hashing.parse_sequence_number(None) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("1", 1),
        (str(2**128 - 1), 2**128 - 1),
        (str(2**128), None),
        ("01", None),
        ("-1", None),
        ("x", None),
        ("", None),
    ],
)
def test_hash_key_strings(text: str, value: int | None) -> None:
    assert hashing.parse_hash_key(text) == value
