//! "Did you mean ...?" suggestions for misspelt field names.

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub(crate) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let normalized = word.to_ascii_lowercase().replace('-', "_");
    // Allow one edit for short words and roughly one per three characters
    // for longer ones, so `sorce` finds `source` but `id` does not find `ai`.
    let allowed = (word.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (edit_distance(&normalized, c), *c))
        .filter(|(d, _)| *d <= allowed)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance between two strings, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &[&str] = &[
        "id",
        "source",
        "description",
        "allowed_outbound_hosts",
        "ai_models",
    ];

    #[test]
    fn distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("sorce", "source"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(closest("sorce", FIELDS), Some("source"));
        assert_eq!(closest("Description", FIELDS), Some("description"));
        assert_eq!(
            closest("allowed-outbound-hosts", FIELDS),
            Some("allowed_outbound_hosts")
        );
        assert_eq!(closest("ai", FIELDS), None);
        assert_eq!(closest("route", FIELDS), None);
    }
}
