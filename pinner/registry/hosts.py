"""Host rules: which hosts are loopback, and where a registry's answers may send pinner. No I/O
but name resolution; no httpx.

A registry's answers lead to other hosts: a token realm, a redirect. A public registry must not
lead pinner, with credentials, to the cloud metadata service or another internal address, and
whether a host is internal is only known once it is resolved: ``2852039166``, ``0xa9.0xfe.0xa9.
0xfe``, ``169.254.43518``, ``127.1``, ``localhost.`` and internal names all look harmless until
then. So the rule is decided on the resolved addresses, when the connection is made
(:mod:`pinner.registry.connect` calls ``check_destination``), and the address checked is the
address connected to (a second lookup could answer differently).

Public API:

- ``split_host(host)``: ``host[:port]`` → (name without brackets, port or "").
- ``is_loopback(host)``: ``localhost`` or a loopback address, as written (the plain-http rule).
- ``address_class(address)``: ``loopback``, ``private`` (RFC 1918, ULA, shared 100.64/10),
  ``link-local`` (169.254/16, fe80::/10: where metadata services live), ``unroutable``
  (unspecified, multicast, reserved) or ``public``.
- ``reachable_from(registry_host)``: the classes a registry's realms and redirects may lead to:
  always public; a loopback registry also loopback and private; a private one also private; a
  link-local one also link-local; never unroutable. The registry itself (the host the user
  named) is always allowed, as before.
- ``resolve(host, port)``: the addresses of ``host`` (``getaddrinfo``), in its order.
- ``check_destination(host, port, allowed) -> list[str]``: the addresses to connect to, or
  :class:`BlockedDestinationError` if any of them is of a class not ``allowed``.
"""

from __future__ import annotations

import ipaddress
import socket

from pinner.registry.errors import ImageLookupError

PUBLIC, PRIVATE, LOOPBACK, LINK_LOCAL, UNROUTABLE = (
    "public",
    "private",
    "loopback",
    "link-local",
    "unroutable",
)
_REACHABLE = {
    PUBLIC: frozenset({PUBLIC}),
    PRIVATE: frozenset({PUBLIC, PRIVATE}),
    LOOPBACK: frozenset({PUBLIC, PRIVATE, LOOPBACK}),
    LINK_LOCAL: frozenset({PUBLIC, LINK_LOCAL}),
    UNROUTABLE: frozenset({PUBLIC}),
}
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: internal, not "private"
# Most public first: a registry with addresses of several classes counts as the most public.
_ORDER = (PUBLIC, UNROUTABLE, LINK_LOCAL, PRIVATE, LOOPBACK)


class BlockedDestinationError(ImageLookupError):
    """A realm or redirect led to an address the registry may not send pinner to."""


def split_host(host: str) -> tuple[str, str]:
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        return name, rest.removeprefix(":")
    name, _, port = host.partition(":") if host.count(":") == 1 else (host, "", "")
    return name, port


def is_loopback(host: str) -> bool:
    name = split_host(host)[0].lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def address_class(address: str) -> str:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return LOOPBACK
    if ip.is_link_local:
        return LINK_LOCAL
    if ip.is_unspecified or ip.is_multicast or ip.is_reserved:
        return UNROUTABLE
    if ip.is_private or (isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED):
        return PRIVATE
    return PUBLIC


def resolve(host: str, port: int) -> list[str]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return list(dict.fromkeys(str(entry[4][0]) for entry in found))


def reachable_from(registry_host: str) -> frozenset[str]:
    name, port = split_host(registry_host)
    addresses = resolve(name, int(port) if port.isdigit() else 443)
    classes = {address_class(address) for address in addresses} or {PUBLIC}
    registry_class = next(kind for kind in _ORDER if kind in classes)
    return _REACHABLE[registry_class]


def check_destination(host: str, port: int, allowed: frozenset[str]) -> list[str]:
    addresses = resolve(host, port)
    for address in addresses:
        kind = address_class(address)
        if kind not in allowed:
            shown = host if host == address else f"{host} ({address})"
            article = "an" if kind[0] in "aeiou" else "a"
            raise BlockedDestinationError(
                f"refusing to connect to {shown}, {article} {kind} address, where the registry's "
                "answer (a token realm or a redirect) led",
                hint="Report it to the registry's operators; a registry may not send pinner to "
                "internal addresses unless it is internal itself.",
            )
    return addresses
