# SSBD projects → studies. A project meets its SSBD:database crate on the crate's study IRI (found by
# project name in <urn:kg:known-studies>, the studies already served); otherwise its project URL is the IRI.
PREFIX ssbd: <http://ssbd.riken.jp/ontology/>
PREFIX schema: <http://schema.org/>
PREFIX kg: <https://w3id.org/gide-kg/vocab#>
INSERT { GRAPH ?g {
  ?study a schema:Dataset ; schema:identifier ?id ; schema:publisher <https://ssbd.riken.jp/database> ;
         kg:ssbdProject ?p .
  ?p kg:ssbdProjectOf ?study .
  ?study schema:url ?url .
} }
WHERE {
  GRAPH ?g { ?p a ssbd:SSBD_Project ; ssbd:has_project_name ?name . OPTIONAL { ?p ssbd:has_project_url ?u } }
  FILTER(STRSTARTS(STR(?g), "https://w3id.org/gide-kg/record/"))
  BIND(STR(?name) AS ?id)
  OPTIONAL { GRAPH <urn:kg:known-studies> { ?known schema:identifier ?kid ; schema:publisher <https://ssbd.riken.jp/database> } FILTER(STR(?kid) = ?id) }
  BIND(IRI(STR(?u)) AS ?url)
  BIND(COALESCE(?known, ?url) AS ?study)
};
INSERT { GRAPH ?g { ?study schema:name ?title ; schema:description ?d ; schema:datePublished ?date ; schema:license ?lic ; kg:projectType ?type } }
WHERE {
  GRAPH ?g { ?study kg:ssbdProject ?p .
    OPTIONAL { ?p ssbd:has_dataset_title ?title } OPTIONAL { ?p ssbd:has_description ?d }
    OPTIONAL { ?p ssbd:has_submission_date ?date } OPTIONAL { ?p ssbd:has_license ?lic } OPTIONAL { ?p ssbd:has_project_type ?type } }
};
# Publications: DOI and PubMed id as canonical IRIs.
INSERT { GRAPH ?g { ?study schema:citation ?pub . ?pub a schema:ScholarlyArticle ; kg:citationText ?info } }
WHERE {
  GRAPH ?g { ?study kg:ssbdProject ?p . ?p ssbd:has_project_publications ?paper .
    { ?paper ssbd:has_doi ?doi BIND(IRI(CONCAT("https://doi.org/", LCASE(REPLACE(STR(?doi), "^.*?(10\\.[0-9]+/)", "$1")))) AS ?pub) }
    UNION { ?paper ssbd:has_PMID ?pmid BIND(IRI(CONCAT("https://pubmed.ncbi.nlm.nih.gov/", STR(?pmid))) AS ?pub) }
    OPTIONAL { ?paper ssbd:has_paper_information ?info } }
};
# Participants: authors, by ORCID where given.
INSERT { GRAPH ?g { ?study schema:author ?author . ?author a schema:Person ; schema:givenName ?first ; schema:familyName ?last ; schema:name ?name ; kg:role ?role } }
WHERE {
  GRAPH ?g { ?study kg:ssbdProject ?p . ?p ssbd:has_project_participant ?person .
    OPTIONAL { ?person ssbd:has_first_name ?first } OPTIONAL { ?person ssbd:has_family_name ?last }
    OPTIONAL { ?person ssbd:has_orcid ?orcid } OPTIONAL { ?person ssbd:has_role ?role } }
  BIND(IF(BOUND(?orcid), IRI(CONCAT("https://orcid.org/", STR(?orcid))), ?person) AS ?author)
  BIND(CONCAT(COALESCE(STR(?first), ""), " ", COALESCE(STR(?last), "")) AS ?name)
}
