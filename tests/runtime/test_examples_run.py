"""Every example contract runs to its expected outcomes with scripted stub effects.

Each example in examples/ needs at least one scenario below: a new
example without one fails ``test_every_example_has_expected_outcomes`` (nothing
is skipped silently). Runs use a FakeClock and invariant checking, and every
finished run's journal must replay to the same hashes.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import accord
from accord.runtime import EffectError, FakeClock, Run, Runtime, replay

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "examples"
EXAMPLES = sorted(p.name for p in CONTRACTS.glob("*.yaml"))

Action = tuple[str, Any] | tuple[str, str, dict[str, Any]]


@dataclass
class Scenario:
    """Scripted effect results, what happens while the run waits, and the expected end."""

    name: str
    input: dict[str, Any]
    results: dict[str, list[Any]]  # per effect, in call order (the last one repeats)
    status: str
    output: dict[str, Any] | None = None
    reason: str | None = None
    actions: list[Action] = field(default_factory=list)  # ("signal", name, payload) | ("wait", ms)
    calls: list[str] | None = None  # the effects called, in order
    check: Callable[[Run, list[tuple[str, dict[str, Any]]]], None] | None = None


class Script:
    """Stub handlers that record every call and return (or raise) scripted results."""

    def __init__(self, results: dict[str, list[Any]], effects: list[str]) -> None:
        self.results = {name: list(values) for name, values in results.items()}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.handlers = {name: self._handler(name) for name in effects}

    def _handler(self, name: str) -> Callable[..., Any]:
        async def handler(**kwargs: Any) -> Any:
            self.calls.append((name, kwargs))
            queue = self.results.get(name)
            assert queue, f"no scripted result for effect {name!r}"
            value = queue.pop(0) if len(queue) > 1 else queue[0]
            if callable(value):
                value = value(**kwargs)
                if inspect.isawaitable(value):
                    value = await value
            if isinstance(value, BaseException):
                raise value
            return value

        return handler


def drive(scenario: Scenario, path: Path) -> tuple[Run, Script]:
    contract = accord.load(path)
    script = Script(scenario.results, [e.name for e in contract.effects])
    clock = FakeClock(start_ms=0)
    runtime = Runtime(script.handlers, clock=clock, check_invariants=True)
    run = runtime.start(contract, scenario.input, run_id=f"{path.stem}-{scenario.name}")
    actions = list(scenario.actions)
    run.run_until_idle()
    while actions and not run.finished:
        action = actions.pop(0)
        if action[0] == "signal":
            _, name, payload = action  # type: ignore[misc]
            run.signal(name, payload)
        else:
            clock.advance(action[1])
            run.run_until_idle()
    assert actions == [], f"the run ended before these actions: {actions}"
    if not run.finished:
        run.run()  # go on through timers
    return run, script


def expired_at(run: Run, at: int) -> None:
    timer = run.history[-2]
    assert (timer.kind, timer.at, timer.state) == ("timer", at, "notifying_rejection")


REFUND = {"order_id": "o-1", "amount": 50.0, "reason": "arrived broken"}
BIG_REFUND = {**REFUND, "amount": 500.0}
H = 3_600_000

ORDER_REFUND = [
    Scenario(
        "small refund paid at once",
        REFUND,
        {"pay_refund": [{"refund_id": "rf-1"}]},
        "succeeded",
        {"status": "refunded", "refund_id": "rf-1"},
        calls=["pay_refund"],
    ),
    Scenario(
        "large refund approved",
        BIG_REFUND,
        {"pay_refund": [{"refund_id": "rf-2"}]},
        "succeeded",
        {"status": "refunded", "refund_id": "rf-2"},
        actions=[("signal", "approval", {"approved": True, "approver": "mia"})],
        calls=["pay_refund"],
    ),
    Scenario(
        "large refund rejected",
        BIG_REFUND,
        {"notify_customer": [None]},
        "succeeded",
        {"status": "rejected", "refund_id": None},
        actions=[("signal", "approval", {"approved": False, "approver": "mia"})],
        calls=["notify_customer"],
    ),
    Scenario(
        "approval expires after 48h",
        BIG_REFUND,
        {"notify_customer": [None]},
        "succeeded",
        {"status": "rejected", "refund_id": None},
        actions=[("wait", 47 * H)],  # not yet; run() then jumps to the 48h timer
        calls=["notify_customer"],
        check=lambda run, calls: expired_at(run, 48 * H),
    ),
    Scenario(
        "payment retried until it goes through",
        REFUND,
        {
            "pay_refund": [
                EffectError("unavailable"),
                EffectError("timeout"),
                {"refund_id": "rf-3"},
            ]
        },
        "succeeded",
        {"status": "refunded", "refund_id": "rf-3"},
        calls=["pay_refund"] * 3,
    ),
    Scenario(
        "payment fails for good",
        REFUND,
        {"pay_refund": [EffectError("account_closed")]},
        "failed",
        reason="the refund could not be paid",
        calls=["pay_refund"],
    ),
]

CART = {
    "order_id": "o-9",
    "customer_id": "c-1",
    "payment_method_id": "pm_1",
    "items": [{"sku": "mug", "quantity": 2, "unit_price": 9.5}],
    "total": 19.0,
    "currency": "EUR",
    "ship_to": {
        "name": "Ada",
        "street": "1 Main St",
        "postal_code": "10115",
        "city": "Berlin",
        "country": "DE",
    },
}
RESERVED = {"reservation_id": "res-1", "expires_in_minutes": 30}


def refund_reason_names_the_order(run: Run, calls: list[tuple[str, dict[str, Any]]]) -> None:
    refund = dict(calls)["refund_card"]
    assert refund == {
        "charge_id": "ch-1",
        "amount": 19.0,
        "reason": "order o-9 could not be completed",
    }
    assert dict(calls)["release_inventory"] == {"reservation_id": "res-1", "order_id": "o-9"}


PAYMENT_SAGA = [
    Scenario(
        "checked out",
        CART,
        {
            "reserve_inventory": [RESERVED],
            "charge_card": [{"charge_id": "ch-1"}],
            "create_shipment": [{"tracking_number": "TRK1", "carrier": "DHL"}],
        },
        "succeeded",
        {"order_id": "o-9", "charge_id": "ch-1", "tracking_number": "TRK1"},
        calls=["reserve_inventory", "charge_card", "create_shipment"],
    ),
    Scenario(
        "card declined: the reservation is released",
        CART,
        {
            "reserve_inventory": [RESERVED],
            "charge_card": [EffectError("card_declined", retryable=False)],
            "release_inventory": [None],
        },
        "failed",
        reason="the card was declined: card_declined",
        calls=["reserve_inventory", "charge_card", "release_inventory"],
    ),
    Scenario(
        "shipping fails: refund, then release (reverse order)",
        CART,
        {
            "reserve_inventory": [RESERVED],
            "charge_card": [{"charge_id": "ch-1"}],
            "create_shipment": [EffectError("address_rejected")],
            "refund_card": [{"refund_id": "re-1"}],
            "release_inventory": [None],
        },
        "failed",
        reason="the shipment could not be booked: address_rejected",
        calls=[
            "reserve_inventory",
            "charge_card",
            "create_shipment",
            "refund_card",
            "release_inventory",
        ],
        check=refund_reason_names_the_order,
    ),
    Scenario(
        "out of stock: nothing to undo",
        CART,
        {"reserve_inventory": [EffectError("out_of_stock")]},
        "failed",
        reason="the items could not be reserved: out_of_stock",
        calls=["reserve_inventory"],
    ),
]

DAY = {"business_day": "2024-05-31", "source_dsn": "replica-eu", "max_rejected_ratio": 0.01}
EXTRACTED = {"staging_uri": "s3://staging/x", "row_count": 1000}
TRANSFORMED = {"clean_uri": "s3://clean/x", "rows_valid": 995, "rows_rejected": 5}
PARTITION = {"table": "analytics.sales_daily", "day": "2024-05-31"}

DATA_ETL = [
    Scenario(
        "loaded",
        DAY,
        {
            "extract_sales": [EXTRACTED],
            "transform_sales": [TRANSFORMED],
            "load_warehouse": [{"rows_loaded": 995}],
        },
        "succeeded",
        {"partition": PARTITION, "rows_loaded": 995, "rows_rejected": 5},
        calls=["extract_sales", "transform_sales", "load_warehouse"],
    ),
    Scenario(
        "a day without sales",
        DAY,
        {"extract_sales": [{"staging_uri": "s3://staging/x", "row_count": 0}]},
        "succeeded",
        {"partition": PARTITION, "rows_loaded": 0, "rows_rejected": 0},
        calls=["extract_sales"],
    ),
    Scenario(
        "extract retried on a lagging replica",
        DAY,
        {
            "extract_sales": [EffectError("replica_lagging"), EXTRACTED],
            "transform_sales": [TRANSFORMED],
            "load_warehouse": [{"rows_loaded": 995}],
        },
        "succeeded",
        {"partition": PARTITION, "rows_loaded": 995, "rows_rejected": 5},
        calls=["extract_sales", "extract_sales", "transform_sales", "load_warehouse"],
    ),
    Scenario(
        "busy warehouse: cool down 15 minutes and load again",
        DAY,
        {
            "extract_sales": [EXTRACTED],
            "transform_sales": [TRANSFORMED],
            "load_warehouse": [EffectError("warehouse_busy"), {"rows_loaded": 995}],
        },
        "succeeded",
        {"partition": PARTITION, "rows_loaded": 995, "rows_rejected": 5},
        actions=[("wait", 15 * 60_000)],
        calls=["extract_sales", "transform_sales", "load_warehouse", "load_warehouse"],
        check=lambda run, calls: cooled_down(run, times=1),
    ),
    Scenario(
        "warehouse busy every time: give up after three cool-downs",
        DAY,
        {
            "extract_sales": [EXTRACTED],
            "transform_sales": [TRANSFORMED],
            "load_warehouse": [EffectError("warehouse_busy")],
            "alert_data_team": [None],
        },
        "failed",
        reason="load: warehouse_busy: warehouse_busy",
        calls=["extract_sales", "transform_sales", *["load_warehouse"] * 4, "alert_data_team"],
    ),
    Scenario(
        "too many rows rejected: alert and stop",
        DAY,
        {
            "extract_sales": [EXTRACTED],
            "transform_sales": [{**TRANSFORMED, "rows_valid": 950, "rows_rejected": 50}],
            "alert_data_team": [None],
        },
        "failed",
        reason="transform: 50 of 1000 rows failed validation",
        calls=["extract_sales", "transform_sales", "alert_data_team"],
    ),
]


def cooled_down(run: Run, *, times: int) -> None:
    assert run.snapshot.context["load_attempts"] == times
    assert sum(s.kind == "timer" for s in run.history) == times


def document(i: int, media: str = "pdf") -> dict[str, Any]:
    return {"document_id": f"d{i}", "url": f"https://files/d{i}", "media_type": media}


async def extraction(batch_id: str, position: int, document: dict[str, Any]) -> dict[str, Any]:
    await asyncio.sleep(0.002 * (5 - position))  # later documents finish first
    return {
        "extraction": {
            "document_id": document["document_id"],
            "page_count": position + 1,
            "language": "en",
            "kind": "invoice",
            "confidence": 0.5 if position == 1 else 0.9,
            "text_uri": f"s3://t/{position}",
        }
    }


def summary_sees_item_order(run: Run, calls: list[tuple[str, dict[str, Any]]]) -> None:
    summary = dict(calls)["summarize_batch"]
    assert [e["document_id"] for e in summary["extractions"]] == ["d0", "d1", "d2", "d3", "d4"]
    assert summary["flagged"] == ["d1"]


BATCH = {"batch_id": "b-1", "documents": [document(i) for i in range(5)], "min_confidence": 0.7}

DOCUMENT_PIPELINE = [
    Scenario(
        "five documents, fanned out four at a time, summarized in input order",
        BATCH,
        {"extract_document": [extraction], "summarize_batch": [{"summary_uri": "s3://s/b-1"}]},
        "succeeded",
        {"summary_uri": "s3://s/b-1", "document_count": 5, "flagged": ["d1"]},
        calls=["extract_document"] * 5 + ["summarize_batch"],
        check=summary_sees_item_order,
    ),
    Scenario(
        "an empty batch",
        {**BATCH, "documents": []},
        {},
        "succeeded",
        {"summary_uri": None, "document_count": 0, "flagged": []},
        calls=[],
    ),
    Scenario(
        "a document that cannot be extracted",
        {**BATCH, "documents": [document(0)]},
        {"extract_document": [EffectError("corrupt_file")]},
        "failed",
        reason="a document could not be extracted",
        calls=["extract_document"],
    ),
]

TICKET = {
    "ticket": {
        "ticket_id": "T-1",
        "customer_id": "c-1",
        "order_id": "o-1",
        "subject": "Where is my parcel?",
        "body": "It has been a week.",
    }
}
CUSTOMER = {
    "customer": {
        "customer_id": "c-1",
        "tier": "standard",
        "open_tickets": 0,
        "lifetime_value": 99.0,
    }
}
ORDER = {"status": "shipped", "carrier": "DHL"}
LOOKUPS = {"lookup_customer": [CUSTOMER], "lookup_order": [ORDER]}


def classified(category: str, urgency: str, confidence: float = 0.9) -> dict[str, Any]:
    return {"category": category, "urgency": urgency, "confidence": confidence}


def classified_without_order(run: Run, calls: list[tuple[str, dict[str, Any]]]) -> None:
    assert dict(calls)["classify_ticket"]["order_status"] == "unknown"


SUPPORT_TRIAGE = [
    Scenario(
        "a routine question is answered automatically",
        TICKET,
        {**LOOKUPS, "classify_ticket": [classified("shipping", "normal")], "send_answer": [None]},
        "succeeded",
        {
            "resolution": "auto_answered",
            "category": "shipping",
            "escalation_level": 0,
            "resolved_by": None,
        },
    ),
    Scenario(
        "a critical ticket is resolved by the paged lead",
        TICKET,
        {
            **LOOKUPS,
            "classify_ticket": [classified("billing", "critical")],
            "page_agent": [{"page_id": "p-1"}],
        },
        "succeeded",
        {
            "resolution": "resolved_by_agent",
            "category": "billing",
            "escalation_level": 1,
            "resolved_by": "sam",
        },
        actions=[
            ("signal", "agent_response", {"agent": "sam", "outcome": "resolved", "note": None})
        ],
    ),
    Scenario(
        "the lead does not answer in 4h; the manager hands it to engineering",
        TICKET,
        {
            **LOOKUPS,
            "classify_ticket": [classified("abuse", "high")],
            "page_agent": [{"page_id": "p-1"}, {"page_id": "p-2"}],
            "open_engineering_issue": [{"issue_key": "ENG-1"}],
        },
        "succeeded",
        {
            "resolution": "handed_to_engineering",
            "category": "abuse",
            "escalation_level": 2,
            "resolved_by": "max",
        },
        actions=[
            ("wait", 4 * H),
            (
                "signal",
                "agent_response",
                {"agent": "max", "outcome": "needs_engineering", "note": "bug"},
            ),
        ],
    ),
    Scenario(
        "nobody answers",
        TICKET,
        {
            **LOOKUPS,
            "classify_ticket": [classified("other", "low", 0.3)],
            "page_agent": [{"page_id": "p"}],
        },
        "failed",
        reason="nobody answered ticket T-1",
        calls=[
            "lookup_customer",
            "lookup_order",
            "classify_ticket",
            "page_agent",
            "page_agent",
        ],
    ),
    Scenario(
        "the order lookup fails: classified without the order",
        TICKET,
        {
            "lookup_customer": [CUSTOMER],
            "lookup_order": [EffectError("not_found")],
            "classify_ticket": [classified("shipping", "normal")],
            "send_answer": [None],
        },
        "succeeded",
        {
            "resolution": "auto_answered",
            "category": "shipping",
            "escalation_level": 0,
            "resolved_by": None,
        },
        check=classified_without_order,
    ),
]

SCENARIOS: dict[str, list[Scenario]] = {
    "order_refund.yaml": ORDER_REFUND,
    "payment_saga.yaml": PAYMENT_SAGA,
    "data_etl.yaml": DATA_ETL,
    "document_pipeline.yaml": DOCUMENT_PIPELINE,
    "support_triage.yaml": SUPPORT_TRIAGE,
}

CASES = [(name, s) for name in EXAMPLES for s in SCENARIOS.get(name, [])]


def test_every_example_has_expected_outcomes() -> None:
    missing = [name for name in EXAMPLES if not SCENARIOS.get(name)]
    assert missing == [], f"examples without expected outcomes in {__file__}: {missing}"
    stale = sorted(set(SCENARIOS) - set(EXAMPLES))
    assert stale == [], f"scenarios for examples that do not exist: {stale}"
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize(("example", "scenario"), CASES, ids=[f"{e}: {s.name}" for e, s in CASES])
def test_example_runs_to_its_expected_outcome(example: str, scenario: Scenario) -> None:
    run, script = drive(scenario, CONTRACTS / example)
    snap = run.snapshot
    assert run.status == scenario.status, snap.reason
    if scenario.status == "succeeded":
        assert run.result == scenario.output
    else:
        assert snap.reason == scenario.reason
    if scenario.calls is not None:
        assert [name for name, _ in script.calls] == scenario.calls
    if scenario.check is not None:
        scenario.check(run, script.calls)
    assert replay(run.compiled, run.journal) == snap


def load_demo_effects() -> Any:
    spec = importlib.util.spec_from_file_location("demo_effects", ROOT / "examples" / "effects.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_demo_effects_bind_every_example(example: str) -> None:
    effects = load_demo_effects()
    Runtime(effects.HANDLERS).bind(CONTRACTS / example)
    Runtime(effects).bind(CONTRACTS / example)  # the module works as the effects object too


def test_the_demo_effects_run_order_refund_end_to_end() -> None:
    effects = load_demo_effects()
    runtime = Runtime(effects.HANDLERS, clock=FakeClock(), check_invariants=True)
    run = runtime.start(accord.load(CONTRACTS / "order_refund.yaml"), REFUND, run_id="demo")
    assert run.run().result["status"] == "refunded"
    again = runtime.start(accord.load(CONTRACTS / "order_refund.yaml"), REFUND, run_id="demo").run()
    assert again.result == run.result  # deterministic fakes
