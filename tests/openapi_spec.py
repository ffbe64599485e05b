"""Kraken's Futures OpenAPI files as test data: operations, examples and response validation.

The YAML under ``tests/openapi/futures-rest`` is loaded once, cross-file ``$ref``s are followed
relative to the file they appear in, and response schemas are checked with JSON Schema 2020-12
(what OpenAPI 3.1 uses). Endpoint tests, contract tests and the exchange twin's schema checks all
read the spec through this module, so they agree on what "the spec says" means.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import numbers
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

import jsonschema  # type: ignore[import-untyped]
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

__all__ = [
    "KNOWN_EXAMPLE_FAULTS",
    "SERVICES",
    "SPEC_ROOT",
    "Operation",
    "Parameter",
    "SchemaMismatchError",
    "example",
    "examples",
    "operation",
    "operations",
    "request_schema",
    "response_schema",
    "validate",
    "validate_response",
]

SPEC_ROOT = Path(__file__).parent / "openapi" / "futures-rest"

#: Each service's main file; the ``_*.yml`` files beside them hold shared components.
SERVICES: Mapping[str, str] = {
    "trading": "trading/public.yml",
    "history": "history/api-public.yml",
    "charts": "charts/api-public.yml",
    "auth": "auth/api-public.yml",
    "stats": "stats/public.yml",
}

#: A made-up hierarchical base so that relative ``$ref``s resolve and nothing is ever fetched.
_BASE_URI = "https://kraken-openapi.invalid/futures-rest/"
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


#: Spec examples that contradict their own response schema, by (operationId, example name).
#: Kraken's examples date from 2019-2020; ``cliOrdId`` and ``unrealizedFunding`` were made
#: required later. Clients must accept both; a twin must emit what the schema says.
KNOWN_EXAMPLE_FAULTS: Mapping[tuple[str, str], str] = {
    ("sendOrder", "placed"): "orderEvents[0].order lacks the required cliOrdId",
    ("sendOrder", "rejected"): "orderEvents[0].order lacks the required cliOrdId",
    ("sendOrder", "executed"): "orderPriorExecution lacks the required cliOrdId",
    ("editOrderSpring", "success"): "old/new orders lack the required cliOrdId",
    ("cancelAllOrders", "success"): "a cancelled order lacks the required cliOrdId",
    ("sendBatchOrder", "success"): "orders in the events lack the required cliOrdId",
    ("getOpenPositions", "success"): "openPositions[1] lacks the required unrealizedFunding",
}


class SchemaMismatchError(AssertionError):
    """A body does not match the schema the spec gives for it."""


# --- loading -------------------------------------------------------------------------------


_YamlBase: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _JsonLikeLoader(_YamlBase):  # type: ignore[misc]
    """YAML read the way the spec's authors meant it: JSON values, nothing more.

    PyYAML's YAML 1.1 rules would turn unquoted ``2024-01-01T00:00:00Z`` into a datetime, ``no``
    into ``False`` and ``0123`` into an octal int; examples must stay what JSON would give.
    """

    yaml_implicit_resolvers: dict[str, list[tuple[str, re.Pattern[str]]]] = {}  # noqa: RUF012


for _tag, _pattern, _first in (
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("int", r"^[-+]?(?:0|[1-9][0-9]*)$", list("-+0123456789")),
    (
        "float",
        r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$",
        list("-+0123456789."),
    ),
    ("merge", r"^(?:<<)$", ["<"]),
):
    _JsonLikeLoader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_pattern), _first)


def _uri(relative: str) -> str:
    return urljoin(_BASE_URI, relative)


def _normalize(node: Any) -> Any:
    """OpenAPI 3.0 leftovers in JSON Schema 2020-12 terms; status codes as strings.

    ``nullable: true`` becomes a ``null`` alternative, and a nullable ``type`` list also lets
    ``null`` through its ``enum`` (the spec writes ``type: [string, "null"]`` with a value enum
    and means "one of these, or null").
    """
    if isinstance(node, list):
        return [_normalize(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {str(key): _normalize(value) for key, value in node.items()}
    if out.get("nullable") is True:
        del out["nullable"]
        if "type" in out:
            kinds: list[Any] = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*kinds, "null"] if "null" not in kinds else kinds
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    types, enum = out.get("type"), out.get("enum")
    if isinstance(types, list) and "null" in types and isinstance(enum, list) and None not in enum:
        out["enum"] = [*enum, None]
    return out


@functools.cache
def _documents() -> Mapping[str, Any]:
    """Every YAML file of the spec, by URI."""
    docs: dict[str, Any] = {}
    for path in sorted(SPEC_ROOT.rglob("*.yml")):
        with path.open(encoding="utf-8") as handle:
            loaded = yaml.load(handle, Loader=_JsonLikeLoader)
        docs[_uri(path.relative_to(SPEC_ROOT).as_posix())] = _normalize(loaded)
    return docs


@functools.cache
def _registry() -> Registry[Any]:
    resources = [
        (uri, Resource.from_contents(doc, default_specification=DRAFT202012))
        for uri, doc in _documents().items()
    ]
    return Registry().with_resources(resources).crawl()


# --- following references ------------------------------------------------------------------


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


@dataclasses.dataclass(frozen=True)
class _Node:
    """A value of the spec and where it sits (document URI and JSON pointer)."""

    uri: str
    pointer: str
    value: Any

    @property
    def ref(self) -> str:
        return f"{self.uri}#{self.pointer}"

    def child(self, key: str | int) -> _Node:
        return _Node(self.uri, f"{self.pointer}/{_escape(str(key))}", self.value[key])

    def follow(self) -> _Node:
        """The node itself, or what its (chain of) ``$ref`` points to."""
        node = self
        for _ in range(32):
            if not (isinstance(node.value, dict) and "$ref" in node.value):
                return node
            node = _lookup(urljoin(node.uri, node.value["$ref"]))
        raise ValueError(f"$ref chain too long at {self.ref}")


def _lookup(target: str) -> _Node:
    uri, fragment = urldefrag(target)
    try:
        value = _documents()[uri]
    except KeyError:
        raise KeyError(f"$ref to a file the spec does not have: {target}") from None
    for token in filter(None, fragment.split("/")):
        key = _unescape(token)
        try:
            value = value[int(key)] if isinstance(value, list) else value[key]
        except (KeyError, IndexError, ValueError):
            raise KeyError(f"$ref target not found: {target}") from None
    return _Node(uri, fragment, value)


def _inline(node: _Node, seen: frozenset[str] = frozenset()) -> Any:
    """A copy of ``node`` with every ``$ref`` replaced by its target (cycles keep the ref)."""
    value = node.value
    if isinstance(value, list):
        return [_inline(node.child(i), seen) for i in range(len(value))]
    if not isinstance(value, dict):
        return value
    if "$ref" in value:
        target = urljoin(node.uri, value["$ref"])
        if target in seen:
            return {"$ref": target}
        resolved = _inline(_lookup(target), seen | {target})
        siblings = {k: _inline(node.child(k), seen) for k in value if k != "$ref"}
        if not siblings:
            return resolved
        return {"allOf": [resolved, siblings]} if isinstance(resolved, dict) else resolved
    return {key: _inline(node.child(key), seen) for key in value}


# --- operations ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Parameter:
    name: str
    location: str
    required: bool
    #: The parameter's schema with every ``$ref`` inlined.
    schema: Any
    style: str | None = None
    explode: bool | None = None


@dataclasses.dataclass(frozen=True)
class Operation:
    """One operation of one service, with its path from the host root."""

    service: str
    operation_id: str
    method: str
    path: str
    parameters: tuple[Parameter, ...]
    #: Security requirements as the spec lists them (alternatives); empty means public.
    security: tuple[Mapping[str, tuple[str, ...]], ...]
    #: Response objects by status, their own ``$ref`` followed (schemas keep theirs).
    responses: Mapping[str, Any]
    request_body: Any = None
    _node: _Node | None = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def private(self) -> bool:
        """Some credential is required (an empty requirement ``{}`` would make it optional)."""
        return bool(self.security) and all(self.security)

    def parameter(self, name: str, location: str | None = None) -> Parameter:
        for param in self.parameters:
            if param.name == name and (location is None or param.location == location):
                return param
        raise KeyError(f"{self.operation_id} has no parameter {name!r}")


def _server_path(doc: Mapping[str, Any]) -> str:
    servers = doc.get("servers") or [{"url": "/"}]
    return urlsplit(str(servers[0]["url"])).path.rstrip("/")


def _parameters(path_item: _Node, op: _Node) -> tuple[Parameter, ...]:
    merged: dict[tuple[str, str], Parameter] = {}
    for owner in (path_item, op):
        if "parameters" not in owner.value:
            continue
        listed = owner.child("parameters")
        for index in range(len(listed.value)):
            param = listed.child(index).follow()
            raw = param.value
            schema = _inline(param.child("schema")) if "schema" in raw else None
            merged[(raw["name"], raw["in"])] = Parameter(
                name=raw["name"],
                location=raw["in"],
                required=bool(raw.get("required", raw["in"] == "path")),
                schema=schema,
                style=raw.get("style"),
                explode=raw.get("explode"),
            )
    return tuple(merged.values())


def _security(
    op: Mapping[str, Any], doc: Mapping[str, Any]
) -> tuple[dict[str, tuple[str, ...]], ...]:
    listed = op["security"] if "security" in op else doc.get("security") or []
    return tuple({name: tuple(scopes) for name, scopes in req.items()} for req in listed)


def _iter_operations() -> Iterator[Operation]:
    docs = _documents()
    for service, relative in SERVICES.items():
        uri = _uri(relative)
        doc = docs[uri]
        prefix = _server_path(doc)
        paths = _Node(uri, "", doc).child("paths")
        for path in paths.value:
            item = paths.child(path).follow()
            for method in _METHODS:
                if method not in item.value:
                    continue
                op = item.child(method)
                responses = op.child("responses") if "responses" in op.value else None
                body = op.child("requestBody").follow() if "requestBody" in op.value else None
                yield Operation(
                    service=service,
                    operation_id=op.value["operationId"],
                    method=method.upper(),
                    path=prefix + path,
                    parameters=_parameters(item, op),
                    security=_security(op.value, doc),
                    responses={}
                    if responses is None
                    else {
                        status: responses.child(status).follow().value for status in responses.value
                    },
                    request_body=None if body is None else body.value,
                    _node=op,
                )


@functools.cache
def _operations_by_id() -> Mapping[str, Operation]:
    found: dict[str, Operation] = {}
    for op in _iter_operations():
        if op.operation_id in found:
            raise ValueError(f"operationId {op.operation_id!r} appears twice in the spec")
        found[op.operation_id] = op
    return found


def operations() -> list[Operation]:
    """All operations of all services, in file and path order."""
    return list(_operations_by_id().values())


def operation(operation_id: str) -> Operation:
    try:
        return _operations_by_id()[operation_id]
    except KeyError:
        raise KeyError(f"the spec has no operation {operation_id!r}") from None


# --- responses: examples and schemas -------------------------------------------------------


def _status_key(responses: Mapping[str, Any], status: str | int) -> str:
    wanted = str(status)
    for key in (wanted, f"{wanted[:1]}XX", "default"):
        if key in responses:
            return key
    raise KeyError(f"no response {wanted} (the spec lists {', '.join(responses)})")


def _media(operation_id: str, status: str | int, content_type: str) -> _Node:
    op = operation(operation_id)
    assert op._node is not None
    responses = op._node.child("responses")
    try:
        response = responses.child(_status_key(responses.value, status)).follow()
        content = response.child("content").child(content_type)
    except KeyError as exc:
        raise KeyError(f"{operation_id}: {exc.args[0] if exc.args else exc}") from None
    except TypeError:
        raise KeyError(f"{operation_id} {status}: no {content_type} content") from None
    return content


def examples(
    operation_id: str, status: str | int = "200", *, content_type: str = "application/json"
) -> dict[str, Any]:
    """Every example payload of a response, by name (``example`` alone is named ``default``).

    Examples held by the schema itself are not response examples and are not returned.
    """
    try:
        media = _media(operation_id, status, content_type)
    except KeyError:
        return {}
    found: dict[str, Any] = {}
    if "examples" in media.value:
        listed = media.child("examples")
        for name in listed.value:
            ex = listed.child(name).follow().value
            if "value" in ex:
                found[name] = copy.deepcopy(ex["value"])
    if "example" in media.value:
        found.setdefault("default", copy.deepcopy(media.value["example"]))
    return found


def example(
    operation_id: str,
    status: str | int = "200",
    name: str | None = None,
    *,
    content_type: str = "application/json",
) -> Any:
    """One example payload (a fresh copy): the one called ``name``, or the first listed."""
    found = examples(operation_id, status, content_type=content_type)
    if not found:
        raise KeyError(f"{operation_id} {status} has no {content_type} example in the spec")
    if name is None:
        return next(iter(found.values()))
    try:
        return found[name]
    except KeyError:
        raise KeyError(
            f"{operation_id} {status} has no example {name!r} (it has {', '.join(found)})"
        ) from None


def response_schema(
    operation_id: str, status: str | int = "200", *, content_type: str = "application/json"
) -> Any:
    """The response schema with every ``$ref`` inlined, for reading enums and property lists."""
    return _inline(_media(operation_id, status, content_type).child("schema"))


def request_schema(
    operation_id: str, content_type: str = "application/x-www-form-urlencoded"
) -> Any:
    """The request body's schema with every ``$ref`` inlined (``batchorder``'s form, RFQ JSON)."""
    op = operation(operation_id)
    assert op._node is not None
    if "requestBody" not in op._node.value:
        raise KeyError(f"{operation_id} takes no request body")
    body = op._node.child("requestBody").follow()
    try:
        return _inline(body.child("content").child(content_type).child("schema"))
    except KeyError:
        raise KeyError(f"{operation_id} has no {content_type} request body") from None


def _is_integer(_checker: Any, instance: Any) -> bool:
    """Integers also as exact Decimals (what ``decode_json`` gives for ``5.0``) and whole floats."""
    if isinstance(instance, bool):
        return False
    if isinstance(instance, Decimal):
        return instance.is_finite() and instance == instance.to_integral_value()
    if isinstance(instance, float):
        return instance.is_integer()
    return isinstance(instance, int)


def _is_number(_checker: Any, instance: Any) -> bool:
    return isinstance(instance, numbers.Number) and not isinstance(instance, bool)


_Validator: Any = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine_many(
        {"integer": _is_integer, "number": _is_number}
    ),
)


@functools.cache
def _validator(operation_id: str, status: str, content_type: str) -> Any:
    schema = _media(operation_id, status, content_type).child("schema")
    return _Validator({"$ref": schema.ref}, registry=_registry())


def _where(error: Any) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return f"${path}"


def _depth(error: Any) -> int:
    return max([len(error.absolute_path), *(_depth(sub) for sub in error.context or ())])


def _leaf(error: Any) -> Any:
    """The most specific reason: inside ``oneOf``/``anyOf``, follow the closest branch.

    A branch whose ``enum``/``const`` refused a value (a ``type`` tag, ``result: error``) is
    the wrong branch; among the others, the one that got deepest into the body is closest.
    """
    while error.context:
        branches: dict[Any, list[Any]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        closest = min(
            branches.values(),
            key=lambda errs: (
                any(e.validator in ("enum", "const") for e in errs),
                -max(_depth(e) for e in errs),
                len(errs),
            ),
        )
        error = max(closest, key=_depth)
    return error


def _describe(error: Any) -> str:
    leaf = _leaf(error)
    text = f"{_where(leaf)}: {leaf.message[:200]}"
    if leaf is not error:
        text += f" (no {error.validator} branch matched at {_where(error)})"
    return text


def _raise_for(validator: Any, instance: Any, what: str) -> None:
    errors = sorted(validator.iter_errors(instance), key=jsonschema.exceptions.relevance)
    if errors:
        head = f"{what} does not match the spec ({len(errors)} error(s)):"
        raise SchemaMismatchError("\n  ".join([head, *(_describe(e) for e in errors[:5])]))


def validate_response(
    operation_id: str,
    status: str | int,
    body: Any,
    *,
    content_type: str = "application/json",
) -> None:
    """Raise :class:`SchemaMismatchError` unless ``body`` matches the response schema.

    ``body`` is plain JSON data (``json.loads`` or ``decode_json`` output). Formats such as
    ``date-time`` are annotations here, as JSON Schema 2020-12 has them by default.
    """
    validator = _validator(operation_id, str(status), content_type)
    _raise_for(validator, body, f"{operation_id} {status}")


def validate(schema: Any, instance: Any, what: str = "value") -> None:
    """Check ``instance`` against a schema taken from :func:`request_schema` and the like."""
    _raise_for(_Validator(schema, registry=_registry()), instance, what)
