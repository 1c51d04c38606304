//! Builds a `spin_routes::Router` from arbitrary route strings and routes
//! arbitrary paths through it.
//!
//! Invariants:
//! - no panic, building, routing or computing the `spin-*` headers;
//! - an exact route (no parameter, wildcard or query) matches its own path:
//!   routing the route text picks a route with the same segments.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use spin_routes::{Router, spin_headers};

#[derive(Debug, Arbitrary)]
struct Input {
    routes: Vec<String>,
    paths: Vec<String>,
}

/// Routes whose own text is a request path that must reach them. `//`
/// is left out: empty route segments collapse (`/a//b` is `/a/b`) while
/// a request path's do not, as in Spin.
fn is_exact(route: &str) -> bool {
    !route.contains([':', '*', '?'])
        && !route.contains("//")
        && !route.split('/').any(|segment| segment == "...")
}

/// The route's non-empty segments: routes that differ only in empty
/// segments (`/`, `` and `///`; `/a/` and `/a`) have the same pattern, so
/// either may win (in manifest order).
fn segments(route: &str) -> Vec<&str> {
    route.split('/').filter(|s| !s.is_empty()).collect()
}

fuzz_target!(|input: Input| {
    let Ok((router, _duplicates)) = Router::build(
        input
            .routes
            .iter()
            .enumerate()
            .map(|(i, route)| (route.clone(), i)),
    ) else {
        return;
    };
    let addr = "127.0.0.1:3000".parse().unwrap();
    for path in &input.paths {
        if let Some(m) = router.route(path) {
            let _ = spin_headers(&m, "/", path, addr);
        }
    }
    for route in input.routes.iter().filter(|r| is_exact(r)) {
        let path = if route.starts_with('/') {
            route.clone()
        } else {
            format!("/{route}")
        };
        let Some(m) = router.route(&path) else {
            panic!("the exact route {route:?} does not match its own path {path:?}");
        };
        assert_eq!(
            segments(m.matched_route()),
            segments(route),
            "the exact route {route:?} lost its own path to {:?}",
            m.raw_route()
        );
    }
    for entry in router.entries() {
        let _ = (entry.to_string(), entry.path());
    }
});
