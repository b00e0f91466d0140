# One type per kind of thing: taxa typed schema:Taxon (RO-Crate context) or dwc:Taxon (IDR) become
# dwc:Taxon, the class the GIDE SHACL profile targets.
PREFIX schema: <http://schema.org/>
PREFIX dwc: <http://rs.tdwg.org/dwc/terms/>
DELETE { GRAPH ?g { ?t a schema:Taxon } }
INSERT { GRAPH ?g { ?t a dwc:Taxon } }
WHERE { GRAPH ?g { ?t a schema:Taxon } }
