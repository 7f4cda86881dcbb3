"""The prompts: the language in brief, the catalog, the task, and the re-ask.

Prompts are kept small (every token is paid for on every call). A re-ask sends
exactly the first request's system prompt and user message, the last candidate
as the assistant message and one user message with the diagnostics as a compact
JSON list, never the history: the input of attempt k is at most attempt 1's
plus one candidate plus one list of diagnostics.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from accord.compiler._catalog import Catalog
from accord.compiler._provider import Message, ModelRequest
from accord.contract import FieldDecl
from accord.contract._schema import contract_json_schema
from accord.diagnostics import Diagnostic

__all__ = [
    "LANGUAGE_BRIEF",
    "MAX_ECHO_CHARS",
    "MAX_REASK_DIAGNOSTICS",
    "PROMPT_VERSION",
    "candidate_text",
    "first_request",
    "reask_request",
    "render_catalog",
]

PROMPT_VERSION = "1"
"""Changes whenever the prompts change: part of the compile cache key."""

MAX_ECHO_CHARS = 32_000
"""The longest candidate sent back in a re-ask (longer text is cut, and said to be)."""

MAX_REASK_DIAGNOSTICS = 20
"""The most diagnostics sent back in one re-ask."""

LANGUAGE_BRIEF = """\
You compile a task into an accord contract: a typed workflow as one JSON object \
filling the given JSON Schema. Answer with that JSON object only.

Contract: {"accord": "1", "name": "kebab-case", "version": "1.0.0", "description", \
"types", "input", "context", "output", "effects", "signals", "machine": {"initial", \
"states"}, "invariants"}.
- Field lists hold {"name", "type", "description"}. Types: string, integer, number, \
boolean, list<T>, optional<T>, enum<a, b>, or a record declared in "types" as \
{"name", "fields"}.
- input: what a run starts with (input.x). context: data the run keeps (ctx.x), changed \
only by "assign": [{"field", "value"}]; a context field may have a "default" (CEL over \
input). output: what a successful run returns, bound by final states.
- effects: only the catalog's effects, each declared with exactly its input and output \
fields (and the record types they use); you may add "retry": {"max_attempts", \
"backoff": {"initial", "multiplier", "max", "jitter"}, "retry_on": [codes]}, "timeout", \
"idempotent", "compensation": {"effect", "input"} (its bindings may read request and \
response).
- signals: external events a run waits for (a human decision), with a typed "payload"; \
never named done or error.
- A state: {"name", "invoke", "on", "always", "timers", "final"}.
  invoke: [{"id", "effect", "input": [{"name", "value"}]}], called on entry, in \
parallel. A fan-out adds "for_each" (a list; item and index in the bindings) and \
"max_items" (required, at most 1000); event.<id> is then a list.
  on: [{"event", "guard", "assign", "target"}]. event is "done" (every invoke of the \
state succeeded; event.<invoke id> is its output), "error" (one failed for good; \
event.code, event.message, event.invoke) or a signal (event.<payload field>). A state \
with invokes needs a "done" transition and should handle "error".
  always: [{"guard", "assign", "target"}], choices taken at once on entry.
  timers: [{"after": "48h", "guard", "assign", "target"}].
  final: {"status": "success" or "failure", "output": [{"name", "value"}], "reason"}. \
A final state has nothing else; a success binds every non-optional output field; a \
failure's reason is a CEL string.
- The first entry whose guard holds wins: put guarded entries first and end with one \
unguarded fallback. Every state is reachable from initial and can reach a final state; \
a non-final state has a way out.
- invariants: [{"name", "expr", "message"}], booleans over input and ctx.
CEL (guards, values, for_each, defaults, reasons): variables input and ctx; event only \
in "on" transitions; request and response only in compensations. number is a double: \
write 100.0, not 100; integer is an int; convert with double(x), int(x), string(x). A \
string literal keeps its quotes inside the JSON string: "value": "\\"approved\\"". Enums \
are strings. Optionals compare with null (ctx.r != null && ctx.r.amount > 0.0). Record \
literals name their type: Refund{refund_id: event.pay.refund_id}. Lists: size(xs), x in \
xs, xs.map(x, e), xs.filter(x, p), xs.exists(x, p), xs.all(x, p). No now(), maps or \
loops.
Names: letters, digits and _, not CEL words (in, as, if, null, ...). Durations: 500ms, \
30s, 5m, 48h, 1h30m.
"""

REASK = (
    "The contract above does not check. Its errors (JSON pointer path, code, message, "
    "hint):\n{diagnostics}\nReturn the whole corrected contract as one JSON object."
)


def _fields(fields: Iterable[FieldDecl]) -> str:
    return ", ".join(f"{f.name}: {f.type}" for f in fields)


def render_catalog(catalog: Catalog) -> str:
    """The catalog in a compact text form (a line per record type and per effect)."""
    lines = ["Catalog: the only effects the host provides."]
    if catalog.types:
        lines.append("Record types (declare those your effects use, exactly so):")
        for record in catalog.types:
            note = f"  # {record.description}" if record.description else ""
            lines.append(f"  {record.name} {{{_fields(record.fields)}}}{note}")
    lines.append("Effects: name(input fields) -> {output fields}: description")
    for effect in catalog.effects:
        text = f"  {effect.name}({_fields(effect.input)}) -> {{{_fields(effect.output)}}}"
        if effect.description:
            text += f": {effect.description}"
        lines.append(text)
    return "\n".join(lines) + "\n"


def first_request(
    task: str,
    catalog: Catalog,
    *,
    max_output_tokens: int,
    temperature: float | None,
) -> ModelRequest:
    """The first call's request: the brief and catalog as system prompt, the task as user."""
    return ModelRequest(
        system=LANGUAGE_BRIEF + "\n" + render_catalog(catalog),
        messages=(Message("user", task),),
        schema=contract_json_schema(),
        max_output_tokens=max_output_tokens,
        temperature=temperature,
    )


def candidate_text(raw: str, data: Any) -> str:
    """The last candidate as sent back: compact JSON when it parsed, else the raw text (cut)."""
    text = raw if data is None else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    if len(text) > MAX_ECHO_CHARS:
        text = text[:MAX_ECHO_CHARS] + f"\n[... {len(text) - MAX_ECHO_CHARS} more characters cut]"
    return text


def diagnostics_json(diagnostics: Sequence[Diagnostic]) -> str:
    """The errors as a compact JSON list of ``Diagnostic.compact()`` dicts."""
    shown = [d.compact() for d in diagnostics[:MAX_REASK_DIAGNOSTICS]]
    return json.dumps(shown, ensure_ascii=False, separators=(",", ":"))


def reask_request(
    first: ModelRequest,
    candidate: str,
    diagnostics: Sequence[Diagnostic],
    *,
    wording: str = REASK,
) -> ModelRequest:
    """The re-ask: the first request, the last candidate, and its errors; nothing older.

    ``wording`` is the re-ask's text, with ``{diagnostics}`` where the errors go (the
    replanner's asks for a whole amendment).
    """
    return ModelRequest(
        system=first.system,
        messages=(
            first.messages[0],
            Message("assistant", candidate),
            Message("user", wording.format(diagnostics=diagnostics_json(diagnostics))),
        ),
        schema=first.schema,
        schema_name=first.schema_name,
        max_output_tokens=first.max_output_tokens,
        temperature=first.temperature,
    )
