# Publications: schema:citation is the one predicate. BIA writes schema:citation, IDR rdfs:seeAlso,
# SSBD rdf:seeAlso (their contexts disagree). DOI / PubMed IRIs were made canonical by the IRI rules.
PREFIX schema: <http://schema.org/>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
DELETE { GRAPH ?g { ?s ?p ?pub } }
INSERT { GRAPH ?g { ?s schema:citation ?pub } }
WHERE {
  VALUES ?p { rdf:seeAlso rdfs:seeAlso }
  GRAPH ?g { ?s ?p ?pub }
};
# A publication's own identifier, as a plain DOI or PubMed id, for search and cross-repository joins.
INSERT { GRAPH ?g { ?pub schema:identifier ?id } }
WHERE {
  GRAPH ?g { ?s schema:citation ?pub }
  BIND(STR(?pub) AS ?iri)
  BIND(IF(STRSTARTS(?iri, "https://doi.org/"), CONCAT("doi:", STRAFTER(?iri, "https://doi.org/")),
       IF(STRSTARTS(?iri, "https://pubmed.ncbi.nlm.nih.gov/"), CONCAT("pmid:", STRAFTER(?iri, "https://pubmed.ncbi.nlm.nih.gov/")), ?unbound)) AS ?id)
  FILTER(BOUND(?id))
};
# A publication named only by its own URL (SSBD) gets no name: the IRI says it already.
DELETE { GRAPH ?g { ?pub schema:name ?n } }
WHERE { GRAPH ?g { ?pub a schema:ScholarlyArticle ; schema:name ?n } FILTER(STRSTARTS(?n, "http")) }
