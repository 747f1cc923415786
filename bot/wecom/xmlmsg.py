"""WeCom's XML, read safely: defusedxml with DTDs refused outright.

A callback never needs a DTD, so any DOCTYPE (billion laughs, external entities, external
DTDs) is refused before expansion can start.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

MAX_XML_BYTES = 64 * 1024  # a callback is a few hundred bytes; anything huge is hostile


class XmlError(ValueError):
    pass


def parse_fields(data: bytes | str) -> dict[str, str]:
    """The root's child elements as {tag: text}; nested children flattened in (SelectedItems)."""
    if len(data) > MAX_XML_BYTES:
        raise XmlError("xml too large")
    try:
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True,
                                 forbid_external=True)
    except (DefusedXmlException, ParseError) as exc:
        raise XmlError(type(exc).__name__) from exc
    return _flatten(root)


def _flatten(root: Element) -> dict[str, str]:
    fields: dict[str, str] = {}
    for child in root:
        if len(child):
            for key, value in _flatten(child).items():
                fields.setdefault(key, value)
        fields.setdefault(child.tag, (child.text or "").strip())
    return fields
