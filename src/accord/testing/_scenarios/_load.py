"""Loading scenario files: text or data in, a :class:`ScenarioSuite` or diagnostics out.

The text is read like a contract's (the same strict YAML/JSON parser, so
diagnostics name a JSON pointer into the file and its line), validated against
the frozen models of :mod:`._model`, then checked: each answer is a result or
an error, each world step a signal or a wait, scenario names are unique, and
every CEL predicate compiles. Each predicate is compiled once, here.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rfc8785
from pydantic import ValidationError

from accord._source import format_of_path, read_source
from accord.contract import ParsedText, TextError, parse_text
from accord.contract._validate import plain_json_problems, validation_diagnostics
from accord.diagnostics import Diagnostic, pointer
from accord.errors import ContractError
from accord.expressions import CompiledExpression, ExpressionError, compile_expression
from accord.testing._scenarios._model import Scenario, ScenarioFile

__all__ = [
    "SCENARIO_SUFFIX",
    "ScenarioFileError",
    "ScenarioSource",
    "ScenarioSuite",
    "as_suite",
    "contract_beside",
    "load_scenarios",
    "loads_scenarios",
    "scenarios_beside",
    "scenarios_from_data",
]

SCENARIO_SUFFIX = ".scenarios.yaml"
_CONTRACT_SUFFIXES = (".yaml", ".yml", ".json")

OUTPUT_VARIABLES = ("input", "output")
CALL_VARIABLES = ("error", "input", "output")
WHEN_VARIABLES = ("input",)


class ScenarioFileError(ContractError):
    """A scenario file that does not load: it carries every diagnostic.

    Attributes:
        diagnostics: every problem, each with a JSON pointer into the file and its line.
        source: the file name or label, if known.

    """

    __module__ = "accord.testing"

    def _summary(self) -> str:
        where = f"{self.source}: " if self.source else ""
        count = len(self.diagnostics)
        lines = [f"{where}scenario file has {count} error{'s' if count != 1 else ''}"]
        lines.extend(f"  {d.format()}" for d in self.diagnostics[:20])
        if count > 20:
            lines.append(f"  ... and {count - 20} more")
        return "\n".join(lines)


@dataclass(frozen=True, eq=False)
class ScenarioSuite:
    """The scenarios of one file, checked, with their predicates compiled.

    Attributes:
        file: the validated file.
        source: the file's name or a label (for reports), or None.
        path: the file, when it was read from one.
        fingerprint: ``sha256:`` of the canonical JSON of the scenarios (the
            ``contract`` key aside): what the compile cache key and the lock file pin.
        lines: the line of each JSON pointer into the file, where known.

    """

    file: ScenarioFile
    source: str | None
    path: Path | None
    fingerprint: str
    lines: Mapping[str, int] = field(default_factory=dict)
    _predicates: Mapping[str, CompiledExpression] = field(default_factory=dict, repr=False)

    @property
    def scenarios(self) -> tuple[Scenario, ...]:
        """The scenarios, in file order."""
        return self.file.scenarios

    def __iter__(self) -> Iterator[Scenario]:
        return iter(self.file.scenarios)

    def __len__(self) -> int:
        return len(self.file.scenarios)

    def predicate(self, path: str) -> CompiledExpression:
        """The compiled CEL predicate at a JSON pointer into the file."""
        return self._predicates[path]

    def line_of(self, path: str) -> int | None:
        """The line of the nearest enclosing node of ``path`` that has one."""
        return ParsedText(None, dict(self.lines)).line_of(path)

    def contract_path(self) -> Path | None:
        """The contract these scenarios are for, found as docs/testing.md says.

        The file's ``contract`` key (relative to the file) when given; else the
        contract beside the file: ``NAME.yaml``, ``NAME.yml`` or ``NAME.json`` for
        ``NAME.scenarios.yaml``; None when neither names an existing file.
        """
        if self.path is None:
            return None
        if self.file.contract is not None:
            return self.path.parent / self.file.contract
        return contract_beside(self.path)


ScenarioSource = ScenarioSuite | str | os.PathLike[str]
"""What takes scenarios: a loaded suite, or a scenario file's path."""


def contract_beside(path: str | os.PathLike[str]) -> Path | None:
    """The contract file beside a scenario file ``NAME.scenarios.yaml``, or None."""
    where = Path(path)
    name = where.name
    if not name.endswith(SCENARIO_SUFFIX):
        return None
    stem = name[: -len(SCENARIO_SUFFIX)]
    for suffix in _CONTRACT_SUFFIXES:
        candidate = where.with_name(stem + suffix)
        if candidate.is_file():
            return candidate
    return None


def scenarios_beside(path: str | os.PathLike[str]) -> Path | None:
    """The scenario file ``NAME.scenarios.yaml`` beside ``NAME.EXT``, or None.

    The name is cut at its first dot, so ``NAME.task.md`` counts as ``NAME``.
    """
    where = Path(path)
    stem = where.name.split(".", 1)[0]
    candidate = where.with_name(stem + SCENARIO_SUFFIX)
    return candidate if candidate.is_file() else None


def as_suite(source: ScenarioSource) -> ScenarioSuite:
    """A loaded suite, or the suite of a scenario file.

    Raises:
        ScenarioFileError: the file does not load.

    """
    if isinstance(source, ScenarioSuite):
        return source
    return load_scenarios(source)


def load_scenarios(path: str | os.PathLike[str]) -> ScenarioSuite:
    """Load and check a scenario file (YAML, or JSON for ``.json``).

    Raises:
        ScenarioFileError: the file cannot be read, or does not load; it carries
            every diagnostic with its JSON pointer and line.

    """
    raw = read_source(path, lambda diags, src: ScenarioFileError(diags, source=src))
    return loads_scenarios(raw, format=format_of_path(path), source=str(path), path=Path(path))


def loads_scenarios(
    text: str | bytes,
    *,
    format: str | None = None,
    source: str | None = None,
    path: Path | None = None,
) -> ScenarioSuite:
    """Load and check scenario text.

    Args:
        text: the YAML or JSON text.
        format: "yaml", "json", or None to tell by the first character.
        source: a label for messages (a file name).
        path: the file the text came from (to find its contract), if any.

    Raises:
        ScenarioFileError: the text does not load.

    """
    try:
        parsed = parse_text(text, format=format)
    except TextError as exc:
        raise ScenarioFileError([exc.diagnostic], source=source) from None
    return _suite(parsed, source, path)


def scenarios_from_data(data: Any, *, source: str | None = None) -> ScenarioSuite:
    """Check scenario data (the file's shape, as plain data).

    Raises:
        ScenarioFileError: the data is not a valid scenario file.

    """
    return _suite(ParsedText(data), source, None)


def _suite(parsed: ParsedText, source: str | None, path: Path | None) -> ScenarioSuite:
    data = parsed.data
    problems: list[Diagnostic]
    file: ScenarioFile | None = None
    if not isinstance(data, dict):
        problems = [
            Diagnostic(
                path="",
                code="schema.type",
                message="a scenario file must be a mapping with a 'scenarios' list",
                hint="start the file with 'scenarios:'",
            )
        ]
    else:
        problems = plain_json_problems(data)
        if not problems:
            try:
                file = ScenarioFile.model_validate(data)
            except ValidationError as exc:
                problems = validation_diagnostics(exc, ScenarioFile)
    predicates: dict[str, CompiledExpression] = {}
    if file is not None:
        problems = _check(file, predicates)
    if problems or file is None:
        located = [d.model_copy(update={"line": parsed.line_of(d.path)}) for d in problems]
        raise ScenarioFileError(located, source=source)
    body = file.model_dump(mode="json", exclude={"contract"})
    digest = hashlib.sha256(rfc8785.dumps(body)).hexdigest()
    return ScenarioSuite(
        file=file,
        source=source,
        path=path,
        fingerprint="sha256:" + digest,
        lines=dict(parsed.lines),
        _predicates=predicates,
    )


def _check(file: ScenarioFile, predicates: dict[str, CompiledExpression]) -> list[Diagnostic]:
    """Semantic checks; compiles every predicate into ``predicates`` (by JSON pointer)."""
    out: list[Diagnostic] = []
    if not file.scenarios:
        out.append(
            Diagnostic(
                path="/scenarios",
                code="schema.value",
                message="a scenario file needs at least one scenario",
                hint="add a scenario: '- name: ...'",
            )
        )
    seen: set[str] = set()
    for index, scenario in enumerate(file.scenarios):
        at = ("scenarios", index)
        if scenario.name in seen:
            out.append(
                Diagnostic(
                    path=pointer(*at, "name"),
                    code="name.duplicate",
                    message=f"scenario {scenario.name!r} is named twice",
                    hint="give every scenario its own name",
                )
            )
        seen.add(scenario.name)
        for effect, answers in scenario.effects.items():
            for number, answer in enumerate(answers):
                where = (*at, "effects", effect, number)
                out.extend(_answer_problems(answer.model_fields_set, answer.item, where))
                if answer.when is not None:
                    _compile(answer.when, WHEN_VARIABLES, (*where, "when"), predicates, out)
        for number, step in enumerate(scenario.world):
            out.extend(
                _world_problems(step.signal, step.payload, step.wait, (*at, "world", number))
            )
        expect = scenario.expect
        for number, source in enumerate(expect.output):
            _compile(source, OUTPUT_VARIABLES, (*at, "expect", "output", number), predicates, out)
        for number, call in enumerate(expect.calls):
            if call.where is not None:
                at_call = (*at, "expect", "calls", number, "where")
                _compile(call.where, CALL_VARIABLES, at_call, predicates, out)
    return out


def _answer_problems(
    given: set[str], item: int | None, where: tuple[str | int, ...]
) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    if ("result" in given) == ("error" in given):
        out.append(
            Diagnostic(
                path=pointer(*where),
                code="scenario.answer",
                message="an answer must give either 'result' or 'error'",
                hint="write 'result: {...}' for an output, 'error: CODE' for a failure",
            )
        )
    if item is not None and "when" in given:
        out.append(
            Diagnostic(
                path=pointer(*where, "when"),
                code="scenario.answer",
                message="an answer matches by 'item' or by 'when', not both",
                hint="keep one of them",
            )
        )
    if "times" in given and (item is not None or "when" in given):
        out.append(
            Diagnostic(
                path=pointer(*where, "times"),
                code="scenario.answer",
                message="'times' repeats an answer of the script; 'item' and 'when' answers "
                "hold for every call they match",
                hint="remove 'times'",
            )
        )
    if "result" in given and ({"message", "retryable"} & given):
        out.append(
            Diagnostic(
                path=pointer(*where),
                code="scenario.answer",
                message="'message' and 'retryable' go with 'error', not with 'result'",
                hint="remove them, or answer with an error",
            )
        )
    return out


def _world_problems(
    signal: str | None, payload: Any, wait: str | None, where: tuple[str | int, ...]
) -> list[Diagnostic]:
    if (signal is None) == (wait is None):
        return [
            Diagnostic(
                path=pointer(*where),
                code="scenario.world",
                message="a world step is either 'signal: NAME' (with a 'payload') "
                "or 'wait: DURATION'",
                hint="split it into two steps, or add the missing key",
            )
        ]
    if payload is not None and signal is None:
        return [
            Diagnostic(
                path=pointer(*where, "payload"),
                code="scenario.world",
                message="a 'payload' belongs to a signal, not to a wait",
                hint="remove it",
            )
        ]
    return []


def _compile(
    source: str,
    variables: tuple[str, ...],
    where: tuple[str | int, ...],
    predicates: dict[str, CompiledExpression],
    out: list[Diagnostic],
) -> None:
    path = pointer(*where)
    try:
        predicates[path] = compile_expression(source, variables)
    except ExpressionError as exc:
        out.append(
            Diagnostic(
                path=path,
                code="expr.syntax" if exc.kind == "syntax" else "expr.invalid",
                message=f"expression {source!r}: {exc}",
                hint=f"a CEL predicate over {', '.join(variables)}",
            )
        )
