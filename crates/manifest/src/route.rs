//! HTTP route and base validation, and joining a v1 base onto a route.

/// Routes under this prefix are answered by the runtime itself.
const RESERVED_PREFIX: &str = "/.well-known/spin/";

/// Checks a route pattern: it starts with `/`; a trailing-wildcard segment
/// (`...`, or Spin's older `*`) may only come last; and `:name` segments
/// name a parameter made of letters, digits, `_` and `-`.
pub(crate) fn check_route(route: &str) -> Result<(), String> {
    let Some(rest) = route.strip_prefix('/') else {
        return Err(if route.is_empty() {
            "it is empty".into()
        } else {
            format!("it must start with `/` (write `/{route}`)")
        });
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let mut parameters = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        if (*segment == "..." || *segment == "*") && !last {
            return Err(format!(
                "`{segment}` matches the rest of the path, so it may only be the last segment"
            ));
        }
        if let Some(name) = segment.strip_prefix(':') {
            check_parameter(name)?;
            if parameters.contains(&name) {
                return Err(format!("the parameter `:{name}` appears twice"));
            }
            parameters.push(name);
        }
    }
    Ok(())
}

fn check_parameter(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    match chars.next() {
        None => Err("a `:` segment needs a parameter name, as in `/users/:id`".into()),
        Some(c) if !(c.is_ascii_alphabetic() || c == '_') => Err(format!(
            "the parameter name `{name}` must start with a letter or `_`"
        )),
        _ => match chars.find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-')) {
            Some(bad) => Err(format!(
                "the parameter name `{name}` may contain only letters, digits, `_` and `-`, not `{bad}`"
            )),
            None => Ok(()),
        },
    }
}

/// Checks a v1 trigger `base`: a plain path, with no patterns in it.
pub(crate) fn check_base(base: &str) -> Result<(), String> {
    if !base.starts_with('/') {
        return Err("it must start with `/`".into());
    }
    if let Some(c) = base.chars().find(|c| c.is_whitespace()) {
        return Err(format!("it must not contain whitespace ({c:?})"));
    }
    match base
        .split('/')
        .find(|s| *s == "..." || *s == "*" || s.starts_with(':'))
    {
        Some(pattern) => Err(format!("`{pattern}` is a route pattern, not a path")),
        None => Ok(()),
    }
}

/// The route a request is matched against: the base and the route, each
/// without one trailing `/`, as Spin joins them (`/api` + `/x/...` is
/// `/api/x/...`; `/` + `/` is `/`).
pub(crate) fn join(base: &str, route: &str) -> String {
    let joined = format!(
        "{}{}",
        base.strip_suffix('/').unwrap_or(base),
        route.strip_suffix('/').unwrap_or(route)
    );
    if joined.is_empty() {
        "/".into()
    } else {
        joined
    }
}

/// Checks a joined route against the prefix the runtime reserves.
pub(crate) fn check_not_reserved(route: &str) -> Result<(), String> {
    if format!("{route}/").starts_with(RESERVED_PREFIX) {
        Err(format!(
            "routes under `{RESERVED_PREFIX}` are reserved for the runtime"
        ))
    } else {
        Ok(())
    }
}

/// The form used to detect duplicate routes: `/x/*` and `/x/...` match the
/// same requests.
pub(crate) fn duplicate_key(route: &str) -> String {
    match route.strip_suffix("/*") {
        Some(prefix) => format!("{prefix}/..."),
        None => route.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_spin_route_patterns() {
        for ok in [
            "/",
            "/...",
            "/hello",
            "/hello/",
            "/users/:id/edit",
            "/api/...",
            "/a/*",
            "/base/:path_segment/:path_end/...",
        ] {
            assert_eq!(check_route(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn rejects_malformed_routes() {
        for (bad, reason) in [
            ("", "empty"),
            ("hello", "write `/hello`"),
            ("/.../x", "last segment"),
            ("/a/*/b", "last segment"),
            ("/users/:", "needs a parameter name"),
            ("/users/:1d", "start with a letter"),
            ("/users/:i.d", "not `.`"),
            ("/:a/:a", "twice"),
        ] {
            let err = check_route(bad).unwrap_err();
            assert!(err.contains(reason), "{bad}: {err}");
        }
    }

    #[test]
    fn base_must_be_a_plain_path() {
        assert_eq!(check_base("/"), Ok(()));
        assert_eq!(check_base("/api/v1"), Ok(()));
        assert!(check_base("api").is_err());
        assert!(check_base("/api/...").is_err());
        assert!(check_base("/:x").is_err());
        assert!(check_base("/a b").is_err());
    }

    #[test]
    fn joins_like_spin() {
        assert_eq!(join("/", "/..."), "/...");
        assert_eq!(join("/", "/"), "/");
        assert_eq!(join("/api", "/x/..."), "/api/x/...");
        assert_eq!(join("/api/", "/hello/"), "/api/hello");
        assert_eq!(join("/api", "/"), "/api");
    }

    #[test]
    fn reserved_prefix_is_rejected() {
        assert!(check_not_reserved("/.well-known/spin/health").is_err());
        assert!(check_not_reserved("/.well-known/spin").is_err());
        assert!(check_not_reserved("/.well-known/other").is_ok());
    }

    #[test]
    fn star_and_dots_wildcards_are_duplicates() {
        assert_eq!(duplicate_key("/a/*"), duplicate_key("/a/..."));
        assert_ne!(duplicate_key("/a"), duplicate_key("/a/..."));
    }
}
