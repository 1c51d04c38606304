//! Registry failures turned into messages that say what to do.

use oci_client::Reference;
use oci_client::errors::{OciDistributionError, OciErrorCode};
use spin_hint::Hinted;

/// Explains `err`, met while `doing` something with `reference`.
pub(crate) fn explain(
    err: OciDistributionError,
    doing: &str,
    reference: &Reference,
) -> anyhow::Error {
    let registry = reference.resolve_registry().to_owned();
    let status = match &err {
        OciDistributionError::RequestError(e) => e.status().map(|s| s.as_u16()),
        OciDistributionError::ServerError { code, .. } => Some(*code),
        _ => None,
    };
    let hinted = match &err {
        OciDistributionError::UnauthorizedError { .. }
        | OciDistributionError::AuthenticationFailure(_) => Some(unauthorized(&registry, doing)),
        _ if status == Some(401) => Some(unauthorized(&registry, doing)),
        _ if status == Some(403) => Some(Hinted::new(
            format!("the registry `{registry}` denied access (403 Forbidden) while {doing}"),
            format!(
                "log in with `spin registry login {registry}` with an account that may access `{}`",
                reference.repository()
            ),
        )),
        OciDistributionError::RegistryError { envelope, .. }
            if envelope
                .errors
                .iter()
                .any(|e| matches!(e.code, OciErrorCode::Unauthorized)) =>
        {
            Some(unauthorized(&registry, doing))
        }
        OciDistributionError::RegistryError { envelope, .. }
            if envelope
                .errors
                .iter()
                .any(|e| matches!(e.code, OciErrorCode::Denied)) =>
        {
            Some(Hinted::new(
                format!("the registry `{registry}` denied access while {doing}: {envelope}"),
                format!(
                    "log in with `spin registry login {registry}` with an account that may access `{}`",
                    reference.repository()
                ),
            ))
        }
        OciDistributionError::ImageManifestNotFoundError(_) => Some(Hinted::new(
            format!("`{reference}` was not found in the registry `{registry}`"),
            "check the repository and tag; `spin registry push` prints the reference it pushed",
        )),
        OciDistributionError::RegistryError { envelope, .. }
            if envelope.errors.iter().any(|e| {
                matches!(
                    e.code,
                    OciErrorCode::ManifestUnknown | OciErrorCode::NameUnknown
                )
            }) =>
        {
            Some(Hinted::new(
                format!("`{reference}` was not found in the registry `{registry}`"),
                "check the repository and tag; `spin registry push` prints the reference it pushed",
            ))
        }
        OciDistributionError::DigestError(d) => Some(Hinted::new(
            format!(
                "content from `{registry}` does not match its digest while {doing} ({d}); nothing from it was kept or run"
            ),
            "the registry or something between it and you altered the artifact; push it again and check where it is served from",
        )),
        OciDistributionError::RequestError(e) if e.is_connect() || e.is_timeout() => {
            Some(Hinted::new(
                format!("cannot reach the registry `{registry}` while {doing}"),
                "check the address and that the registry is running; a registry serving plain HTTP (such as one on localhost) needs `-k/--insecure`",
            ))
        }
        OciDistributionError::RequestError(_) => Some(Hinted::new(
            format!("talking to the registry `{registry}` failed while {doing}"),
            "check the address; a registry serving plain HTTP (such as one on localhost) needs `-k/--insecure`",
        )),
        _ => None,
    };
    match hinted {
        Some(h) => anyhow::Error::new(err).context(h),
        None => anyhow::Error::new(err).context(format!("{doing} `{reference}`")),
    }
}

fn unauthorized(registry: &str, doing: &str) -> Hinted {
    Hinted::new(
        format!(
            "the registry `{registry}` refused the credentials (401 Unauthorized) while {doing}"
        ),
        format!(
            "log in with `spin registry login {registry}` (or `docker login {registry}`), then try again"
        ),
    )
}
