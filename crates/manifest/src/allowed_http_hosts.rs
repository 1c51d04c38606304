//! Conversion of the deprecated `allowed_http_hosts` list into
//! `allowed_outbound_hosts` entries, with Spin's semantics: a bare host
//! (or an `http`/`https` URL without a path) allows both schemes on the
//! given port, `self` allows the app itself, and `insecure:allow-all`
//! allows everything.

use url::Url;

const ALLOW_ALL: &str = "insecure:allow-all";

/// The outbound entries for `entries`, each paired with the index of the
/// entry it came from; or the index of the first bad entry and why it is bad.
pub(crate) fn convert(
    entries: &[impl AsRef<str>],
) -> Result<Vec<(usize, String)>, (usize, String)> {
    if let Some(i) = entries.iter().position(|e| e.as_ref() == ALLOW_ALL) {
        // Like Spin, allow-all makes the other entries irrelevant, so they are
        // not checked.
        return Ok(["http://*:*", "https://*:*", "http://self"]
            .into_iter()
            .map(|host| (i, host.to_owned()))
            .collect());
    }
    let mut converted = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let (host, port) = parse(entry.as_ref()).map_err(|reason| (i, reason))?;
        if host == "self" {
            converted.push((i, "http://self".to_owned()));
        } else {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            converted.push((i, format!("http://{host}{port}")));
            converted.push((i, format!("https://{host}{port}")));
        }
    }
    Ok(converted)
}

/// The host and explicit non-default port of one entry.
fn parse(entry: &str) -> Result<(String, Option<u16>), String> {
    // `Url::parse("localhost:3001")` would read `localhost` as a scheme, so
    // only text with `//` is treated as a URL.
    let url = if entry.contains("//") {
        let url = Url::parse(entry).map_err(|e| format!("it is not a valid URL ({e})"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "the scheme `{}` is not `http` or `https`",
                url.scheme()
            ));
        }
        url
    } else {
        Url::parse(&format!("http://{entry}"))
            .map_err(|_| "it is not a host or `host:port`".to_owned())?
    };
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| "it has no host name".to_owned())?;
    if url.path().len() > 1 || url.query().is_some() {
        return Err("it has a path; give only a host and an optional port".into());
    }
    Ok((host.to_owned(), url.port()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(entries: &[&str]) -> Vec<String> {
        convert(entries)
            .unwrap()
            .into_iter()
            .map(|(_, h)| h)
            .collect()
    }

    #[test]
    fn hosts_and_urls_allow_both_schemes() {
        assert_eq!(
            hosts(&["example.com"]),
            ["http://example.com", "https://example.com"]
        );
        assert_eq!(
            hosts(&["https://some-random-api.ml"]),
            ["http://some-random-api.ml", "https://some-random-api.ml"]
        );
        assert_eq!(
            hosts(&["http://localhost:3001/"]),
            ["http://localhost:3001", "https://localhost:3001"]
        );
        assert_eq!(
            hosts(&["[::1]:8001"]),
            ["http://[::1]:8001", "https://[::1]:8001"]
        );
        assert_eq!(
            hosts(&["192.168.1.1"]),
            ["http://192.168.1.1", "https://192.168.1.1"]
        );
    }

    #[test]
    fn self_allows_only_the_app() {
        assert_eq!(hosts(&["self"]), ["http://self"]);
    }

    #[test]
    fn allow_all_wins_over_everything_else() {
        let converted = convert(&["not a host!", ALLOW_ALL]).unwrap();
        assert_eq!(
            converted,
            [
                (1, "http://*:*".to_owned()),
                (1, "https://*:*".to_owned()),
                (1, "http://self".to_owned())
            ]
        );
    }

    #[test]
    fn paths_and_other_schemes_are_rejected() {
        let (i, reason) = convert(&["ok.com", "http://x.com/a"]).unwrap_err();
        assert_eq!(i, 1);
        assert!(reason.contains("path"), "{reason}");
        assert!(convert(&["ftp://x.com"]).unwrap_err().1.contains("`ftp`"));
        assert!(convert(&["bad host"]).is_err());
    }

    #[test]
    fn entries_remember_where_they_came_from() {
        let converted = convert(&["a.com", "self"]).unwrap();
        let origins: Vec<usize> = converted.iter().map(|(i, _)| *i).collect();
        assert_eq!(origins, [0, 0, 1]);
    }
}
