"""The search portal: /search (HTML with facets, hierarchy trees, sorting, paging; JSON twin), the
GIDE-search-compatible API (/gide/search, /gide/api/entry/<id>), and /stats with server-rendered charts.

Every search state is a URL. Parameters follow gide-search (q, publisher, organism, imaging_method,
license, year_from, year_to, size, offset, require_thumbnail) plus ours: cell_line, anatomy,
biological_process, study_type, ome_zarr, expand (hierarchy expansion, on by default), sort, page.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, jsonify, render_template, request

from ..namespaces import OBO
from ..search import FACETS, SearchQuery, StudyIndex
from ..search.index import LICENCE_LABELS
from ..terms import TermIndex
from .app import indexes
from .negotiation import json_twin_requested

bp = Blueprint("portal", __name__)

PUBLISHERS = {
    "bioimage-archive": "https://www.ebi.ac.uk/bioimage-archive/", "bia": "https://www.ebi.ac.uk/bioimage-archive/",
    "idr": "https://idr.openmicroscopy.org/", "ssbd:repository": "https://ssbd.riken.jp/repository",
    "ssbd:database": "https://ssbd.riken.jp/database",
}
LICENCES = {re.sub(r"[^a-z0-9]", "", v.lower()): k for k, v in LICENCE_LABELS.items()}
LICENCES["cc0"] = "https://creativecommons.org/publicdomain/zero/1.0/"
PARAM_FACETS = {"publisher": "repository", "organism": "organism", "imaging_method": "imaging_method", "license": "license",
                "cell_line": "cell_line", "anatomy": "anatomy", "biological_process": "biological_process", "study_type": "study_type",
                "ome_zarr": "ome_zarr", "year": "year"}
FACET_PARAMS = {v: k for k, v in PARAM_FACETS.items()}
SORTS = {"relevance": "relevance", "date": "-date", "-date": "-date", "+date": "date", "oldest": "date", "size": "-size",
         "-size": "-size", "+size": "size", "title": "title"}


class BadParameter(ValueError):
    pass


def terms() -> TermIndex:
    return indexes().terms


def studies() -> StudyIndex:
    return indexes().studies


def _curie(value: str, prefix: str, pad: int = 0) -> str:
    m = re.fullmatch(rf"(?i)(?:{prefix})[:_ ]?0*([0-9]+)", value.strip())
    if m:
        n = int(m.group(1))
        return f"{OBO}{'FBbi' if prefix == 'fbbi' else 'NCBITaxon'}_{n:0{pad}d}" if pad else f"{OBO}NCBITaxon_{n}"
    return value


def normalise_value(param: str, value: str) -> str:
    v = value.strip()
    if not v:
        raise BadParameter(f"empty value for {param}")
    if param == "publisher":
        return PUBLISHERS.get(v.lower(), v)
    if param == "organism":
        v = _curie(v, "ncbitaxon")
    elif param == "imaging_method":
        v = _curie(v, "fbbi", pad=8)
    elif param == "license":
        return LICENCES.get(re.sub(r"[^a-z0-9]", "", v.lower()), v)
    elif param == "year":
        if not re.fullmatch(r"(19|20)[0-9]{2}", v):
            raise BadParameter(f"year must be a four-digit year, not {value!r}")
        return v
    elif param == "ome_zarr":
        if v.lower() not in ("yes", "true", "1"):
            raise BadParameter("ome_zarr takes yes")
        return "yes"
    if not re.match(r"^https?://\S+$", v):
        raise BadParameter(f"{param} must be an IRI or a CURIE such as ncbitaxon:9606 / fbbi:00000246, not {value!r}")
    return v


def _int_arg(name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        v = int(raw)
    except ValueError:
        raise BadParameter(f"{name} must be a whole number, not {raw!r}") from None
    if not low <= v <= high:
        raise BadParameter(f"{name} must be between {low} and {high}, not {v}")
    return v


def parse_query(html: bool) -> SearchQuery:
    a = request.args
    sq = SearchQuery(q=a.get("q", "").strip()[:500])
    for param, facet in PARAM_FACETS.items():
        values = [x for raw in a.getlist(param) + a.getlist(param + "[]") for x in raw.split("|") if x.strip()]
        if values:
            sq.filters[facet] = [normalise_value(param, v) for v in values]
    sq.year_from = _int_arg("year_from", None, 1900, 2100)
    sq.year_to = _int_arg("year_to", None, 1900, 2100)
    sq.require_thumbnail = a.get("require_thumbnail", "").lower() in ("1", "true", "yes")
    sq.expand = a.get("expand", "true").lower() not in ("0", "false", "no")
    sort = a.get("sort", "relevance").lower()
    if sort not in SORTS:
        raise BadParameter(f"sort must be one of {', '.join(sorted(SORTS))}")
    sq.sort = SORTS[sort]
    sq.size = _int_arg("size", 20, 1, 100)
    page = _int_arg("page", None, 1, 10**6)
    offset = _int_arg("offset", 0, 0, 10**7)
    sq.offset = (page - 1) * sq.size if page else offset
    return sq


def entry(doc, idx: StudyIndex) -> dict:
    """A study in the GIDE index-document shape (gide-search's Dataset model), plus our extras."""
    return {
        "id": doc.iri,
        "type": ["Dataset"],
        "identifier": doc.identifier,
        "name": doc.name,
        "description": doc.description,
        "datePublished": doc.date,
        "license": doc.license,
        "keywords": doc.keywords,
        "publisher": {"id": doc.publisher, "type": ["Organization"], "name": doc.publisher_name},
        "author": [{"id": a, "type": ["Person"], "name": n} for a, n in doc.authors],
        "thumbnailUrl": doc.thumbnails,
        "seeAlso": [{"id": c, "type": ["ScholarlyArticle"]} for c in doc.citations],
        "taxon_ids": [{"id": t, "type": ["Taxon"], "scientificName": idx.label("organism", t), "name": idx.label("organism", t)}
                      for t in sorted(doc.facets.get("organism", ()))],
        "imaging_method_ids": [{"id": t, "type": ["DefinedTerm"], "name": idx.label("imaging_method", t)}
                               for t in sorted(doc.facets.get("imaging_method", ()))],
        "size_bytes": doc.size_bytes or None,
        "study_page": request.url_root.rstrip("/") + study_path(doc),
    }


def study_path(doc) -> str:
    from .browse import study_path as canonical

    return canonical(doc)


def gide_response(sq: SearchQuery, result, idx: StudyIndex) -> dict:
    facets = {FACET_PARAMS.get(f, f): v for f, v in result.facets.items()}
    facets["year_published"] = facets.pop("year", [])  # gide-search's name for the year facet
    body = {
        "total": result.total,
        "hits": [{"id": d.iri, "entry": entry(d, idx), "score": round(score, 4)} for d, score in result.hits],
        "facets": facets,
        "offset": sq.offset,
        "size": sq.size,
        "expand": sq.expand,
        "expanded": result.expanded,
    }
    if sq.offset and sq.offset >= result.total:
        body["notice"] = f"offset {sq.offset} is past the last result ({result.total} results)"
    return body


def _bad(e: BadParameter):
    resp = jsonify(error="Bad Request", status=400, message=str(e))
    resp.status_code = 400
    return resp


def _url(**changes) -> str:
    """This search's URL with some parameters changed (None removes one); paging restarts unless given."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k not in changes and k != "page"]
    if "page" in changes and changes["page"] is not None:
        args.append(("page", str(changes["page"])))
    for k, v in changes.items():
        if k == "page" or v is None:
            continue
        for item in v if isinstance(v, list) else [v]:
            args.append((k, item))
    return request.path + ("?" + urlencode(args) if args else "")


def toggle_url(param: str, value: str) -> str:
    current = request.args.getlist(param)
    new = [v for v in current if v != value] if value in current else current + [value]
    return _url(**{param: new or None})


@bp.route("/search")
def search():
    wants_json = json_twin_requested()
    try:
        sq = parse_query(html=not wants_json)
    except BadParameter as e:
        if wants_json:
            return _bad(e)
        abort(400, description=str(e))
    idx = studies()
    result = idx.search(sq)
    if wants_json:
        return jsonify(gide_response(sq, result, idx))
    pages = max(1, -(-result.total // sq.size))
    page = sq.offset // sq.size + 1
    trees = {f: idx.tree(f, result.matched) for f in ("organism", "imaging_method")}
    active = [(FACET_PARAMS[f], v, idx.label(f, v)) for f, vals in sq.filters.items() for v in vals]
    return render_template(
        "search.html", sq=sq, result=result, idx=idx, facets=FACETS, facet_params=FACET_PARAMS, trees=trees,
        page=page, pages=pages, url=_url, toggle_url=toggle_url, active=active, study_path=study_path,
        q=sq.q, sorts=["relevance", "date", "oldest", "size", "title"], current_sort=request.args.get("sort", "relevance"),
    )


@bp.route("/gide/search")
def gide_search():
    """gide-search's GET /search, same parameters and response fields."""
    try:
        sq = parse_query(html=False)
    except BadParameter as e:
        return _bad(e)
    idx = studies()
    return jsonify(gide_response(sq, idx.search(sq), idx))


@bp.route("/gide/api/entry/<path:entry_id>")
def gide_entry(entry_id: str):
    """gide-search's GET /api/entry/{id}: one study by its IRI or accession (404 JSON when unknown)."""
    idx = studies()
    doc = idx.by_iri.get(entry_id) or next((d for d in idx.docs if d.identifier == entry_id), None)
    if doc is None and entry_id.startswith("http"):
        doc = idx.by_iri.get(entry_id.rstrip("/") + "/") or idx.by_iri.get(entry_id.rstrip("/"))
    if doc is None:
        resp = jsonify(error="Not Found", status=404, message=f"no study {entry_id!r}")
        resp.status_code = 404
        return resp
    return jsonify(entry(doc, idx))


@bp.route("/health")
def health():
    store = current_app.config["KG_STORE"]
    return jsonify(status="ok", store="pyoxigraph", graphs=len(store.public_graphs()))


def _bars(rows: list[tuple], width: int = 420, bar: int = 18) -> dict:
    """Bar-chart geometry: the label column is as wide as the longest label and room is left after the
    longest bar for its number, so every label and count lies inside the SVG. Rows are (label, n) or
    (label, n, search URL)."""
    top = max((r[1] for r in rows), default=1) or 1
    label_w = int(max((len(str(r[0])) for r in rows), default=4) * 7.2) + 12
    num_w = len(str(top)) * 9 + 12
    return {"rows": [{"label": r[0], "n": r[1], "href": r[2] if len(r) > 2 else None, "w": max(1, int(width * r[1] / top)), "y": i * (bar + 6)}
                     for i, r in enumerate(rows)],
            "height": len(rows) * (bar + 6) + 4, "bar": bar, "width": width, "label_w": label_w, "total_w": label_w + 6 + width + num_w}


def method_branches(idx: StudyIndex, t: TermIndex, root: str = OBO + "FBbi_00000222") -> list:
    """FBbi branches to roll methods up to: from "imaging method" down, a branch holding more than
    half of the studies is opened into its children, so the chart shows informative branches."""
    top = t.get(root)
    if top is None:
        return []
    used = [d.facets.get("imaging_method", set()) for d in idx.docs]

    def count(term) -> int:
        under = {x.iri for x in t.descendants(term)} | {term.iri}
        return sum(1 for u in used if u & under)

    total = sum(1 for u in used if u)
    frontier = [top]
    for _ in range(8):
        opened = False
        nxt = []
        for node in frontier:
            kids = [k for k in t.children(node) if count(k)]
            if kids and count(node) > total / 2:
                nxt.extend(kids)
                opened = True
            else:
                nxt.append(node)
        frontier = nxt
        if not opened:
            break
    return frontier


@bp.route("/stats")
def stats():
    idx = studies()
    t = terms()
    repos = sorted({(d.publisher, d.publisher_name) for d in idx.docs if d.publisher})
    pub_of = {name: pub for pub, name in repos}
    years = sorted({d.year for d in idx.docs if d.year})
    per_year = {name: {y: 0 for y in years} for _, name in repos}
    for d in idx.docs:
        if d.year and d.publisher_name:
            per_year[d.publisher_name][d.year] += 1
    branches = method_branches(idx, t)
    under = {b.iri: {x.iri for x in t.descendants(b)} | {b.iri} for b in branches}
    methods: dict[str, dict[str, int]] = {}
    method_iri = {b.label: b.iri for b in branches}
    for _, name in repos:
        counts = {}
        for b in branches:
            n = sum(1 for d in idx.docs if d.publisher_name == name and d.facets.get("imaging_method", set()) & under[b.iri])
            if n:
                counts[b.label] = n
        methods[name] = dict(sorted(counts.items(), key=lambda kv: -kv[1])[:8])
    organisms = {}
    for d in idx.docs:
        for o in d.facets.get("organism", ()):
            organisms[o] = organisms.get(o, 0) + 1
    top = sorted(organisms.items(), key=lambda kv: (-kv[1], kv[0]))[:15]
    top_org = [(idx.label("organism", o), n) for o, n in top]
    data = {"per_year": per_year, "methods": methods, "organisms": top_org, "years": years}
    if json_twin_requested():
        return jsonify(data)

    def link(**params) -> str:
        return "/search?" + urlencode(params)

    year_rows = {name: _bars([(y, c, link(publisher=pub_of[name], year=y)) for y, c in ys.items() if c]) for name, ys in per_year.items()}
    method_rows = {name: _bars([(m, n, link(publisher=pub_of[name], imaging_method=method_iri[m])) for m, n in ms.items()])
                   for name, ms in methods.items()}
    org_rows = _bars([(idx.label("organism", o), n, link(organism=o, expand="false")) for o, n in top])
    return render_template("stats.html", year_rows=year_rows, method_rows=method_rows, organisms=org_rows, data=data)
