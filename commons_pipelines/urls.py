"""The URLs a source may read, and URLs fit to show.

A source reads http(s) only. Loopback, link-local (cloud metadata), unspecified, multicast and reserved addresses
are refused unless COMMONS_ALLOW_LOCAL_URLS is set: as written in the YAML when the spec loads (`check_url`,
including the integer, hex and octal IPv4 forms resolvers accept), and every address the host resolves to before
each request and each redirect (`check_host`).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SCHEMES = ("http", "https")
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
METADATA = (ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200"))  # AWS IPv6, Alibaba
THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
SECRET_KEY = re.compile(r"token|key|secret|passw|signature|sig$|auth|credential|^x-amz-", re.IGNORECASE)
ALLOW_HINT = "set COMMONS_ALLOW_LOCAL_URLS=1 to read local addresses"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlError(ValueError):
    """A URL a source may not read."""


def scheme(path: str) -> str | None:
    """The scheme `path` starts with, in lower case, or None for a local path."""
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]+):", path)
    return match[1].lower() if match else None


def url_host(url: str) -> str:
    """The host of an http(s) URL as a resolver reads it: lower case, no trailing dot. UrlError for another scheme,
    and for URLs that parsers may read differently (backslashes, several '@', percent-encoded or non-ASCII hosts)."""
    got = scheme(url)
    if got not in SCHEMES:
        raise UrlError(f"only http(s) URLs are read; got {got!r}" if got else f"{url!r} is not a URL")
    if re.search(r"[\x00-\x20\x7f\\]", url):
        raise UrlError("spaces, control characters and backslashes are not allowed in a URL: percent-encode them")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError as err:
        raise UrlError(f"not a valid URL: {err}") from None
    if parts.netloc.count("@") > 1:
        raise UrlError("more than one '@' before the host: write '@' in a user name or password as %40")
    host = parts.hostname or ""
    if "%" in host:
        raise UrlError(f"percent-encoding in the host is not allowed: {host!r}")
    if not host.isascii():  # IDNA 2003 and 2008 map some names differently: the check could resolve another host
        raise UrlError(f"host {host!r} is not ASCII: write its xn-- (punycode) form")
    host = host.rstrip(".").lower()
    if not host:
        raise UrlError("the URL has no host")
    return host


def literal_ip(host: str) -> Address | None:
    """The address `host` is written as, also in the forms of inet_aton: `2130706433`, `0x7f.1`, `0177.0.0.1`."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    parts = host.split(".")
    if len(parts) > 4:
        return None
    numbers = []
    for part in parts:
        if re.fullmatch(r"0x[0-9a-f]*", part):
            digits, base = part[2:].lstrip("0") or "0", 16
        elif re.fullmatch(r"0[0-7]*", part):
            digits, base = part.lstrip("0") or "0", 8
        elif re.fullmatch(r"[1-9][0-9]*", part):
            digits, base = part, 10
        else:
            return None
        if len(digits) > 11:  # beyond 32 bits in any base; int() of a long string is slow
            return None
        numbers.append(int(digits, base))
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = last
    for k, n in enumerate(head):
        value += n << (8 * (3 - k))
    return ipaddress.IPv4Address(value)


def refused(ip: Address) -> str | None:
    """Why a source may not read from `ip` without COMMONS_ALLOW_LOCAL_URLS; None when it may."""
    if ip in METADATA:
        return "a cloud metadata address"
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour or (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in NAT64 else None)
        if inner is not None:
            return refused(inner)
        if ip.is_site_local:
            return "a link-local address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_unspecified or ip in THIS_NETWORK:
        return "an unspecified address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_reserved:
        return "a reserved address"
    return None


def check_url(url: str, allow_local: bool) -> str:
    """Check `url` as written (no DNS) and return its host: http(s), unambiguous and, unless `allow_local`, no
    local name or address. Raises UrlError."""
    host = url_host(url)
    if allow_local:
        return host
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        raise UrlError(f"host {host!r} is a loopback name; {ALLOW_HINT}")
    ip = literal_ip(host)
    reason = refused(ip) if ip is not None else None
    if reason:
        shown = f" ({ip})" if ip.version == 4 and str(ip) != host else ""
        raise UrlError(f"host {host!r}{shown} is {reason}; {ALLOW_HINT}")
    return host


def check_host(url: str, allow_local: bool) -> None:
    """Check `url` right before it is requested (and each redirect's target): as `check_url`, then every address its
    host resolves to now. Raises UrlError naming the URL without its credentials; socket.gaierror (an OSError)
    when the host does not resolve."""
    try:
        host = check_url(url, allow_local)
        if allow_local or literal_ip(host) is not None:
            return
        port = urlsplit(url).port or (443 if scheme(url) == "https" else 80)
        for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
            ip = ipaddress.ip_address(sockaddr[0])
            reason = refused(ip)
            if reason:
                raise UrlError(f"host {host!r} resolves to {ip}, {reason}; {ALLOW_HINT}")
    except UrlError as err:
        raise UrlError(f"{public_url(url)}: {err}") from None


def public_url(url: str) -> str:
    """`url` fit to show or publish: no user:password@, no fragment, secret-looking query values redacted."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "(an invalid URL)"
    if not parts.scheme:
        return url
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    netloc = f"{host}:{port}" if port else host
    query = urlencode([(k, "REDACTED" if SECRET_KEY.search(k) else v)
                       for k, v in parse_qsl(parts.query, keep_blank_values=True)])
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
