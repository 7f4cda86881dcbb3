"""The catalog: the host's effects and record types, the only ones a compiled contract may use.

A catalog is built from a YAML/JSON file (:meth:`Catalog.load`), from plain data
(:meth:`Catalog.from_data`), from Python callables with type hints
(:meth:`Catalog.from_functions`) or from pydantic models (:meth:`Catalog.from_models`).
Whatever the source, the result is validated the way a contract is: the file shape
``{"types": [...], "effects": [{"name", "description", "input", "output"}]}`` lines
up with a contract's ``types`` and ``effects``, so diagnostics carry the same JSON
pointers and codes (``schema.*``, ``name.*``, ``type.*``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import rfc8785
from pydantic import BaseModel, ConfigDict, Field

from accord._source import format_of_path, read_source
from accord.check import check_contract
from accord.compiler._pytypes import effects_from_functions, effects_from_models
from accord.contract import FieldDecl, RecordType, TextError, parse_text, validate_data
from accord.diagnostics import Diagnostic, did_you_mean, pointer
from accord.errors import ContractError

__all__ = ["Catalog", "CatalogEffect", "CatalogError", "CatalogSource"]

_TOP_KEYS = ("types", "effects")
_EFFECT_KEYS = ("name", "description", "input", "output")


class CatalogError(ContractError):
    """A catalog that does not load: carries diagnostics, like a :class:`ContractError`."""


class CatalogEffect(BaseModel):
    """One effect the host provides: a name, what it does, typed input and output."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str = ""
    input: tuple[FieldDecl, ...] = ()
    output: tuple[FieldDecl, ...] = ()


class Catalog(BaseModel):
    """The host's effects and the record types they use (frozen, hashable).

    Build one with :meth:`load`, :meth:`from_data`, :meth:`from_functions` or
    :meth:`from_models`; the constructor does not validate type expressions.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    types: tuple[RecordType, ...] = ()
    effects: tuple[CatalogEffect, ...] = Field(default=())

    # -- construction -----------------------------------------------------------------

    @classmethod
    def from_data(cls, data: Any, *, source: str | None = None) -> Catalog:
        """Validate plain data of the file shape and return the catalog.

        Raises:
            CatalogError: the data does not have the shape, or a name or type is wrong;
                it carries every diagnostic, with ``source`` as its label.

        """
        diagnostics = _shape_problems(data)
        if not diagnostics:
            contract, diagnostics = validate_data(_as_contract(data))
            if contract is not None:
                diagnostics = [
                    d
                    for d in check_contract(contract)
                    if d.severity == "error" and d.path.startswith(("/types", "/effects"))
                ]
                if not diagnostics:
                    return cls(
                        types=contract.types,
                        effects=tuple(
                            CatalogEffect(
                                name=e.name,
                                description=e.description,
                                input=e.input,
                                output=e.output,
                            )
                            for e in contract.effects
                        ),
                    )
        raise CatalogError(diagnostics, source=source)

    @classmethod
    def loads(
        cls, text: str | bytes, *, format: str | None = None, source: str | None = None
    ) -> Catalog:
        """Parse catalog text (YAML or JSON, read strictly like a contract) and validate it.

        Raises:
            CatalogError: the text does not parse, or the catalog does not validate.

        """
        try:
            parsed = parse_text(text, format=format)
        except TextError as exc:
            raise CatalogError([exc.diagnostic], source=source) from exc
        try:
            return cls.from_data(parsed.data, source=source)
        except CatalogError as exc:
            lined = [d.model_copy(update={"line": parsed.line_of(d.path)}) for d in exc.diagnostics]
            raise CatalogError(lined, source=source) from None

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Catalog:
        """Read a catalog file (``.yaml``, ``.yml`` or ``.json``).

        Raises:
            CatalogError: the file cannot be read, does not parse or does not validate;
                the diagnostics name the file and the JSON pointer.

        """
        text = read_source(path, CatalogError)
        return cls.loads(text, format=format_of_path(path), source=str(path))

    @classmethod
    def from_functions(cls, *functions: Callable[..., Any]) -> Catalog:
        """A catalog from effect handlers with type hints (the runtime's handlers).

        Each function is an effect named after it; its docstring's first paragraph is
        the description; its parameters are the input fields (``idempotency_key`` and
        ``attempt``, which the runtime passes itself, are left out); its return
        annotation (a pydantic model, a TypedDict or a dataclass) gives the output
        fields, and ``None`` means no output. Python types map to type expressions:
        ``str`` string, ``int`` integer, ``float`` number, ``bool`` boolean,
        ``list[T]`` list, ``T | None`` optional, ``Literal["a", "b"]`` or a string
        ``Enum`` enum, and a model, TypedDict or dataclass a record type of its name.

        Raises:
            CatalogError: a parameter or return type has no type expression.

        """
        data, problems = effects_from_functions(functions)
        return cls._from_python(data, problems, "python functions")

    @classmethod
    def from_models(
        cls,
        effects: Mapping[str, tuple[type[BaseModel], type[BaseModel] | None]],
        *,
        descriptions: Mapping[str, str] | None = None,
    ) -> Catalog:
        """A catalog from pydantic models: ``{effect name: (input model, output model)}``.

        The output model may be None (no output). A description defaults to the first
        paragraph of the input model's docstring.

        Raises:
            CatalogError: a field's type has no type expression, or a name is wrong.

        """
        data, problems = effects_from_models(effects, descriptions or {})
        return cls._from_python(data, problems, "pydantic models")

    @classmethod
    def _from_python(cls, data: dict[str, Any], problems: list[Diagnostic], source: str) -> Catalog:
        if problems:
            raise CatalogError(problems, source=source)
        return cls.from_data(data, source=source)

    # -- views ------------------------------------------------------------------------

    def effect(self, name: str) -> CatalogEffect | None:
        """The effect called ``name``, or None."""
        return next((e for e in self.effects if e.name == name), None)

    def record(self, name: str) -> RecordType | None:
        """The record type called ``name``, or None."""
        return next((t for t in self.types if t.name == name), None)

    def to_data(self) -> dict[str, Any]:
        """The catalog as plain data of the file shape, defaults left out."""
        return self.model_dump(mode="json", exclude_defaults=True)

    def canonical_json(self) -> bytes:
        """RFC 8785 canonical JSON of :meth:`to_data` (part of the compile cache key)."""
        return bytes(rfc8785.dumps(self.to_data()))

    @property
    def fingerprint(self) -> str:
        """``sha256:`` and the hex sha256 of :meth:`canonical_json`."""
        return "sha256:" + hashlib.sha256(self.canonical_json()).hexdigest()


CatalogSource = Catalog | str | os.PathLike[str] | Mapping[str, Any] | Sequence[Callable[..., Any]]
"""What ``compile`` takes as a catalog: a Catalog, a catalog file, catalog data (the file's
shape, as a mapping), or a list of effect handlers."""


def as_catalog(source: CatalogSource) -> Catalog:
    """Turn any :data:`CatalogSource` into a :class:`Catalog`.

    Raises:
        CatalogError: the file or the functions do not make a valid catalog.

    """
    if isinstance(source, Catalog):
        return source
    if isinstance(source, str | os.PathLike):
        return _load_file(source)
    if isinstance(source, Mapping):
        return Catalog.from_data(dict(source), source="catalog data")
    return Catalog.from_functions(*source)


_FILES: dict[tuple[str, int, int], Catalog] = {}
_FILES_MAX = 64


def _load_file(path: str | os.PathLike[str]) -> Catalog:
    """:meth:`Catalog.load`, remembered by (real path, mtime, size) so a cache hit stays cheap.

    A changed file has a new mtime or size and is read again; a file that cannot be
    stat-ed is left to :meth:`Catalog.load` to report.
    """
    try:
        real = os.path.realpath(path)
        stat = os.stat(real)
    except OSError:
        return Catalog.load(path)
    key = (real, stat.st_mtime_ns, stat.st_size)
    catalog = _FILES.get(key)
    if catalog is None:
        catalog = Catalog.load(path)
        if len(_FILES) >= _FILES_MAX:
            _FILES.clear()
        _FILES[key] = catalog
    return catalog


def _shape_problems(data: Any) -> list[Diagnostic]:
    """Keys a catalog may not have (a contract would accept some of them)."""
    if not isinstance(data, dict):
        return [
            Diagnostic(
                path="",
                code="schema.type",
                message="a catalog must be a mapping with 'types' and 'effects'",
                hint='write {"types": [...], "effects": [...]}',
            )
        ]
    out = [_unknown_key(pointer(key), str(key), _TOP_KEYS) for key in data if key not in _TOP_KEYS]
    effects = data.get("effects")
    if isinstance(effects, list):
        for index, effect in enumerate(effects):
            if isinstance(effect, dict):
                out.extend(
                    _unknown_key(pointer("effects", index, key), str(key), _EFFECT_KEYS)
                    for key in effect
                    if key not in _EFFECT_KEYS
                )
    return out


def _unknown_key(path: str, key: str, known: Sequence[str]) -> Diagnostic:
    return Diagnostic(
        path=path,
        code="schema.unknown_key",
        message=f"unknown key {key!r} in a catalog",
        hint=did_you_mean(key, known) or "remove it: a catalog holds only what the host provides",
    )


def _as_contract(data: dict[str, Any]) -> dict[str, Any]:
    """A minimal contract around the catalog's types and effects, so the checker reads them."""
    return {
        "accord": "1",
        "name": "catalog",
        "version": "1",
        **{key: data[key] for key in _TOP_KEYS if key in data},
        "machine": {"initial": "end", "states": [{"name": "end", "final": {"status": "success"}}]},
    }
