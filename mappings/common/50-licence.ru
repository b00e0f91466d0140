# Licences: the canonical Creative Commons IRI (https, trailing slash, no legalcode/deed suffix),
# from a URL string or a short name. Where the text changes, the original is kept on the study as
# kg:sourceValue (the licence node) so a curator can trace it.
PREFIX schema: <http://schema.org/>
PREFIX kg: <https://w3id.org/gide-kg/vocab#>
DELETE { GRAPH ?g { ?s schema:license ?l } }
INSERT { GRAPH ?g { ?s schema:license ?canon . ?canon kg:sourceValue ?orig } }
WHERE {
  GRAPH ?g { ?s schema:license ?l }
  BIND(STR(?l) AS ?orig)
  BIND(LCASE(REPLACE(?orig, "^\\s+|\\s+$", "")) AS ?low)
  OPTIONAL {
    VALUES (?short ?named) {
      ("cc0" <https://creativecommons.org/publicdomain/zero/1.0/>)
      ("cc0 1.0" <https://creativecommons.org/publicdomain/zero/1.0/>)
      ("cc0-1.0" <https://creativecommons.org/publicdomain/zero/1.0/>)
      ("cc by 4.0" <https://creativecommons.org/licenses/by/4.0/>)
      ("cc-by-4.0" <https://creativecommons.org/licenses/by/4.0/>)
      ("cc by 3.0" <https://creativecommons.org/licenses/by/3.0/>)
      ("cc-by-3.0" <https://creativecommons.org/licenses/by/3.0/>)
      ("cc by-sa 4.0" <https://creativecommons.org/licenses/by-sa/4.0/>)
      ("cc-by-sa-4.0" <https://creativecommons.org/licenses/by-sa/4.0/>)
      ("cc by-nc 4.0" <https://creativecommons.org/licenses/by-nc/4.0/>)
      ("cc-by-nc-4.0" <https://creativecommons.org/licenses/by-nc/4.0/>)
      ("cc by-nc-sa 4.0" <https://creativecommons.org/licenses/by-nc-sa/4.0/>)
      ("cc-by-nc-sa-4.0" <https://creativecommons.org/licenses/by-nc-sa/4.0/>)
      ("cc by-nc-sa 3.0" <https://creativecommons.org/licenses/by-nc-sa/3.0/>)
      ("cc-by-nc-sa-3.0" <https://creativecommons.org/licenses/by-nc-sa/3.0/>)
      ("cc by-nc-nd 4.0" <https://creativecommons.org/licenses/by-nc-nd/4.0/>)
      ("cc-by-nc-nd-4.0" <https://creativecommons.org/licenses/by-nc-nd/4.0/>)
    }
    FILTER(?low = ?short)
  }
  BIND(REPLACE(REPLACE(REPLACE(?low, "^http://", "https://"), "(legalcode|deed\\.[a-z-]+)(\\.[a-z-]+)?$", ""), "([^/])$", "$1/") AS ?url)
  BIND(COALESCE(?named, IF(STRSTARTS(?url, "https://creativecommons.org/"), IRI(?url), IF(isIRI(?l), ?l, IF(REGEX(?orig, "^https?://[^ ]+$"), IRI(?orig), ?l)))) AS ?canon)
  FILTER(!sameTerm(?canon, ?l))
};
# The source value is only worth keeping where the text changed, not where a string became an IRI.
DELETE { GRAPH ?g { ?canon kg:sourceValue ?orig } }
WHERE { GRAPH ?g { ?s schema:license ?canon . ?canon kg:sourceValue ?orig } FILTER(STR(?canon) = ?orig) }
