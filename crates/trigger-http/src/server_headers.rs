//! Response headers that a module answering with a whole response (Wagi,
//! Spin 1) does not set: the server frames the body itself and owns the
//! connection. A module's own `Content-Length` would be sent as given while
//! the body is framed by its real length, so a module could end the
//! response early and have the rest of its body read as the answer to the
//! client's next request on a kept-alive connection.

use http::HeaderName;

/// The names, lower case.
const SERVER_HEADERS: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-connection",
];

/// Whether `name` is one of the headers the server sets itself.
pub(crate) fn is_server_header(name: &HeaderName) -> bool {
    SERVER_HEADERS.contains(&name.as_str())
}
