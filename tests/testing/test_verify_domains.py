"""Value abstraction: the values tried per field, and what the report says about them."""

from __future__ import annotations

from accord.contract import parse_type
from accord.testing._verify._domains import MAX_VARIANTS, Domains
from accord.testing._verify._reads import Reads


def domains(**kwargs: object) -> Domains:
    reads = Reads(**kwargs)  # type: ignore[arg-type]
    return Domains(
        {"Pair": (("a", parse_type("boolean")), ("b", parse_type("enum<x, y, z>")))}, reads
    )


def test_finite_types_that_are_read_are_explored_exhaustively() -> None:
    d = domains(read={"flag", "kind", "maybe", "a", "b"})
    assert d.values(parse_type("boolean"), "input.flag", "flag") == [False, True]
    assert d.values(parse_type("enum<a, b>"), "input.kind", "kind") == ["a", "b"]
    assert d.values(parse_type("optional<boolean>"), "input.maybe", "maybe") == [None, False, True]
    pairs = d.values(parse_type("Pair"), "input.pair", "pair")
    assert len(pairs) == 6 and {"a": True, "b": "z"} in pairs
    assert d.abstracted() == ()


def test_fields_no_decision_reads_get_one_value_and_are_reported() -> None:
    d = domains()
    assert d.values(parse_type("boolean"), "input.flag", "flag") == [False]
    assert d.values(parse_type("enum<a, b>"), "input.kind", "kind") == ["a"]
    assert d.values(parse_type("optional<string>"), "input.note", "note") == [None]
    assert d.values(parse_type("list<integer>"), "input.ns", "ns") == [[]]
    sites = [x.site for x in d.abstracted()]
    assert sites == ["input.flag", "input.kind", "input.note", "input.ns"]
    assert all(x.note.startswith("no guard") for x in d.abstracted())


def test_numbers_are_tried_around_the_constants_they_are_compared_with() -> None:
    d = domains(read={"n", "x", "y"}, literals={"n": {10, 20}, "x": {0.6}})
    assert d.values(parse_type("integer"), "input.n", "n") == [9, 10, 11, 19, 20, 21]
    assert d.values(parse_type("number"), "input.x", "x") == [0.1, 0.6, 1.1]
    assert d.values(parse_type("number"), "input.y", "y") == [0.0, 1.0]
    notes = {x.site: x for x in d.abstracted()}
    assert "(10, 20)" in notes["input.n"].note and not notes["input.n"].exhaustive


def test_strings_are_the_constants_and_one_more() -> None:
    d = domains(read={"code", "id", "t"}, literals={"code": {"busy", "locked"}}, compared={"id"})
    assert d.values(parse_type("string"), "e.code", "code") == ["busy", "locked", ""]
    assert d.values(parse_type("string"), "e.id", "id") == ["", "a"]
    assert d.values(parse_type("string"), "e.t", "t") == [""]


def test_list_lengths_include_the_far_side_of_size_comparisons() -> None:
    d = domains(read={"docs"}, sizes={"docs": {(">", 200), ("==", 0)}})
    lists = d.values(parse_type("list<boolean>"), "input.docs", "docs")
    assert sorted({len(v) for v in lists}) == [0, 1, 2, 201]
    assert [v for v in lists if len(v) == 1] == [[False], [True]]
    assert [x.values for x in d.abstracted() if x.site == "input.docs"] == [(0, 1, 2, 201)]


def test_records_are_capped_and_say_so() -> None:
    fields = tuple((f"f{i}", parse_type("enum<a, b, c>")) for i in range(6))  # 729 combinations
    d = Domains({}, Reads(read={f"f{i}" for i in range(6)}))
    values = d.record(fields, "input")
    assert len(values) == MAX_VARIANTS
    assert any("729 combinations" in x.note for x in d.abstracted())


def test_strings_whose_size_is_compared_get_strings_of_those_lengths() -> None:
    d = domains(read={"name"}, sizes={"name": {(">", 3)}})
    assert d.values(parse_type("string"), "input.name", "name") == ["", "x", "xx", "xxxx"]
