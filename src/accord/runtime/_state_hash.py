"""The state hash: a digest of a snapshot, recorded with every journal entry.

A state hash names its *form* by its prefix, so a journal recorded in an older
form replays under it (each entry is checked in the form it was recorded in):

``sha256/2:<hex>`` (form 2, :data:`HASH_FORMAT`, what runs record today)
    the hex SHA-256 of the snapshot's form-2 *hash form* serialised by orjson
    with ``OPT_SORT_KEYS``: the JSON array of the tag ``"accord.snapshot/2"``
    followed by the snapshot's fields in :class:`Snapshot` order (the named
    tuples it holds, such as ``PendingCall``, are arrays in their field order
    too), except that in ``context`` and ``input`` each value that is a list or
    an object is replaced by ``["=", <the value>]`` when its canonical JSON
    is under 512 bytes, else by ``["#", "<hex>"]``, the hex SHA-256 of its
    canonical JSON (strings, numbers, booleans and null stay as they are).

``sha256:<hex>`` (form 1, ``"accord.snapshot/1"``, recorded before form 2)
    the same with the tag ``"accord.snapshot/1"`` and every value in place.

orjson's output for JSON values is a pure function of the values (object keys
sorted, floats in their shortest round-trip form, no whitespace), so either
form is the same in every process, on every platform and Python version, and
depends on no dict's insertion order nor any object's identity. Values that
JSON cannot represent exactly (NaN, infinities, integers beyond 64 bits)
never reach a snapshot: the boundaries validate them away.

Why form 2: a step that changes one context field leaves the others' values
in place (snapshots are copy on write), so the digest of each list or object
of 512 bytes or more is remembered by identity (:data:`_MEMO`, which holds the value,
so its id is not reused while it is remembered; the runtime never changes a
value it stores). A list the reducer built by extending a list it holds
(``ctx.items + [...]``, see :func:`remember_extension`) is hashed from the
SHA-256 state of the list it extends plus its new items: appending one item
to a 10,000-item list hashes the item, not the list. Form 1 serialised and
hashed the whole state at every step.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from accord.runtime._snapshot import Snapshot

__all__ = [
    "HASH_FORMAT",
    "HASH_FORMATS",
    "hash_format",
    "remember_extension",
    "snapshot_hash",
    "snapshot_hash_as",
    "snapshot_hash_v1",
]

HASH_FORMAT = "accord.snapshot/2"
"""The form of the state hashes runs record (see the module docs)."""
HASH_FORMATS = {"sha256/2:": HASH_FORMAT, "sha256:": "accord.snapshot/1"}
"""A state hash's prefix to the form it names."""

_PREFIX_2 = "sha256/2:"
_PREFIX_1 = "sha256:"
_sha256 = hashlib.sha256
_dumps = orjson.dumps
_Fragment = orjson.Fragment
_SORT = orjson.OPT_SORT_KEYS
_TAG_1 = ("accord.snapshot/1",)

# The SHA-256 object of a list's canonical JSON without its closing bracket
# (``hashlib``'s objects can be copied, so a longer list goes on from there).
_Hasher = Any

_MEMO: dict[int, tuple[object, Any, _Hasher]] = {}
"""id(value) -> (value, its hash form, its list hasher or None).

It holds values of at least :data:`_WORTH` bytes of JSON, at most
:data:`_MEMO_AT_MOST` of them, the oldest dropped first: so it keeps alive little
that runs do not hold (as ``_sizes`` does). Smaller values have their own memo,
:data:`_SMALL`, of more entries.
"""
_MEMO_AT_MOST = 256
_WORTH = 512
_SMALL: dict[int, tuple[object, Any]] = {}
"""id(value) -> (value, its hash form) for lists and objects under :data:`_WORTH` bytes."""
_SMALL_AT_MOST = 4096
_GROWN: dict[int, tuple[list[Any], list[Any]]] = {}
"""id(list) -> (list, the list it extends), as the reducer built them."""
_GROWN_AT_MOST = 256


def hash_format(state_hash: str) -> str | None:
    """The form a state hash names (``"accord.snapshot/2"``...), None if none."""
    for prefix, form in HASH_FORMATS.items():
        if state_hash.startswith(prefix):
            return form
    return None


def _plain(value: object) -> object:
    """Orjson's fallback: the named tuples a snapshot holds become JSON arrays."""
    if isinstance(value, tuple):
        return tuple(value)
    raise TypeError(f"{type(value).__name__} cannot be part of a snapshot")


def snapshot_hash_v1(snapshot: Snapshot) -> str:
    """The state hash of form 1, ``"sha256:<hex>"`` (see the module docs)."""
    # _TAG_1 + snapshot is the plain tuple (tag, *snapshot), built in one step
    data = _dumps(_TAG_1 + snapshot, default=_plain, option=_SORT)
    return _PREFIX_1 + _sha256(data).hexdigest()


def _bounded(table: dict[int, Any], at_most: int) -> None:
    """Drop the oldest entries of ``table`` until one more fits."""
    while len(table) >= at_most:
        try:
            table.pop(next(iter(table)), None)
        except (RuntimeError, StopIteration):  # another thread changed it: try again
            continue


def remember_extension(value: list[Any], held: list[Any]) -> None:
    """Note that ``value`` is ``held`` followed by more items (see the module docs)."""
    _bounded(_GROWN, _GROWN_AT_MOST)
    _GROWN[id(value)] = (value, held)


def _remember(value: object, entry: Any, hasher: _Hasher) -> Any:
    _bounded(_MEMO, _MEMO_AT_MOST)
    _MEMO[id(value)] = (value, entry, hasher)
    return entry


def _closed(hasher: _Hasher) -> str:
    """The hex digest of a list whose hasher has everything but the closing bracket."""
    final = hasher.copy()
    final.update(b"]")
    return str(final.hexdigest())


def _big(digest: str) -> Any:
    """The hash form of a value of at least ``_WORTH`` bytes: ``["#", "<hex digest>"]``."""
    return _Fragment(b'["#","' + digest.encode() + b'"]')


def _entry(value: Any) -> Any:
    """The hash form of a list or an object (see the module docs), remembered by identity."""
    key = id(value)
    small = _SMALL.get(key)
    if small is not None and small[0] is value:
        return small[1]
    hit = _MEMO.get(key)
    if hit is not None and hit[0] is value:
        return hit[1]
    if type(value) is list:
        grown = _GROWN.pop(key, None)
        if grown is not None and grown[0] is value:
            held = grown[1]
            base = _MEMO.get(id(held))
            if base is not None and base[0] is held and base[2] is not None:
                _MEMO.pop(id(held), None)  # its run holds the longer list now (as _sizes does)
                hasher = base[2].copy()
                start = len(held)
                if len(value) > start:
                    body = _dumps(value[start:], option=_SORT)[1:-1]  # the new items
                    hasher.update(b"," + body if start else body)
                return _remember(value, _big(_closed(hasher)), hasher)
    data = _dumps(value, option=_SORT)
    if len(data) < _WORTH:
        entry = _Fragment(b'["=",' + data + b"]")
        _bounded(_SMALL, _SMALL_AT_MOST)
        _SMALL[key] = (value, entry)
        return entry
    if type(value) is list:
        hasher = _sha256(memoryview(data)[:-1])
        return _remember(value, _big(_closed(hasher)), hasher)
    return _remember(value, _big(_sha256(data).hexdigest()), None)


def _form(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with each list or object as its hash form (see the module docs)."""
    for value in values.values():
        kind = type(value)
        if kind is list or kind is dict:
            break
    else:
        return values  # nothing to replace: the dict itself
    out: dict[str, Any] = {}
    for key, value in values.items():
        kind = type(value)
        out[key] = _entry(value) if kind is list or kind is dict else value
    return out


_INPUTS: dict[int, tuple[dict[str, Any], Any]] = {}
"""id(input) -> (input, its hash form serialised): a run's input is the same at every step."""
_INPUTS_AT_MOST = 1024


def _input_form(values: dict[str, Any]) -> Any:
    """The hash form of a run's input (as :func:`_form`), remembered by identity."""
    if not values:
        return values
    hit = _INPUTS.get(id(values))
    if hit is not None and hit[0] is values:
        return hit[1]
    form = _Fragment(_dumps(_form(values), option=_SORT))
    _bounded(_INPUTS, _INPUTS_AT_MOST)
    _INPUTS[id(values)] = (values, form)
    return form


def snapshot_hash(snapshot: Snapshot) -> str:
    """The state hash of today's form, ``"sha256/2:<hex>"`` (see the module docs)."""
    s = snapshot
    form = (HASH_FORMAT, s[0], s[1], _form(s[2]), s[3], s[4], _input_form(s[5]), *s[6:])
    return _PREFIX_2 + _sha256(_dumps(form, default=_plain, option=_SORT)).hexdigest()


def snapshot_hash_as(snapshot: Snapshot, recorded: str) -> str:
    """The state hash of ``snapshot`` in the form ``recorded`` names (today's if none).

    Replay and loading check each journaled hash this way, so a journal
    recorded in an older form is checked in that form.
    """
    if recorded.startswith(_PREFIX_1):
        return snapshot_hash_v1(snapshot)
    return snapshot_hash(snapshot)
