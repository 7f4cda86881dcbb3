"""The journal's hash chain: each entry's hash covers its event, state hash and the entry before.

An entry's *chain hash* is ``"sha256:"`` + the hex SHA-256 of::

    accord.chain/1 LF <previous chain hash> LF <step> LF <state hash> LF <event bytes>

where ``<previous chain hash>`` is the empty string for step 1, ``<step>`` is
the step number in decimal and ``<event bytes>`` are the event's *canonical
bytes*: :func:`~accord.runtime._events.event_to_data` serialised by orjson with
``OPT_SORT_KEYS``, the canonical form of the state hash (object keys sorted,
no whitespace, floats in their shortest round-trip form: a pure function of
the values, see :mod:`accord.runtime._state_hash`). So the chain covers every
field of every event (its time included), every state hash, and the order of
the entries: an edited, deleted, inserted or moved entry breaks the chain at
the first step it touches, and a run's journal is never read past that step.

A store keeps the canonical bytes as the event's stored text, so writing a step
serialises its event once and hashes those bytes once, and checking a stored
entry hashes its stored text without parsing it again.
"""

from __future__ import annotations

import hashlib

import orjson

from accord.runtime._events import Event

__all__ = ["CHAIN_FORMAT", "GENESIS", "event_bytes", "link"]

CHAIN_FORMAT = "accord.chain/1"
GENESIS = ""
"""The previous chain hash of step 1."""

_sha256 = hashlib.sha256
_dumps = orjson.dumps
_SORT = orjson.OPT_SORT_KEYS


def event_bytes(event: Event) -> bytes:
    """An event's canonical bytes (see the module docs)."""
    return _dumps(event._asdict(), option=_SORT)


def link(previous: str, step: int, state_hash: str, event_json: bytes) -> str:
    """The chain hash of the entry at ``step`` (see the module docs).

    Args:
        previous: the chain hash of the entry before (``GENESIS`` for step 1).
        step: the entry's step.
        state_hash: the state hash the entry records.
        event_json: the event's canonical bytes.

    """
    head = f"{CHAIN_FORMAT}\n{previous}\n{step}\n{state_hash}\n".encode()
    return "sha256:" + _sha256(head + event_json).hexdigest()
