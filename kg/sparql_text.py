"""SPARQL 1.1 query text as tokens, following the grammar's terminals (SPARQL 1.1 Query §19.8).

Shared by the public endpoint's guards (which SERVICE endpoints a query calls, how deep it nests, which
FROM graphs it names) and the remote store's query-form detection. A tokenizer rather than a parser:
it is exact about what is code and what is a string, IRI or comment — the only thing those checks need —
and takes ~1 ms for a named query, about 150x less than rdflib's parser (benchmarks/bench_query_guard.py).

Where the text is ambiguous the tokenizer leans to "code": an unterminated string or IRI is read as
punctuation followed by more code, so a keyword can be found twice but never hidden.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import urljoin

_PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_PN_CHARS_U = _PN_CHARS_BASE + "_"
_PN_CHARS = _PN_CHARS_U + r"\-0-9\u00B7\u0300-\u036F\u203F-\u2040"
# Written without the grammar's "(X|'.')* X" tails, which make a regex backtrack quadratically over long
# names: "a run of X, or dots followed by an X", inside atomic groups, matches the same names in linear time.
_PN_PREFIX = f"(?>[{_PN_CHARS_BASE}](?:[{_PN_CHARS}]|\\.+[{_PN_CHARS}])*)"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_PN_LOCAL = f"(?>(?:[{_PN_CHARS_U}:0-9]|{_PLX})(?:[{_PN_CHARS}:]|{_PLX}|\\.+(?:[{_PN_CHARS}:]|{_PLX}))*)"
_VARNAME = f"[{_PN_CHARS_U}0-9][{_PN_CHARS_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*"
_ECHAR = r"\\[tbnrf\\\"']"


@functools.cache
def _token() -> re.Pattern:
    """The token pattern, compiled on first use: its Unicode classes take about 0.1 s of CPU to compile,
    which a restarting server should not pay before it answers its first /search."""
    return re.compile(_TOKEN_PATTERN)


_TOKEN_PATTERN = "|".join(
    f"(?P<{name}>{pattern})"
    for name, pattern in [
        ("ws", r"[ \t\r\n]+"),
        ("comment", r"#[^\r\n]*"),
        ("iri", r'<[^<>"{}|^`\\\x00-\x20]*>'),
        ("op", r"\^\^|&&|\|\||!=|<=|>=|[{}()\[\],;*+/=!|&^<>-]"),  # early: punctuation that starts no other token
        (
            "string",
            (
                f"'''(?:(?:'|'')?(?:[^'\\\\]|{_ECHAR}))*'''"
                f'|"""(?:(?:"|"")?(?:[^"\\\\]|{_ECHAR}))*"""'
                f"|'(?:[^'\\\\\\n\\r]|{_ECHAR})*'"
                f'|"(?:[^"\\\\\\n\\r]|{_ECHAR})*"'
            ),
        ),
        ("pname", f"(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?"),
        ("bnode", f"_:(?>[{_PN_CHARS_U}0-9](?:[{_PN_CHARS}]|\\.+[{_PN_CHARS}])*)"),
        ("var", f"[?$]{_VARNAME}"),
        ("langtag", r"@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*"),
        ("number", r"[0-9]+\.?[0-9]*(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?"),
        ("word", _PN_PREFIX),  # keywords, function names; a whole name run, so a failed pname is not rescanned
        ("punct", r"[\s\S]"),
    ]
)
_UNICODE_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_LOCAL_ESC = re.compile(r"\\(.)")


class Token(NamedTuple):
    kind: str  # ws, comment, iri, op, string, pname, bnode, var, langtag, number, word, punct
    text: str
    pos: int


def unescape_codepoints(text: str) -> str:
    """\\uXXXX / \\UXXXXXXXX replaced everywhere, as SPARQL 1.1 §19.2 says a parser does before parsing."""

    def char(m: re.Match) -> str:
        try:
            return chr(int(m.group(1) or m.group(2), 16))
        except (ValueError, OverflowError):
            return m.group(0)

    return _UNICODE_ESCAPE.sub(char, text)


def tokens(text: str, code_only: bool = True) -> list[Token]:
    """The query's tokens in order; without whitespace and comments unless `code_only` is False."""
    skip = ("ws", "comment") if code_only else ()
    return [Token(m.lastgroup, m.group(), m.start()) for m in _token().finditer(text) if m.lastgroup not in skip]


@dataclass
class Structure:
    """What the guards need to know about a query: its form, the SERVICE calls, FROM graphs, nesting."""

    form: str | None = None  # SELECT, CONSTRUCT, DESCRIBE, ASK (or an update keyword)
    services: list[str] = field(default_factory=list)  # resolved endpoint IRIs; "?var" for a variable
    unresolved: list[str] = field(default_factory=list)  # SERVICE targets that could not be resolved
    from_graphs: list[str] = field(default_factory=list)
    from_named: list[str] = field(default_factory=list)
    depth: int = 0  # deepest nesting of { ( [
    truncated: bool = False  # more tokens than asked to read
    lookup: bool = False  # a SELECT or ASK of at most one triple pattern (`is_lookup`): cheap to evaluate
    volatile: bool = False  # calls RAND, NOW, UUID, STRUUID or BNODE: each evaluation answers anew


_FORMS = {
    "SELECT",
    "CONSTRUCT",
    "DESCRIBE",
    "ASK",
    "INSERT",
    "DELETE",
    "LOAD",
    "CLEAR",
    "CREATE",
    "DROP",
    "COPY",
    "MOVE",
    "ADD",
    "WITH",
}
_OPEN, _CLOSE = set("{(["), set("})]")
_VOLATILE = {"RAND", "NOW", "UUID", "STRUUID", "BNODE"}
_KEYWORDS = _FORMS | {"BASE", "PREFIX", "FROM", "SERVICE"}


def _resolve(iri: str, base: str | None) -> str:
    return urljoin(base, iri) if base and not re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", iri) else iri


def structure(text: str, max_tokens: int | None = None) -> Structure:
    """The query's structure from its tokens: PREFIX and BASE applied to every IRI that matters. Reading
    stops after `max_tokens` code tokens (then `truncated` is set and the rest is unknown)."""
    st = Structure()
    # (kind, text) pairs: ~3x cheaper than Token objects, which matters for a 1 MiB query of tiny tokens
    pairs = ((m.lastgroup, m.group()) for m in _token().finditer(text) if m.lastgroup not in ("ws", "comment"))
    toks = list(itertools.islice(pairs, max_tokens + 1 if max_tokens else None))
    if max_tokens and len(toks) > max_tokens:
        st.truncated = True
        return st
    prefixes: dict[str, str] = {}
    base: str | None = None
    depth = 0

    def iri_of(tok: tuple[str, str]) -> str | None:
        kind, value = tok
        if kind == "iri":
            return _resolve(value[1:-1], base)
        if kind == "pname":
            prefix, _, local = value.partition(":")
            if prefix not in prefixes:
                return None
            return prefixes[prefix] + _LOCAL_ESC.sub(r"\1", local)
        return None

    n = len(toks)
    for i, (kind, value) in enumerate(toks):
        if kind == "op":
            if value in _OPEN:
                depth += 1
                st.depth = max(st.depth, depth)
            elif value in _CLOSE:
                depth -= 1
            continue
        if kind == "word":
            upper = value.upper()
            if upper not in _KEYWORDS:
                if upper in _VOLATILE:
                    st.volatile = True
                continue
            nxt = toks[i + 1] if i + 1 < n else ("", "")
            if upper == "BASE" and nxt[0] == "iri":
                base = _resolve(nxt[1][1:-1], base)
            elif (
                upper == "PREFIX"
                and nxt[0] == "pname"
                and nxt[1].endswith(":")
                and i + 2 < n
                and toks[i + 2][0] == "iri"
            ):
                prefixes[nxt[1][:-1]] = _resolve(toks[i + 2][1][1:-1], base)
            elif upper == "FROM":
                if nxt[0] == "word" and nxt[1].upper() == "NAMED":
                    st.from_named.append((iri_of(toks[i + 2]) if i + 2 < n else None) or "")
                else:
                    st.from_graphs.append(iri_of(nxt) or "")
            elif upper == "SERVICE":
                _service(st, toks[i + 1 : i + 3], iri_of)
            elif st.form is None and upper in _FORMS:
                st.form = upper
        elif (
            kind == "pname"
            and value.partition(":")[0].upper() in ("SERVICE", "SILENT")
            and i + 1 < n
            and toks[i + 1][1] == "{"
        ):
            # `SERVICE:x {` is the prefixed name SERVICE:x in the grammar, but pyoxigraph's parser matches
            # the keyword first and reads SERVICE + :x; a name that could be either is refused as a call.
            st.unresolved.append(value)
    st.lookup = is_lookup(toks)
    return st


# the terms a lookup's triple pattern may hold, by position (besides `a` as a predicate and true / false)
_SUBJECT = {"var", "iri", "pname"}
_OBJECT = {"var", "iri", "pname", "string", "number"}


def is_lookup(toks: list[tuple[str, str]]) -> bool:
    """Whether the code tokens are exactly `Prologue (SELECT (var+ | *) | ASK) WHERE? { [s p o .?] } (LIMIT n)?`:
    PREFIX / BASE declarations, then one triple pattern of variables, IRIs, prefixed names and literals —
    no blank nodes, paths, FILTER, OPTIONAL, sub-queries, DISTINCT, ORDER BY, OFFSET, FROM or SERVICE — in
    which no variable occurs twice. Such a query is one index scan read in order: every solution costs a
    step of the scan and no solution is held back (a repeated variable would make the scan skip any number
    of quads between two solutions, as DISTINCT and OFFSET would), so reading its first n solutions is
    bounded by n. A token sequence outside this grammar is not a lookup; one inside it is a lookup or a
    syntax error for the parser."""
    i, n = 0, len(toks)

    def word(k: int) -> str:
        return toks[k][1].upper() if k < n and toks[k][0] == "word" else ""

    while word(i) in ("BASE", "PREFIX"):
        if word(i) == "BASE" and i + 1 < n and toks[i + 1][0] == "iri":
            i += 2
        elif i + 2 < n and toks[i + 1][0] == "pname" and toks[i + 1][1].endswith(":") and toks[i + 2][0] == "iri":
            i += 3
        else:
            return False
    form = word(i)
    i += 1
    if form == "SELECT":
        if i < n and toks[i] == ("op", "*"):
            i += 1
        else:
            start = i
            while i < n and toks[i][0] == "var":
                i += 1
            if i == start:
                return False
    elif form != "ASK":
        return False
    if word(i) == "WHERE":
        i += 1
    if i >= n or toks[i] != ("op", "{"):
        return False
    i += 1
    if i + 2 < n and toks[i] != ("op", "}"):
        (sk, sv), (pk, pv), (ok, ov) = toks[i : i + 3]
        if (
            sk not in _SUBJECT
            or not (pk in _SUBJECT or (pk, pv) == ("word", "a"))
            or not (ok in _OBJECT or (ok == "word" and ov.lower() in ("true", "false")))
        ):
            return False
        names = [v[1:] for k, v in ((sk, sv), (pk, pv), (ok, ov)) if k == "var"]
        if len(set(names)) != len(names):
            return False
        i += 3
        if ok == "string" and i < n and toks[i][0] == "langtag":
            i += 1
        elif ok == "string" and i + 1 < n and toks[i] == ("op", "^^") and toks[i + 1][0] in ("iri", "pname"):
            i += 2
        if i < n and toks[i] == ("punct", "."):
            i += 1
    if i >= n or toks[i] != ("op", "}"):
        return False
    i += 1
    if word(i) == "LIMIT" and i + 1 < n and toks[i + 1][0] == "number" and toks[i + 1][1].isdigit():
        i += 2
    return i == n


def _service(st: Structure, following: list[tuple[str, str]], iri_of) -> None:
    target = following[0] if following else None
    if target is not None and target[0] == "word" and target[1].upper() == "SILENT":
        target = following[1] if len(following) > 1 else None
    if target is None:
        st.unresolved.append("(nothing)")
    elif target[0] == "var":
        st.services.append(target[1])
    else:
        iri = iri_of(target)
        if iri is None:
            st.unresolved.append(target[1])
        else:
            st.services.append(iri)


def query_form(text: str) -> str | None:
    """SELECT, CONSTRUCT, DESCRIBE, ASK, or the first update keyword (None if there is none)."""
    return structure(text).form
