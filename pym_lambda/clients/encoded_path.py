"""Sending a URL whose path keeps its percent-encoding.

requests decodes the percent-encoded unreserved characters of a URL when it prepares it
(``requests.utils.requote_uri``): a path parameter ".." that the encoder sent as ``%2E%2E``
would leave as ``..``, a dot segment that the server or any proxy in between removes, so the
call would reach another resource. ``send_encoded`` prepares the request as requests does,
then puts back the path as the encoder wrote it, when the two differ only by that decoding
(a path requests changed otherwise, e.g. quoting a space, is left as requests made it).
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

# What requests.Request takes; the rest of Session.request's arguments go to Session.send.
_REQUEST_ARGS = frozenset({"headers", "files", "data", "params", "auth", "cookies", "hooks",
                           "json"})


def send_encoded(session: Any, method: str, url: str, **kwargs: Any) -> Any:
    """``session.request(method, url, **kwargs)``, the path of ``url`` sent as written."""
    import requests
    from requests.utils import unquote_unreserved

    request = requests.Request(method, url,
                               **{k: v for k, v in kwargs.items() if k in _REQUEST_ARGS})
    prepared = session.prepare_request(request)
    wanted = urlsplit(url).path
    sent = urlsplit(prepared.url)
    if sent.path != wanted and unquote_unreserved(wanted) == sent.path:
        prepared.url = urlunsplit(sent._replace(path=wanted))
    options = {k: v for k, v in kwargs.items() if k not in _REQUEST_ARGS}
    settings = session.merge_environment_settings(
        prepared.url, options.pop("proxies", None) or {}, options.pop("stream", None),
        options.pop("verify", None), options.pop("cert", None))
    options.setdefault("allow_redirects", True)  # Session.request's default
    return session.send(prepared, **{**options, **settings})
