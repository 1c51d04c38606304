//! Spin applications in OCI registries, in exactly Spin's artifact layout
//! (read in Spin's repository, `crates/oci/src/client.rs`), so an app
//! pushed here runs on Spin and SpinKube, and one Spin pushed runs here:
//!
//! - an OCI image manifest whose config is an OCI image config
//!   (`architecture: wasm`, `os: wasip1`, labelled with the locked app's
//!   digest, so that two apps never share an image id);
//! - one `application/vnd.wasm.content.layer.v1+wasm` layer per distinct
//!   component binary;
//! - one `application/vnd.wasm.content.layer.v1+data` layer per distinct
//!   file (files of up to 128 bytes are inlined in the locked app instead,
//!   as Spin does, because some registries refuse tiny blobs);
//! - one `application/vnd.fermyon.spin.application.v1+config` layer holding
//!   the locked app (see `spin-locked-app`), whose content refs name the
//!   layers by digest.
//!
//! Every blob is content-addressed: a push uploads only what the registry
//! lacks, a pull downloads only what the cache lacks, and every downloaded
//! byte is checked against its digest before it is kept.

#![deny(missing_docs)]

mod archive;
pub mod auth;
pub mod cache;
mod errors;
pub mod pull;
pub mod push;
pub mod remote_source;
pub mod run;

pub use cache::RegistryCache;

/// How much one download may bring, from a registry or from a URL.
#[derive(Debug, Clone, Copy)]
pub struct DownloadLimits {
    /// The most bytes of one download: a layer pulled from a registry, or a
    /// component downloaded from a URL `source` (`--max-download-size`).
    /// A Python component is tens of megabytes; a server sending without
    /// end must not fill memory or the disk.
    pub max_download_bytes: u64,
    /// The most bytes one of Spin's archive layers may unpack to
    /// (`--max-unpacked-size`): a few megabytes of gzip can expand to any
    /// size.
    pub max_unpacked_bytes: u64,
}

impl Default for DownloadLimits {
    fn default() -> Self {
        Self {
            max_download_bytes: 1 << 30,
            max_unpacked_bytes: 4 << 30,
        }
    }
}
pub use pull::{PulledApp, pull};
pub use push::{PushOptions, PushOutcome, push};

/// The media type of the layer holding the locked app.
pub const SPIN_APPLICATION_MEDIA_TYPE: &str = "application/vnd.fermyon.spin.application.v1+config";
/// The media type of a component's Wasm layer.
pub const WASM_LAYER_MEDIA_TYPE: &str = "application/vnd.wasm.content.layer.v1+wasm";
/// The media type `wkg` gives a Wasm layer; accepted on pull.
pub const WASM_LAYER_MEDIA_TYPE_WKG: &str = "application/wasm";
/// The media type of a file's layer.
pub const DATA_MEDIA_TYPE: &str = "application/vnd.wasm.content.layer.v1+data";
/// Files up to this size are inlined in the locked app (Spin's limit).
pub const INLINE_MAX_BYTES: usize = 128;

/// A registry client: `insecure` talks plain HTTP (and accepts any
/// certificate), as Spin's `-k/--insecure` does, for a registry on loopback.
pub fn client(insecure: bool) -> oci_client::Client {
    // reqwest's rustls needs a process-wide provider; a second install (the
    // host's own TLS set one) is refused harmlessly.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let protocol = if insecure {
        oci_client::client::ClientProtocol::Http
    } else {
        oci_client::client::ClientProtocol::Https
    };
    oci_client::Client::new(oci_client::client::ClientConfig {
        protocol,
        accept_invalid_certificates: insecure,
        connect_timeout: Some(std::time::Duration::from_secs(15)),
        read_timeout: Some(std::time::Duration::from_secs(120)),
        ..Default::default()
    })
}

/// Parses a reference such as `ghcr.io/me/app:v1` or
/// `localhost:5000/app@sha256:...`.
pub fn parse_reference(reference: &str) -> anyhow::Result<oci_client::Reference> {
    reference.parse().map_err(|e| {
        spin_hint::Hinted::new(
            format!("`{reference}` is not a registry reference: {e}"),
            "a reference looks like `registry.example.com/namespace/app:tag` (or `...@sha256:<digest>`); the tag defaults to `latest`",
        )
        .into()
    })
}

/// `bytes` for a message: in GiB or MiB when whole ones, in bytes
/// otherwise.
pub(crate) fn human_size(bytes: u64) -> String {
    if bytes >= 1 << 30 && bytes.is_multiple_of(1 << 30) {
        format!("{} GiB", bytes >> 30)
    } else if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

/// A byte-counting progress bar on stderr, hidden when `show` is false or
/// there is nothing to transfer.
pub(crate) fn progress_bar(show: bool, total: u64, verb: &str) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    if !show || total == 0 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let template =
        format!("{verb} {{bar:30}} {{bytes}}/{{total_bytes}} ({{bytes_per_sec}}, {{eta}})");
    bar.set_style(ProgressStyle::with_template(&template).expect("a valid template"));
    bar
}
