"""`socket` inside a component: addresses, ports, and the build.

Sockets reach the addresses the manifest grants (`tcp://127.0.0.1:6379`);
the host looks no names up, as in Spin. Between CPython's `socket` module
and the host's `wasi:sockets` stand three things, which `install()` (run
when the SDK is imported, before the app) deals with:

* `socket.getaddrinfo` (under `socket.create_connection` and every client
  library built on it) asks the host to resolve even an IP address, which
  it refuses; and it first encodes the host with the `idna` codec, which
  needs `unicodedata`, a module this interpreter lacks. IP addresses and
  `localhost` (the loopback addresses, by definition) are answered here
  instead; a name gets an error that says what to do, and a stand-in ASCII
  `idna` codec keeps the encoding step from failing first.
* wasi-libc's `getaddrinfo` answers port 0 whatever port was asked for
  (and a connect to port 0 fails with `EINVAL`): answers carry the port
  asked for.
* The app's module is imported while the component is built, and the C
  library keeps the first network handle it is given for good: one taken
  then (urllib3 probes for IPv6 by binding a socket when it is imported)
  does not exist when the component runs, and the first connect would
  trap. While the app is imported (`while_building()`), sockets therefore
  refuse to bind, connect, send or look names up, as if there were no
  network.
"""

import codecs
import errno
import functools
import ipaddress
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_ASCII_ONLY = (
    "this component's Python has no IDNA support: give an internationalized host name in its ASCII "
    "`xn--` form"
)

_BUILDING = (
    "sockets are not available while `spin py2wasm` builds the component (the app module's top level "
    "runs then): open connections inside `handle_request`"
)

_NO_LOOKUP = (
    "host names are not looked up inside a component (as in Spin): connect to an IP address that "
    "the component's allowed_outbound_hosts grants, such as `tcp://10.0.0.5:5432`"
)

# Whether the app is being imported at build time.
_building = [False]


def _encode(text: str, errors: str = "strict") -> tuple[bytes, int]:
    try:
        return text.encode("ascii"), len(text)
    except UnicodeEncodeError as error:
        raise UnicodeError(f"{_ASCII_ONLY} (not {text!r})") from error


def _decode(data: bytes, errors: str = "strict") -> tuple[str, int]:
    return bytes(data).decode("ascii", errors), len(data)


def _search(name: str) -> codecs.CodecInfo | None:
    if name != "idna":
        return None
    return codecs.CodecInfo(_encode, _decode, name="idna")


def _port_number(port: Any) -> int:
    """The port `getaddrinfo` was asked for (0 for none)."""
    if port is None:
        return 0
    if isinstance(port, int):
        return port
    text = port.decode("ascii", "replace") if isinstance(port, bytes) else str(port)
    if text.isdecimal() and text.isascii():
        return int(text)
    try:
        return socket.getservbyname(text)
    except OSError:
        raise socket.gaierror(socket.EAI_SERVICE, f"unknown service {text!r}: give the port as a number") from None


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _local_addresses(host: Any, family: int, flags: int) -> list[Address] | None:
    """The addresses of `host` when they need no lookup (an IP address,
    `localhost`, or none for a wildcard or loopback); `None` for a name."""
    if host is None:
        wildcard = bool(flags & socket.AI_PASSIVE)
        if family == socket.AF_INET6:
            return [ipaddress.ip_address("::" if wildcard else "::1")]
        return [ipaddress.ip_address("0.0.0.0" if wildcard else "127.0.0.1")]
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return None
    if host.lower().rstrip(".") == "localhost":
        # One address, so that a refused connection is reported as such
        # rather than as the refusal of the other family's loopback.
        return [ipaddress.ip_address("::1" if family == socket.AF_INET6 else "127.0.0.1")]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    return [address]


_KINDS = ((socket.SOCK_STREAM, socket.IPPROTO_TCP), (socket.SOCK_DGRAM, socket.IPPROTO_UDP))


def _scope_id(address: Address) -> int:
    scope = getattr(address, "scope_id", None)
    if not scope:
        return 0
    if scope.isdecimal():
        return int(scope)
    raise socket.gaierror(socket.EAI_NONAME, f"interface names are not known inside a component (`%{scope}`)")


def _answer_locally(addresses: list[Address], port: int, family: int, type: int, proto: int) -> list:
    if type not in (0, socket.SOCK_STREAM, socket.SOCK_DGRAM):
        raise socket.gaierror(socket.EAI_SOCKTYPE, "only stream and datagram sockets exist here")
    results = []
    for address in addresses:
        af = socket.AF_INET if address.version == 4 else socket.AF_INET6
        if family not in (0, socket.AF_UNSPEC, af):
            continue
        if address.version == 4:
            sockaddr: tuple = (str(address), port)
        else:
            sockaddr = (str(address).split("%")[0], port, 0, _scope_id(address))
        for kind, protocol in _KINDS:
            if type in (0, kind) and proto in (0, protocol):
                results.append((af, kind, protocol, "", sockaddr))
    if not results:
        raise socket.gaierror(socket.EAI_FAMILY, "no address of the family asked for")
    return results


_lookup = socket.getaddrinfo


def getaddrinfo(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0) -> list:
    """`socket.getaddrinfo` for a component (see the module's documentation)."""
    if _building[0]:
        raise socket.gaierror(socket.EAI_FAIL, _BUILDING)
    number = _port_number(port)
    addresses = _local_addresses(host, family, flags)
    if addresses is not None:
        return _answer_locally(addresses, number, family, type, proto)
    try:
        results = _lookup(host, port, family, type, proto, flags)
    except socket.gaierror as error:
        if host is None:
            raise
        raise socket.gaierror(error.errno, f"{_NO_LOOKUP} (looking up {host!r})") from error
    return [
        (af, kind, protocol, name, (address[0], number, *address[2:]) if address[1] == 0 else address)
        for af, kind, protocol, name, address in results
    ]


def _unless_building(original: Callable[..., Any], refusal: Callable[[], Exception]) -> Callable[..., Any]:
    @functools.wraps(original)
    def call(*args: Any, **kwargs: Any) -> Any:
        if _building[0]:
            raise refusal()
        return original(*args, **kwargs)

    return call


def install() -> None:
    """Registers the stand-in codec (unless the real one is available), and
    puts the wrappers this module describes in place, once."""
    if socket.getaddrinfo is getaddrinfo:
        return
    try:
        codecs.lookup("idna")
    except LookupError:
        codecs.register(_search)
    socket.getaddrinfo = getaddrinfo
    # Each of these may take the network handle (a lookup, or a bind of an
    # unbound socket first).
    for name in ("gethostbyname", "gethostbyname_ex", "gethostbyaddr", "getnameinfo", "getfqdn"):
        if hasattr(socket, name):
            lookup_refused = lambda: socket.gaierror(socket.EAI_FAIL, _BUILDING)  # noqa: E731
            setattr(socket, name, _unless_building(getattr(socket, name), lookup_refused))
    for name in ("bind", "connect", "connect_ex", "listen", "sendto", "sendmsg"):
        if hasattr(socket.socket, name):
            refused = lambda: PermissionError(errno.EACCES, _BUILDING)  # noqa: E731
            setattr(socket.socket, name, _unless_building(getattr(socket.socket, name), refused))


@contextmanager
def while_building() -> Iterator[None]:
    """No network until the block ends (see the module's documentation)."""
    _building[0] = True
    try:
        yield
    finally:
        _building[0] = False
