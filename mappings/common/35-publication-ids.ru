# Publications: each cited DOI / PubMed IRI gets its plain identifier (doi:… / pmid:…) for search and
# cross-repository joins; a publication named only by its own URL (SSBD) loses that non-name.
PREFIX schema: <http://schema.org/>
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
