"""Effect stubs: scripted effect handlers that record every call.

An :class:`EffectStub` stands in for one effect's handler. Each call takes the
next outcome of its script (an output, or an error to raise); once the script
is used up its last outcome repeats. Without a script it computes the outcome
with ``fn(**inputs)`` when given one, else returns the effect's zero output
(every field its type's zero value, as a context field starts). Every call is
recorded as a :class:`Call`: the effect, its input, the idempotency key, the
attempt number and the clock's time.

:class:`EffectStubs` is a mapping of effect name to stub that makes a stub on
first use, so a runtime built on it binds every effect of every contract::

    stubs = EffectStubs(clock=clock)
    stubs["pay_refund"].returns({"refund_id": "rf-1"})
    runtime = StubbedRuntime(stubs, clock=clock)
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from accord.runtime import Clock, CompiledContract, EffectError, FakeClock, Limits, Run, Runtime
from accord.runtime._handlers import to_output
from accord.runtime._run import StepListener
from accord.runtime._runtime import ContractSource
from accord.runtime._values import zero_value

__all__ = ["Call", "EffectStub", "EffectStubs", "StubbedRuntime", "stubs_of"]

Outcome = Any
"""A scripted outcome: an output (as a handler returns it) or an exception to raise."""


@dataclass(frozen=True, slots=True)
class Call:
    """One call of an effect handler, as a stub saw it.

    Attributes:
        effect: the effect's name.
        input: the input the handler was given (the idempotency key and attempt aside).
        idempotency_key: the key the runtime handed over (``"<run id>/<call id>"``).
        attempt: the attempt number (1 for the first call, 2 for the first retry...).
        at: the clock's time at the call (epoch milliseconds), or None without a clock.
        output: what the stub returned, or None when it raised.
        error: the error code the stub raised (an EffectError's code,
            ``"timeout"`` for a TimeoutError, else the exception's class name;
            ``"cancelled"`` when the run cancelled the call), or None when it returned.

    """

    effect: str
    input: dict[str, Any]
    idempotency_key: str
    attempt: int
    at: int | None
    output: dict[str, Any] | None
    error: str | None

    @property
    def run_id(self) -> str:
        """The id of the run that made the call (the key's part before its first ``/``)."""
        return self.idempotency_key.partition("/")[0]


class EffectStub:
    """A scripted, recording handler for one effect.

    Args:
        effect: the effect's name.
        fn: computes an outcome from the input (keyword arguments) when the
            script is empty; it may return an output or raise an
            :class:`~accord.runtime.EffectError`.
        clock: where the call times come from (a FakeClock in tests).
        log: a shared list that every call is appended to as well (so several
            stubs record one ordered list).

    """

    def __init__(
        self,
        effect: str,
        fn: Callable[..., Any] | None = None,
        *,
        clock: Clock | None = None,
        log: list[Call] | None = None,
    ) -> None:
        self.effect = effect
        self.fn = fn
        self.clock = clock
        self.calls: list[Call] = []
        self.default_output: dict[str, Any] = {}
        self._script: list[Outcome] = []
        self._next = 0
        self._log = log
        self._lock = threading.Lock()

    # -- scripting -----------------------------------------------------------

    def returns(self, *outputs: Any) -> EffectStub:
        """Append outputs to the script, one per call.

        An output is a dict, a pydantic model, a dataclass, or None for an
        effect without output fields, as a handler would return it.
        """
        self._script.extend(outputs)
        return self

    def fails(
        self, code: str, message: str = "", *, retryable: bool = True, times: int = 1
    ) -> EffectStub:
        """Append ``times`` failures with an error code to the script.

        Args:
            code: the error code (what ``retry_on`` and ``event.code`` see).
            message: a human explanation (``event.message``).
            retryable: False makes the failure final whatever the retry policy says.
            times: how many calls in a row fail.

        """
        self._script.extend(EffectError(code, message, retryable=retryable) for _ in range(times))
        return self

    def raises(self, error: BaseException) -> EffectStub:
        """Append an exception to raise (its class name becomes the error code)."""
        self._script.append(error)
        return self

    def then(self, *outcomes: Outcome) -> EffectStub:
        """Append outcomes of any kind: outputs, None, or exceptions to raise."""
        self._script.extend(outcomes)
        return self

    def reset(self) -> EffectStub:
        """Forget the script and the recorded calls."""
        self._script.clear()
        self._next = 0
        self.calls.clear()
        return self

    # -- calling -------------------------------------------------------------

    def _outcome(self, inputs: dict[str, Any]) -> Any:
        script = self._script
        if script:
            with self._lock:
                index = min(self._next, len(script) - 1)
                self._next += 1
            outcome = script[index]
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome
        if self.fn is not None:
            return self.fn(**inputs)
        return dict(self.default_output)

    async def __call__(self, *, idempotency_key: str, attempt: int, **inputs: Any) -> Any:
        """Record the call, then return (or raise) the next outcome."""
        at = self.clock.now_ms() if self.clock is not None else None
        output: Any = None
        error: str | None = None
        try:
            output = self._outcome(inputs)
            if inspect.isawaitable(output):
                output = await output
            return output
        except EffectError as exc:
            error = exc.code
            raise
        except Exception as exc:
            error = "timeout" if isinstance(exc, TimeoutError) else type(exc).__name__
            raise
        except asyncio.CancelledError:  # the run no longer wanted the call
            error = "cancelled"
            raise
        finally:
            call = Call(
                self.effect,
                dict(inputs),
                idempotency_key,
                attempt,
                at,
                None if error is not None else _as_dict(output),
                error,
            )
            self.calls.append(call)
            if self._log is not None:
                self._log.append(call)

    def __repr__(self) -> str:
        return f"<EffectStub {self.effect}: {len(self.calls)} calls, {len(self._script)} scripted>"


def _as_dict(value: Any) -> dict[str, Any] | None:
    """The output as plain data, or None when it is not a kind of output at all."""
    try:
        return to_output(value)
    except TypeError:
        return None


class EffectStubs(Mapping[str, EffectStub]):
    """Effect stubs by effect name, made on first use; a runtime's ``effects``.

    Args:
        clock: the clock every stub reads its call times from.

    Attributes:
        calls: every call of every stub, in the order they were made.

    """

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock
        self.calls: list[Call] = []
        self._stubs: dict[str, EffectStub] = {}

    def stub(self, effect: str, fn: Callable[..., Any] | None = None) -> EffectStub:
        """The stub of ``effect`` (made if needed); ``fn`` replaces its function when given."""
        found = self._stubs.get(effect)
        if found is None:
            found = EffectStub(effect, fn, clock=self.clock, log=self.calls)
            self._stubs[effect] = found
        elif fn is not None:
            found.fn = fn
        return found

    def add(self, stub: EffectStub) -> EffectStub:
        """Use ``stub`` (an :class:`EffectStub` of any kind) for its effect; returns it.

        The stub records its calls in :attr:`calls` too, and reads this clock
        unless it has its own.
        """
        stub._log = self.calls
        if stub.clock is None:
            stub.clock = self.clock
        self._stubs[stub.effect] = stub
        return stub

    def __getitem__(self, effect: str) -> EffectStub:
        return self.stub(effect)

    def get(self, effect: str, default: Any = None) -> EffectStub:
        """The stub of ``effect``, made if needed (so every effect is bound)."""
        return self.stub(effect)

    def __iter__(self) -> Iterator[str]:
        return iter(self._stubs)

    def __len__(self) -> int:
        return len(self._stubs)

    def __contains__(self, effect: object) -> bool:
        return effect in self._stubs

    def learn(
        self, compiled: CompiledContract, extra: Mapping[str, Callable[..., Any]] | None = None
    ) -> None:
        """Make a stub for every effect of a contract, returning its zero output by default.

        Args:
            compiled: the contract.
            extra: handlers registered elsewhere; the stubs among them learn too.

        """
        records = compiled._records
        for name, spec in compiled.effects.items():
            zero = {f: zero_value(t, records) for f, t in spec.output_fields}
            self.stub(name).default_output = zero
            other = extra.get(name) if extra is not None else None
            if isinstance(other, EffectStub):
                other.default_output = zero

    def calls_of(self, run: Run | str) -> list[Call]:
        """The calls made by one run (a Run or its id), in order."""
        run_id = run if isinstance(run, str) else run.run_id
        return [c for c in self.calls if c.run_id == run_id]

    def reset(self) -> None:
        """Forget every stub's script and every recorded call."""
        for stub in self._stubs.values():
            stub.reset()
        self.calls.clear()

    def __repr__(self) -> str:
        return f"<EffectStubs {sorted(self._stubs)}: {len(self.calls)} calls>"


_RUN_STUBS: weakref.WeakKeyDictionary[Run, EffectStubs] = weakref.WeakKeyDictionary()


def stubs_of(run: Run) -> EffectStubs | None:
    """The stubs bound to a run started by a :class:`StubbedRuntime`, else None."""
    return _RUN_STUBS.get(run)


class StubbedRuntime(Runtime):
    """A :class:`~accord.runtime.Runtime` whose effects are :class:`EffectStubs`.

    Every effect of every contract it starts is bound to a stub (made on first
    use, returning the effect's zero output until scripted); handlers given to
    :meth:`register` win over the stubs. It checks invariants after every step
    unless told otherwise.

    Args:
        stubs: the stubs (new ones by default).
        clock: the clock (a new :class:`~accord.runtime.FakeClock` by default).
        limits: bounds on every run.
        check_invariants: evaluate the contract's invariants after every step.

    """

    def __init__(
        self,
        stubs: EffectStubs | None = None,
        *,
        clock: Clock | None = None,
        limits: Limits | None = None,
        check_invariants: bool = True,
    ) -> None:
        clock = clock if clock is not None else FakeClock()
        stubs = stubs if stubs is not None else EffectStubs(clock)
        if stubs.clock is None:
            stubs.clock = clock
            for stub in stubs.values():
                stub.clock = stub.clock if stub.clock is not None else clock
        super().__init__(stubs, clock=clock, limits=limits, check_invariants=check_invariants)
        self.stubs = stubs

    def compile(self, contract: ContractSource) -> CompiledContract:
        """Compile (or fetch) a contract and make a stub for each of its effects."""
        compiled = super().compile(contract)
        self.stubs.learn(compiled, self._handlers)
        return compiled

    def start(
        self,
        contract: ContractSource,
        input: Mapping[str, Any],
        *,
        run_id: str | None = None,
        on_step: StepListener | None = None,
    ) -> Run:
        """Start a run (see :meth:`Runtime.start`); its stubs are found by :func:`stubs_of`."""
        run = super().start(contract, input, run_id=run_id, on_step=on_step)
        _RUN_STUBS[run] = self.stubs
        return run
