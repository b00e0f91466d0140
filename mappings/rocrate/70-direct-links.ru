# Shortcuts for simple queries: every study links straight to its normalised organism and imaging
# method terms, wherever the crate put them (directly on the Dataset, or via BioSample / LabProtocol).
PREFIX schema: <http://schema.org/>
PREFIX dwc: <http://rs.tdwg.org/dwc/terms/>
PREFIX dwciri: <http://rs.tdwg.org/dwc/iri/>
PREFIX kg: <https://w3id.org/gide-kg/vocab#>
INSERT { GRAPH ?g { ?study kg:organism ?taxon } }
WHERE {
  GRAPH ?g {
    ?study a schema:Dataset .
    { ?study schema:about ?taxon }  # typed Taxon, or (one SSBD crate) DefinedTerm: the NCBITaxon IRI decides
    UNION
    { ?study schema:about ?sample . ?sample schema:taxonomicRange ?taxon }
  }
  FILTER(STRSTARTS(STR(?taxon), "http://purl.obolibrary.org/obo/NCBITaxon_"))
};
INSERT { GRAPH ?g { ?study kg:imagingMethod ?method } }
WHERE {
  GRAPH ?g {
    ?study a schema:Dataset .
    { ?study dwciri:measurementMethod ?method }
    UNION
    { ?study dwciri:measurementMethod ?protocol . ?protocol schema:measurementTechnique ?method }
  }
  FILTER(STRSTARTS(STR(?method), "http://purl.obolibrary.org/obo/FBbi_"))
}
