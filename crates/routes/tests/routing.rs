//! Table tests of route matching through the public API.

use spin_routes::{Duplicate, RouteErrorKind, Router};

fn router(routes: &[&str]) -> Router<String> {
    let (router, duplicates) =
        Router::build(routes.iter().map(|r| (r.to_string(), r.to_string()))).unwrap();
    assert!(duplicates.is_empty(), "{duplicates:?}");
    router
}

/// The route (used as its own target) that handles `path`.
fn winner(router: &Router<String>, path: &str) -> Option<String> {
    router.route(path).map(|m| m.target.clone())
}

#[test]
fn exact_and_wildcard_matching() {
    let r = router(&["/", "/foo", "/foo/bar", "/static/...", "/x/*"]);
    for (path, expected) in [
        ("/", Some("/")),
        ("", Some("/")),
        ("//", Some("/")),
        ("/foo", Some("/foo")),
        ("/foo/", Some("/foo")),
        ("//foo", Some("/foo")),
        ("/foo/bar", Some("/foo/bar")),
        ("/foo/bar/", Some("/foo/bar")),
        ("/foo/baz", None),
        ("/foobar", None),
        ("/fo", None),
        ("/FOO", None),
        ("/static", Some("/static/...")),
        ("/static/", Some("/static/...")),
        ("/static/a/b/c", Some("/static/...")),
        ("/staticx", None),
        ("/x", Some("/x/*")),
        ("/x/y/z", Some("/x/*")),
        ("/foo?x=1", Some("/foo")),
        ("/foo//bar", None),
    ] {
        assert_eq!(winner(&r, path).as_deref(), expected, "path {path:?}");
    }
}

#[test]
fn precedence() {
    // (routes in manifest order, path, expected winner)
    let cases: &[(&[&str], &str, Option<&str>)] = &[
        // Exact beats wildcard, regardless of order.
        (&["/...", "/one"], "/one", Some("/one")),
        (&["/one", "/..."], "/one", Some("/one")),
        (&["/one/...", "/one"], "/one", Some("/one")),
        (&["/one/...", "/one"], "/one/two", Some("/one/...")),
        // The longest wildcard prefix wins, regardless of order.
        (
            &["/one/...", "/one/two/...", "/one/two/three/..."],
            "/one/two/three/four",
            Some("/one/two/three/..."),
        ),
        (
            &["/one/two/three/...", "/one/two/...", "/one/..."],
            "/one/two/three/four",
            Some("/one/two/three/..."),
        ),
        (
            &["/one/two/...", "/one/..."],
            "/one/two",
            Some("/one/two/..."),
        ),
        (&["/one/two/...", "/one/..."], "/one/twox", Some("/one/...")),
        (&["/...", "/one/..."], "/other", Some("/...")),
        // Literal beats parameter beats wildcard, segment by segment.
        (&["/users/:id", "/users/me"], "/users/me", Some("/users/me")),
        (
            &["/users/:id", "/users/me"],
            "/users/42",
            Some("/users/:id"),
        ),
        (
            &["/users/...", "/users/:id"],
            "/users/42",
            Some("/users/:id"),
        ),
        (&["/users/...", "/users/:id"], "/users", Some("/users/...")),
        (
            &["/users/...", "/users/:id"],
            "/users/42/x",
            Some("/users/..."),
        ),
        (&["/:a/b", "/a/:b"], "/a/b", Some("/a/:b")),
        (&["/:x", "/..."], "/", Some("/...")),
        (&["/:x", "/..."], "/anything", Some("/:x")),
        // Comparison is left to right, so a literal second segment outranks a
        // parameter there even when the other route is exact.
        (&["/a/:x", "/a/b/..."], "/a/b", Some("/a/b/...")),
        (&["/a/:x/c", "/a/b/..."], "/a/b/c", Some("/a/b/...")),
        (&["/a/:x/c", "/a/b/..."], "/a/z/c", Some("/a/:x/c")),
        // Equally specific routes keep manifest order.
        (&["/:a", "/:b"], "/x", Some("/:a")),
        (&["/:b", "/:a"], "/x", Some("/:b")),
        (&["/foo", "/foo/"], "/foo", Some("/foo")),
        (&["/foo/", "/foo"], "/foo", Some("/foo/")),
        (&["/foo/...", "/foo/*"], "/foo/a", Some("/foo/...")),
        // A leading dot is literal text, whatever the manifest order (Spin's
        // routefinder gets this wrong depending on order).
        (
            &["/...", "/.well-known/acme/..."],
            "/.well-known/acme/x",
            Some("/.well-known/acme/..."),
        ),
        (
            &["/.well-known/acme/...", "/..."],
            "/.well-known/acme/x",
            Some("/.well-known/acme/..."),
        ),
        (&["/:x", "/.env"], "/.env", Some("/.env")),
        // A dotted parameter route beats a plain parameter, and loses to a
        // literal, whatever the manifest order.
        (&["/:x", "/:n.:e"], "/a.b", Some("/:n.:e")),
        (&["/:n.:e", "/:x"], "/a.b", Some("/:n.:e")),
        (&["/:n.:e", "/:x"], "/ab", Some("/:x")),
        (&["/", "/:n.:e", "/a.b"], "/a.b", Some("/a.b")),
        (&["/v.:n", "/:n.:e"], "/v.2", Some("/v.:n")),
        // No route, no match.
        (&["/a", "/b/..."], "/c", None),
        (&[], "/", None),
    ];
    for (routes, path, expected) in cases {
        assert_eq!(
            winner(&router(routes), path).as_deref(),
            *expected,
            "routes {routes:?}, path {path:?}"
        );
    }
}

/// (route, path, expected `(name, value)` captures)
type ParamCase = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

#[test]
fn params() {
    let cases: &[ParamCase] = &[
        ("/users/:id", "/users/42", &[("id", "42")]),
        ("/users/:id", "/users/42/", &[("id", "42")]),
        ("/users/:id/edit", "/users/7/edit", &[("id", "7")]),
        ("/:a/:b", "/x/y", &[("a", "x"), ("b", "y")]),
        ("/a/:x/...", "/a/1/2/3", &[("x", "1")]),
        (
            "/base/:path_segment/:path_end/...",
            "/base/a/b/c",
            &[("path_segment", "a"), ("path_end", "b")],
        ),
        // Raw path: percent-encoding is kept and `%2F` does not split.
        ("/f/:name", "/f/a%2Fb%20c", &[("name", "a%2Fb%20c")]),
        // A `.` in the route splits a parameter.
        (
            "/files/:name.:ext",
            "/files/report.pdf",
            &[("name", "report"), ("ext", "pdf")],
        ),
        ("/files/:name.json", "/files/data.json", &[("name", "data")]),
        // Without a `.` in the route the parameter takes the dots too.
        (
            "/files/:name",
            "/files/report.pdf",
            &[("name", "report.pdf")],
        ),
        ("/v.:n/x", "/v.2/x", &[("n", "2")]),
    ];
    for (route, path, expected) in cases {
        let r = router(&[route]);
        let m = r
            .route(path)
            .unwrap_or_else(|| panic!("{route} should match {path}"));
        let got: Vec<(&str, &str)> = m
            .params()
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(&got, expected, "route {route}, path {path}");
        for (name, value) in *expected {
            assert_eq!(m.param(name), Some(*value));
        }
        assert_eq!(m.param("missing"), None);
    }
}

#[test]
fn params_must_match_something() {
    for (route, path) in [
        ("/users/:id", "/users"),
        ("/users/:id", "/users/"),
        ("/users/:id", "/users/1/2"),
        ("/users/:id/edit", "/users/1"),
        ("/files/:name.:ext", "/files/noext"),
        ("/files/:name.:ext", "/files/a/b.c"),
    ] {
        assert!(router(&[route]).route(path).is_none(), "{route} vs {path}");
    }
}

#[test]
fn repeated_param_name_keeps_last() {
    let r = router(&["/:a/:a"]);
    let m = r.route("/x/y").unwrap();
    assert_eq!(m.param("a"), Some("y"));
    assert_eq!(m.params().len(), 2);
}

#[test]
fn path_info() {
    for (route, path, expected) in [
        ("/...", "/", "/"),
        ("/...", "", ""),
        ("/...", "/1/2/3", "/1/2/3"),
        ("/...", "/1/2/3/", "/1/2/3/"),
        ("/1/...", "/1/2/3", "/2/3"),
        ("/test/...", "/test", ""),
        ("/test/...", "/test/", "/"),
        ("/test/...", "/test/hello", "/hello"),
        ("/test/...", "/test/hello/", "/hello/"),
        ("/test/...", "/test/hello?q=1", "/hello"),
        ("/test/*", "/test/a/b", "/a/b"),
        ("/foo/:id/...", "/foo/42/bar", "/bar"),
        ("/foo", "/foo", ""),
        ("/foo", "/foo/", ""),
        ("/", "/", ""),
        ("/users/:id", "/users/1", ""),
    ] {
        let r = router(&[route]);
        let m = r.route(path).unwrap();
        assert_eq!(m.path_info(), expected, "route {route}, path {path:?}");
    }
}

#[test]
fn matched_and_raw_route() {
    for (route, path, matched) in [
        ("/", "/", ""),
        ("", "/", ""),
        ("/foo", "/foo", "/foo"),
        ("/foo/", "/foo", "/foo"),
        ("foo", "/foo", "/foo"),
        ("/foo/...", "/foo/x", "/foo/..."),
        ("/...", "/", "/..."),
        ("/foo/*", "/foo/x", "/foo/*"),
    ] {
        let r = router(&[route]);
        let m = r.route(path).unwrap();
        assert_eq!(m.matched_route(), matched, "{route}");
        assert_eq!(m.raw_route(), route, "{route}");
    }
}

#[test]
fn routes_are_listed_most_specific_first() {
    let r = router(&["/...", "/whee/...", "/", "/foo", "/bar", "/:x"]);
    let listed: Vec<&str> = r.routes().map(|(route, _)| route).collect();
    assert_eq!(listed, ["/", "/foo", "/bar", "/whee/...", "/:x", "/..."]);
    for (route, target) in r.routes() {
        assert_eq!(route, target);
    }
}

#[test]
fn entries_display_like_spin() {
    let r = router(&["/", "/foo", "/whee/...", "/x/*", "/..."]);
    let shown: Vec<(String, &str, bool)> = r
        .entries()
        .map(|e| (e.to_string(), e.path(), e.is_wildcard()))
        .collect();
    assert_eq!(
        shown,
        [
            (String::new(), "/", false),
            ("/foo".to_string(), "/foo", false),
            ("/whee (wildcard)".to_string(), "/whee", true),
            ("/x (wildcard)".to_string(), "/x", true),
            (" (wildcard)".to_string(), "/", true),
        ]
    );
    assert_eq!(r.entries().next().unwrap().route(), "/");
}

#[test]
fn duplicates_are_reported_and_last_wins() {
    let routes = [
        ("/", "comp-first /"),
        ("/", "comp-second /"),
        ("/foo", "comp-first /foo"),
        ("/foo", "comp-second /foo"),
        ("/whee/...", "whee"),
        ("/foo", "comp-third /foo"),
    ];
    let (r, duplicates) = Router::build(routes.iter().map(|(r, t)| (r.to_string(), *t))).unwrap();
    assert_eq!(
        duplicates,
        [
            Duplicate {
                route: "/".into(),
                first: 0,
                duplicate: 1
            },
            Duplicate {
                route: "/foo".into(),
                first: 2,
                duplicate: 3
            },
            Duplicate {
                route: "/foo".into(),
                first: 3,
                duplicate: 5
            },
        ]
    );
    assert_eq!(r.routes().count(), 3);
    assert_eq!(*r.route("/").unwrap().target, "comp-second /");
    assert_eq!(*r.route("/foo").unwrap().target, "comp-third /foo");
    // The replacement keeps the first entry's place.
    let listed: Vec<&str> = r.routes().map(|(_, t)| *t).collect();
    assert_eq!(listed, ["comp-second /", "comp-third /foo", "whee"]);
}

#[test]
fn equivalent_but_different_text_is_not_a_duplicate() {
    // Spin keys duplicates on the route text; the earlier route simply wins.
    let (r, duplicates) =
        Router::build([("/foo".to_string(), 1), ("/foo/".to_string(), 2)]).unwrap();
    assert!(duplicates.is_empty());
    assert_eq!(*r.route("/foo").unwrap().target, 1);
}

#[test]
fn malformed_routes_are_errors_with_hints() {
    for (routes, index, kind) in [
        (vec!["/ok", "/a/:"], 1, RouteErrorKind::UnnamedParam),
        (
            vec!["/*rest"],
            0,
            RouteErrorKind::NamedWildcard("*rest".into()),
        ),
        (
            vec!["/a", "/b", "/x/.../y"],
            2,
            RouteErrorKind::WildcardNotLast,
        ),
        (vec!["/x/*/y"], 0, RouteErrorKind::WildcardNotLast),
        (
            vec!["/u/:a b"],
            0,
            RouteErrorKind::InvalidParamName("a b".into()),
        ),
    ] {
        let err = Router::build(routes.iter().map(|r| (r.to_string(), ()))).unwrap_err();
        assert_eq!(err.index, index);
        assert_eq!(err.route, routes[index]);
        assert_eq!(err.kind, kind);
        let message = err.to_string();
        assert!(message.starts_with(&format!("invalid route `{}`: ", routes[index])));
        // The hint is data, printed once by the CLI, not part of the message.
        assert!(!message.contains("hint: "), "{message}");
        let hinted = spin_hint::Hinted::from(&err);
        assert_eq!(hinted.message, message);
        assert_eq!(hinted.hint, err.hint());
        assert!(!hinted.hint.is_empty());
    }
}

#[test]
fn reserved_routes() {
    for (route, reserved) in [
        ("/.well-known/spin/...", true),
        ("/.well-known/spin/fie", true),
        ("/.well-known/spindle/...", false),
        ("/.well-known/spi/...", false),
        ("/.well-known/spin", false),
    ] {
        assert_eq!(
            router(&[route]).contains_reserved_route(),
            reserved,
            "{route}"
        );
    }
    // Dotted literals still match literally.
    assert!(
        router(&["/.well-known/other"])
            .route("/.well-known/other")
            .is_some()
    );
}

#[test]
fn join_base_like_spin() {
    for (base, route, joined) in [
        ("/", "/", ""),
        ("/", "/hello/...", "/hello/..."),
        ("/api", "/hello", "/api/hello"),
        ("/api/", "hello/", "/api/hello"),
        ("/api", "/", "/api"),
        ("/api", "/...", "/api/..."),
    ] {
        assert_eq!(spin_routes::join_base(base, route), joined);
    }
}
