//! URLs with their passwords hidden, for logs and error messages: a
//! connection string such as `postgres://app:secret@db/app` must never
//! reach a log file as written.

/// What a hidden password is replaced with.
const HIDDEN: &str = "***";

/// `url` with the password of its userinfo (`user:password@`) replaced by
/// `***`. Works on text that is not a valid URL too (a refused URL is
/// often malformed), by cutting between the first `:` after `scheme://`
/// and the last `@` of the authority; anything else is returned as is.
///
/// ```
/// use spin_outbound_networking::redact_url;
///
/// assert_eq!(redact_url("postgres://u:secret@db/app"), "postgres://u:***@db/app");
/// assert_eq!(redact_url("redis://:s%23cret@cache"), "redis://:***@cache");
/// assert_eq!(redact_url("mysql://u:pa#ss@db"), "mysql://u:***@db");
/// assert_eq!(redact_url("mysql://u:pa/ss@db"), "mysql://u:***@db");
/// assert_eq!(redact_url("https://example.com/a@b"), "https://example.com/a@b");
/// assert_eq!(redact_url("https://u@example.com/"), "https://u@example.com/");
/// ```
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    // The `@` ending the userinfo: the last one in the authority, or, when
    // a raw `/` or `?` in the password cut the authority short, the last
    // one anywhere (hiding part of a path that holds `:` and `@` is a
    // price worth paying for never showing a password).
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let Some(at) = authority.rfind('@').or_else(|| rest.rfind('@')) else {
        return url.to_owned();
    };
    let Some(colon) = rest[..at].find(':') else {
        return url.to_owned();
    };
    format!(
        "{}{}:{HIDDEN}{}",
        &url[..scheme_end],
        &rest[..colon],
        &rest[at..]
    )
}
