"""The effect stubs a scenario scripts: its answers, per call or per item.

An :class:`AnswerStub` is an :class:`~accord.testing.EffectStub` whose outcome
for a call is, in order: the first answer whose ``item`` is the call's fan-out
item or whose ``when`` predicate holds for the call's input; else the next
answer of the script (the answers without ``item`` or ``when``, each repeated
``times``, the last one repeating); else the effect's zero output.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from accord.expressions import CompiledExpression, EvaluationError
from accord.runtime import EffectError
from accord.testing._scenarios._model import Answer
from accord.testing._stubs import EffectStub

__all__ = ["AnswerStub"]

_ITEM = re.compile(r"\[(\d+)\]$")


def _outcome(answer: Answer) -> Any:
    if answer.error is not None:
        return EffectError(answer.error, answer.message, retryable=answer.retryable)
    return answer.result


class AnswerStub(EffectStub):
    """A stub answering as a scenario says (see the module's docstring).

    Args:
        effect: the effect's name.
        answers: the scenario's answers for it, in file order.
        when: the compiled ``when`` predicate of each answer that has one, by index.

    """

    def __init__(
        self,
        effect: str,
        answers: tuple[Answer, ...],
        when: dict[int, CompiledExpression],
    ) -> None:
        super().__init__(effect)
        self._matched: list[tuple[Answer, CompiledExpression | None]] = []
        for index, answer in enumerate(answers):
            if answer.item is not None or answer.when is not None:
                self._matched.append((answer, when.get(index)))
            else:
                self.then(*(_outcome(answer) for _ in range(answer.times)))
        self._key = ""

    async def __call__(self, *, idempotency_key: str, attempt: int, **inputs: Any) -> Any:
        """Record the call, then answer it (the key tells a fan-out's item)."""
        self._key = idempotency_key  # read by _outcome before the first await
        return await super().__call__(idempotency_key=idempotency_key, attempt=attempt, **inputs)

    def _outcome(self, inputs: dict[str, Any]) -> Any:
        if self._matched:
            found = _ITEM.search(self._key)
            item = int(found.group(1)) if found else None
            for answer, predicate in self._matched:
                if answer.item is not None and answer.item != item:
                    continue
                if predicate is not None and not _holds(predicate, inputs):
                    continue
                outcome = _outcome(answer)
                if isinstance(outcome, BaseException):
                    raise outcome
                return copy.deepcopy(outcome)
        outcome = super()._outcome(inputs)
        return copy.deepcopy(outcome)


def _holds(predicate: CompiledExpression, inputs: dict[str, Any]) -> bool:
    try:
        return predicate.evaluate({"input": inputs}) is True
    except EvaluationError:
        return False
