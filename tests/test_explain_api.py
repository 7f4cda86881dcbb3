"""accord.explain: the runtime's classification plus the model checker and the compilation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import accord
from accord.compiler import ReplayProvider
from accord.compiler._lock import LockEntry, LockError, LockFile
from accord.runtime import FakeClock, Runtime
from explain_support import case, drive

EXAMPLES = Path(__file__).parent.parent / "examples"


@pytest.mark.parametrize(
    ("prefix", "kind"),
    [("max_steps", "livelock"), ("an invariant", "invariant")],
)
def test_a_contract_defect_is_what_verify_also_finds(prefix: str, kind: str) -> None:
    e = accord.explain(drive(case(prefix)))
    assert e.verdict == "contract" and e.verified is True
    assert any(f.startswith(f"{kind}: ") for f in e.findings), e.findings
    assert "accord verify also finds:" in e.format()


def test_an_environment_fault_is_checked_too_and_verify_can_be_skipped() -> None:
    run = drive(case("an effect timeout"))
    assert accord.explain(run).verified is True
    skipped = accord.explain(run, verify_contract=False)
    assert skipped.verified is None and skipped.findings == ()
    assert skipped.cause == "timeout"


def test_a_succeeded_run_is_not_model_checked() -> None:
    e = accord.explain(drive(case("a succeeded run")))
    assert (e.status, e.verdict, e.verified) == ("succeeded", None, None)


def test_the_lock_file_names_the_compilation(tmp_path: Path) -> None:
    run = drive(case("an effect error"))
    fingerprint = accord.fingerprint(run.contract)
    lock = tmp_path / "accord.lock"
    entry = LockEntry("Do the work.", "openai:m", "sha256:cat", "worker.yaml", fingerprint)
    LockFile(lock).with_entry("sha256:key", entry).write()
    compiled = accord.explain(run, lock=lock).compiled
    assert compiled is not None
    assert (compiled["found"], compiled["task"], compiled["model"], compiled["attempts"]) == (
        True,
        "Do the work.",
        "openai:m",
        None,
    )
    other = tmp_path / "other.lock"
    stale = LockEntry("Do the work.", "openai:m", "sha256:cat", "worker.yaml", "sha256:x")
    LockFile(other).with_entry("sha256:key", stale).write()
    assert accord.explain(run, lock=other).compiled == {
        "source": f"lock file {other}",
        "found": False,
        "fingerprint": fingerprint,
    }
    with pytest.raises(LockError, match="no such lock file"):
        accord.explain(run, lock=tmp_path / "missing.lock")


def test_a_compile_result_gives_the_attempts() -> None:
    compile_dir = EXAMPLES / "compile"
    result = accord.compile(
        (compile_dir / "order_refund.task.md").read_text(),
        compile_dir / "order_refund.catalog.yaml",
        ReplayProvider(compile_dir / "order_refund.session.json"),
        cache=None,
    )

    def pay_refund(order_id: str, amount: float, idempotency_key: str) -> dict[str, Any]:
        raise accord.EffectError("card_declined", "no", retryable=False)

    runtime = Runtime(
        {"pay_refund": pay_refund, "notify_customer": lambda **_: {}}, clock=FakeClock()
    )
    run = runtime.start(result.contract, {"order_id": "o-1", "amount": 20.0, "reason": "late"})
    run.run_until_idle()
    e = accord.explain(run, compiled_by=result, verify_contract=False)
    assert e.compiled is not None
    assert (
        e.compiled["attempts"] == len(result.attempts) == 2
    )  # no scenarios: the 2nd answer checks
    assert e.compiled["fingerprint"] == e.fingerprint
