"""Which addresses the group robot may post to (a guard against server-side request forgery).

A town administrator types the robot's address, but the server posts to it: without a
guard an administrator could make the server talk to itself (``http://127.0.0.1:6379/``),
to the cloud's metadata service (169.254.169.254) or to anything else only the server
reaches. Refused, whatever the name resolves to: loopback, link-local, unspecified,
multicast and reserved addresses; schemes other than http/https; user names or passwords
in the address. Private ranges (10/8, 172.16/12, 192.168/16) stay allowed, since town
offices sit on closed government networks. The operator decides the rest:
``WEBHOOK_DENIED_NETWORKS`` refuses more networks (a private range, say) and
``WEBHOOK_ALLOWED_NETWORKS`` allows networks the built-in rule refuses (a relay on the
server itself); a network denied wins over one allowed.

The address is checked when it is saved and again at each send, where the connection goes
to exactly the address that was checked (a name re-resolved between check and connect
could point elsewhere), without redirects and without environment proxies.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
#: (host, port) -> the addresses the name resolves to
Resolver = Callable[[str, int], list[str]]

#: "this network" (0/8): Linux connects 0.x.x.x to the host itself
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")


class RefusedTarget(ValueError):
    """The address may not be posted to; ``reason`` is a short English word for logs."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"refused webhook address ({reason}{': ' + detail if detail else ''})")
        self.reason = reason


class UnresolvedTarget(OSError):
    """The host name does not resolve (yet): nothing can be said about it."""


@dataclass(frozen=True)
class TargetPolicy:
    """The operator's networks: ``denied`` are refused, ``allowed`` exempt from the
    built-in refusals (denied wins)."""

    allowed: tuple[IPNetwork, ...] = ()
    denied: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_config(cls, config: Any) -> TargetPolicy:
        """From WEBHOOK_ALLOWED_NETWORKS / WEBHOOK_DENIED_NETWORKS (lists of CIDR strings,
        or one comma-separated string); a malformed network raises ValueError."""
        return cls(allowed=_networks(config, "WEBHOOK_ALLOWED_NETWORKS"),
                   denied=_networks(config, "WEBHOOK_DENIED_NETWORKS"))


def _networks(config: Any, name: str) -> tuple[IPNetwork, ...]:
    value: str | Iterable[str] | None = config.get(name)
    if not value:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    try:
        return tuple(ipaddress.ip_network(str(v).strip(), strict=False)
                     for v in items if str(v).strip())
    except ValueError as exc:
        raise ValueError(f"{name}: {exc} (a list of networks such as "
                         '["10.0.0.0/8", "fd00::/8"])') from None


def address_refusal(address: str | IPAddress, policy: TargetPolicy) -> str | None:
    """Why ``address`` may not be posted to ("loopback", "link-local", ...), or None."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
        if ip.ipv4_mapped is not None:  # ::ffff:127.0.0.1 is 127.0.0.1
            ip = ip.ipv4_mapped
    if any(ip in net for net in policy.denied):
        return "denied by WEBHOOK_DENIED_NETWORKS"
    if any(ip in net for net in policy.allowed):
        return None
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_unspecified or ip in _THIS_NETWORK:
        return "unspecified"
    if ip.is_multicast:
        return "multicast"
    if ip.is_reserved:
        return "reserved"
    return None


def url_refusal(url: str) -> str | None:
    """What is wrong with the address itself (scheme, credentials, host), or None."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return "malformed"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "scheme"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "credentials"
    return None


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (getaddrinfo); UnresolvedTarget when none."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnresolvedTarget(f"{host}: {exc}") from None
    return list(dict.fromkeys(info[4][0] for info in infos))


def vetted_addresses(host: str, port: int, policy: TargetPolicy,
                     resolve: Resolver = system_resolver) -> list[str]:
    """The addresses of ``host``, every one of them allowed; RefusedTarget when any is
    refused (a name with one good and one bad address is refused as a whole)."""
    addresses = resolve(host, port)
    if not addresses:
        raise UnresolvedTarget(host)
    for address in addresses:
        reason = address_refusal(address, policy)
        if reason:
            raise RefusedTarget(reason, f"{host} -> {address}")
    return addresses


def check_target(url: str, policy: TargetPolicy, resolve: Resolver = system_resolver) -> None:
    """Raise RefusedTarget when the robot may not post to ``url``; UnresolvedTarget when its
    host name does not resolve (the caller decides whether that is acceptable)."""
    reason = url_refusal(url)
    if reason:
        raise RefusedTarget(reason)
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    vetted_addresses(parts.hostname or "", port, policy, resolve)


def _guarded_create_connection(policy: TargetPolicy, resolve: Resolver):
    """A ``socket.create_connection`` that resolves once, checks, and connects to exactly
    the addresses it checked."""

    def create_connection(address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT,  # noqa: SLF001
                          source_address=None, **kwargs):
        host, port = address
        error: OSError | None = None
        for ip in vetted_addresses(host, port, policy, resolve):
            try:
                return socket.create_connection((ip, port), timeout, source_address)
            except OSError as exc:
                error = exc
        raise error or OSError(f"cannot connect to {host}")

    return create_connection


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A robot answers, it does not redirect: a 3xx is a failure (urllib's HTTPError)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def guarded_opener(policy: TargetPolicy,
                   resolve: Resolver = system_resolver) -> urllib.request.OpenerDirector:
    """An opener for http/https only, whose connections go to vetted addresses, following
    no redirect and ignoring proxy environment variables."""
    connect = _guarded_create_connection(policy, resolve)

    class Http(http.client.HTTPConnection):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._create_connection = connect

    class Https(http.client.HTTPSConnection):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._create_connection = connect

    class HttpHandler(urllib.request.HTTPHandler):
        def http_open(self, req):
            return self.do_open(Http, req)

    class HttpsHandler(urllib.request.HTTPSHandler):
        def https_open(self, req):
            return self.do_open(Https, req, context=self._context)

    opener = urllib.request.OpenerDirector()
    for handler in (urllib.request.ProxyHandler({}), urllib.request.UnknownHandler(),
                    HttpHandler(), HttpsHandler(), _NoRedirect(),
                    urllib.request.HTTPDefaultErrorHandler(),
                    urllib.request.HTTPErrorProcessor()):
        opener.add_handler(handler)
    return opener
