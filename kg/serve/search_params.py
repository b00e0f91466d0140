"""Search parameters: parsing, bounds and errors from the route declarations (kg/serve/api_params.toml).

Both /search (ours) and /gide/search (gide-search's API) read their query string here. Every request is
bounded before any work is done: the query string's length, the number of distinct values of a
parameter and each value's length; repeated values count once (a 15,000-times repeated organism is one
filter). Values are parsed as pydantic parses FastAPI query parameters (integers, bounds, booleans
`1/true/t/yes/y/on`), and every problem is collected as a FastAPI-style error `{loc, msg, type, input}`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from ..search import SearchQuery
from ..search.facets import facets, licence_aliases, publisher_iri
from .openapi import query_params

MAX_QUERY_BYTES = 16_384  # the whole query string
MAX_VALUES = 100  # distinct values of one parameter
MAX_VALUE_CHARS = 500  # one value
OBO = "http://purl.obolibrary.org/obo/"
TRUE = {"1", "on", "t", "true", "y", "yes"}
FALSE = {"0", "off", "f", "false", "n", "no"}
SORTS = {
    "relevance": "relevance",
    "date": "-date",
    "-date": "-date",
    "+date": "date",
    "oldest": "date",
    "size": "-size",
    "-size": "-size",
    "+size": "size",
    "title": "title",
}


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # str | strs (repeatable) | int | bool
    description: str
    default: object = None
    ge: int | None = None
    le: int | None = None
    aliases: tuple[str, ...] = ()


# defaults as gide-search's FastAPI signature has them (the declaration file has none)
DEFAULTS = {"q": "", "size": 20, "offset": 0, "require_thumbnail": False, "sort": "relevance", "extras": False}


@cache
def params_of(rule: str) -> tuple[Param, ...]:
    """A route's query parameters as kg/serve/api_params.toml declares them (the one declaration the
    parser, /openapi.json and /gide/openapi.json read)."""
    out = []
    for name, p in query_params(rule).items():
        kind = "strs" if p.get("repeat") else {"integer": "int", "boolean": "bool"}.get(p.get("type", "string"), "str")
        out.append(
            Param(
                name,
                kind,
                p.get("description", ""),
                DEFAULTS.get(name),
                p.get("minimum"),
                p.get("maximum"),
                tuple(p.get("aliases", ())),
            )
        )
    return tuple(out)


FACET_OF_PARAM = {f.param: f.name for f in facets().values()}


@dataclass
class ParamError(Exception):
    """One or more invalid parameters (FastAPI's error list: loc, msg, type, input, ctx)."""

    errors: list[dict] = field(default_factory=list)

    def message(self) -> str:
        return "; ".join(f"{e['loc'][-1]}: {e['msg']}" for e in self.errors)


def _error(name: str, kind: str, msg: str, value=None, **ctx) -> dict:
    e = {"type": kind, "loc": ["query", name], "msg": msg, "input": value}
    if ctx:
        e["ctx"] = ctx
    return e


def bounded(query_string: bytes, args, params: tuple[Param, ...]) -> dict[str, list[str]]:
    """Every declared parameter's distinct values in order of first use (aliases such as `name[]` read as
    `name`; undeclared ones ignored, as FastAPI does); limits enforced."""
    if len(query_string) > MAX_QUERY_BYTES:
        raise ParamError(
            [
                _error(
                    "query_string",
                    "too_long",
                    f"the query string is {len(query_string)} bytes; at most {MAX_QUERY_BYTES} are accepted",
                    None,
                    max_length=MAX_QUERY_BYTES,
                )
            ]
        )
    out: dict[str, list[str]] = {}
    errors = []
    pairs = [(p.name, v) for p in params for n in (p.name, *p.aliases) for v in args.getlist(n)]
    for name, value in pairs:
        values = out.setdefault(name, [])
        if value in values:
            continue
        if len(value) > MAX_VALUE_CHARS:
            errors.append(
                _error(
                    name,
                    "string_too_long",
                    f"String should have at most {MAX_VALUE_CHARS} characters",
                    value[:40] + "…",
                    max_length=MAX_VALUE_CHARS,
                )
            )
            continue
        values.append(value)
        if len(values) > MAX_VALUES:
            errors.append(
                _error(
                    name,
                    "too_long",
                    f"List should have at most {MAX_VALUES} distinct items",
                    None,
                    max_length=MAX_VALUES,
                )
            )
            values.pop()
    if errors:
        raise ParamError(errors)
    return out


def parse_int(p: Param, raw: str, errors: list) -> int | None:
    s = raw.strip()
    if not re.fullmatch(r"[+-]?[0-9]{1,18}", s):
        errors.append(
            _error(p.name, "int_parsing", "Input should be a valid integer, unable to parse string as an integer", raw)
        )
        return None
    v = int(s)
    if p.ge is not None and v < p.ge:
        errors.append(
            _error(p.name, "greater_than_equal", f"Input should be greater than or equal to {p.ge}", raw, ge=p.ge)
        )
        return None
    if p.le is not None and v > p.le:
        errors.append(_error(p.name, "less_than_equal", f"Input should be less than or equal to {p.le}", raw, le=p.le))
        return None
    return v


def parse_bool(p: Param, raw: str, errors: list) -> bool | None:
    s = raw.strip().lower()
    if s in TRUE:
        return True
    if s in FALSE:
        return False
    errors.append(_error(p.name, "bool_parsing", "Input should be a valid boolean, unable to interpret input", raw))
    return None


def _curie(value: str, prefix: str, pad: int = 0) -> str:
    m = re.fullmatch(rf"(?i)(?:{prefix})\w*?[:_ ]?0*([0-9]{{1,12}})", value.strip())
    if m:
        n = int(m.group(1))
        return f"{OBO}FBbi_{n:0{pad}d}" if prefix == "fbbi" else f"{OBO}NCBITaxon_{n}"
    return value


def normalise_value(param: str, value: str, strict: bool) -> str | None:
    """A filter value as the index keys it. `strict` (our /search): a value that cannot be a term is an
    error message; gide-search instead matches it as given (no study has it)."""
    v = value.strip()
    if not v:
        return None
    if param == "publisher":
        return publisher_iri(v)
    if param == "license":
        return licence_aliases().get(re.sub(r"[^a-z0-9]", "", v.lower()), v)
    if param == "organism":
        v = _curie(v, "ncbi(?:taxon)?")
    elif param == "imaging_method":
        v = _curie(v, "fbbi", pad=8)
    elif param == "year":
        if not re.fullmatch(r"(19|20)[0-9]{2}", v):
            raise ValueError(f"year must be a four-digit year, not {value!r}")
        return v
    elif param == "ome_zarr":
        if v.lower() not in ("yes", "true", "1"):
            raise ValueError("ome_zarr takes yes")
        return "yes"
    if strict and not re.match(r"^https?://\S+$", v):
        raise ValueError(f"{param} must be an IRI or a CURIE such as ncbitaxon:9606 / fbbi:00000246, not {value!r}")
    return v


def parse_search(query_string: bytes, args, rule: str) -> tuple[SearchQuery, dict]:
    """The search a request to `rule` asks for, and the options it set (`extras`). Raises ParamError."""
    gide = rule.startswith("/gide/")
    params = params_of(rule)
    values = bounded(query_string, args, params)
    errors: list[dict] = []
    opts: dict = {}

    def last(name: str) -> str | None:
        v = values.get(name)
        return v[-1] if v else None

    for p in params:
        raw = last(p.name)
        if p.kind == "int":
            opts[p.name] = p.default if raw is None else parse_int(p, raw, errors)
        elif p.kind == "bool":
            opts[p.name] = p.default if raw is None else parse_bool(p, raw, errors)
    sq = SearchQuery(q=(last("q") or "").strip()[:MAX_VALUE_CHARS])
    for param, facet in FACET_OF_PARAM.items():
        if param not in values:
            continue
        wanted = []
        for raw in values.get(param, []):
            for part in raw.split("|") if not gide else [raw]:
                try:
                    v = normalise_value(param, part, strict=not gide)
                except ValueError as e:
                    errors.append(_error(param, "value_error", str(e), part))
                    continue
                if v and v not in wanted:
                    wanted.append(v)
        if wanted:
            sq.filters[facet] = wanted
    sort = (last("sort") or "relevance").lower()
    if sort not in SORTS:
        errors.append(_error("sort", "enum", f"Input should be {', '.join(sorted(SORTS))}", sort))
    if errors:
        raise ParamError(errors)
    sq.sort = SORTS[sort]
    sq.year_from, sq.year_to = opts.get("year_from"), opts.get("year_to")
    sq.require_thumbnail = bool(opts.get("require_thumbnail"))
    sq.expand = (not gide) if opts.get("expand") is None else opts["expand"]
    sq.facet_counts = "all" if gide else "others"
    sq.facet_values = "entry" if gide and not sq.expand else "graph"
    sq.size = opts.get("size") or 20
    sq.offset = (opts["page"] - 1) * sq.size if opts.get("page") else opts.get("offset") or 0
    return sq, {"extras": bool(opts.get("extras"))}


def openapi_parameters(rule: str) -> list[dict]:
    """A route's parameters as OpenAPI 3 parameter objects (the same declaration the parser reads)."""
    out = []
    for p in params_of(rule):
        schema: dict = {"type": {"str": "string", "strs": "array", "int": "integer", "bool": "boolean"}[p.kind]}
        if p.kind == "strs":
            schema["items"] = {"type": "string", "maxLength": MAX_VALUE_CHARS}
            schema["maxItems"] = MAX_VALUES
        if p.kind == "str":
            schema["maxLength"] = MAX_VALUE_CHARS
        if p.ge is not None:
            schema["minimum"] = p.ge
        if p.le is not None:
            schema["maximum"] = p.le
        if p.default is not None:
            schema["default"] = p.default
        out.append(
            {
                "name": p.name,
                "in": "query",
                "required": False,
                "description": p.description,
                "schema": schema,
                **({"explode": True} if p.kind == "strs" else {}),
            }
        )
    return out
