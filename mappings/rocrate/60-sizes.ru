# Sizes: numbers as typed numbers (xsd:integer when whole, else xsd:decimal) and unit codes as UO IRIs.
PREFIX schema: <http://schema.org/>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
DELETE { GRAPH ?g { ?q schema:value ?v } }
INSERT { GRAPH ?g { ?q schema:value ?n } }
WHERE {
  GRAPH ?g { ?q a schema:QuantitativeValue ; schema:value ?v }
  BIND(STR(?v) AS ?lex)
  BIND(IF(REGEX(?lex, "^[0-9]+$"), STRDT(?lex, xsd:integer),
       IF(REGEX(?lex, "^[0-9]*\\.[0-9]+$"), STRDT(?lex, xsd:decimal), ?unbound)) AS ?n)
  FILTER(BOUND(?n) && !sameTerm(?n, ?v))
};
DELETE { GRAPH ?g { ?q schema:unitCode ?u } }
INSERT { GRAPH ?g { ?q schema:unitCode ?iri } }
WHERE {
  GRAPH ?g { ?q schema:unitCode ?u }
  FILTER(isLiteral(?u))
  BIND(REPLACE(STR(?u), "^(?:obo:|UO:)?(UO)[_:]([0-9]+)$", "http://purl.obolibrary.org/obo/UO_$2") AS ?s)
  BIND(IRI(?s) AS ?iri)
  FILTER(STRSTARTS(?s, "http"))
}
