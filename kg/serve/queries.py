"""Named queries from queries/*.rq: title and description come from the `# title:` / `# answers:` header."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True)
class NamedQuery:
    name: str
    title: str
    answers: str
    text: str


def read_query(path: Path) -> NamedQuery:
    text = path.read_text(encoding="utf-8")
    title, answers, in_answers = path.stem.replace("-", " "), [], False
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        body = line.lstrip("#").strip()
        if body.startswith("title:"):
            title, in_answers = body[6:].strip(), False
        elif body.startswith("answers:"):
            answers, in_answers = [body[8:].strip()], True
        elif in_answers and body:
            answers.append(body)
    return NamedQuery(path.stem, title, " ".join(answers), text)


def named_queries(folder: Path) -> list[NamedQuery]:
    return [read_query(p) for p in sorted(Path(folder).glob("*.rq"))]


STUDY_PLACEHOLDER = "<urn:gide-kg:bind:study>"


@cache
def internal_queries(folder: Path) -> dict[str, NamedQuery]:
    """The pages' own queries (queries/internal/<page>/*.rq), read once: name → query."""
    return {q.name: q for q in named_queries(folder)}


def bind_iri(text: str, iri: str, placeholder: str = STUDY_PLACEHOLDER) -> str:
    """The query with its placeholder IRI token (a valid IRI, so the file runs as it is) replaced by `iri` (checked and written as an IRI term,
    so a value cannot change the query's structure)."""
    import pyoxigraph as ox

    return text.replace(placeholder, str(ox.NamedNode(iri)))


def bind_values(text: str, variables: tuple[str, ...], rows: list[tuple]) -> str:
    """The query with its empty `VALUES (?a ?b …) { }` block for exactly these variables filled with `rows`.
    Each value is written as an RDF term by pyoxigraph (a str becomes a literal, an int an xsd:integer, an
    `ox.NamedNode` an IRI, None UNDEF), so a value cannot change the query's structure."""
    import pyoxigraph as ox

    def term(v) -> str:
        if v is None:
            return "UNDEF"
        if isinstance(v, bool | int):
            v = ox.Literal(str(int(v)), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))
        elif isinstance(v, str):
            v = ox.Literal(v)
        return str(v)

    block = "VALUES (" + " ".join("?" + v for v in variables) + ") { }"
    if text.count(block) != 1:
        raise ValueError(f"the query has no single empty block {block!r}")
    body = " ".join("(" + " ".join(term(v) for v in row) + ")" for row in rows)
    return text.replace(block, block[:-3] + "{ " + body + " }")
