# The RO-Crate metadata descriptor describes the file, not the study: it is recorded in the provenance
# graph (the record entity) and removed here. Relative descriptor ids would otherwise collide across crates.
PREFIX schema: <http://schema.org/>
PREFIX dct: <http://purl.org/dc/terms/>
DELETE { GRAPH ?g { ?desc ?p ?o } }
WHERE {
  GRAPH ?g { ?desc schema:about ?root ; dct:conformsTo ?profile . ?desc ?p ?o }
  FILTER(STRENDS(STR(?desc), "ro-crate-metadata.json"))
}
