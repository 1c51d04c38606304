//! HTTP routing for the Spin HTTP trigger, and the `spin-*` request headers
//! derived from a match.
//!
//! Routes behave as in Spin 4:
//!
//! - `/foo` matches `/foo` (and `/foo/`: trailing and leading slashes of the
//!   request path are ignored);
//! - `/foo/...` (or `/foo/*`) matches `/foo`, `/foo/` and anything below;
//!   `/...` matches every path;
//! - `:name` matches one non-empty segment anywhere, as in `/users/:id/edit`;
//! - when several routes match, literal text beats a parameter, which beats a
//!   wildcard, comparing the routes from the left; so exact routes beat
//!   wildcards and the longest wildcard prefix wins. Routes of the same shape
//!   keep manifest order.
//!
//! Matching is on the raw (still percent-encoded) path, so `%2F` never splits
//! a segment.
//!
//! ```
//! use spin_routes::Router;
//!
//! let (router, duplicates) = Router::build([
//!     ("/...".to_owned(), "fallback"),
//!     ("/users/:id".to_owned(), "user"),
//! ])
//! .unwrap();
//! assert!(duplicates.is_empty());
//! let m = router.route("/users/42").unwrap();
//! assert_eq!(*m.target, "user");
//! assert_eq!(m.param("id"), Some("42"));
//! assert_eq!(router.route("/about/").unwrap().path_info(), "/about/");
//! ```

#![deny(missing_docs)]

mod headers;
mod pattern;
mod route_match;

use std::collections::HashMap;
use std::fmt;

pub use headers::{param_header_name, spin_headers};
pub use pattern::RouteErrorKind;
pub use route_match::RouteMatch;

use pattern::Pattern;

/// Paths under this prefix are answered by the runtime itself (health and
/// app info), so an application route there is never reached.
pub const WELL_KNOWN_PREFIX: &str = "/.well-known/spin/";

/// A route that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid route `{route}`: {kind}")]
pub struct RouteError {
    /// Position of the route in the input given to [`Router::build`].
    pub index: usize,
    /// The route as given.
    pub route: String,
    /// What is wrong with it.
    pub kind: RouteErrorKind,
}

impl RouteError {
    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        self.kind.hint()
    }
}

/// The message with its hint kept apart, for the CLI to print last.
impl From<&RouteError> for spin_hint::Hinted {
    fn from(error: &RouteError) -> Self {
        spin_hint::Hinted::new(error.to_string(), error.hint())
    }
}

/// Two entries with the same route text. As in Spin, the later entry
/// replaces the earlier one, which is never used, and keeps the earlier one's
/// place in the route order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// The route text shared by both entries.
    pub route: String,
    /// Input index of the earlier entry, which will never be used.
    pub first: usize,
    /// Input index of the later entry, which handles the route.
    pub duplicate: usize,
}

/// Maps request paths to targets (typically component IDs).
#[derive(Debug, Clone)]
pub struct Router<T> {
    /// Most specific first; equally specific entries in manifest order.
    entries: Vec<Entry<T>>,
}

#[derive(Debug, Clone)]
struct Entry<T> {
    /// As given.
    route: String,
    /// Leading slash added, one trailing slash removed; what Spin reports as
    /// `spin-matched-route`.
    normalized: String,
    pattern: Pattern,
    target: T,
}

impl<T> Router<T> {
    /// Builds a router from `(route, target)` pairs in manifest order. Each
    /// route is as the final manifest states it, already prefixed with any
    /// Spin 1 `base` (see [`join_base`]).
    ///
    /// Entries with identical route text are reported as [`Duplicate`]s, and
    /// the last one wins, as in Spin.
    pub fn build(
        routes: impl IntoIterator<Item = (String, T)>,
    ) -> Result<(Router<T>, Vec<Duplicate>), RouteError> {
        let mut entries: Vec<Entry<T>> = Vec::new();
        // Route text -> (position in `entries`, input index of its current target).
        let mut seen: HashMap<String, (usize, usize)> = HashMap::new();
        let mut duplicates = Vec::new();
        for (index, (route, target)) in routes.into_iter().enumerate() {
            if let Some((position, first)) = seen.get_mut(&route) {
                duplicates.push(Duplicate {
                    route: route.clone(),
                    first: *first,
                    duplicate: index,
                });
                *first = index;
                entries[*position].target = target;
                continue;
            }
            let normalized = normalize_route(&route);
            let pattern = Pattern::parse(&normalized).map_err(|kind| RouteError {
                index,
                route: route.clone(),
                kind,
            })?;
            seen.insert(route.clone(), (entries.len(), index));
            entries.push(Entry {
                route,
                normalized,
                pattern,
                target,
            });
        }
        // Stable, so equally specific routes keep manifest order.
        entries.sort_by(|a, b| a.pattern.specificity(&b.pattern));
        Ok((Router { entries }, duplicates))
    }

    /// Finds the route for a request path. Anything from a `?` on is
    /// ignored, so passing a path with its query is harmless.
    pub fn route(&self, path: &str) -> Option<RouteMatch<'_, T>> {
        let path = path.split_once('?').map_or(path, |(p, _)| p);
        // Every route is tried, rather than stopping at the first match in
        // listing order, because Spin's ranking is only well defined between
        // routes that match the same path (see `Pattern::precedence`). On a
        // tie the earlier entry, that is manifest order, wins.
        let (entry, captures) = self
            .entries
            .iter()
            .filter_map(|entry| Some((entry, entry.pattern.matches(path)?)))
            .reduce(|best, candidate| {
                if candidate.0.pattern.precedence(&best.0.pattern).is_lt() {
                    candidate
                } else {
                    best
                }
            })?;
        Some(RouteMatch::new(
            &entry.target,
            &entry.normalized,
            &entry.route,
            captures,
            path,
        ))
    }

    /// Each route as given, with its target, most specific first (the order
    /// Spin lists them at startup); equally specific routes keep manifest
    /// order.
    pub fn routes(&self) -> impl Iterator<Item = (&str, &T)> {
        self.entries.iter().map(|e| (e.route.as_str(), &e.target))
    }

    /// The routes in the order of [`Router::routes`], described for the
    /// startup listing.
    pub fn entries(&self) -> impl Iterator<Item = RouteEntry<'_, T>> {
        self.entries.iter().map(|e| RouteEntry {
            route: &e.route,
            normalized: &e.normalized,
            wildcard: e.pattern.is_wildcard(),
            target: &e.target,
        })
    }

    /// True if a route lies under [`WELL_KNOWN_PREFIX`], where the runtime
    /// answers first; Spin warns about such routes at startup.
    pub fn contains_reserved_route(&self) -> bool {
        self.entries
            .iter()
            .any(|e| e.normalized.starts_with(WELL_KNOWN_PREFIX))
    }
}

/// One route of a [`Router`], for listing. Its `Display` is what Spin prints
/// after the server URL in "Available Routes": the path, plus ` (wildcard)`
/// for trailing wildcards (`/...` shows as ` (wildcard)` after the bare URL).
#[derive(Debug, Clone, Copy)]
pub struct RouteEntry<'a, T> {
    route: &'a str,
    normalized: &'a str,
    wildcard: bool,
    /// The handler the route maps to.
    pub target: &'a T,
}

impl<'a, T> RouteEntry<'a, T> {
    /// The route as given.
    pub fn route(&self) -> &'a str {
        self.route
    }

    /// True for a trailing-wildcard route.
    pub fn is_wildcard(&self) -> bool {
        self.wildcard
    }

    /// The path without its wildcard suffix, `/` for the root (Spin's
    /// `--json` listing field `route`).
    pub fn path(&self) -> &'a str {
        let path = self.listed_path();
        if path.is_empty() { "/" } else { path }
    }

    fn listed_path(&self) -> &'a str {
        if !self.wildcard {
            return self.normalized;
        }
        self.normalized
            .strip_suffix("/...")
            .or_else(|| self.normalized.strip_suffix("/*"))
            .unwrap_or(self.normalized)
    }
}

impl<T> fmt::Display for RouteEntry<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.listed_path())?;
        if self.wildcard {
            f.write_str(" (wildcard)")?;
        }
        Ok(())
    }
}

/// Joins a Spin 1 application `base` and a component route the way Spin
/// does: each loses one trailing slash and the route gains a leading one, so
/// `("/api/", "hello/...")` gives `/api/hello/...` and `("/", "/")` gives ``.
pub fn join_base(base: &str, route: &str) -> String {
    let base = base.strip_suffix('/').unwrap_or(base);
    format!("{base}{}", normalize_route(route))
}

/// Spin's route normalization: ensure a leading slash, drop one trailing
/// slash.
fn normalize_route(route: &str) -> String {
    let route = route.strip_suffix('/').unwrap_or(route);
    if route.is_empty() || route.starts_with('/') {
        route.to_owned()
    } else {
        format!("/{route}")
    }
}
