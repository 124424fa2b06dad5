"""The API's JSON body parser (``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``).

DRF's ``JSONParser`` hands the body to ``json.load``, which recurses once per
nesting level: a body of ten thousand ``[`` raises ``RecursionError`` and the
request ends in a 500. ``BoundedJSONParser`` answers 400 (``ParseError``)
instead, for a body that is not UTF-8, not JSON, uses ``NaN``/``Infinity``,
or nests arrays and objects deeper than ``settings.API_JSON_MAX_DEPTH``
(counted before parsing, so the parser never recurses that deep).

It also keeps how each JSON number with a fraction or exponent was written
(``JSONNumber``, a ``float`` that remembers its text): ``1e3`` and ``1000``
are the same float, and the money fields
(``backoffice.api.common.PlainDecimalField``) refuse the exponent form.

It lives outside the ``backoffice.api`` package on purpose: DRF imports the
default parser classes while ``rest_framework.views`` is still loading, and
``backoffice.api`` imports ``rest_framework.views``.
"""

import codecs
import json
import re

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Strings first (a bracket inside one does not nest), then every bracket.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class JSONNumber(float):
    """A JSON number with a fraction or exponent, and the text it was written as."""

    text: str

    def __new__(cls, text: str):
        number = super().__new__(cls, text)
        number.text = text
        return number


def nesting_depth(text: str) -> int:
    """How deep arrays and objects nest in ``text`` (0: a scalar)."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"JSON parse error - the body is not {encoding} text") from exc
        limit = settings.API_JSON_MAX_DEPTH
        if nesting_depth(text) > limit:
            raise ParseError(f"JSON parse error - arrays and objects nest deeper than {limit} levels")
        try:
            return json.loads(text, parse_float=JSONNumber, parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
