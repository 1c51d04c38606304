//! Requests to a Wagi module (`executor = { type = "wagi" }`): the CGI
//! side. The request becomes the module's arguments, environment (the CGI
//! variables of RFC 3875, each request header as `HTTP_<NAME>`, and Spin's
//! `spin-*` headers as `X_*`, as Spin sets them) and stdin; what it writes
//! to stdout becomes the response. Running the module is
//! `spin_runtime::wagi`'s.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use spin_runtime::app::{LoadedApp, LoadedComponent};
use spin_runtime::memory_budget::NoMemoryForInstance;
use spin_runtime::wagi::{WagiBounds, WagiPre, WagiRequest};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::handler::GuestBody;

/// The CGI version Spin's Wagi reports.
const GATEWAY_INTERFACE: &str = "CGI/1.1";
/// The server software Spin's Wagi reports.
const SERVER_SOFTWARE: &str = "WAGI/1";

/// The `spin-*` headers the router set on a request to a Wagi module (a
/// request extension): they become `PATH_INFO` and `X_*`, while a client's
/// own `spin-*` headers stay `HTTP_SPIN_*`, as in Spin.
#[derive(Debug, Clone, Default)]
pub(crate) struct RoutedVars(pub(crate) Vec<(String, String)>);

/// How long a request to a Wagi module may take, and what it may hold.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WagiLimits {
    /// The request's time, from now: reading its body, then running.
    pub(crate) timeout: Duration,
    /// Until when a new instance may wait for memory.
    pub(crate) queue_deadline: Option<Instant>,
    /// The most the module may write to stdout.
    pub(crate) max_output: usize,
}

/// Runs `component`'s Wagi module for `req` (routed: with its
/// [`RoutedVars`]), within `limits`.
pub(crate) async fn handle<B: GuestBody>(
    app: &LoadedApp,
    component: &Arc<LoadedComponent>,
    pre: &WagiPre,
    req: Request<B>,
    limits: WagiLimits,
    capture: Option<Arc<std::sync::OnceLock<spin_runtime::logs::CaptureSince>>>,
) -> Result<Response<HyperOutgoingBody>> {
    let id = &component.config.id;
    let timeout = limits.timeout;
    let deadline = Instant::now()
        .checked_add(timeout)
        .unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400 * 365));
    let broken = req
        .extensions()
        .get::<Arc<crate::request_body::BodyBroken>>()
        .cloned();
    let routed = req
        .extensions()
        .get::<RoutedVars>()
        .cloned()
        .unwrap_or_default();
    let (parts, body) = req.into_parts();
    let body = match crate::request_body::read_whole(body, broken, deadline, timeout).await {
        Ok(Ok(body)) => body,
        Ok(Err(answer)) => return Ok(answer),
        Err(e) => {
            bail!("reading the request's body for the Wagi module of component `{id}`: {e:?}")
        }
    };
    let mut request = cgi_request(&parts, &routed.0, body, &pre.argv);
    request.stderr_since = capture;
    let bounds = WagiBounds {
        deadline,
        timeout,
        memory_deadline: limits.queue_deadline,
        max_output: limits.max_output,
    };
    let stdout = match pre
        .run(&app.engine, &component.config, request, bounds)
        .await
    {
        Ok(stdout) => stdout,
        // Answered 503 by the caller, as for any component.
        Err(e) if e.is::<NoMemoryForInstance>() => return Err(e),
        Err(e) => return Err(e.context(format!("running the Wagi module of component `{id}`"))),
    };
    // A request's failure is logged as one message: the hint in it.
    let (response, skipped) = cgi_response(stdout).map_err(|e| {
        anyhow::anyhow!(
            "the Wagi module of component `{id}` wrote no valid CGI response: {e:#}\n\nhint: a Wagi module writes headers (`Content-Type: …`, `Location: …` or `Status: 404 Not Found`), a blank line, then the body, to stdout"
        )
    })?;
    if !skipped.is_empty() {
        tracing::warn!(
            "component `{id}`: the Wagi response's header lines {} were left out (not headers, or headers the server sets itself)",
            skipped.join(", ")
        );
    }
    Ok(response)
}

/// The arguments, environment and stdin a Wagi module gets for a request
/// (`parts`, with `routed`: the `spin-*` headers the router set) with
/// `body`; `argv` is the trigger's template (`${SCRIPT_NAME}`: the path,
/// `${ARGS}`: the query's `&`-separated parts; split at spaces, as Spin
/// does, an empty query leaving an empty argument).
pub(crate) fn cgi_request(
    parts: &http::request::Parts,
    routed: &[(String, String)],
    body: Bytes,
    argv: &str,
) -> WagiRequest {
    let routed_var = |name: &str| {
        routed
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    };
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
        .map(str::to_owned)
        .collect();

    let default_port = if routed_var("spin-full-url").starts_with("https:") {
        "443"
    } else {
        "80"
    };
    let (server_name, server_port) = split_host(&header("host"), default_port);
    let client_ip = routed_var("spin-client-addr")
        .parse::<std::net::SocketAddr>()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let path_info = routed_var("spin-path-info").to_owned();
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
        ("SCRIPT_NAME", routed_var("spin-component-route").to_owned()),
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
    // The router's own, as Spin names them for Wagi: `spin-path-info` is
    // `PATH_INFO` (as sent, not decoded), `spin-full-url` `X_FULL_URL`.
    for (name, value) in routed {
        let variable = match name.as_str() {
            "spin-path-info" => "PATH_INFO".to_owned(),
            name => format!("X_{}", cgi_name(name.strip_prefix("spin-").unwrap_or(name))),
        };
        env.push((variable, value.clone()));
    }
    // The client's headers, a repeated one's values joined with `, ` (RFC
    // 3875 4.1.18); credentials and hop-by-hop headers are not passed, nor
    // names with `_`, which would pass for another header's variable
    // (`X_Forwarded_For` for a proxy's `X-Forwarded-For`), as Apache and
    // nginx leave them out.
    let mut seen: Vec<&str> = Vec::new();
    for name in parts.headers.keys() {
        let name = name.as_str();
        if name == "authorization"
            || name == "connection"
            || name.contains('_')
            || routed.iter().any(|(n, _)| n == name)
            || seen.contains(&name)
        {
            continue;
        }
        seen.push(name);
        let values: Vec<&str> = parts
            .headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if !values.is_empty() {
            env.push((format!("HTTP_{}", cgi_name(name)), values.join(", ")));
        }
    }
    WagiRequest {
        args,
        env,
        stdin: body,
        stderr_since: None,
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
/// status; `Location` alone means a redirect (302); one of `Content-Type`,
/// `Location` and `Status` is required (as in Spin). Also returns the
/// header lines left out: not `name: value`, not a valid header, or one
/// the server sets itself (`content-length`, `connection`…).
pub(crate) fn cgi_response(stdout: Bytes) -> Result<(Response<HyperOutgoingBody>, Vec<String>)> {
    let (head_end, body_start) = split_head(&stdout)
        .context("no blank line ends the headers (the output is a head without a body)")?;
    let head = std::str::from_utf8(&stdout[..head_end]).context("the headers are not UTF-8")?;
    let mut response = Response::new(crate::handler::full(stdout.slice(body_start..)));
    let mut status = None;
    let (mut content_type, mut location) = (false, false);
    let mut skipped = Vec::new();
    for line in head.lines() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            skipped.push(format!("`{line}`"));
            continue;
        };
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("status") {
            let code = value.split_whitespace().next().unwrap_or("");
            let code = code
                .parse::<u16>()
                .ok()
                // A 1xx status is not a final response.
                .filter(|c| (200..=599).contains(c))
                .and_then(|c| StatusCode::from_u16(c).ok())
                .with_context(|| format!("`Status: {value}` is not an HTTP status"))?;
            status = Some(code);
            continue;
        }
        let (Ok(header), Ok(header_value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) else {
            skipped.push(format!("`{line}`"));
            continue;
        };
        if crate::server_headers::is_server_header(&header) {
            skipped.push(format!("`{line}`"));
            continue;
        }
        content_type |= header == http::header::CONTENT_TYPE;
        location |= header == http::header::LOCATION;
        response.headers_mut().append(header, header_value);
    }
    if !content_type && !location && status.is_none() {
        bail!("none of `Content-Type`, `Location` and `Status` was given");
    }
    *response.status_mut() = match status {
        Some(status) => status,
        None if location && !content_type => StatusCode::FOUND,
        None => StatusCode::OK,
    };
    Ok((response, skipped))
}

/// Where the head of `output` ends and its body starts: at its first blank
/// line (`\n\n` or `\r\n\r\n`), which is in neither.
fn split_head(output: &[u8]) -> Option<(usize, usize)> {
    let mut line_start = 0;
    for (i, &byte) in output.iter().enumerate() {
        if byte != b'\n' {
            continue;
        }
        let line = &output[line_start..i];
        if line.is_empty() || line == b"\r" {
            return Some((line_start, i + 1));
        }
        line_start = i + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt as _;

    fn parts(uri: &str, headers: &[(&str, &str)]) -> http::request::Parts {
        let mut builder = Request::builder().method("POST").uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap().into_parts().0
    }

    fn routed(vars: &[(&str, &str)]) -> Vec<(String, String)> {
        vars.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    fn var<'a>(request: &'a WagiRequest, name: &str) -> Option<&'a str> {
        let mut found = request.env.iter().filter(|(k, _)| k == name);
        let first = found.next().map(|(_, v)| v.as_str());
        assert!(found.next().is_none(), "{name} twice");
        first
    }

    #[test]
    fn the_request_becomes_cgi_variables_and_arguments() {
        let url = "http://example.com:8080/wagi/a%20b?x=1&y=2";
        let routed = routed(&[
            ("spin-path-info", "/a%20b"),
            ("spin-full-url", url),
            ("spin-matched-route", "/wagi/..."),
            ("spin-component-route", "/wagi"),
            ("spin-client-addr", "10.1.2.3:5555"),
        ]);
        let mut headers: Vec<(&str, &str)> = routed
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        headers.extend([
            ("host", "example.com:8080"),
            ("content-type", "text/plain"),
            ("x-custom", "yes"),
            ("x-many", "1"),
            ("x-many", "2"),
            ("authorization", "secret"),
            // A client's own `spin-*` header is not the router's.
            ("spin-path-match-user", "root"),
            // Nor is an underscore a dash.
            ("x_custom", "forged"),
        ]);
        let parts = parts("/wagi/a%20b?x=1&y=2", &headers);
        let request = cgi_request(
            &parts,
            &routed,
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
            ("PATH_INFO", "/a%20b"),
            ("PATH_TRANSLATED", "/a b"),
            ("X_RAW_PATH_INFO", "/a%20b"),
            ("SERVER_NAME", "example.com"),
            ("SERVER_PORT", "8080"),
            ("SERVER_PROTOCOL", "HTTP/1.1"),
            ("HTTP_X_CUSTOM", "yes"),
            ("HTTP_X_MANY", "1, 2"),
            ("HTTP_SPIN_PATH_MATCH_USER", "root"),
            ("X_FULL_URL", url),
            ("X_MATCHED_ROUTE", "/wagi/..."),
            ("X_CLIENT_ADDR", "10.1.2.3:5555"),
        ] {
            assert_eq!(var(&request, name), Some(value), "{name}");
        }
        for absent in [
            "HTTP_AUTHORIZATION",
            "HTTP_SPIN_FULL_URL",
            "X_PATH_MATCH_USER",
            "X_PATH_INFO",
        ] {
            assert_eq!(var(&request, absent), None, "{absent}");
        }
    }

    #[test]
    fn an_empty_query_leaves_an_empty_argument_as_in_spin() {
        let request = cgi_request(
            &parts("/x", &[]),
            &[],
            Bytes::new(),
            "${SCRIPT_NAME} ${ARGS}",
        );
        assert_eq!(request.args, ["/x", ""]);
    }

    #[test]
    fn a_host_without_a_port_is_on_its_scheme_s_port() {
        for (host, url, name, port) in [
            ("[::1]", "http://[::1]/", "[::1]", "80"),
            ("[::1]:3000", "http://[::1]:3000/", "[::1]", "3000"),
            ("example.com", "https://example.com/", "example.com", "443"),
        ] {
            let routed = routed(&[("spin-full-url", url)]);
            let request = cgi_request(
                &parts("/", &[("host", host)]),
                &routed,
                Bytes::new(),
                "${SCRIPT_NAME}",
            );
            assert_eq!(var(&request, "SERVER_NAME"), Some(name), "{host}");
            assert_eq!(var(&request, "SERVER_PORT"), Some(port), "{host}");
        }
    }

    async fn body(response: Response<HyperOutgoingBody>) -> Bytes {
        response.into_body().collect().await.unwrap().to_bytes()
    }

    fn respond(output: &'static [u8]) -> (Response<HyperOutgoingBody>, Vec<String>) {
        cgi_response(Bytes::from_static(output)).unwrap()
    }

    #[tokio::test]
    async fn a_cgi_response_gives_its_status_headers_and_body() {
        let (response, skipped) = respond(
            b"Content-Type: text/plain\r\nStatus: 404 Not Found\r\nX-One: 1\r\n\r\nno such thing\n",
        );
        assert!(skipped.is_empty());
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()["content-type"], "text/plain");
        assert_eq!(response.headers()["x-one"], "1");
        assert_eq!(body(response).await, "no such thing\n");

        let (response, _) = respond(b"content-type: text/html\n\n");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(body(response).await, "");

        let (response, _) = respond(b"Location: /elsewhere\n\n");
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(response.headers()["location"], "/elsewhere");

        let (response, _) = respond(b"Status: 204\n\n");
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }

    #[tokio::test]
    async fn framing_and_broken_header_lines_are_left_out() {
        let (response, skipped) = respond(
            b"Content-Type: text/plain\nContent-Length: 0\nTransfer-Encoding: chunked\nConnection: close\nnot a header\nBad Name: x\n\nHTTP/1.1 200 OK\r\n\r\nsmuggled",
        );
        assert_eq!(response.status(), StatusCode::OK);
        for framing in ["content-length", "transfer-encoding", "connection"] {
            assert!(!response.headers().contains_key(framing), "{framing}");
        }
        assert_eq!(skipped.len(), 5, "{skipped:?}");
        assert_eq!(body(response).await, "HTTP/1.1 200 OK\r\n\r\nsmuggled");
    }

    #[test]
    fn a_broken_cgi_response_is_refused_saying_why() {
        for (output, why) in [
            (&b"hello world"[..], "no blank line"),
            (
                b"X-One: 1\n\nbody",
                "none of `Content-Type`, `Location` and `Status`",
            ),
            (
                b"Content-Type: text/plain\nStatus: many\n\n",
                "is not an HTTP status",
            ),
            (
                b"Content-Type: text/plain\nStatus: 101 Switching Protocols\n\n",
                "is not an HTTP status",
            ),
        ] {
            let err = cgi_response(Bytes::from_static(output)).unwrap_err();
            assert!(format!("{err:#}").contains(why), "{err:#}");
        }
    }
}
