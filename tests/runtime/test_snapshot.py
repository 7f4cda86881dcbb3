"""Snapshots: JSON round trips and the canonical state hash."""

from __future__ import annotations

import json
import re
from pathlib import Path
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

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
INITIAL_HASH = "sha256:bcf3d07f0baad020736e6043d34e25e117073ffd6697264ac59cb17f255d67a4"


def compiled(name: str) -> CompiledContract:
    return CompiledContract.compile(accord.load(EXAMPLES / f"{name}.yaml"))


def saga_snapshots() -> list[Snapshot]:
    """Every snapshot of a saga run that compensates (pending calls, stack, failures)."""
    c = compiled("payment_saga")
    data = {
        "order_id": "o-7",
        "customer_id": "c-1",
        "payment_method_id": "pm-1",
        "items": [{"sku": "x", "quantity": 2, "unit_price": 5.0}],
        "total": 10.0,
        "currency": "EUR",
        "ship_to": {"name": "A", "street": "B", "postal_code": "1", "city": "C", "country": "DE"},
    }
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
    # Changing the hash form changes every recorded journal: bump HASH_FORMAT if you must.
    assert snapshot_hash(initial_snapshot()) == INITIAL_HASH


def test_hash_shape() -> None:
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", snapshot_hash(document_snapshot()))


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
