"""The study page's links and statement rows, rendered by Python functions (kg/serve/links.py `ext_link`,
kg/serve/browse.py `iri_link` / `statement_rows`) instead of Jinja macros, give the HTML the macros gave:
compared with the macros' own source on real studies' statements and on hostile values; and the two
render shortcuts (kg/serve/templating.py) answer what Jinja and Flask would."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from flask import url_for
from jinja2 import Environment
from markupsafe import Markup

from kg.namespaces import SCHEMA
from kg.serve.app import create_app
from kg.serve.browse import iri_link, quote_all, statement_rows, study_data
from kg.serve.links import ext_link
from kg.serve.study_view import study_view
from kg.serve.templating import url_for_memo

# the templates' macros and statements loop before they became Python functions (as they were in
# kg/serve/templates/_links.html and study.html)
MACROS = """{% macro ext(value, text=None, cls=None) -%}
{%- set href = value | safe_href -%}
{%- if href %}<a{% if cls %} class="{{ cls }}"{% endif %} href="{{ href }}" rel="noopener">{{ text or value }}</a>{% else %}<span class="unsafe-link{% if cls %} {{ cls }}{% endif %}">{{ text or value }}</span>{% endif -%}
{%- endmacro %}{% macro iri_link(value, text=None) -%}
{%- if value | is_iri %}<a href="{{ value | browse }}" title="{{ value }}">{{ text or value }}</a>{% else %}{{ text or value }}{% endif -%}
{%- endmacro %}"""
OLD_ROWS = (
    MACROS
    + """{% for st in statements %}<tr><td><a href="{{ st.predicate | browse }}">{{ st.predicate_label }}</a></td><td>{% if st.is_iri %}{{ iri_link(st.value, st.value_label) }}{% elif st.value | safe_href %}{{ ext(st.value) }}{% else %}{{ st.value }}{% endif %}</td></tr>{% endfor %}"""
)
OLD_LINKS = MACROS + "{{ ext(value, text, cls) }}|{{ iri_link(value, text) }}"
HOSTILE = [
    "javascript:alert(1)",
    "java\tscript:alert(1)",
    '"><script>alert(1)</script>',
    "https://example.org/a?b=1&c=<2>",
    "doi:10.1083/jcb.201301120",
    "mailto:someone@example.org",
    "/search?q=a&b",
    "https://example.org/ä b",
    "",
    None,
]


@pytest.fixture(scope="module")
def app(harvested_store):
    return create_app(harvested_store)


@pytest.fixture(scope="module")
def sample(harvested_store):
    iris = sorted(r["s"].value for r in harvested_store.query(f"SELECT DISTINCT ?s WHERE {{ ?s a <{SCHEMA}Dataset> }}"))
    return iris[::40] + ["https://idr.openmicroscopy.org/study/idr0003/"]


@pytest.mark.parametrize("root", ["", "/kg"])
def test_statement_rows_and_links_are_the_macros_html(app, harvested_store, sample, root):
    rows, links = app.jinja_env.from_string(OLD_ROWS), app.jinja_env.from_string(OLD_LINKS)
    with app.test_request_context("/study/x/y", base_url="http://localhost" + root):
        compared = 0
        for iri in sample:
            summary, labels = study_data(harvested_store, iri)
            for group in study_view(summary, app.config["KG_SOURCES"], harvested_store, labels)["said_by"]:
                assert statement_rows(group["statements"]) == rows.render(statements=group["statements"])
                compared += len(group["statements"])
                for st in group["statements"][:8]:
                    for v, text, cls in ((st["value"], st["value_label"], None), (st["value"], None, "ext")):
                        assert f"{ext_link(v, text, cls)}|{iri_link(v, text)}" == links.render(
                            value=v, text=text, cls=cls
                        )
        for v in HOSTILE:
            for text, cls in ((None, None), ("<b>label</b>", "orcid"), (Markup("<i>ok</i>"), None)):
                assert f"{ext_link(v, text, cls)}|{iri_link(v, text)}" == links.render(value=v, text=text, cls=cls)
    assert (len(sample), compared) == (32, 838)
    assert 'href="javascript' not in ext_link("javascript:alert(1)")


def test_quote_all_is_urllib_quote(harvested_store, sample):
    values = [r["o"].value for r in harvested_store.query(f"SELECT ?o WHERE {{ <{sample[-1]}> ?p ?o }}")]
    for v in values + sample + [s for s in HOSTILE if s] + ["https://example.org/ä b/%41?x=~_.-"]:
        assert quote_all(v) == quote(v, safe="")


def test_dict_keys_read_as_jinja_reads_them(app):
    """The dict-first attribute look-up gives what Jinja's own gives: keys, dict methods, undefined."""
    source = "{{ d.name }}|{{ d.items is callable }}|{{ d.missing is undefined }}|{{ d.get('name') }}|{{ o.real }}"
    values = {"d": {"name": "<x>", "items": "shadowed"}, "o": 3}
    expected = Environment(autoescape=True).from_string(source).render(**values)
    assert expected == "&lt;x&gt;|True|True|&lt;x&gt;|3"
    assert app.jinja_env.from_string(source).render(**values) == expected


def test_remembered_url_for_keys_by_values_types_and_root(app):
    for root in ("", "/kg"):
        with app.test_request_context("/", base_url="http://localhost" + root):
            for _ in range(2):
                assert url_for_memo("browse.resource", iri="a b", raw=1) == url_for("browse.resource", iri="a b", raw=1)
                assert url_for_memo("browse.resource", iri="a b", raw=True) == url_for(
                    "browse.resource", iri="a b", raw=True
                )
                assert url_for_memo("browse.study", source="idr", accession="idr0003") == f"{root}/study/idr/idr0003"
            assert url_for_memo("browse.resource", iri="a b", raw=1) != url_for_memo(
                "browse.resource", iri="a b", raw=True
            )
