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
