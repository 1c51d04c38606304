//! Requests to a Wagi module (`executor = { type = "wagi" }`): the CGI
//! side. The request becomes the module's arguments, environment (the CGI
//! variables of RFC 3875, each request header as `HTTP_<NAME>`, and Spin's
//! `spin-*` headers as `X_*`, as Spin sets them) and stdin; what it writes
//! to stdout becomes the response. Running the module is
//! `spin_runtime::wagi`'s.

use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::BodyExt as _;
use spin_runtime::app::LoadedComponent;
use spin_runtime::wagi::{WagiPre, WagiRequest};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::handler::GuestBody;
use crate::request_body::BodyBroken;

/// The CGI version Spin's Wagi reports.
const GATEWAY_INTERFACE: &str = "CGI/1.1";
/// The server software Spin's Wagi reports.
const SERVER_SOFTWARE: &str = "WAGI/1";

/// Runs `component`'s Wagi module for `req` (routed: its `spin-*` headers
/// set), within `timeout`.
pub(crate) async fn handle<B: GuestBody>(
    app: &spin_runtime::app::LoadedApp,
    component: &Arc<LoadedComponent>,
    pre: &WagiPre,
    req: Request<B>,
    timeout: std::time::Duration,
) -> Result<Response<HyperOutgoingBody>> {
    let broken = req.extensions().get::<Arc<BodyBroken>>().cloned();
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            if let Some(answer) = broken.as_deref().and_then(BodyBroken::answer_if_broken) {
                return Ok(answer);
            }
            let e: wasmtime_wasi_http::Error = e.into();
            bail!("reading the request body for the Wagi module: {e:?}");
        }
    };
    let request = cgi_request(&parts, body, &pre.argv);
    let max_output = app.engine.options.max_instance_memory;
    let stdout = pre
        .run(&app.engine, &component.config, request, timeout, max_output)
        .await
        .with_context(|| {
            format!(
                "running the Wagi module of component `{}`",
                component.config.id
            )
        })?;
    cgi_response(&stdout).map_err(|e| {
        anyhow::Error::new(spin_hint::Hinted::new(
            format!(
                "the Wagi module of component `{}` wrote no valid CGI response: {e:#}",
                component.config.id
            ),
            "a Wagi module writes headers (`Content-Type: …` or `Location: …`, and `Status: 404` to choose the status), a blank line, then the body, to stdout",
        ))
    })
}

/// The arguments, environment and stdin a Wagi module gets for a request
/// (`parts`, with its `spin-*` headers) with `body`; `argv` is the
/// trigger's template (`${SCRIPT_NAME}`: the path, `${ARGS}`: the query's
/// `&`-separated parts).
pub(crate) fn cgi_request(parts: &http::request::Parts, body: Bytes, argv: &str) -> WagiRequest {
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let query = parts.uri.query().unwrap_or("");
    let args = argv
        .replace("${SCRIPT_NAME}", parts.uri.path())
        .replace("${ARGS}", &query.replace('&', " "))
        .split(' ')
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect();

    let default_port = if header("spin-full-url").starts_with("https:") {
        "443"
    } else {
        "80"
    };
    let (server_name, server_port) = split_host(&header("host"), default_port);
    let client = header("spin-client-addr");
    let client_ip = client
        .parse::<std::net::SocketAddr>()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let path_info = header("spin-path-info");
    let decoded_path_info = percent_encoding::percent_decode_str(&path_info)
        .decode_utf8_lossy()
        .into_owned();
    let mut env: Vec<(String, String)> = [
        ("AUTH_TYPE", String::new()),
        ("CONTENT_LENGTH", body.len().to_string()),
        ("CONTENT_TYPE", header("content-type")),
        ("GATEWAY_INTERFACE", GATEWAY_INTERFACE.to_owned()),
        ("QUERY_STRING", query.to_owned()),
        ("REMOTE_ADDR", client_ip.clone()),
        ("REMOTE_HOST", client_ip),
        ("REMOTE_USER", String::new()),
        ("REQUEST_METHOD", parts.method.to_string()),
        ("SCRIPT_NAME", header("spin-component-route")),
        ("PATH_INFO", decoded_path_info.clone()),
        ("PATH_TRANSLATED", decoded_path_info),
        ("X_RAW_PATH_INFO", path_info),
        ("SERVER_NAME", server_name),
        ("SERVER_PORT", server_port),
        ("SERVER_PROTOCOL", format!("{:?}", parts.version)),
        ("SERVER_SOFTWARE", SERVER_SOFTWARE.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (name, value) in &parts.headers {
        let Ok(value) = value.to_str() else { continue };
        let name = name.as_str();
        let variable = match name.strip_prefix("spin-") {
            // Spin's own headers, as Spin gives them to Wagi:
            // `spin-full-url` is `X_FULL_URL`.
            Some(spin) => format!("X_{}", cgi_name(spin)),
            // Per RFC 3875 4.1.18, credentials and hop-by-hop headers are
            // not passed.
            None if name == "authorization" || name == "connection" => continue,
            None => format!("HTTP_{}", cgi_name(name)),
        };
        env.push((variable, value.to_owned()));
    }
    WagiRequest {
        args,
        env,
        stdin: body,
    }
}

/// A `Host` header's name and port (`default_port` when it has none); an
/// IPv6 address keeps its brackets.
fn split_host(host: &str, default_port: &str) -> (String, String) {
    let (name, port) = match host.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((ip, after)) => (format!("[{ip}]"), after.strip_prefix(':')),
            None => (host.to_owned(), None),
        },
        None => match host.rsplit_once(':') {
            Some((name, port)) => (name.to_owned(), Some(port)),
            None => (host.to_owned(), None),
        },
    };
    let port = port.filter(|p| !p.is_empty()).unwrap_or(default_port);
    (name, port.to_owned())
}

/// A header name as a CGI variable name: upper case, `-` as `_`.
fn cgi_name(header: &str) -> String {
    header.to_ascii_uppercase().replace('-', "_")
}

/// The response a Wagi module wrote (`stdout`): CGI headers up to the
/// first blank line, then the body. `Status: 404 Not Found` sets the
/// status; `Location` alone means a redirect (302); one of `Content-Type`
/// and `Location` is required.
pub(crate) fn cgi_response(stdout: &[u8]) -> Result<Response<HyperOutgoingBody>> {
    let (head, body) = split_head(stdout)
        .context("no blank line ends the headers (the output is a head without a body)")?;
    let head = std::str::from_utf8(head).context("the headers are not UTF-8")?;
    let mut response = Response::new(crate::handler::full(Bytes::copy_from_slice(body)));
    let mut status = None;
    let (mut content_type, mut location) = (false, false);
    for line in head.lines() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            bail!("the header line `{line}` has no `:`");
        };
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("status") {
            let code = value.split_whitespace().next().unwrap_or("");
            let code = code
                .parse::<u16>()
                .ok()
                .and_then(|c| StatusCode::from_u16(c).ok())
                .with_context(|| format!("`Status: {value}` is not an HTTP status"))?;
            status = Some(code);
            continue;
        }
        content_type |= name.eq_ignore_ascii_case("content-type");
        location |= name.eq_ignore_ascii_case("location");
        let header = HeaderName::from_bytes(name.as_bytes())
            .with_context(|| format!("`{name}` is not a header name"))?;
        let value = HeaderValue::from_str(value)
            .with_context(|| format!("the value of `{name}` is not a header value"))?;
        response.headers_mut().append(header, value);
    }
    if !content_type && !location {
        bail!("neither `Content-Type` nor `Location` was given");
    }
    *response.status_mut() = match status {
        Some(status) => status,
        None if location && !content_type => StatusCode::FOUND,
        None => StatusCode::OK,
    };
    Ok(response)
}

/// `output` split at its first blank line (`\n\n` or `\r\n\r\n`), the
/// blank line in neither part.
fn split_head(output: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut line_start = 0;
    for (i, &byte) in output.iter().enumerate() {
        if byte != b'\n' {
            continue;
        }
        let line = &output[line_start..i];
        if line.is_empty() || line == b"\r" {
            return Some((&output[..line_start], &output[i + 1..]));
        }
        line_start = i + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(uri: &str, headers: &[(&str, &str)]) -> http::request::Parts {
        let mut builder = Request::builder().method("POST").uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap().into_parts().0
    }

    fn var<'a>(request: &'a WagiRequest, name: &str) -> Option<&'a str> {
        request
            .env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn the_request_becomes_cgi_variables_and_arguments() {
        let parts = parts(
            "/wagi/a%20b?x=1&y=2",
            &[
                ("host", "example.com:8080"),
                ("content-type", "text/plain"),
                ("x-custom", "yes"),
                ("authorization", "secret"),
                (
                    "spin-full-url",
                    "http://example.com:8080/wagi/a%20b?x=1&y=2",
                ),
                ("spin-path-info", "/a%20b"),
                ("spin-component-route", "/wagi"),
                ("spin-client-addr", "10.1.2.3:5555"),
                ("spin-path-match-id", "7"),
            ],
        );
        let request = cgi_request(
            &parts,
            Bytes::from_static(b"hello"),
            "${SCRIPT_NAME} ${ARGS}",
        );
        assert_eq!(request.args, ["/wagi/a%20b", "x=1", "y=2"]);
        assert_eq!(&request.stdin[..], b"hello");
        for (name, value) in [
            ("CONTENT_LENGTH", "5"),
            ("CONTENT_TYPE", "text/plain"),
            ("GATEWAY_INTERFACE", "CGI/1.1"),
            ("QUERY_STRING", "x=1&y=2"),
            ("REMOTE_ADDR", "10.1.2.3"),
            ("REQUEST_METHOD", "POST"),
            ("SCRIPT_NAME", "/wagi"),
            ("PATH_INFO", "/a b"),
            ("X_RAW_PATH_INFO", "/a%20b"),
            ("SERVER_NAME", "example.com"),
            ("SERVER_PORT", "8080"),
            ("SERVER_PROTOCOL", "HTTP/1.1"),
            ("HTTP_X_CUSTOM", "yes"),
            ("X_FULL_URL", "http://example.com:8080/wagi/a%20b?x=1&y=2"),
            ("X_CLIENT_ADDR", "10.1.2.3:5555"),
            ("X_PATH_MATCH_ID", "7"),
        ] {
            assert_eq!(var(&request, name), Some(value), "{name}");
        }
        assert_eq!(var(&request, "HTTP_AUTHORIZATION"), None);
        assert_eq!(var(&request, "HTTP_SPIN_FULL_URL"), None);
    }

    #[test]
    fn a_host_without_a_port_is_on_port_80() {
        let parts = parts("/", &[("host", "[::1]")]);
        let request = cgi_request(&parts, Bytes::new(), "${SCRIPT_NAME}");
        assert_eq!(var(&request, "SERVER_NAME"), Some("[::1]"));
        assert_eq!(var(&request, "SERVER_PORT"), Some("80"));
        let parts = parts_with_host("[::1]:3000");
        let request = cgi_request(&parts, Bytes::new(), "${SCRIPT_NAME}");
        assert_eq!(var(&request, "SERVER_NAME"), Some("[::1]"));
        assert_eq!(var(&request, "SERVER_PORT"), Some("3000"));
    }

    fn parts_with_host(host: &str) -> http::request::Parts {
        parts("/", &[("host", host)])
    }

    async fn body(response: Response<HyperOutgoingBody>) -> Bytes {
        response.into_body().collect().await.unwrap().to_bytes()
    }

    #[tokio::test]
    async fn a_cgi_response_gives_its_status_headers_and_body() {
        let response = cgi_response(
            b"Content-Type: text/plain\r\nStatus: 404 Not Found\r\nX-One: 1\r\n\r\nno such thing\n",
        )
        .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()["content-type"], "text/plain");
        assert_eq!(response.headers()["x-one"], "1");
        assert_eq!(body(response).await, "no such thing\n");

        let response = cgi_response(b"content-type: text/html\n\n").unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(body(response).await, "");

        let response = cgi_response(b"Location: /elsewhere\n\n").unwrap();
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(response.headers()["location"], "/elsewhere");
    }

    #[test]
    fn a_broken_cgi_response_is_refused_saying_why() {
        for (output, why) in [
            (&b"hello world"[..], "no blank line"),
            (b"X-One: 1\n\nbody", "neither `Content-Type` nor `Location`"),
            (b"Content-Type text/plain\n\n", "has no `:`"),
            (
                b"Content-Type: text/plain\nStatus: many\n\n",
                "is not an HTTP status",
            ),
        ] {
            let err = cgi_response(output).unwrap_err();
            assert!(format!("{err:#}").contains(why), "{err:#}");
        }
    }
}
