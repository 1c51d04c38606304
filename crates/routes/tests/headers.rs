//! Every `spin-*` header value, checked against what Spin sends.

use std::net::SocketAddr;

use spin_routes::{RouteMatch, Router, join_base, spin_headers};

const CLIENT: &str = "127.0.0.1:8777";

/// Routes `path` as the manifest loader would present `route`: as written for
/// Spin 2+ manifests (base `/`), joined with the base for a Spin 1 `base`.
fn headers_for(route: &str, path: &str, base: &str) -> Vec<(String, String)> {
    let route = match base {
        "/" | "" => route.to_owned(),
        _ => join_base(base, route),
    };
    let (router, _) = Router::build([(route.clone(), ())]).unwrap();
    let m = router
        .route(path)
        .unwrap_or_else(|| panic!("{route} should match {path}"));
    let full_url = format!("https://fermyon.dev{path}?key1=value1&key2=value2");
    spin_headers(&m, base, &full_url, CLIENT.parse::<SocketAddr>().unwrap())
}

fn get<'h>(headers: &'h [(String, String)], name: &str) -> &'h str {
    let found: Vec<&str> = headers
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(found.len(), 1, "{name} in {headers:?}");
    found[0]
}

#[test]
fn spin_header_values() {
    // (route, path, base, path-info, matched-route, raw-component-route, component-route)
    let cases = [
        // Spin's own trigger-http tests.
        (
            "/foo/...", "/foo/bar", "/", "/bar", "/foo/...", "/foo/...", "/foo",
        ),
        (
            "/foo/:userid/...",
            "/foo/42/bar",
            "/",
            "/bar",
            "/foo/:userid/...",
            "/foo/:userid/...",
            "/foo/:userid",
        ),
        // Exact routes have no path info.
        ("/foo", "/foo", "/", "", "/foo", "/foo", "/foo"),
        ("/foo", "/foo/", "/", "", "/foo", "/foo", "/foo"),
        ("/foo/", "/foo", "/", "", "/foo", "/foo/", "/foo/"),
        ("/", "/", "/", "", "", "/", "/"),
        // The catch-all.
        ("/...", "/", "/", "/", "/...", "/...", ""),
        ("/...", "/a/b/", "/", "/a/b/", "/...", "/...", ""),
        // `/*` is a wildcard but only `/...` is trimmed from component-route.
        ("/x/*", "/x/y", "/", "/y", "/x/*", "/x/*", "/x/*"),
        // A Spin 1 base shows in matched-route only.
        (
            "/hello/...",
            "/api/hello/x",
            "/api",
            "/x",
            "/api/hello/...",
            "/hello/...",
            "/hello",
        ),
        ("/", "/api", "/api", "", "/api", "/", "/"),
        ("/...", "/api/z", "/api/", "/z", "/api/...", "/...", ""),
    ];
    for (route, path, base, path_info, matched, raw, component) in cases {
        let h = headers_for(route, path, base);
        let what = format!("route {route}, path {path}, base {base}");
        assert_eq!(get(&h, "spin-path-info"), path_info, "{what}");
        assert_eq!(
            get(&h, "spin-full-url"),
            format!("https://fermyon.dev{path}?key1=value1&key2=value2"),
            "{what}"
        );
        assert_eq!(get(&h, "spin-matched-route"), matched, "{what}");
        assert_eq!(get(&h, "spin-base-path"), base, "{what}");
        assert_eq!(get(&h, "spin-raw-component-route"), raw, "{what}");
        assert_eq!(get(&h, "spin-component-route"), component, "{what}");
        assert_eq!(get(&h, "spin-client-addr"), CLIENT, "{what}");
    }
}

#[test]
fn headers_come_in_spin_order() {
    let h = headers_for("/base/:path_segment/:path_end/...", "/base/a/b/c", "/");
    let names: Vec<&str> = h.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "spin-path-info",
            "spin-full-url",
            "spin-matched-route",
            "spin-base-path",
            "spin-raw-component-route",
            "spin-component-route",
            "spin-client-addr",
            "spin-path-match-path-segment",
            "spin-path-match-path-end",
        ]
    );
    assert_eq!(get(&h, "spin-path-match-path-segment"), "a");
    assert_eq!(get(&h, "spin-path-match-path-end"), "b");
    assert_eq!(get(&h, "spin-path-info"), "/c");
}

#[test]
fn param_headers() {
    let h = headers_for("/users/:userId/posts/:post", "/users/Ann%20B/posts/7", "/");
    assert_eq!(get(&h, "spin-path-match-userid"), "Ann%20B");
    assert_eq!(get(&h, "spin-path-match-post"), "7");
    // A repeated name yields one header holding the last capture.
    let h = headers_for("/:a/:a", "/x/y", "/");
    assert_eq!(get(&h, "spin-path-match-a"), "y");
}

#[test]
fn empty_base_reports_root() {
    let h = headers_for("/foo", "/foo", "");
    assert_eq!(get(&h, "spin-base-path"), "/");
}

#[test]
fn ipv6_client_addr() {
    let (router, _) = Router::build([("/".to_string(), ())]).unwrap();
    let m = router.route("/").unwrap();
    let h = spin_headers(&m, "/", "http://localhost/", "[::1]:5000".parse().unwrap());
    assert_eq!(get(&h, "spin-client-addr"), "[::1]:5000");
}

#[test]
fn synthetic_match_for_service_chaining() {
    let target = "callee";
    let m = RouteMatch::synthetic(&target, "/api/items");
    assert_eq!(*m.target, "callee");
    let h = spin_headers(
        &m,
        "/",
        "http://callee.spin.internal/api/items",
        CLIENT.parse().unwrap(),
    );
    assert_eq!(get(&h, "spin-path-info"), "/api/items");
    assert_eq!(get(&h, "spin-matched-route"), "/...");
    assert_eq!(get(&h, "spin-raw-component-route"), "/...");
    assert_eq!(get(&h, "spin-component-route"), "");
    assert!(m.params().is_empty());
}
