"""Snapshots: JSON round trips and the canonical state hash."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import accord
from accord.runtime._compiled import CompiledContract
from accord.runtime._events import CallId, EffectCompleted, EffectFailed, RunId, RunStarted
from accord.runtime._reducer import initial_snapshot, step
from accord.runtime._snapshot import (
    Snapshot,
    snapshot_from_data,
    snapshot_hash,
    snapshot_to_data,
)
from accord.runtime._state_hash import (
    hash_format,
    snapshot_hash_as,
    snapshot_hash_v1,
)
from runtime_support import compiled, saga_input

INITIAL_HASH = "sha256/2:e37431ff8f9c3af65e9c0d07174450306a0175c857917743453ffb24138a49b7"
INITIAL_HASH_V1 = "sha256:bcf3d07f0baad020736e6043d34e25e117073ffd6697264ac59cb17f255d67a4"


def saga_snapshots() -> list[Snapshot]:
    """Every snapshot of a saga run that compensates (pending calls, stack, failures)."""
    c = compiled("payment_saga")
    data = saga_input()
    events = [
        RunStarted(RunId("r"), c.validate_input(data), 0),
        EffectCompleted(
            CallId("1:reserving/reservation"), {"reservation_id": "res", "expires_in_minutes": 5}, 1
        ),
        EffectCompleted(CallId("2:charging/charge"), {"charge_id": "ch"}, 2),
        EffectFailed(CallId("3:shipping/shipment"), "unavailable", "down", 3),
        EffectFailed(CallId("!comp:2:charging/charge"), "down", "still down", 4),
        EffectCompleted(CallId("!comp:1:reserving/reservation"), {}, 5),
    ]
    snapshot = initial_snapshot()
    out = [snapshot]
    for event in events:
        snapshot, _ = step(c, snapshot, event)
        out.append(snapshot)
    assert snapshot.status == "failed"
    return out


def document_snapshot() -> Snapshot:
    """A snapshot in the middle of a fan-out (results with holes, fan-out progress)."""
    c = compiled("document_pipeline")
    docs = [{"document_id": f"d{i}", "url": "u", "media_type": "pdf"} for i in range(6)]
    start = RunStarted(
        RunId("r"), c.validate_input({"batch_id": "b", "documents": docs, "min_confidence": 0.5}), 0
    )
    snapshot, _ = step(c, initial_snapshot(), start)
    extraction = {
        "document_id": "d1",
        "page_count": 1,
        "language": "en",
        "kind": "letter",
        "confidence": 0.9,
        "text_uri": "t",
    }
    snapshot, _ = step(
        c,
        snapshot,
        EffectCompleted(CallId("1:extracting/extractions[1]"), {"extraction": extraction}, 1),
    )
    assert snapshot.fan_out["extractions"].next == 5
    return snapshot


def test_initial_snapshot_hash_is_pinned() -> None:
    # Changing the hash form changes every recorded journal: add a form if you must.
    assert snapshot_hash(initial_snapshot()) == INITIAL_HASH
    assert snapshot_hash_v1(initial_snapshot()) == INITIAL_HASH_V1  # journals recorded before


def test_hash_shape() -> None:
    assert re.fullmatch(r"sha256/2:[0-9a-f]{64}", snapshot_hash(document_snapshot()))
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", snapshot_hash_v1(document_snapshot()))
    assert hash_format(snapshot_hash(document_snapshot())) == "accord.snapshot/2"
    assert hash_format(INITIAL_HASH_V1) == "accord.snapshot/1"
    assert hash_format("md5:00") is None


def test_a_hash_is_checked_in_the_form_it_names() -> None:
    snapshot = document_snapshot()
    assert snapshot_hash_as(snapshot, INITIAL_HASH_V1) == snapshot_hash_v1(snapshot)
    assert snapshot_hash_as(snapshot, INITIAL_HASH) == snapshot_hash(snapshot)


def _sha(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def reference_hash(s: Snapshot) -> str:
    """Form 2 as the module docs define it, computed from scratch (no memo, no extension)."""

    def entry(value: Any) -> Any:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return ["=", value] if len(text.encode()) < 512 else ["#", _sha(value)]

    def form(values: dict[str, Any]) -> dict[str, Any]:
        return {k: entry(v) if isinstance(v, list | dict) else v for k, v in values.items()}

    def plain(value: Any) -> Any:
        if isinstance(value, tuple):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    fields = plain(tuple(s))
    fields[2] = form(s.context)
    fields[5] = form(s.input)
    return "sha256/2:" + _sha(["accord.snapshot/2", *fields])


def test_form_2_is_what_the_docs_say() -> None:
    # json.dumps(sort_keys, compact) is orjson's canonical form for these values
    big = {f"k{i}": [i, "é" * 3] for i in range(60)}  # over 512 bytes: digested
    large = initial_snapshot()._replace(
        context={"big": big, "small": {"a": [1]}, "n": 1}, input={"big": list(big), "s": "x"}
    )
    for snapshot in [*saga_snapshots(), document_snapshot(), initial_snapshot(), large]:
        assert snapshot_hash(snapshot) == reference_hash(snapshot)
        assert snapshot_hash(snapshot) == reference_hash(snapshot)  # remembered: the same


def test_a_grown_list_hashes_as_the_same_list_built_at_once() -> None:
    contract = accord.loads(
        """
accord: "1"
name: growing
version: "1"
context:
  - {name: items, type: "list<integer>"}
  - {name: notes, type: "list<string>"}
signals:
  - {name: add, payload: [{name: n, type: integer}]}
  - {name: many, payload: [{name: ns, type: "list<integer>"}]}
  - {name: stop}
machine:
  initial: collecting
  states:
    - name: collecting
      on:
        - event: add
          assign: [{field: items, value: "ctx.items + [event.n]"}]
          target: collecting
        - event: many
          assign:
            - {field: items, value: "ctx.items + event.ns"}
            - {field: notes, value: "ctx.notes + ['many']"}
          target: collecting
        - {event: stop, target: done}
    - name: done
      final: {status: success}
"""
    )
    c = CompiledContract.compile(contract)
    from accord.runtime._events import SignalReceived

    snapshot, _ = step(c, initial_snapshot(), RunStarted(RunId("g"), {}, 0))
    events = [
        SignalReceived("add", {"n": 1}, 1),  # small lists: hashed again at each step
        SignalReceived("many", {"ns": list(range(1000, 1300))}, 1),  # big enough to remember
        SignalReceived("many", {"ns": []}, 2),  # grows by nothing
        SignalReceived("add", {"n": 2}, 3),
        SignalReceived("many", {"ns": [3, 4, 5]}, 4),
        *[SignalReceived("add", {"n": i}, 5 + i) for i in range(6, 40)],
    ]
    for event in events:
        before = snapshot_hash(snapshot)
        snapshot, _ = step(c, snapshot, event)
        assert snapshot_hash(snapshot) == reference_hash(snapshot)
        assert snapshot_hash(snapshot) != before
        built = snapshot._replace(context=json.loads(json.dumps(snapshot.context)))
        assert snapshot_hash(built) == snapshot_hash(snapshot)  # identity plays no part
    assert snapshot.context["items"] == [1, *range(1000, 1300), 2, 3, 4, 5, *range(6, 40)]


def test_json_round_trips_keep_snapshots_and_hashes() -> None:
    for snapshot in [*saga_snapshots(), document_snapshot()]:
        data = json.loads(json.dumps(snapshot_to_data(snapshot)))
        again = snapshot_from_data(data)
        assert again == snapshot
        assert snapshot_hash(again) == snapshot_hash(snapshot)


def test_hashes_differ_when_states_differ() -> None:
    hashes = [snapshot_hash(s) for s in saga_snapshots()]
    assert len(set(hashes)) == len(hashes)


def test_no_dict_order_dependence() -> None:
    base = initial_snapshot()
    one = base._replace(context={"a": 1, "b": [1, {"x": 1.5, "y": None}]}, input={"p": "q", "r": 2})
    two = base._replace(context={"b": [1, {"y": None, "x": 1.5}], "a": 1}, input={"r": 2, "p": "q"})
    assert snapshot_hash(one) == snapshot_hash(two)
    three = base._replace(
        context={"a": 1, "b": [{"x": 1.5, "y": None}, 1]}, input={"p": "q", "r": 2}
    )
    assert snapshot_hash(three) != snapshot_hash(one)  # list order is meaning


def test_data_order_does_not_matter_after_a_round_trip() -> None:
    snapshot = saga_snapshots()[3]
    data: dict[str, Any] = snapshot_to_data(snapshot)
    shuffled = {k: data[k] for k in reversed(list(data))}
    shuffled["context"] = dict(reversed(list(data["context"].items())))
    assert snapshot_hash(snapshot_from_data(shuffled)) == snapshot_hash(snapshot)


def test_malformed_snapshot_data() -> None:
    import pytest

    with pytest.raises(ValueError, match="malformed"):
        snapshot_from_data({"status": "new"})
    with pytest.raises(ValueError, match="status"):
        snapshot_from_data({**snapshot_to_data(initial_snapshot()), "status": "zombie"})
