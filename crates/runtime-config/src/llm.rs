//! `[llm_compute]`: where the LLM interface's inferences and embeddings
//! run. Spin reads `type = "spin"` (models run by the host itself, from
//! `.spin/ai-models`) and `type = "remote_http"` (a service that runs them:
//! `url`, `auth_token`, and `api_type`, Spin's own protocol by default or
//! `"open_ai"`). This host runs no models itself: with `type = "spin"`, or
//! with no table, a guest's call fails with an error that says so.
//! `spin-runtime`'s `capabilities/llm` applies it.

use crate::error::{ErrorKind, RuntimeConfigError};
use crate::table::Table;

/// What `[llm_compute]` says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum LlmCompute {
    /// `type = "spin"`, or no table: models run by the host (which this
    /// host does not do).
    #[default]
    Local,
    /// `type = "remote_http"`: a service runs them.
    Remote(RemoteLlm),
}

/// A service that runs models (`type = "remote_http"`).
#[derive(Clone, PartialEq, Eq)]
pub struct RemoteLlm {
    /// Its address (`http` or `https`); requests go to absolute paths on
    /// it, as in Spin (`/infer`, `/v1/chat/completions`, ...).
    pub url: url::Url,
    /// Sent as `Authorization: bearer <token>`.
    pub auth_token: String,
    /// Which protocol it speaks.
    pub api: LlmApi,
}

impl std::fmt::Debug for RemoteLlm {
    // The token is a secret: never in a log line or a panic message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteLlm")
            .field("url", &self.url.as_str())
            .field("auth_token", &"<redacted>")
            .field("api", &self.api)
            .finish()
    }
}

/// The protocol of a model service (`api_type`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LlmApi {
    /// `"default"`: Spin's own (`POST /infer`, `POST /embed`), which Spin's
    /// `cloud-gpu` plugin deploys.
    #[default]
    Spin,
    /// `"open_ai"`: OpenAI's (`POST /v1/chat/completions`, `POST
    /// /v1/embeddings`), which many services and local servers speak.
    OpenAi,
}

/// `[llm_compute]`.
pub(crate) fn parse_table(table: &Table) -> Result<LlmCompute, RuntimeConfigError> {
    const TYPES: &[&str] = &["spin", "remote_http"];
    const API_TYPES: &[&str] = &["default", "open_ai"];
    let (kind, span) = table.kind(TYPES)?;
    match kind.as_str() {
        "spin" => {
            table.check_keys(&["type"])?;
            Ok(LlmCompute::Local)
        }
        "remote_http" => {
            table.check_keys(&["type", "url", "auth_token", "api_type"])?;
            let url = table.required_string("url", "url = \"https://llm.example.com\"")?;
            let url = check_url(&url).map_err(|reason| {
                let span = table.get("url").map(|(_, v)| v.span()).unwrap_or(span);
                // A password in the URL is refused, and not shown.
                let url = spin_outbound_networking::redact_url(&url);
                table
                    .file
                    .error(span, ErrorKind::InvalidLlmUrl { url, reason })
            })?;
            let auth_token = table.required_string("auth_token", "auth_token = \"...\"")?;
            let api = match table.get("api_type") {
                None => LlmApi::Spin,
                Some((key, value)) => match table.str(key, value)?.as_str() {
                    "default" => LlmApi::Spin,
                    "open_ai" => LlmApi::OpenAi,
                    other => {
                        return Err(table.unknown_type(
                            "language model API",
                            other.to_owned(),
                            value.span(),
                            API_TYPES,
                        ));
                    }
                },
            };
            Ok(LlmCompute::Remote(RemoteLlm {
                url,
                auth_token,
                api,
            }))
        }
        _ => Err(table.unknown_type("language model compute", kind, span, TYPES)),
    }
}

/// A service address the client can reach: `http` or `https`, a host.
fn check_url(url: &str) -> Result<url::Url, String> {
    let parsed = url::Url::parse(url).map_err(|e| e.to_string())?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("`{}` is not `http` or `https`", parsed.scheme()));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    // The URL is shown in errors and logs; the token is not.
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("it holds credentials; give the token as `auth_token`".into());
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::tests::{parse_err, parse_ok};

    #[test]
    fn spin_s_two_types_are_read() {
        assert_eq!(parse_ok("").llm_compute, LlmCompute::Local);
        assert_eq!(
            parse_ok("[llm_compute]\ntype = \"spin\"\n").llm_compute,
            LlmCompute::Local
        );
        let config = parse_ok(
            "[llm_compute]\ntype = \"remote_http\"\nurl = \"https://llm.example.com\"\nauth_token = \"t0k\"\n",
        );
        let LlmCompute::Remote(remote) = config.llm_compute else {
            panic!("not remote");
        };
        assert_eq!(remote.url.as_str(), "https://llm.example.com/");
        assert_eq!(remote.auth_token, "t0k");
        assert_eq!(remote.api, LlmApi::Spin);
        assert!(!format!("{remote:?}").contains("t0k"));
        let config = parse_ok(
            "[llm_compute]\ntype = \"remote_http\"\nurl = \"http://127.0.0.1:8080\"\nauth_token = \"t\"\napi_type = \"open_ai\"\n",
        );
        assert!(matches!(
            config.llm_compute,
            LlmCompute::Remote(RemoteLlm {
                api: LlmApi::OpenAi,
                ..
            })
        ));
    }

    #[test]
    fn a_bad_table_is_refused_at_its_line() {
        let remote = "[llm_compute]\ntype = \"remote_http\"\n";
        let err = parse_err(&format!("{remote}url = \"ftp://x\"\nauth_token = \"t\"\n"));
        assert_eq!(err.line(), Some(3));
        assert!(
            matches!(err.kind(), ErrorKind::InvalidLlmUrl { .. }),
            "{err}"
        );
        let err = parse_err(&format!(
            "{remote}url = \"not a url\"\nauth_token = \"t\"\n"
        ));
        assert!(
            matches!(err.kind(), ErrorKind::InvalidLlmUrl { .. }),
            "{err}"
        );
        let err = parse_err(&format!(
            "{remote}url = \"https://me:pw@llm.example.com\"\nauth_token = \"t\"\n"
        ));
        assert!(err.to_string().contains("credentials"), "{err}");
        // Shown nowhere: not in the message, not on the line quoted, whose
        // caret still spans the value.
        let shown = err.to_string();
        assert!(!shown.contains("pw"), "{shown}");
        assert!(
            shown.contains(" 3 | url = \"https://me:***@llm.example.com\"\n")
                && shown.contains(&format!("  | {}{}", " ".repeat(6), "^".repeat(32))),
            "{shown}"
        );
        let err = parse_err(&format!("{remote}url = \"https://x\"\n"));
        assert!(
            matches!(
                err.kind(),
                ErrorKind::MissingKey {
                    key: "auth_token",
                    ..
                }
            ),
            "{err}"
        );
        let err = parse_err(&format!(
            "{remote}url = \"https://x\"\nauth_token = \"t\"\napi_type = \"anthropic\"\n"
        ));
        assert_eq!(err.line(), Some(5));
        assert!(matches!(err.kind(), ErrorKind::UnknownType { .. }), "{err}");
        let err = parse_err("[llm_compute]\ntype = \"cloud\"\n");
        assert!(matches!(err.kind(), ErrorKind::UnknownType { .. }), "{err}");
        let err = parse_err("[llm_compute]\ntype = \"spin\"\nurl = \"https://x\"\n");
        assert!(matches!(err.kind(), ErrorKind::UnknownKey { .. }), "{err}");
    }
}
