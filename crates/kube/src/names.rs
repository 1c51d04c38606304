//! Image references and the Kubernetes and Spin naming rules.

use crate::ScaffoldError;

/// Longest DNS label (RFC 1035), and so longest SpinApp name.
pub(crate) const MAX_LABEL: usize = 63;
/// Longest DNS subdomain (RFC 1123), the limit for Secret and executor names.
const MAX_SUBDOMAIN: usize = 253;

/// The reference without its URL scheme, when it has one (`oci://x` → `x`).
pub(crate) fn strip_scheme(image: &str) -> Option<&str> {
    image.split_once("://").map(|(_, rest)| rest)
}

/// The last path segment of an image reference (`app` for
/// `localhost:5000/team/app:v1@sha256:…`), after checking the reference
/// against the OCI distribution grammar, so that a reference the kubelet
/// could never pull fails here and not in the cluster.
pub(crate) fn last_path_segment(image: &str) -> Result<&str, ScaffoldError> {
    if image.is_empty() {
        return Err(ScaffoldError::EmptyImage);
    }
    let invalid = |reason: String| ScaffoldError::InvalidImage {
        image: image.to_owned(),
        reason,
    };
    if strip_scheme(image).is_some() {
        return Err(invalid("a reference has no URL scheme".into()));
    }
    if image.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("it contains whitespace".into()));
    }

    let (rest, digest) = match image.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (image, None),
    };
    if let Some(digest) = digest {
        check_digest(digest).map_err(invalid)?;
    }
    // A `:` after the last `/` starts the tag; one before it is a port.
    let name = match rest.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => {
            check_tag(tag).map_err(invalid)?;
            name
        }
        _ => rest,
    };

    let segments: Vec<&str> = name.split('/').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(invalid("it has an empty path segment".into()));
    }
    // As in Docker: the first segment names a registry when it looks like a
    // host (`ghcr.io`, `localhost`, `host:5000`) and more segments follow.
    let first = segments[0];
    let has_registry = segments.len() > 1
        && (first.contains(['.', ':']) || first == "localhost" || first != first.to_lowercase());
    let path = if has_registry {
        &segments[1..]
    } else {
        &segments[..]
    };
    for segment in path {
        check_path_segment(segment).map_err(invalid)?;
    }
    Ok(path.last().copied().unwrap_or(first))
}

fn check_digest(digest: &str) -> Result<(), String> {
    let well_formed = digest.split_once(':').is_some_and(|(algorithm, encoded)| {
        !algorithm.is_empty()
            && algorithm
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+._-".contains(c))
            && encoded.len() >= 32
            && encoded
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "=_-".contains(c))
    });
    if well_formed {
        Ok(())
    } else {
        Err(format!(
            "the digest `{digest}` is not of the form `sha256:<64 hex digits>`"
        ))
    }
}

fn check_tag(tag: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_.-".contains(c);
    let starts_well = tag
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    if starts_well && tag.len() <= 128 && tag.chars().all(allowed) {
        Ok(())
    } else {
        Err(format!(
            "the tag `{tag}` must be 1 to 128 letters, digits, `_`, `.` or `-`, not starting with `.` or `-`"
        ))
    }
}

/// A repository path component: lowercase alphanumeric runs joined by `.`,
/// `_`, `__` or any number of `-` (the OCI distribution spec).
fn check_path_segment(segment: &str) -> Result<(), String> {
    let err = || {
        Err(format!(
            "the path segment `{segment}` must be lowercase letters and digits, joined by `.`, `_`, `__` or `-`"
        ))
    };
    let bytes = segment.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !bytes.first().is_some_and(alnum) || !bytes.last().is_some_and(alnum) {
        return err();
    }
    for separator in segment.split(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit()) {
        let ok = matches!(separator, "" | "." | "_" | "__") || separator.bytes().all(|b| b == b'-');
        if !ok {
            return err();
        }
    }
    Ok(())
}

/// The SpinApp name derived from an image's last path segment: lowercased,
/// each run of other characters turned into one `-`, and cut to 63
/// characters. The result may still be invalid (`2048`): check it.
pub(crate) fn sanitize_raw(raw: &str) -> String {
    let mut name = String::with_capacity(raw.len());
    for c in raw.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            name.push(c);
        } else if !name.is_empty() && !name.ends_with('-') {
            name.push('-');
        }
    }
    name.truncate(MAX_LABEL);
    name.trim_end_matches('-').to_owned()
}

/// [`sanitize_raw`], when that gives a valid SpinApp name.
pub(crate) fn sanitize(raw: &str) -> Option<String> {
    let name = sanitize_raw(raw);
    check_app_name(&name).ok().map(|()| name)
}

/// Checks a SpinApp name. The operator names the app's Deployment and
/// Service after it, and a Service name is an RFC 1035 label: at most 63
/// lowercase letters, digits and `-`, starting with a letter and ending
/// with a letter or digit.
pub(crate) fn check_app_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("it is empty".into());
    }
    if let Some(c) = name
        .chars()
        .find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
    {
        return Err(format!(
            "`{c}` is not allowed; use lowercase letters, digits and `-`"
        ));
    }
    if name.len() > MAX_LABEL {
        return Err(format!(
            "it has {} characters, more than the {MAX_LABEL} allowed",
            name.len()
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(
            "it must start with a letter (the operator names the app's Service after it)".into(),
        );
    }
    if name.ends_with('-') {
        return Err("it must end with a letter or digit".into());
    }
    Ok(())
}

/// Checks an RFC 1123 subdomain, the rule for Secret and SpinAppExecutor
/// names: dot-separated labels of lowercase letters, digits and `-`, each
/// starting and ending with a letter or digit, 253 characters at most.
pub(crate) fn check_subdomain(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("it is empty".into());
    }
    if name.len() > MAX_SUBDOMAIN {
        return Err(format!(
            "it has {} characters, more than the {MAX_SUBDOMAIN} allowed",
            name.len()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'))
    {
        return Err(format!(
            "`{c}` is not allowed; use lowercase letters, digits, `-` and `.`"
        ));
    }
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    if name
        .split('.')
        .any(|label| !label.starts_with(alnum) || !label.ends_with(alnum))
    {
        return Err("each `.`-separated part must start and end with a letter or digit".into());
    }
    Ok(())
}

/// Checks a Spin variable name: lower snake_case, i.e. words of lowercase
/// letters and digits, each starting with a letter, joined by single `_`
/// (the rule `spin.toml` applies to `[variables]`).
pub(crate) fn check_lower_snake(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("it is empty".into());
    }
    for word in name.split('_') {
        let Some(first) = word.chars().next() else {
            return Err("words must be joined by a single `_`, with none at either end".into());
        };
        if !first.is_ascii_lowercase() {
            return Err(format!(
                "each word must start with a lowercase letter, not `{first}`"
            ));
        }
        if let Some(c) = word
            .chars()
            .find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
        {
            return Err(format!(
                "`{c}` is not allowed; use lowercase letters, digits and `_`"
            ));
        }
    }
    Ok(())
}

/// A lower snake_case name close to `name`, to offer in a hint.
pub(crate) fn repair_snake(name: &str) -> Option<String> {
    let lowered = name.to_lowercase();
    let words: Vec<&str> = lowered
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let repaired = words.join("_");
    (repaired != name && check_lower_snake(&repaired).is_ok()).then_some(repaired)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(image: &str) -> String {
        last_path_segment(image)
            .unwrap_or_else(|e| panic!("{image}: {e}"))
            .to_owned()
    }

    #[test]
    fn last_segment_ignores_registry_port_tag_and_digest() {
        let digest = format!("sha256:{}", "a".repeat(64));
        for (image, expected) in [
            ("hello", "hello"),
            ("hello:v1", "hello"),
            ("library/hello", "hello"),
            ("ghcr.io/me/hello-py:v0.1.0", "hello-py"),
            ("localhost:5000/hello-py:v1", "hello-py"),
            ("localhost:5000/hello-py", "hello-py"),
            ("localhost/hello", "hello"),
            ("registry.example.com:443/a/b/c/deep_app:latest", "deep_app"),
            (&format!("ghcr.io/me/app@{digest}"), "app"),
            (&format!("localhost:5000/app:v2@{digest}"), "app"),
            ("My.Registry.io/team/app", "app"),
        ] {
            assert_eq!(segment(image), expected, "{image}");
        }
    }

    #[test]
    fn malformed_references_are_rejected_with_a_reason() {
        for (image, reason) in [
            ("oci://ghcr.io/me/app:v1", "URL scheme"),
            ("ghcr.io/me/app :v1", "whitespace"),
            ("ghcr.io//app", "empty path segment"),
            ("ghcr.io/me/", "empty path segment"),
            ("ghcr.io/me/app:", "tag ``"),
            ("ghcr.io/me/app:-v1", "tag `-v1`"),
            ("ghcr.io/me/App:v1", "path segment `App`"),
            ("ghcr.io/me/app-:v1", "path segment `app-`"),
            ("ghcr.io/me/a..b", "path segment `a..b`"),
            ("ghcr.io/me/app@sha256", "digest `sha256`"),
            ("ghcr.io/me/app@sha256:xyz", "digest `sha256:xyz`"),
        ] {
            let err = last_path_segment(image).expect_err(image);
            assert!(
                matches!(err, ScaffoldError::InvalidImage { .. }),
                "{image}: {err:?}"
            );
            assert!(err.to_string().contains(reason), "{image}: {err}");
        }
        assert!(matches!(
            last_path_segment(""),
            Err(ScaffoldError::EmptyImage)
        ));
    }

    #[test]
    fn path_separators_follow_the_distribution_grammar() {
        assert!(check_path_segment("a.b_c__d---e9").is_ok());
        assert!(check_path_segment("a___b").is_err());
        assert!(check_path_segment("a._b").is_err());
        assert!(check_path_segment("_a").is_err());
    }

    #[test]
    fn sanitize_makes_a_label_or_gives_up() {
        assert_eq!(sanitize("hello-py").as_deref(), Some("hello-py"));
        assert_eq!(sanitize("hello_py").as_deref(), Some("hello-py"));
        assert_eq!(
            sanitize("Hello__World.v2").as_deref(),
            Some("hello-world-v2")
        );
        assert_eq!(sanitize("my app!").as_deref(), Some("my-app"));
        assert_eq!(sanitize(&"x".repeat(70)).map(|n| n.len()), Some(MAX_LABEL));
        // Cutting at 63 must not leave a trailing `-`.
        let long = format!("{}_tail", "a".repeat(62));
        assert_eq!(sanitize(&long), Some("a".repeat(62)));
        assert_eq!(sanitize("2048"), None);
        assert_eq!(sanitize("___"), None);
        assert_eq!(sanitize(""), None);
    }

    #[test]
    fn app_names_are_rfc_1035_labels() {
        assert!(check_app_name("hello-py").is_ok());
        assert!(check_app_name("a").is_ok());
        assert!(check_app_name(&"a".repeat(63)).is_ok());
        for (name, reason) in [
            ("", "empty"),
            ("Hello", "`H` is not allowed"),
            ("hello.py", "`.` is not allowed"),
            ("9lives", "start with a letter"),
            ("hello-", "end with a letter or digit"),
            (&"a".repeat(64), "64 characters"),
        ] {
            let err = check_app_name(name).expect_err(name);
            assert!(err.contains(reason), "{name}: {err}");
        }
    }

    #[test]
    fn subdomains_allow_dots_between_labels() {
        assert!(check_subdomain("containerd-shim-spin").is_ok());
        assert!(check_subdomain("regcred.v2").is_ok());
        assert!(check_subdomain("9x").is_ok());
        for bad in ["", "Regcred", "a..b", "-a", "a.", "a_b", &"a".repeat(254)] {
            assert!(check_subdomain(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn variable_names_are_lower_snake_case() {
        assert!(check_lower_snake("api_key").is_ok());
        assert!(check_lower_snake("key2").is_ok());
        for bad in [
            "", "API_KEY", "api-key", "api__key", "_key", "key_", "2fa", "a_1b",
        ] {
            assert!(check_lower_snake(bad).is_err(), "{bad}");
        }
        assert_eq!(repair_snake("API-Key").as_deref(), Some("api_key"));
        assert_eq!(repair_snake("api_key"), None);
        assert_eq!(repair_snake("2fa"), None);
    }
}
