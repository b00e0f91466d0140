# Dates: full dates as xsd:date, a lone year as xsd:gYear, whatever datatype the source gave
# (plain strings in BIA/IDR, "2015"^^xsd:date in SSBD). Anything else is kept as written.
PREFIX schema: <http://schema.org/>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX kg: <https://w3id.org/gide-kg/vocab#>
DELETE { GRAPH ?g { ?s schema:datePublished ?d } }
INSERT { GRAPH ?g { ?s schema:datePublished ?typed } }
WHERE {
  GRAPH ?g { ?s schema:datePublished ?d }
  BIND(STR(?d) AS ?lex)
  BIND(IF(REGEX(?lex, "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"), STRDT(?lex, xsd:date),
       IF(REGEX(?lex, "^[0-9]{4}$"), STRDT(?lex, xsd:gYear), ?unbound)) AS ?typed)
  FILTER(BOUND(?typed) && !sameTerm(?typed, ?d))
}
