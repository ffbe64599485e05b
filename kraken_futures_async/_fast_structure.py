"""Structure functions for the production converter: each key read once, work only on values.

cattrs' generated function tests ``key in payload`` and reads the key again for every field,
and sends each Optional value through a hook that dispatches on the type at every call; for
~300 tickers of 26 fields that costs more than parsing the JSON. The function built here
reads each key once with ``dict.get``, converts only values that are present and not
``None``, takes exact Decimals, strings, booleans and known enum values as they are, and
fills frozen slotted models through their slots.

It never decides a failure on its own: whatever it cannot structure (a missing key, a wrong
type, a bad nested value) is handed to cattrs' own function for the same class, which then
succeeds or raises exactly as before. The strict converter does not use this module.
"""

from __future__ import annotations

import datetime as dt
import enum
import linecache
import types
import typing
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs
import cattrs

from ._values import parse_datetime, to_decimal

__all__ = [
    "is_fast_structure_fn",
    "make_fast_structure_fn",
    "slot_setters",
    "structure_datetime",
    "structure_decimal",
]

StructureFn = Callable[[Any, Any], Any]

_MISSING = object()
_NONE_TYPE = type(None)
_PLAIN = (str, int, float, bool)
_ATTRS_GENERATED = "<attrs generated "


def structure_decimal(value: Any, _: type) -> Decimal:
    """The converters' Decimal hook (recognised here, so fields of that type skip the call)."""
    return to_decimal(value)


def structure_datetime(value: Any, _: type) -> dt.datetime:
    """The converters' datetime hook (recognised here, so fields call the parser directly)."""
    return parse_datetime(value)


def _optional_inner(tp: Any) -> Any:
    """``X`` for ``X | None`` (two members, as cattrs' own Optional hook requires), else None."""
    if typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return None
    args = typing.get_args(tp)
    if len(args) != 2 or _NONE_TYPE not in args:
        return None
    return args[0] if args[1] is _NONE_TYPE else args[1]


def _homogeneous_item(tp: Any) -> Any:
    """``X`` for ``tuple[X, ...]``, else None."""
    if typing.get_origin(tp) is not tuple:
        return None
    args = typing.get_args(tp)
    if len(args) == 2 and args[1] is Ellipsis and args[0] is not Any:
        return args[0]
    return None


def _has_type_var(tp: Any) -> bool:
    return isinstance(tp, typing.TypeVar) or any(_has_type_var(a) for a in typing.get_args(tp))


class _Code:
    """The generated function's body and the names it refers to."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = {"_MISSING": _MISSING}

    def bind(self, prefix: str, value: Any) -> str:
        """A name for ``value`` in the generated code (one name per object)."""
        for name, bound in self.names.items():
            if bound is value:
                return name
        name = f"_{prefix}{len(self.names)}"
        self.names[name] = value
        return name

    def _same_class_kind(
        self, conv: cattrs.Converter, tp: Any
    ) -> tuple[str, Callable[[str], str]] | None:
        """(class, fix) when a value of exactly that class is already the result, else None.

        Decimals pass as they are (integers become Decimals right here); ``str(s)``,
        ``int(i)``, ``bool(b)`` and ``float(f)`` give back the very same object, so only
        other values need the converter's work. ``fix(var)`` is the expression for the rest.
        """
        hook = conv.get_structure_hook(tp)
        if hook is structure_decimal:
            d = self.bind("Decimal", Decimal)
            f = self.bind("to_decimal", to_decimal)
            return d, lambda var: f"{d}({var}) if {var}.__class__ is int else {f}({var})"
        if hook == conv._structure_call and tp in _PLAIN:
            name = self.bind("type", tp)
            return name, lambda var: f"{name}({var})"
        return None

    def convert(self, conv: cattrs.Converter, var: str, tp: Any, indent: str) -> None:
        """Lines that turn ``var`` (a value that is present) into ``tp``, as ``conv`` would."""
        hook = conv.get_structure_hook(tp)
        inner = _optional_inner(tp)
        if inner is not None and hook == conv._structure_optional:
            kind = self._same_class_kind(conv, inner)
            if kind is not None:
                # one test for the common case, a value that needs nothing done
                cls, fix = kind
                self.lines.append(
                    f"{indent}if {var}.__class__ is not {cls} and {var} is not None:"
                    f" {var} = {fix(var)}"
                )
                return
            self.lines.append(f"{indent}if {var} is not None:")
            self.convert(conv, var, inner, indent + "    ")
            return
        kind = self._same_class_kind(conv, tp)
        if kind is not None:
            cls, fix = kind
            self.lines.append(f"{indent}if {var}.__class__ is not {cls}: {var} = {fix(var)}")
            return
        if hook is structure_datetime:
            f = self.bind("parse_datetime", parse_datetime)
            self.lines.append(f"{indent}{var} = {f}({var})")
            return
        if hook == conv._structure_call and isinstance(tp, type) and issubclass(tp, enum.Enum):
            # the member a value names, as the enum's own lookup finds it first
            t = self.bind("type", tp)
            m = self.bind("members", tp._value2member_map_)
            self.lines.append(f"{indent}_m = {m}.get({var}) if {var}.__class__ is str else None")
            self.lines.append(f"{indent}{var} = {t}({var}) if _m is None else _m")
            return
        item = _homogeneous_item(tp)
        if item is not None and hook == conv._structure_tuple:
            h = self.bind("hook", conv.get_structure_hook(item))
            t = self.bind("type", item)
            self.lines.append(f"{indent}{var} = tuple([{h}(_e, {t}) for _e in {var}])")
            return
        h = self.bind("hook", hook)
        t = self.bind("type", tp)
        self.lines.append(f"{indent}{var} = {h}({var}, {t})")


def slot_setters(cls: type) -> list[Any] | None:
    """Each field's slot setter when ``cls.__init__`` would only store the values, else None.

    That holds for a frozen slotted attrs class (attrs >= 25.4 says so in ``__attrs_props__``)
    whose ``__init__`` attrs generated, with no validators, converters, pre/post-init hooks,
    cached hash or other extra slots. Filling the slots directly then builds the same object
    in half the time of the ``__init__`` call (26 fields: ~1.8 us instead of ~3.8 us).
    """
    props = getattr(cls, "__attrs_props__", None)
    if props is None or not (props.is_slotted and props.is_frozen and props.added_init):
        return None
    if props.is_exception or "CACHED" in str(props.hashability.name):
        return None
    fields = attrs.fields(cls)
    code = getattr(cls.__dict__.get("__init__"), "__code__", None)
    if code is None or not code.co_filename.startswith(_ATTRS_GENERATED):
        return None
    if cls.__new__ is not object.__new__:  # type: ignore[comparison-overlap]
        return None
    if hasattr(cls, "__attrs_pre_init__") or hasattr(cls, "__attrs_post_init__"):
        return None
    slots: set[str] = set()
    for klass in cls.__mro__:
        declared = klass.__dict__.get("__slots__", ())
        slots.update((declared,) if isinstance(declared, str) else declared)
    if slots - {f.name for f in fields} - {"__weakref__"}:
        return None
    setters = []
    for f in fields:
        if not f.init or f.validator is not None or f.converter is not None:
            return None
        descriptor = next((k.__dict__[f.name] for k in cls.__mro__ if f.name in k.__dict__), None)
        if not isinstance(descriptor, types.MemberDescriptorType):
            return None
        setters.append(descriptor.__set__)
    return setters


def _default_expr(code: _Code, field: attrs.Attribute[Any]) -> str | None:
    """What ``__init__`` would store for an absent field, or None when it needs ``self``."""
    default: Any = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        if default.takes_self:
            return None
        return f"{code.bind('factory', default.factory)}()"
    return code.bind("default", default)


def make_fast_structure_fn(
    cls: type,
    conv: cattrs.Converter,
    wire_name: Callable[[attrs.Attribute[Any]], str],
    fallback: StructureFn,
) -> StructureFn:
    """A structure function for ``cls`` that defers every failure to ``fallback`` (cattrs')."""
    if typing.get_origin(cls) is not None or getattr(cls, "__parameters__", None):
        return fallback  # generic models: cattrs maps their type variables
    attrs.resolve_types(cls)
    if any(_has_type_var(f.type) for f in attrs.fields(cls)):
        return fallback
    fields = tuple(f for f in attrs.fields(cls) if f.init)
    setters = slot_setters(cls)
    code = _Code()
    code.lines.append("  g = o.get")
    values: list[str] = []
    for index, field in enumerate(fields):
        var = f"v{index}"
        key = wire_name(field)
        tp = field.type
        if field.default is attrs.NOTHING:
            code.lines.append(f"  {var} = o[{key!r}]")
            code.convert(conv, var, tp, "  ")
        elif (
            field.default is None
            and _optional_inner(tp) is not None
            and conv.get_structure_hook(tp) == conv._structure_optional
        ):
            # absent and null both mean None here
            code.lines.append(f"  {var} = g({key!r})")
            code.convert(conv, var, tp, "  ")
        else:
            default = _default_expr(code, field)
            if default is None:
                return fallback
            code.lines.append(f"  {var} = g({key!r}, _MISSING)")
            code.lines.append(f"  if {var} is _MISSING:")
            code.lines.append(f"    {var} = {default}")
            code.lines.append("  else:")
            code.convert(conv, var, tp, "    ")
        values.append(var)
    new_cls = code.bind("cls", cls)
    if setters is not None:
        code.lines.append(f"  _obj = {code.bind('new', object.__new__)}({new_cls})")
        for var, setter in zip(values, setters, strict=True):
            code.lines.append(f"  {code.bind('set', setter)}(_obj, {var})")
        code.lines.append("  return _obj")
    else:
        arguments = ", ".join(f"{f.alias}={v}" for f, v in zip(fields, values, strict=True))
        code.lines.append(f"  return {new_cls}({arguments})")
    fallback_name = code.bind("fallback", fallback)
    name = f"structure_{cls.__name__}"
    source = "\n".join(
        [
            # bound names are defaults, so the body reads them as fast locals
            f"def {name}(o, _=None, {', '.join(f'{n}={n}' for n in code.names)}):",
            " try:",
            *(" " + line for line in code.lines),
            " except Exception:",
            "  pass",
            # outside the handler, so cattrs' exception carries no context of ours
            f" return {fallback_name}(o, {new_cls})",
        ]
    )
    filename = f"<kraken_futures_async structure {cls.__module__}.{cls.__qualname__}>"
    namespace = dict(code.names)
    exec(compile(source, filename, "exec"), namespace)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    function = namespace[name]
    function.__kraken_fast_for__ = cls
    return function  # type: ignore[no-any-return]


def is_fast_structure_fn(function: Any, cls: type) -> bool:
    """Whether ``function`` is this module's function for ``cls`` (not cattrs', not a hook)."""
    return getattr(function, "__kraken_fast_for__", None) is cls
