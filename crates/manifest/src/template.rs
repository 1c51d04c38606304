//! `{{ name }}` templates in component variables and outbound hosts.

/// The application variable names a template refers to, in order; `Err`
/// when a `{{` is not closed. Names are trimmed, as Spin trims them.
pub(crate) fn references(template: &str) -> Result<Vec<&str>, ()> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or(())?;
        names.push(after[..end].trim());
        rest = &after[end + 2..];
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_reference() {
        assert_eq!(references("plain").unwrap(), Vec::<&str>::new());
        assert_eq!(references("{{ a }}").unwrap(), ["a"]);
        assert_eq!(
            references("redis://{{host}}:{{ port }}/x").unwrap(),
            ["host", "port"]
        );
    }

    #[test]
    fn unclosed_braces_are_an_error() {
        assert!(references("x {{ a").is_err());
        assert!(references("{{ a }} {{").is_err());
    }
}
