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
}
