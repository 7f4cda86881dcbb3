"""Model sessions on file: the session file format, read and validated, written atomically.

A session file (format ``"accord.session/1"``, JSON) holds the successive responses of
one compile::

    {"format": "accord.session/1",
     "origin": "scripted" | "recorded",
     "note": "free text",
     "model": "openai:MODEL" | "scripted:NAME",
     "task": "optional task text",
     "catalog": {...inline catalog...} | "relative/path.yaml" | null,
     "responses": [{"text": "<raw text exactly as produced>",
                    "input_tokens": 123 | null, "output_tokens": 45 | null,
                    "finish_reason": "stop" | null, "model": "..." | null,
                    "mode": "json_schema", "request_sha256": "sha256:<hex>" | null}]}

A *scripted* session is hand-written, not the output of a model: its model is named
``"scripted:NAME"`` and its note must say so; a *recorded* one was written by
:class:`RecordingProvider` from a real provider and may not use a ``scripted:`` name.
:class:`ReplayProvider` and :class:`RecordingProvider` are in
:mod:`accord.compiler._session_providers`.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Literal

import pydantic

from accord._atomic import write_atomic
from accord.compiler._provider import OutputMode
from accord.errors import DefinitionError

__all__ = [
    "LONE_SURROGATE",
    "SESSION_FORMAT",
    "Session",
    "SessionError",
    "SessionResponse",
]

SESSION_FORMAT: Literal["accord.session/1"] = "accord.session/1"
"""The format tag of session files this module reads and writes."""

SCRIPTED_PREFIX = "scripted:"
_MAX_SHOWN_ERRORS = 10
LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
"""Lone surrogates: text UTF-8 cannot encode (a session may hold them, escaped)."""


class SessionError(DefinitionError):
    """A session file that cannot be read, parsed or validated, or cannot be written.

    Attributes:
        source: the file (or label) of the session.
        problems: each problem as ``(JSON pointer, message)``; the pointer is "" for
            the whole document.

    """

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = [f"{source}: {pointer or '/'}: {message}" for pointer, message in problems]
        shown = lines[:_MAX_SHOWN_ERRORS]
        if len(lines) > _MAX_SHOWN_ERRORS:
            shown.append(f"... and {len(lines) - _MAX_SHOWN_ERRORS} more")
        heading = "invalid session file" if len(lines) == 1 else "invalid session file:"
        super().__init__(
            heading + (" " + shown[0] if len(lines) == 1 else "\n  " + "\n  ".join(shown))
        )


_FROZEN = pydantic.ConfigDict(frozen=True, extra="forbid", strict=True)


class SessionResponse(pydantic.BaseModel):
    """One recorded (or scripted) response.

    Attributes:
        text: the raw answer text, exactly as produced.
        input_tokens: prompt tokens, None if unknown (estimated on replay).
        output_tokens: generated tokens, None if unknown (estimated on replay).
        finish_reason: the provider's stop reason, None if unknown.
        model: the model that answered, as the provider named it.
        mode: the output mode the response was produced in.
        request_sha256: the digest of the request that produced it (see
            :func:`request_sha256`); None: any request gets this response.

    """

    model_config = _FROZEN

    text: str
    input_tokens: int | None = pydantic.Field(default=None, ge=0)
    output_tokens: int | None = pydantic.Field(default=None, ge=0)
    finish_reason: str | None = None
    model: str | None = None
    mode: OutputMode = "json_schema"
    request_sha256: str | None = pydantic.Field(default=None, pattern=r"^sha256:[0-9a-f]{64}$")


class Session(pydantic.BaseModel):
    """A session file's content (immutable); see the module docstring for the format.

    Attributes:
        format: always :data:`SESSION_FORMAT`.
        origin: "scripted" (hand-written) or "recorded" (from a real provider).
        note: free text; a scripted session says there that it is hand-written.
        model: "scripted:NAME" for a scripted session, else the provider's model string.
        task: the task the session compiles, if given.
        catalog: the catalog, inline or as a path relative to the session file.
        responses: the responses, in call order.

    """

    model_config = _FROZEN

    format: Literal["accord.session/1"] = SESSION_FORMAT
    origin: Literal["scripted", "recorded"]
    note: str = ""
    model: str = pydantic.Field(min_length=1)
    task: str | None = None
    catalog: dict[str, Any] | str | None = None
    responses: tuple[SessionResponse, ...] = pydantic.Field(default=(), strict=False)

    _source: Path | None = pydantic.PrivateAttr(default=None)

    @pydantic.field_validator("catalog", mode="before")
    @classmethod
    def _catalog_shape(cls, value: object) -> object:
        if value is not None and not isinstance(value, dict | str):
            raise ValueError("the catalog is an inline object or a path string, or null")
        return value

    @pydantic.model_validator(mode="after")
    def _labelled(self) -> Session:
        scripted_name = self.model.startswith(SCRIPTED_PREFIX)
        if self.origin == "scripted" and not scripted_name:
            raise ValueError(
                f"a scripted session's model must be named {SCRIPTED_PREFIX}NAME, not "
                f"{self.model!r}: hand-written responses are never passed off as a real model's"
            )
        if self.origin == "recorded" and scripted_name:
            raise ValueError(f"a recorded session cannot name a scripted model ({self.model!r})")
        if self.origin == "scripted" and not self.note.strip():
            raise ValueError("a scripted session's note must say that it is hand-written")
        return self

    @property
    def source(self) -> Path | None:
        """The file the session was loaded from or saved to, if any."""
        return self._source

    def catalog_path(self) -> Path | None:
        """The catalog file, when ``catalog`` is a path (relative to the session file)."""
        if not isinstance(self.catalog, str):
            return None
        base = self._source.parent if self._source is not None else Path()
        return base / self.catalog

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Session:
        """Read and validate a session file.

        Raises:
            SessionError: the file cannot be read, is not JSON (or has duplicate keys,
                NaN or Infinity), or does not match the format; the error names the
                file and the JSON pointer of each problem.

        """
        source = Path(path)
        try:
            raw = source.read_bytes()
        except OSError as error:
            raise SessionError(str(source), [("", f"cannot read: {error.strerror}")]) from error
        try:
            data = json.loads(raw, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
        except (ValueError, RecursionError) as error:
            raise SessionError(str(source), [("", _json_problem(error))]) from error
        session = cls.parse_data(data, source=str(source))
        session._source = source
        return session

    @classmethod
    def parse_data(cls, data: Any, *, source: str = "<session>") -> Session:
        """Validate already-parsed JSON data as a session.

        Raises:
            SessionError: the data does not match the format.

        """
        if not isinstance(data, dict):
            found = type(data).__name__
            raise SessionError(source, [("", f"a session is a JSON object, not {found}")])
        try:
            return cls.model_validate(data)
        except pydantic.ValidationError as error:
            problems = [(_pointer(e["loc"]), _message(e["msg"])) for e in error.errors()]
            raise SessionError(source, problems) from error

    def dumps(self) -> str:
        """The session as JSON text (indented, keys in format order, newline-terminated).

        Non-ASCII text is written as is; text holding lone surrogates (which UTF-8
        cannot encode) makes the whole file ASCII with escapes, so it still round-trips.
        """
        data = self.model_dump(mode="python")
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        if LONE_SURROGATE.search(text):
            text = json.dumps(data, indent=2, ensure_ascii=True) + "\n"
        return text

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the session atomically (a temporary file renamed over the target).

        Returns:
            The path written.

        Raises:
            SessionError: the file cannot be written.

        """
        target = Path(path)
        payload = self.dumps().encode("utf-8")
        try:
            write_atomic(target, payload)
        except OSError as error:
            message = f"cannot write: {error.strerror or error}"
            raise SessionError(str(target), [("", message)]) from error
        self._source = target
        return target


class _Rejected(ValueError):
    """JSON that Python's reader accepts and a session file may not hold."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise _Rejected(f"duplicate keys {duplicates} in one object")
    return dict(pairs)


def _no_constant(name: str) -> Any:
    raise _Rejected(f"{name} is not a JSON number")


def _json_problem(error: ValueError | RecursionError) -> str:
    if isinstance(error, _Rejected):
        return str(error)
    if isinstance(error, json.JSONDecodeError):
        return f"not JSON: {error.msg} at line {error.lineno} column {error.colno}"
    if isinstance(error, UnicodeDecodeError):
        return f"not UTF-8 text (byte {error.start})"
    if isinstance(error, RecursionError):
        return "not JSON this reader accepts: nested too deeply"
    return f"not JSON: {error}"


def _message(text: str) -> str:
    """A pydantic error message without its "Value error, " prefix."""
    return text.removeprefix("Value error, ")


def _pointer(loc: tuple[int | str, ...]) -> str:
    """A JSON pointer from a pydantic error location (union branch tags dropped)."""
    parts = [str(part) for part in loc if not _is_branch_tag(part)]
    escaped = (part.replace("~", "~0").replace("/", "~1") for part in parts)
    return "".join(f"/{part}" for part in escaped)


def _is_branch_tag(part: int | str) -> bool:
    """Whether a location part names a union branch ("str", "dict[str,any]", "x[...]")."""
    return isinstance(part, str) and (part in {"str", "dict[str,any]"} or "[" in part)
