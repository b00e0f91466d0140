# Drop what the mapping has translated: SSBD-vocabulary statements, OWL declarations and the ontology
# axioms shipped inside the instance file. The file itself stays in the raw-record cache / provenance.
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX kg: <https://w3id.org/gide-kg/vocab#>
DELETE { GRAPH ?g { ?s ?p ?o } }
WHERE { GRAPH ?g { ?s ?p ?o } FILTER(STRSTARTS(STR(?g), "https://w3id.org/gide-kg/record/"))
  FILTER(STRSTARTS(STR(?p), "http://ssbd.riken.jp/ontology/") || ?p IN (rdf:first, rdf:rest, kg:ssbdProject, kg:ssbdProjectOf)
         || (?p = rdf:type && (STRSTARTS(STR(?o), "http://ssbd.riken.jp/ontology/") || STRSTARTS(STR(?o), "http://www.w3.org/2002/07/owl#")))) };
DELETE { GRAPH ?g { ?s ?p ?o } }
WHERE { GRAPH ?g { ?s ?p ?o . FILTER(isBlank(?s) || STRSTARTS(STR(?s), "http://www.semanticweb.org/") || STRSTARTS(STR(?s), "http://ssbd.riken.jp/ontology/has_")
  || STRSTARTS(STR(?s), "http://ssbd.riken.jp/ontology/SSBD_") || (STRSTARTS(STR(?s), "http://purl.obolibrary.org/obo/") && !EXISTS { ?x ?y ?s })) }
  FILTER(STRSTARTS(STR(?g), "https://w3id.org/gide-kg/record/")) }
