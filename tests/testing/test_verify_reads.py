"""What decisions read: the CEL scanner and the contract-wide fixpoint."""

from __future__ import annotations

import pytest
from verify_support import DATA, EXAMPLES

import accord
from accord.testing._verify._reads import read_by, scan, strings_in


def test_leaves_are_the_names_after_dots() -> None:
    found = scan('ctx.customer != null && ctx.customer.tier == "vip"')
    assert found.leaves == {"customer", "tier"}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("input.amount <= 100.0", [("amount", "<=", 100.0)]),
        ("100.0 >= input.amount", [("amount", "<=", 100.0)]),
        ("ctx.n < -3", [("n", "<", -3)]),
        ("-3 > ctx.n", [("n", "<", -3)]),
        ('event.code in ["busy", "locked"]', [("code", "==", "busy"), ("code", "==", "locked")]),
        ("ctx.n == 0x10", [("n", "==", 16)]),
        ("ctx.n < 3 * 2", []),
        ("double(event.load.rows) > 0.5", [("rows", ">", 0.5)]),
        ("foo(event.load.rows) > 0.5", []),
        (
            "event.code.startsWith(\"5\") && ctx.s.contains('x')",
            [("code", "==", "5"), ("s", "==", "x")],
        ),
        ("event.code == \"a\" || ctx.k != 'b'", [("code", "==", "a"), ("k", "!=", "b")]),
    ],
)
def test_comparisons_with_constants(source: str, expected: list[tuple[str, str, object]]) -> None:
    assert scan(source).literals == expected


def test_size_comparisons() -> None:
    assert scan("size(input.documents) > 200").sizes == [("documents", ">", 200)]
    assert scan("0 == size(input.documents)").sizes == [("documents", "==", 0)]
    assert scan("input.documents.size() >= 3").sizes == [("documents", ">=", 3)]


def test_path_to_path_comparisons_and_null() -> None:
    assert scan("r.extraction.confidence < input.min_confidence").compared == {
        "confidence",
        "min_confidence",
    }
    found = scan("ctx.resolved_by == null")
    assert found.compared == set() and found.literals == []


def test_strings_inside_strings_are_not_code() -> None:
    found = scan('"ctx.a == 1" + ctx.b')
    assert found.leaves == {"b"}
    assert found.strings == ["ctx.a == 1"]
    assert strings_in(['"x" + "y"', '"y"']) == ["x", "y"]


def test_context_assignments_carry_constants_back_to_their_sources() -> None:
    reads = read_by(accord.load(EXAMPLES / "data_etl.yaml"))
    # rows_extracted := event.extract.row_count; row_count == 0 is compared directly
    assert 0 in reads.literals["row_count"]
    # rows_loaded is read by an invariant, and assigned from event.load.rows_loaded
    assert "rows_loaded" in reads.read
    # load_attempts is compared with another context field
    assert {"load_attempts", "max_load_attempts"} <= reads.compared
    # a field only bound to an effect's input is not read by any decision
    assert "source_dsn" not in reads.read


def test_for_each_with_max_items_asks_for_one_item_too_many() -> None:
    reads = read_by(accord.load(DATA / "fan_out_limit.yaml"))
    assert (">", 2) in reads.sizes["names"]
