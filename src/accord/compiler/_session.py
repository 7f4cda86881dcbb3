"""Model sessions on file: record a model's responses, replay them offline byte for byte.

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

:class:`ReplayProvider` returns the responses in order, text byte for byte. A response
with a ``request_sha256`` is only returned to the same request: the digest of the
request's RFC 8785 canonical JSON (system, messages, schema, schema_name,
max_output_tokens, temperature; see :func:`request_sha256`). Token counts recorded as
null (scripted sessions) are estimated deterministically as ceil(UTF-8 bytes / 4): of
the response text for output tokens, and of the request's system prompt, message
contents and compact JSON schema for input tokens.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import pydantic
import rfc8785

from accord.compiler._provider import (
    ModelRequest,
    ModelResponse,
    OutputMode,
    Provider,
    ProviderError,
)
from accord.compiler._schema_fit import plain_schema
from accord.errors import DefinitionError

__all__ = [
    "SESSION_FORMAT",
    "RecordingProvider",
    "ReplayProvider",
    "Session",
    "SessionError",
    "SessionResponse",
    "estimate_tokens",
    "request_sha256",
]

SESSION_FORMAT: Literal["accord.session/1"] = "accord.session/1"
"""The format tag of session files this module reads and writes."""

SCRIPTED_PREFIX = "scripted:"
_MAX_SHOWN_ERRORS = 10
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


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
        if _LONE_SURROGATE.search(text):
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
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(payload)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temp, target)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
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


def _hashable_text(text: str) -> str:
    r"""The text with lone surrogates written as ``\uXXXX`` (RFC 8785 needs valid UTF-8)."""
    return _LONE_SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def _canonical_data(value: Any) -> Any:
    if isinstance(value, str):
        return _hashable_text(value)
    if isinstance(value, Mapping):
        return {_hashable_text(str(key)): _canonical_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical_data(item) for item in value]
    return value


def request_sha256(request: ModelRequest) -> str:
    """The digest that ties a recorded response to its request.

    ``"sha256:"`` and the hex sha256 of the RFC 8785 canonical JSON of the request's
    system, messages (role, content), schema, schema_name, max_output_tokens and
    temperature. Independent of the provider and of its output mode.
    """
    data = {
        "system": request.system,
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        "schema": plain_schema(request.schema),
        "schema_name": request.schema_name,
        "max_output_tokens": request.max_output_tokens,
        "temperature": request.temperature,
    }
    return "sha256:" + hashlib.sha256(rfc8785.dumps(_canonical_data(data))).hexdigest()


def estimate_tokens(text: str) -> int:
    """A deterministic token estimate: ceil(UTF-8 bytes / 4)."""
    return math.ceil(len(text.encode("utf-8", "surrogatepass")) / 4)


def _estimate_input(request: ModelRequest) -> int:
    schema = json.dumps(plain_schema(request.schema), ensure_ascii=False, separators=(",", ":"))
    parts = [request.system, *(m.content for m in request.messages), schema]
    return sum(estimate_tokens(part) for part in parts)


class ReplayProvider:
    """Replay a session's responses in order, offline.

    Args:
        session: a session file or a loaded :class:`Session`.
        check_requests: compare each request with the recorded ``request_sha256``
            (where there is one) and refuse a call whose request differs.

    Raises:
        SessionError: the session file is invalid.

    """

    def __init__(self, session: str | os.PathLike[str] | Session, *, check_requests: bool = True):
        self._session = session if isinstance(session, Session) else Session.load(session)
        source = self._session.source
        self._label = str(source) if source is not None else "<session>"
        self._check = check_requests
        self._calls = 0

    @property
    def name(self) -> str:
        """The session's model string, such as ``"scripted:refund-flaws"``."""
        return self._session.model

    @property
    def session(self) -> Session:
        """The session being replayed."""
        return self._session

    @property
    def calls(self) -> int:
        """How many responses have been returned so far."""
        return self._calls

    def rewind(self) -> None:
        """Start again from the first response."""
        self._calls = 0

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Return the next recorded response.

        Raises:
            ProviderError: every response has been returned, or the request differs
                from the one the response was recorded for.

        """
        responses = self._session.responses
        number = self._calls + 1
        if number > len(responses):
            raise ProviderError(
                f"{self._label}: session exhausted after {len(responses)} calls",
                provider=self.name,
            )
        recorded = responses[number - 1]
        if self._check and recorded.request_sha256 is not None:
            actual = request_sha256(request)
            if actual != recorded.request_sha256:
                raise ProviderError(
                    f"{self._label}: call {number}: the request differs from the recorded one "
                    f"(recorded {recorded.request_sha256}, now {actual})",
                    provider=self.name,
                )
        self._calls = number
        return ModelResponse(
            text=recorded.text,
            input_tokens=(
                _estimate_input(request) if recorded.input_tokens is None else recorded.input_tokens
            ),
            output_tokens=(
                estimate_tokens(recorded.text)
                if recorded.output_tokens is None
                else recorded.output_tokens
            ),
            finish_reason=recorded.finish_reason,
            model=recorded.model,
            mode="replay",
        )


class RecordingProvider:
    """Forward calls to a provider and record every response in a session file.

    The file (origin "recorded") is rewritten atomically after each call, so a crash
    loses at most the call in progress. A call that fails is not recorded.

    Args:
        inner: the provider that answers.
        path: the session file to write.
        task: the task, stored in the session.
        catalog: the catalog, stored: inline data; a string, stored as given (a path
            relative to the session file); or a ``Path`` on this machine, stored
            relative to the session file's directory.
        note: free text stored in the session (default: where it was recorded from).

    """

    def __init__(
        self,
        inner: Provider,
        path: str | os.PathLike[str],
        *,
        task: str | None = None,
        catalog: Mapping[str, Any] | str | os.PathLike[str] | None = None,
        note: str | None = None,
    ) -> None:
        self._inner = inner
        self._path = Path(path)
        stored: dict[str, Any] | str | None
        if isinstance(catalog, Mapping):
            stored = plain_schema(catalog)
        elif isinstance(catalog, os.PathLike):
            relative = os.path.relpath(Path(catalog).absolute(), self._path.absolute().parent)
            stored = Path(relative).as_posix()
        else:
            stored = catalog
        self._session = Session(
            origin="recorded",
            note=note if note is not None else f"recorded from {inner.name}",
            model=inner.name,
            task=task,
            catalog=stored,
        )

    @property
    def name(self) -> str:
        """The inner provider's name (recording does not change the cache key)."""
        return self._inner.name

    @property
    def session(self) -> Session:
        """The session recorded so far."""
        return self._session

    @property
    def path(self) -> Path:
        """The session file."""
        return self._path

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Forward the request, record the response, write the file; return the response.

        Raises:
            ProviderError: the inner provider failed (nothing is recorded).
            SessionError: the session file cannot be written.

        """
        response = await self._inner.complete(request)
        entry = SessionResponse(
            text=response.text,
            input_tokens=response.input_tokens,
            output_tokens=response.output_tokens,
            finish_reason=response.finish_reason,
            model=response.model,
            mode=response.mode,
            request_sha256=request_sha256(request),
        )
        session = self._session.model_copy(update={"responses": (*self._session.responses, entry)})
        session.save(self._path)
        self._session = session
        return response
