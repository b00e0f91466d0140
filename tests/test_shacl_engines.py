"""The two SHACL engines (pyrudof, the default, and pyshacl) find the same results on a real source graph."""

from __future__ import annotations

from kg.namespaces import GRAPH
from kg.validate.shacl import comparable, shapes_graph, validate_source


def test_rudof_and_pyshacl_find_the_same_results(harvested_store):
    shapes = shapes_graph()
    conforms = {}
    found = {}
    for engine in ("rudof", "pyshacl"):
        conforms[engine], found[engine] = validate_source(
            harvested_store, GRAPH + "ssbd-repository", shapes, engine=engine
        )
    assert conforms == {"rudof": False, "pyshacl": False}
    assert len(found["rudof"]) == len(found["pyshacl"]) == 762
    assert comparable(found["rudof"]) == comparable(found["pyshacl"])
