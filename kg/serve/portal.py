"""The search portal: /search (HTML with facets, hierarchy trees, sorting, paging; JSON twin) and /stats
with server-rendered charts. The GIDE-search-compatible API lives in gide.py.

Every search state is a URL. Parameters (search_params.py) follow gide-search (q, publisher, organism,
imaging_method, license, year_from, year_to, size, offset, require_thumbnail) plus ours: cell_line,
anatomy, biological_process, study_type, ome_zarr, expand (hierarchy expansion, on by default), sort, page.
"""

from __future__ import annotations

import os
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, jsonify, render_template, request

from ..namespaces import OBO
from ..search import FACETS, StudyIndex
from ..search.facets import facets as declared_facets
from ..terms import TermIndex
from .app import indexes
from .gide import response
from .negotiation import json_twin_requested
from .search_params import ParamError, parse_search

bp = Blueprint("portal", __name__)

FACET_PARAMS = {f.name: f.param for f in declared_facets().values()}


def terms() -> TermIndex:
    return indexes().terms


def studies() -> StudyIndex:
    return indexes().studies


def study_path(doc) -> str:
    from .browse import study_path as canonical

    return canonical(doc)


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
        sq, _ = parse_search(request.query_string, request.args, "/search")
    except ParamError as e:
        if wants_json:
            return jsonify(error="Bad Request", status=400, message=e.message(), detail=e.errors), 400
        abort(400, description=e.message())
    idx = studies()
    result = idx.search(sq)
    if wants_json:
        return jsonify(response(sq, result, idx, gide=False, extras=True))
    pages = max(1, -(-result.total // sq.size))
    page = sq.offset // sq.size + 1
    trees = {f: idx.tree(f, result.matched) for f in ("organism", "imaging_method")}
    active = [(FACET_PARAMS[f], v, idx.label(f, v)) for f, vals in sq.filters.items() for v in vals]
    return render_template(
        "search.html",
        sq=sq,
        result=result,
        idx=idx,
        facets=FACETS,
        facet_params=FACET_PARAMS,
        trees=trees,
        page=page,
        pages=pages,
        url=_url,
        toggle_url=toggle_url,
        active=active,
        study_path=study_path,
        q=sq.q,
        sorts=["relevance", "date", "oldest", "size", "title"],
        current_sort=request.args.get("sort", "relevance"),
    )


@bp.route("/health")
def health():
    store = current_app.config["KG_STORE"]
    body = {"status": "ok", "store": "pyoxigraph", "graphs": len(store.public_graphs())}
    body["process"] = os.getpid()  # which serving process answered (`kg serve --processes N`; one per connection)
    background = current_app.config.get("KG_BACKGROUND")  # `kg up`: the harvest's follow-up, still running or done
    if background is not None:
        body["background"] = background.state()
        if background.errors:
            body["background_errors"] = dict(background.errors)
    return jsonify(body)


def _bars(rows: list[tuple], width: int = 420, bar: int = 18) -> dict:
    """Bar-chart geometry: the label column is as wide as the longest label and room is left after the
    longest bar for its number, so every label and count lies inside the SVG. Rows are (label, n) or
    (label, n, search URL)."""
    top = max((r[1] for r in rows), default=1) or 1
    label_w = int(max((len(str(r[0])) for r in rows), default=4) * 7.2) + 12
    num_w = len(str(top)) * 9 + 12
    return {
        "rows": [
            {
                "label": r[0],
                "n": r[1],
                "href": r[2] if len(r) > 2 else None,
                "w": max(1, int(width * r[1] / top)),
                "y": i * (bar + 6),
            }
            for i, r in enumerate(rows)
        ],
        "height": len(rows) * (bar + 6) + 4,
        "bar": bar,
        "width": width,
        "label_w": label_w,
        "total_w": label_w + 6 + width + num_w,
    }


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
            n = sum(
                1 for d in idx.docs if d.publisher_name == name and d.facets.get("imaging_method", set()) & under[b.iri]
            )
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

    year_rows = {
        name: _bars([(y, c, link(publisher=pub_of[name], year=y)) for y, c in ys.items() if c])
        for name, ys in per_year.items()
    }
    method_rows = {
        name: _bars([(m, n, link(publisher=pub_of[name], imaging_method=method_iri[m])) for m, n in ms.items()])
        for name, ms in methods.items()
    }
    org_rows = _bars([(idx.label("organism", o), n, link(organism=o, expand="false")) for o, n in top])
    return render_template("stats.html", year_rows=year_rows, method_rows=method_rows, organisms=org_rows, data=data)
