"""Which webhook receivers Signet may reach: public addresses, and internal ones only where allowed.

One function decides, for a subscription when it is saved and again for every delivery (a name can
resolve elsewhere by then): otherwise whoever subscribes could make Signet probe the internal network
and read the answers in the delivery log (docs/webhooks.md).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# NAT64 (RFC 6052): 64:ff9b::a.b.c.d reaches the IPv4 address a.b.c.d through a translator.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (IPv4-mapped, 6to4, NAT64), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _kind(address: IPAddress) -> str | None:
    """What makes ``address`` internal (loopback, private, ...), or None for a public unicast address."""
    for name, test in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
    ):
        if test:
            return name
    if not address.is_global:  # shared address space (100.64.0.0/10) and the like
        return "not public"
    return None


def internal_kind(address: IPAddress) -> str | None:
    """What makes ``address`` internal, looking through IPv6 forms that carry an IPv4 address; None if public."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return _kind(embedded)
    return _kind(address)


def _allowed(address: IPAddress) -> bool:
    networks = [ipaddress.ip_network(network) for network in settings.SIGNET_WEBHOOK_ALLOWED_NETWORKS]
    candidates = [address]
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        candidates.append(embedded)
    return any(candidate in network for candidate in candidates for network in networks)


def address_refusal(url: str, *, unresolved_ok: bool = False) -> str | None:
    """Why Signet will not send to this URL's host, or None when it may.

    Internal addresses (loopback, private, link-local, multicast, reserved, unspecified), and names
    that resolve to one, are refused unless an administrator allowed their network with
    WEBHOOK_ALLOWED_NETWORKS. A name that does not resolve is refused too, unless ``unresolved_ok``
    (when a subscription is saved its receiver may not be in DNS yet; each delivery checks again).
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "The address has an invalid port."
    # "localhost." is "localhost", and every name under .localhost is loopback (RFC 6761), in DNS or not.
    name = host.rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        name = "127.0.0.1"
    try:
        infos = socket.getaddrinfo(name, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, ValueError) as exc:
        if unresolved_ok:
            return None
        return f"No answer: the name {host} does not resolve ({getattr(exc, 'strerror', None) or exc})."
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        kind = internal_kind(address)
        if kind is not None and not _allowed(address):
            embedded = _embedded_ipv4(address)
            shown = f"{address}, that is {embedded}" if embedded is not None else str(address)
            return (
                f"Refused: {host} is the internal address {shown} ({kind}); Signet sends webhooks to public "
                "addresses only, unless an administrator allows the network with WEBHOOK_ALLOWED_NETWORKS."
            )
    return None
