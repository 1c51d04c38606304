//! The `spin-*` headers Spin adds to every request it routes to a component.

use std::net::SocketAddr;

use crate::RouteMatch;

/// Computes the Spin headers for a routed request, in the order Spin adds
/// them: `spin-path-info`, `spin-full-url`, `spin-matched-route`,
/// `spin-base-path`, `spin-raw-component-route`, `spin-component-route`,
/// `spin-client-addr`, then `spin-path-match-<name>` for each `:name`
/// parameter.
///
/// `base` is the application base path. Spin 4 always reports `/`; a Spin 1
/// manifest could set another (`base = "/api"`), and then, as Spin 1 did,
/// `spin-raw-component-route` and `spin-component-route` show the route
/// without that base while `spin-matched-route` includes it. `full_url` is
/// `<scheme>://<host header>` followed by the request's path and query (Spin
/// uses `localhost` when there is no `Host` header).
pub fn spin_headers<T>(
    m: &RouteMatch<'_, T>,
    base: &str,
    full_url: &str,
    client_addr: SocketAddr,
) -> Vec<(String, String)> {
    let base = if base.is_empty() { "/" } else { base };
    let raw_route = strip_base(m.raw_route(), base);
    let component_route = raw_route.strip_suffix("/...").unwrap_or(raw_route);
    let mut headers: Vec<(String, String)> = [
        ("spin-path-info", m.path_info()),
        ("spin-full-url", full_url),
        ("spin-matched-route", m.matched_route()),
        ("spin-base-path", base),
        ("spin-raw-component-route", raw_route),
        ("spin-component-route", component_route),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect();
    headers.push(("spin-client-addr".to_owned(), client_addr.to_string()));

    let first_param = headers.len();
    for (name, value) in m.params() {
        let header = param_header_name(name);
        // A repeated name keeps its last value, like Spin's map of captures.
        match headers[first_param..]
            .iter_mut()
            .find(|(h, _)| *h == header)
        {
            Some(existing) => existing.1.clone_from(value),
            None => headers.push((header, value.clone())),
        }
    }
    headers
}

/// The header carrying a `:name` parameter. Spin derives it from the Wagi
/// variable `SPIN_PATH_MATCH_<NAME>`, so `_` becomes `-` and case folds:
/// `:user_id` is sent as `spin-path-match-user-id`.
pub fn param_header_name(name: &str) -> String {
    format!(
        "spin-path-match-{}",
        name.to_ascii_lowercase().replace('_', "-")
    )
}

/// Removes the application base from a route the manifest loader prefixed
/// with it, giving back the route as the component declared it.
fn strip_base<'r>(route: &'r str, base: &str) -> &'r str {
    let base = base.strip_suffix('/').unwrap_or(base);
    if base.is_empty() {
        return route;
    }
    match route.strip_prefix(base) {
        Some("") => "/",
        Some(rest) if rest.starts_with('/') => rest,
        _ => route,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_only_a_whole_base_segment() {
        assert_eq!(strip_base("/api/hello", "/api"), "/hello");
        assert_eq!(strip_base("/api/hello", "/api/"), "/hello");
        assert_eq!(strip_base("/api", "/api"), "/");
        assert_eq!(strip_base("/apiary", "/api"), "/apiary");
        assert_eq!(strip_base("/hello", "/"), "/hello");
    }

    #[test]
    fn param_headers_follow_wagi_names() {
        assert_eq!(param_header_name("userid"), "spin-path-match-userid");
        assert_eq!(param_header_name("User_Id"), "spin-path-match-user-id");
    }
}
