//! `spin registry pull`: an app's blobs into the cache, each checked
//! against its digest, none downloaded twice.

use anyhow::{Context as _, Result};
use oci_client::errors::{DigestError, OciDistributionError};
use oci_client::manifest::{OciDescriptor, OciImageManifest};

use std::collections::HashSet;

use crate::archive::{ARCHIVE_MEDIA_TYPE, UnpackedTooMuch};
use crate::cache::StreamError;
use crate::{
    DATA_MEDIA_TYPE, DownloadLimits, RegistryCache, SPIN_APPLICATION_MEDIA_TYPE,
    WASM_LAYER_MEDIA_TYPE, WASM_LAYER_MEDIA_TYPE_WKG,
};
use futures_util::StreamExt as _;
use spin_hint::Hinted;
use spin_locked_app::LockedApp;

/// An app whose blobs are all in the cache.
#[derive(Debug, Clone)]
pub struct PulledApp {
    /// The reference it was pulled by.
    pub reference: String,
    /// The image manifest's digest.
    pub digest: String,
    /// The locked app.
    pub locked: LockedApp,
    /// Blobs downloaded by this pull.
    pub downloaded: usize,
    /// Blobs that were already in the cache.
    pub cached: usize,
}

/// Pulls `reference` into `cache`, within `limits`.
pub async fn pull(
    reference: &str,
    insecure: bool,
    cache: &RegistryCache,
    progress: bool,
    limits: DownloadLimits,
) -> Result<PulledApp> {
    let reference = crate::parse_reference(reference)?;
    let client = crate::client(insecure);
    let auth = crate::auth::registry_auth(reference.resolve_registry())?;
    let explain = |e| crate::errors::explain(e, "pulling", &reference);
    let (manifest, digest) = client
        .pull_image_manifest(&reference, &auth)
        .await
        .map_err(explain)?;
    if let Some(pinned) = reference.digest()
        && pinned != digest
    {
        return Err(Hinted::new(
            format!("the registry answered `{reference}` with the manifest {digest}; nothing was run"),
            "the registry or something between it and you altered the artifact; check where it is served from",
        )
        .into());
    }
    let locked_layer = locked_app_descriptor(&manifest)?;

    // Layers the app needs: its locked form, Wasm and files. Spin's
    // archives of files are fetched only when the locked app names a file
    // no layer holds (below); other layers are left in the registry.
    let wanted: Vec<&OciDescriptor> = std::iter::once(locked_layer)
        .chain(manifest.layers.iter().filter(|l| {
            matches!(
                l.media_type.as_str(),
                WASM_LAYER_MEDIA_TYPE | WASM_LAYER_MEDIA_TYPE_WKG | DATA_MEDIA_TYPE
            )
        }))
        .collect();
    let mut missing = Vec::new();
    let mut cached = 0;
    for layer in wanted {
        crate::cache::digest_hex(&layer.digest)
            .with_context(|| format!("a layer of `{reference}`"))?;
        if cache.has_blob(&layer.digest) {
            cached += 1;
        } else if !missing
            .iter()
            .any(|l: &&OciDescriptor| l.digest == layer.digest)
        {
            missing.push(layer);
        }
    }
    let total = missing.iter().map(|l| l.size.max(0) as u64).sum();
    let bar = crate::progress_bar(progress, total, "Pulling");
    for layer in &missing {
        download(&client, &reference, layer, cache, &bar, limits).await?;
    }
    bar.finish_and_clear();

    let locked_path = cache.blob_path(&locked_layer.digest)?;
    let locked_bytes = std::fs::read(&locked_path)
        .with_context(|| format!("reading `{}`", locked_path.display()))?;
    let locked = LockedApp::from_json(&locked_bytes).map_err(|e| {
        Hinted::new(
            format!("the application layer of `{reference}` is not a Spin locked app: {e}"),
            "the artifact was not made by `spin registry push`; push it again with Spin or with this spin",
        )
    })?;
    let unpacked = unpack_archives(
        &client, &reference, &manifest, &locked, cache, progress, limits,
    )
    .await?;
    Ok(PulledApp {
        reference: reference.whole(),
        digest,
        locked,
        downloaded: missing.len() + unpacked,
        cached,
    })
}

/// The files `locked` names by digest that `cache` lacks.
fn absent_files(locked: &LockedApp, cache: &RegistryCache) -> HashSet<String> {
    locked
        .components
        .iter()
        .flat_map(|c| &c.files)
        .filter(|f| f.content.inline.is_none())
        .filter_map(|f| f.content.digest.clone())
        .filter(|digest| !cache.has_blob(digest))
        .collect()
}

/// When `locked` names files no layer brought, fetches the manifest's
/// archive layers (Spin's, past 500 layers) and keeps the files they hold;
/// returns how many archives were fetched. A file still absent is reported
/// by name when the app is run.
async fn unpack_archives(
    client: &oci_client::Client,
    reference: &oci_client::Reference,
    manifest: &OciImageManifest,
    locked: &LockedApp,
    cache: &RegistryCache,
    progress: bool,
    limits: DownloadLimits,
) -> Result<usize> {
    let wanted = absent_files(locked, cache);
    if wanted.is_empty() {
        return Ok(0);
    }
    let archives: Vec<&OciDescriptor> = manifest
        .layers
        .iter()
        .filter(|l| l.media_type == ARCHIVE_MEDIA_TYPE)
        .collect();
    let total = archives.iter().map(|l| l.size.max(0) as u64).sum();
    let bar = crate::progress_bar(progress, total, "Pulling");
    let mut fetched = 0;
    for layer in archives {
        crate::cache::digest_hex(&layer.digest)
            .with_context(|| format!("a layer of `{reference}`"))?;
        if !cache.has_blob(&layer.digest) {
            download(client, reference, layer, cache, &bar, limits).await?;
            fetched += 1;
        }
        let path = cache.blob_path(&layer.digest)?;
        let (into, wanted) = (cache.clone(), wanted.clone());
        tokio::task::spawn_blocking(move || {
            crate::archive::unpack_wanted(&into, &path, &wanted, limits.max_unpacked_bytes)
        })
        .await
        .context("unpacking an archive layer stopped unexpectedly")?
        .map_err(|e| {
            let hint = if e.downcast_ref::<UnpackedTooMuch>().is_some() {
                "if the application's files are this large, raise `--max-unpacked-size`"
            } else {
                "push the application again; the registry or whatever pushed it sent a broken archive"
            };
            Hinted::new(
                format!(
                    "the archive layer {} of `{reference}` cannot be unpacked: {e:#}",
                    layer.digest
                ),
                hint,
            )
        })?;
        if absent_files(locked, cache).is_empty() {
            break;
        }
    }
    bar.finish_and_clear();
    Ok(fetched)
}

/// Downloads `layer` of `reference` into `cache`, streamed to a file as it
/// arrives: at most what it declares (and at most
/// `limits.max_download_bytes`), kept only if it matches its digest.
async fn download(
    client: &oci_client::Client,
    reference: &oci_client::Reference,
    layer: &OciDescriptor,
    cache: &RegistryCache,
    bar: &indicatif::ProgressBar,
    limits: DownloadLimits,
) -> Result<()> {
    let explain = |e| crate::errors::explain(e, "pulling", reference);
    if layer.size < 0 {
        return Err(Hinted::new(
            format!(
                "the layer {} of `{reference}` declares a negative size ({}); it was not fetched",
                layer.digest, layer.size
            ),
            "the registry or whatever pushed the artifact wrote a broken manifest; push the application again",
        )
        .into());
    }
    let declared = u64::try_from(layer.size)
        .ok()
        .filter(|size| *size <= limits.max_download_bytes)
        .ok_or_else(|| {
            Hinted::new(
                format!(
                    "the layer {} of `{reference}` declares {} bytes, more than {}, the most one download may be; it was not fetched",
                    layer.digest,
                    layer.size,
                    crate::human_size(limits.max_download_bytes)
                ),
                "check the reference (a Spin app's layers are components and files); if its layers are this large, raise `--max-download-size`",
            )
        })?;
    let mut writer = cache.blob_writer(declared)?;
    let mut blob = client
        .pull_blob_stream(reference, layer)
        .await
        .map_err(explain)?;
    // Written piece by piece into the cache's directory as it arrives, so
    // a layer of any size holds one piece of memory at a time. The writes
    // are the page cache's (a pull runs before anything serves).
    while let Some(piece) = blob.stream.next().await {
        let piece = piece.map_err(|e| match stream_digest_error(e) {
            // The client checks the digest as the last piece arrives.
            Ok(mismatch) => explain(OciDistributionError::DigestError(mismatch)),
            Err(e) => Hinted::new(
                format!(
                    "downloading the layer {} of `{reference}` failed: {e}",
                    layer.digest
                ),
                "check the connection to the registry and pull again; nothing partial was kept",
            )
            .into(),
        })?;
        writer.write(&piece).map_err(|e| match e {
            StreamError::TooLarge => Hinted::new(
                format!(
                    "the registry sent more than the {declared} bytes the layer {} of `{reference}` declares; nothing from it was kept or run",
                    layer.digest
                ),
                "the registry or something between it and you altered the artifact; check where it is served from",
            )
            .into(),
            StreamError::Write(e) => e,
            StreamError::Read(e) => e.into(),
        })?;
        bar.inc(piece.len() as u64);
    }
    let incoming = writer.finish();
    if incoming.digest != layer.digest {
        return Err(Hinted::new(
            format!(
                "the layer {} of `{reference}` arrived as {}; it was not kept",
                layer.digest, incoming.digest
            ),
            "the registry or something between it and you altered the artifact; push it again and check where it is served from",
        )
        .into());
    }
    incoming.keep(cache)?;
    Ok(())
}

/// The digest mismatch a blob stream reports as its error, or the error.
fn stream_digest_error(e: std::io::Error) -> Result<DigestError, std::io::Error> {
    if !e.get_ref().is_some_and(|inner| inner.is::<DigestError>()) {
        return Err(e);
    }
    let inner = e.into_inner().expect("checked above");
    Ok(*inner.downcast::<DigestError>().expect("checked above"))
}

/// The layer holding the locked app; older Spin apps carry it as the
/// image config instead.
fn locked_app_descriptor(manifest: &OciImageManifest) -> Result<&OciDescriptor> {
    if let Some(layer) = manifest
        .layers
        .iter()
        .find(|l| l.media_type == SPIN_APPLICATION_MEDIA_TYPE)
    {
        return Ok(layer);
    }
    if manifest.config.media_type == SPIN_APPLICATION_MEDIA_TYPE {
        return Ok(&manifest.config);
    }
    let types: Vec<&str> = manifest
        .layers
        .iter()
        .map(|l| l.media_type.as_str())
        .collect();
    Err(Hinted::new(
        format!(
            "this artifact is not a Spin application: its config is `{}` and its layers are [{}], with no `{SPIN_APPLICATION_MEDIA_TYPE}` layer",
            manifest.config.media_type,
            types.join(", ")
        ),
        "check the reference: `spin up --from-registry` runs artifacts made by `spin registry push`",
    )
    .into())
}
