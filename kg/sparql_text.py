"""Lexical view of SPARQL text: the spans that cannot hold a keyword (strings, IRIs, comments).

Shared by the public endpoint's SERVICE guard and the remote store's query-form detection, which both
look for keywords without parsing the query.
"""

import re

_STRINGS = r'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''
_IRI = r'<[^<>"{}|^`\\\s]*>'
_COMMENT = r"#[^\n]*"

STRINGS_AND_COMMENTS = re.compile(f"{_STRINGS}|{_COMMENT}", re.S)
STRINGS_IRIS_AND_COMMENTS = re.compile(f"{_STRINGS}|{_IRI}|{_COMMENT}", re.S)  # IRIs first: '#' in an IRI is no comment
