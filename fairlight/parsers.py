"""The API's JSON parser: DRF's, with a 400 for a body nested too deeply to parse."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    # DRF turns the parser's ValueError into a 400, but Python's parser raises RecursionError for
    # a body such as 100,000 "[" (a few hundred kilobytes), which would be a server error.
    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
