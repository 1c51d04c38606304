//! The result of routing one request path.

use crate::pattern::Captures;

/// A route that matched a request path, with everything the Spin request
/// headers are computed from.
#[derive(Debug, Clone)]
pub struct RouteMatch<'a, T> {
    /// The handler the route maps to.
    pub target: &'a T,
    matched_route: &'a str,
    raw_route: &'a str,
    params: Vec<(String, String)>,
    path_info: String,
}

impl<'a, T> RouteMatch<'a, T> {
    pub(crate) fn new(
        target: &'a T,
        matched_route: &'a str,
        raw_route: &'a str,
        captures: Captures<'_, '_>,
        path: &str,
    ) -> Self {
        Self {
            target,
            matched_route,
            raw_route,
            params: captures
                .params
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
            path_info: captures
                .wildcard
                .map(|rest| path_info(rest, path))
                .unwrap_or_default(),
        }
    }

    /// A match as if `path` had been routed to a `/...` route. Service
    /// chaining (`http://<component>.spin.internal/...`) addresses a
    /// component directly, and Spin gives the callee exactly these headers.
    pub fn synthetic(target: &'a T, path: &str) -> Self {
        Self {
            target,
            matched_route: "/...",
            raw_route: "/...",
            params: Vec::new(),
            path_info: path.to_owned(),
        }
    }

    /// The route that matched, normalized as Spin reports it in
    /// `spin-matched-route`: with a leading slash and without a trailing one,
    /// so the root route `/` is the empty string.
    pub fn matched_route(&self) -> &str {
        self.matched_route
    }

    /// The route exactly as the manifest gave it to [`crate::Router::build`].
    pub fn raw_route(&self) -> &str {
        self.raw_route
    }

    /// The part of the path matched by a trailing wildcard, with its leading
    /// slash and any trailing slash of the request (`/foo/...` gives `` for
    /// `/foo`, `/` for `/foo/`, `/a/b/` for `/foo/a/b/`); empty for routes
    /// without a wildcard.
    pub fn path_info(&self) -> &str {
        &self.path_info
    }

    /// The value captured by `:name`, still percent-encoded as in the request.
    /// When a route repeats a name, the last capture wins, as in Spin.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// All `:name` captures in route order.
    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }
}

/// Spin has always reported the trailing slash of a wildcard match, which the
/// matcher itself ignores; put it back.
fn path_info(wildcard: &str, path: &str) -> String {
    match (wildcard.is_empty(), path.ends_with('/')) {
        (true, false) => String::new(),
        (true, true) => "/".to_owned(),
        (false, false) => format!("/{wildcard}"),
        (false, true) => format!("/{wildcard}/"),
    }
}
