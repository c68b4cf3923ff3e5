"""What travels through a shared crawl's Redis, as data: JSON, never pickle.

Anyone who can write to the crawl's Redis can put any bytes there, so nothing read back names
code to run: a message is JSON, turned into the project's own item classes only (by name, from
the fixed list below, each field of the type its class declares), and a request into a Scrapy
request whose callbacks are the spider's own public methods, by name. What is not that is refused
with a WireError (the reader logs it and goes on).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from typing import Any

from scrapy import Request, Spider
from scrapy.utils.request import request_from_dict

from portalscraper.items import Appearance, FetchFailure, PageState, Record, Sightings

# The classes a message may hold, by name.
_ITEMS: dict[str, type] = {cls.__name__: cls for cls in (Record, PageState, Appearance, Sightings, FetchFailure)}
# What a field's declared type may be on the wire (a WARC offset's future never is).
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,), "int": (int,), "float": (int, float), "bool": (bool,), "dict": (dict,), "list": (list,),
    "None": (type(None),), "Future": (), **{name: (cls,) for name, cls in _ITEMS.items()}}


def _field_types(cls: type) -> dict[str, tuple[type, ...]]:
    """Each field of a dataclass, and the types its annotation ("str | None", "list[str]") allows."""
    out = {}
    for field in dataclasses.fields(cls):
        parts = [part.split("[")[0].strip() for part in str(field.type).split("|")]
        if unknown := [part for part in parts if part not in _JSON_TYPES]:
            raise TypeError(f"{cls.__name__}.{field.name} is a {unknown[0]}: add how it travels to wire._JSON_TYPES")
        out[field.name] = tuple(t for part in parts for t in _JSON_TYPES[part])
    return out


_FIELDS = {name: _field_types(cls) for name, cls in _ITEMS.items()}
# Scrapy's request classes a request may be rebuilt as (a spider of the project uses the first).
_REQUESTS = {"scrapy.http.request.Request", "scrapy.http.request.form.FormRequest",
             "scrapy.http.request.json_request.JsonRequest"}
_TAG = "$"  # a JSON object with this key is a tagged value: {"$": "bytes" or a class name, "v": ...}


class WireError(ValueError):
    """Bytes read from Redis that are not a message of a shared crawl."""


def dumps(value: Any) -> bytes:
    """A message: None, numbers, strings, lists, dicts with string keys, bytes, and the items."""
    return json.dumps(value, default=_tagged, ensure_ascii=False, separators=(",", ":")).encode()


def loads(payload: bytes | str) -> Any:
    try:
        return json.loads(payload, object_hook=_untagged)
    except WireError:
        raise
    except (ValueError, TypeError, RecursionError) as exc:  # not JSON, not UTF-8, or a tagged value that is wrong
        raise WireError(f"not a message of the crawl ({str(exc)[:200]})") from None


def _tagged(value: Any) -> dict[str, Any]:
    if isinstance(value, bytes):
        return {_TAG: "bytes", "v": base64.b64encode(value).decode("ascii")}
    if type(value).__name__ in _ITEMS and type(value) is _ITEMS[type(value).__name__]:
        return {_TAG: type(value).__name__, "v": vars(value)}
    raise TypeError(f"a {type(value).__name__} cannot travel through the crawl's Redis")


def _untagged(obj: dict[str, Any]) -> Any:
    if _TAG not in obj:
        return obj
    tag, value = obj[_TAG], obj.get("v")
    if tag == "bytes" and isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error as exc:
            raise WireError(f"bad bytes in a message ({exc})") from None
    cls = _ITEMS.get(tag) if isinstance(tag, str) else None
    if cls is None or not isinstance(value, dict):
        raise WireError(f"unknown value in a message: {str(tag)[:40]!r}")
    fields = _FIELDS[tag]
    for name, field_value in value.items():
        if name not in fields:
            raise WireError(f"a {tag} with a field {str(name)[:40]!r} of no {tag}'s")
        if not isinstance(field_value, fields[name]):
            raise WireError(f"a {tag} whose {name} is a {type(field_value).__name__}")
    if cls is Sightings and not all(isinstance(a, Appearance) for a in value.get("appearances", [])):
        raise WireError("Sightings whose appearances are not Appearances")
    try:
        return cls(**value)
    except TypeError as exc:  # a field missing
        raise WireError(f"a {tag} without all its fields ({exc})") from None


# -- requests -------------------------------------------------------------------------------------


def request_payload(request: Request, spider: Spider | None) -> bytes:
    """A request as data: Scrapy's request_to_dict (callbacks by name), its headers as text."""
    data = request.to_dict(spider=spider)
    data["headers"] = [[name.decode("latin-1"), [v.decode("latin-1") for v in values]]
                       for name, values in data["headers"].items()]
    return dumps(data)


def request_from_payload(payload: bytes, spider: Spider) -> Request:
    """The request again, with the spider's methods as callbacks; WireError if it is not one."""
    data = loads(payload)
    if not isinstance(data, dict) or not isinstance(data.get("url"), str):
        raise WireError("not a request")
    if data.get("_class", "scrapy.http.request.Request") not in _REQUESTS:
        raise WireError(f"not a request class of Scrapy's: {str(data.get('_class'))[:80]!r}")
    for name in ("callback", "errback"):
        method = data.get(name)
        if method is None:
            continue
        if not isinstance(method, str) or method.startswith("_") or not callable(getattr(spider, method, None)):
            raise WireError(f"the {name} {str(method)[:80]!r} is no method of the spider {spider.name}")
    headers = data.get("headers") or []
    if not isinstance(headers, list) or not all(isinstance(h, list) and len(h) == 2 and isinstance(h[0], str)
                                                and isinstance(h[1], list) for h in headers):
        raise WireError("a request's headers are not [name, [values]] pairs")
    data["headers"] = [(name.encode("latin-1"), [str(v).encode("latin-1") for v in values])
                       for name, values in headers]
    try:
        return request_from_dict(data, spider=spider)
    except (TypeError, ValueError, UnicodeError) as exc:
        raise WireError(f"not a request ({str(exc)[:200]})") from None
