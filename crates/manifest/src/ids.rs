//! Spin's identifier rules, for component ids, variable names and labels.
//!
//! An id is one or more words joined by a delimiter (`-` for kebab-case,
//! `_` for snake_case). Each word starts with an ASCII letter, holds only
//! ASCII letters and digits, and is all lowercase or all uppercase.

/// Checks a kebab-case id such as a v2 component key (`hello-world`).
pub(crate) fn check_kebab(id: &str) -> Result<(), String> {
    check(id, '-', false)
}

/// Checks a lower snake_case name such as a variable (`api_key`).
pub(crate) fn check_lower_snake(name: &str) -> Result<(), String> {
    check(name, '_', true)
}

/// Checks a store or database label, which may be kebab- or snake_case.
pub(crate) fn check_label(label: &str) -> Result<(), String> {
    check_kebab(label).or_else(|_| check(label, '_', false))
}

/// The id a v1 component gets: Spin rewrites `_` to `-` and lowercases
/// before applying the kebab-case rule, so `Hello_World` becomes `hello-world`.
pub(crate) fn v1_component_id(id: &str) -> Result<String, String> {
    if check_kebab(id).is_ok() {
        return Ok(id.to_owned());
    }
    let fixed = id.replace('_', "-").to_lowercase();
    check_kebab(&fixed).map(|()| fixed)
}

/// A valid id close to `id`, to offer in a hint, if one can be derived.
pub(crate) fn repair(id: &str, delimiter: char) -> Option<String> {
    let lowered = id.to_lowercase();
    let words: Vec<&str> = lowered
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let repaired = words.join(&delimiter.to_string());
    (repaired != id && check(&repaired, delimiter, true).is_ok()).then_some(repaired)
}

fn check(id: &str, delimiter: char, lower_only: bool) -> Result<(), String> {
    if id.is_empty() {
        return Err("it is empty".into());
    }
    let wrong = if delimiter == '-' { '_' } else { '-' };
    if id.contains(wrong) {
        return Err(format!(
            "words must be joined with `{delimiter}`, not `{wrong}`"
        ));
    }
    for word in id.split(delimiter) {
        check_word(word, delimiter, lower_only)?;
    }
    Ok(())
}

fn check_word(word: &str, delimiter: char, lower_only: bool) -> Result<(), String> {
    let Some(first) = word.chars().next() else {
        return Err(format!(
            "it has an empty word (a leading, trailing or doubled `{delimiter}`)"
        ));
    };
    if !first.is_ascii_alphabetic() {
        return Err(format!(
            "each word must start with an ASCII letter, not `{first}`"
        ));
    }
    if let Some(bad) = word.chars().find(|c| !c.is_ascii_alphanumeric()) {
        return Err(format!(
            "only ASCII letters and digits may appear between `{delimiter}`s, not {}",
            describe_char(bad)
        ));
    }
    let upper = first.is_ascii_uppercase();
    if lower_only && upper {
        return Err(format!("it must be all lowercase, but `{word}` is not"));
    }
    if word
        .chars()
        .any(|c| c.is_ascii_alphabetic() && c.is_ascii_uppercase() != upper)
    {
        return Err(format!(
            "each word must be all lowercase or all uppercase, but `{word}` mixes them"
        ));
    }
    Ok(())
}

/// A character for a message; whitespace would be invisible in backquotes.
fn describe_char(c: char) -> String {
    if c.is_whitespace() {
        format!("whitespace ({c:?})")
    } else {
        format!("`{c}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kebab_ids_follow_spins_rule() {
        for ok in ["a", "hello-world", "app1", "HTTP-handler", "x2-y3"] {
            assert_eq!(check_kebab(ok), Ok(()), "{ok}");
        }
        for (bad, reason) in [
            ("", "empty"),
            ("hello_world", "not `_`"),
            ("-a", "empty word"),
            ("a--b", "empty word"),
            ("a-", "empty word"),
            ("1-2", "not `1`"),
            ("a.b", "not `.`"),
            ("Hello", "mixes"),
        ] {
            let err = check_kebab(bad).unwrap_err();
            assert!(err.contains(reason), "{bad}: {err}");
        }
    }

    #[test]
    fn variable_names_must_be_lower_snake_case() {
        assert_eq!(check_lower_snake("redis_address"), Ok(()));
        assert!(
            check_lower_snake("API_KEY")
                .unwrap_err()
                .contains("lowercase")
        );
        assert!(
            check_lower_snake("api-key")
                .unwrap_err()
                .contains("not `-`")
        );
        assert!(
            check_lower_snake("bad+name")
                .unwrap_err()
                .contains("not `+`")
        );
    }

    #[test]
    fn labels_may_be_kebab_or_snake_case() {
        assert_eq!(check_label("default"), Ok(()));
        assert_eq!(check_label("my-store"), Ok(()));
        assert_eq!(check_label("my_store"), Ok(()));
        assert!(check_label("my store").is_err());
    }

    #[test]
    fn v1_ids_are_fixed_up_like_spin_does() {
        assert_eq!(v1_component_id("hello-world").unwrap(), "hello-world");
        assert_eq!(v1_component_id("Hello_World").unwrap(), "hello-world");
        assert_eq!(v1_component_id("HTTP").unwrap(), "HTTP");
        assert!(v1_component_id("hello world").is_err());
    }

    #[test]
    fn repairs_offer_a_valid_id() {
        assert_eq!(repair("Hello World", '-').as_deref(), Some("hello-world"));
        assert_eq!(repair("API-Key", '_').as_deref(), Some("api_key"));
        assert_eq!(repair("1abc", '-'), None);
        assert_eq!(repair("ok", '-'), None);
    }
}
