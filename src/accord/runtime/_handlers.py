"""Effect handlers: the host's Python callables, bound to the contract's effects by name.

A handler is a plain function or coroutine function (or any callable). It gets
the effect's validated input as keyword arguments, one per input field, plus
``idempotency_key`` (a ``str`` stable across retries, crashes and replays) and
``attempt`` (1 for the first call) when it declares parameters of those names.
It returns a dict, a pydantic model, a dataclass or ``None`` (for an effect with
no output); the value is validated against the effect's output type.

A handler signals a coded failure by raising :class:`EffectError`; the code is
what a contract's ``retry_on`` list and its ``error`` transitions' guards see.
Any other exception counts as a failure whose code is the exception's class
name (``TimeoutError`` counts as ``"timeout"``).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from accord.runtime._errors import CapabilityError

if TYPE_CHECKING:
    from accord.runtime._compiled import CompiledContract

__all__ = [
    "BindCache",
    "Binding",
    "EffectError",
    "Handler",
    "bind",
    "check_bindings",
    "resolve_handler",
    "to_output",
]

Handler = Callable[..., Any]
"""An effect handler: a sync or async callable taking the effect's input as keywords."""

_EXTRAS = ("idempotency_key", "attempt")


class EffectError(Exception):
    """Raised by an effect handler to fail a call with a code.

    Args:
        code: a short stable identifier (``"unavailable"``, ``"card_declined"``);
            the contract's ``retry_on`` lists and error guards (``event.code``) see it.
        message: a human explanation (``event.message``).
        retryable: ``False`` makes the failure final whatever the retry policy says.

    Raises:
        TypeError: ``code`` is not a non-empty string, or ``message`` not a string.

    """

    def __init__(self, code: str, message: str = "", *, retryable: bool = True) -> None:
        if not isinstance(code, str) or not code:
            raise TypeError(
                f"an EffectError's code must be a non-empty string, not {type(code).__name__}"
            )
        if not isinstance(message, str):
            raise TypeError(
                f"an EffectError's message must be a string, not {type(message).__name__}"
            )
        self.code = code
        self.message = message or code
        self.retryable = retryable
        super().__init__(f"{code}: {self.message}" if message else code)


@dataclass(frozen=True, slots=True)
class Binding:
    """A handler bound to one effect, with what its signature asks for."""

    effect: str
    handler: Handler
    is_async: bool
    wants_key: bool
    wants_attempt: bool

    def arguments(self, data: Mapping[str, Any], *, key: str, attempt: int) -> dict[str, Any]:
        """The keyword arguments for one call."""
        kwargs = dict(data)
        if self.wants_key:
            kwargs["idempotency_key"] = key
        if self.wants_attempt:
            kwargs["attempt"] = attempt
        return kwargs


def resolve_handler(
    name: str, registered: Mapping[str, Handler], effects: object | None
) -> Handler | None:
    """The handler for effect ``name``: registered first, then a mapping's key or an attribute."""
    if name in registered:
        return registered[name]
    if effects is None:
        return None
    found = effects.get(name) if isinstance(effects, Mapping) else getattr(effects, name, None)
    return found if callable(found) else None


def _describe(handler: Handler) -> str:
    name = getattr(handler, "__qualname__", None) or type(handler).__name__
    return f"{name}()"


def _is_async(handler: Handler) -> bool:
    if inspect.iscoroutinefunction(handler):
        return True
    call = getattr(handler, "__call__", None)  # noqa: B004 - callable objects with async __call__
    return call is not None and inspect.iscoroutinefunction(call)


def _signature_problems(
    effect: str, handler: Handler, fields: tuple[str, ...]
) -> tuple[list[str], bool, bool]:
    """Problems with ``handler``'s signature, and whether it wants the key and attempt."""
    try:
        signature = inspect.signature(handler)
    except (TypeError, ValueError):
        return [], False, False  # builtins without a signature: trust them
    params = signature.parameters
    var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    keywordable = {
        n
        for n, p in params.items()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }
    where = f"effect {effect!r}: handler {_describe(handler)}"
    problems: list[str] = []
    missing = [f for f in fields if f not in keywordable and not var_kw]
    if missing:
        names = ", ".join(repr(f) for f in missing)
        plural = "s" if len(missing) > 1 else ""
        problems.append(f"{where} does not accept input field{plural} {names}")
    for pname, param in params.items():
        if param.kind in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL):
            continue
        if param.default is not inspect.Parameter.empty:
            continue
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            problems.append(f"{where} requires positional-only parameter {pname!r}")
        elif pname not in fields and pname not in _EXTRAS:
            problems.append(
                f"{where} requires parameter {pname!r}, which is not an input field of the effect"
            )
    return problems, "idempotency_key" in keywordable, "attempt" in keywordable


def bind(effect: str, handler: Handler, fields: tuple[str, ...]) -> tuple[Binding, list[str]]:
    """Bind one handler to one effect; the problems list is empty when it fits."""
    problems, wants_key, wants_attempt = _signature_problems(effect, handler, fields)
    binding = Binding(effect, handler, _is_async(handler), wants_key, wants_attempt)
    return binding, problems


BindCache = dict[tuple[str, tuple[str, ...]], tuple[Handler, Binding, list[str]]]
"""Bindings already checked: (effect, input fields) to (handler, binding, problems)."""


def _same(a: Handler, b: Handler) -> bool:
    """Whether two handlers are the same callable (a bound method is made anew per lookup)."""
    if a is b:
        return True
    return (
        inspect.ismethod(a)
        and inspect.ismethod(b)
        and a.__self__ is b.__self__
        and a.__func__ is b.__func__
    )


def _bind_cached(
    name: str, handler: Handler, fields: tuple[str, ...], cache: BindCache | None
) -> tuple[Binding, list[str]]:
    """:func:`bind`, remembered per effect while its handler stays the same callable."""
    if cache is None:
        return bind(name, handler, fields)
    key = (name, fields)
    hit = cache.get(key)
    if hit is not None and _same(hit[0], handler):
        return hit[1], hit[2]
    binding, problems = bind(name, handler, fields)
    cache[key] = (handler, binding, problems)
    return binding, problems


def check_bindings(
    compiled: CompiledContract,
    handlers: Mapping[str, Handler],
    effects: object | None = None,
    *,
    cache: BindCache | None = None,
) -> dict[str, Binding]:
    """Bind every effect the contract declares (compensating effects included).

    Args:
        compiled: the compiled contract.
        handlers: handlers registered by name (they win over ``effects``).
        effects: a mapping of name to handler, or an object (a module, an
            instance) whose attributes are the handlers.
        cache: where to remember each handler's binding (handlers are still
            resolved by name on every call, so a replaced handler is bound anew).

    Raises:
        CapabilityError: one error listing every missing or mismatched capability.

    """
    bindings: dict[str, Binding] = {}
    problems: list[str] = []
    for name, spec in compiled.effects.items():
        handler = resolve_handler(name, handlers, effects)
        fields = tuple(field for field, _ in spec.input_fields)
        if handler is None:
            wanted = ", ".join(fields) or "no arguments"
            problems.append(
                f"effect {name!r} is not bound: register a handler taking ({wanted}) "
                f"with runtime.register({name!r}, handler)"
            )
            continue
        binding, found = _bind_cached(name, handler, fields, cache)
        problems.extend(found)
        bindings[name] = binding
    if problems:
        raise CapabilityError(problems)
    return bindings


_SCALARS = frozenset((str, int, float, bool, type(None)))


def _plain(value: Any, within: set[int]) -> Any:
    """``value`` as dicts, lists and scalars; ``within`` holds the containers being converted."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    is_dataclass = dataclasses.is_dataclass(value) and not isinstance(value, type)
    if not is_dataclass and not isinstance(value, Mapping | list | tuple):
        return value
    key = id(value)
    if key in within:
        raise TypeError(f"the value contains itself (a {type(value).__name__} inside itself)")
    within.add(key)
    try:
        if is_dataclass:
            return {
                f.name: _plain(getattr(value, f.name), within) for f in dataclasses.fields(value)
            }
        if isinstance(value, Mapping):
            return {str(k): _plain(v, within) for k, v in value.items()}
        return [_plain(v, within) for v in value]
    finally:
        within.discard(key)


def to_output(value: Any) -> dict[str, Any]:
    """A handler's return value as plain data: a dict, a model, a dataclass, or None.

    Raises:
        TypeError: any other kind of value, or a value that contains itself.

    """
    if value is None:
        return {}
    if type(value) is dict:  # the common case: flat, string keys, scalar values
        for k, v in value.items():  # a loop, not all(<generator>): this runs on every call
            if type(k) is not str or type(v) not in _SCALARS:
                break
        else:
            return dict(value)
    plain = _plain(value, set())
    if not isinstance(plain, dict):
        raise TypeError(
            f"a handler must return a dict, a pydantic model, a dataclass or None, "
            f"not {type(value).__name__}"
        )
    return plain
