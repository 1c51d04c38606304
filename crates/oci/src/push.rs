//! `spin registry push`: the app, locked, in Spin's artifact layout.

use anyhow::{Context as _, Result, bail};
use bytes::Bytes;
use futures_util::stream;
use indicatif::ProgressBar;
use oci_client::client::{Config, ImageLayer};
use oci_client::manifest::{OciImageManifest, OciManifest};
use oci_client::{Reference, RegistryOperation};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use crate::{
    DATA_MEDIA_TYPE, INLINE_MAX_BYTES, SPIN_APPLICATION_MEDIA_TYPE, WASM_LAYER_MEDIA_TYPE,
};
use spin_locked_app::{ComponentContent, ContentPath, ContentRef};
use spin_manifest::{App, ComponentSource};

/// How to push.
#[derive(Debug, Clone, Default)]
pub struct PushOptions {
    /// Plain HTTP, any certificate (`-k/--insecure`).
    pub insecure: bool,
    /// Annotations given with `--annotation`; they win over the inferred ones.
    pub annotations: BTreeMap<String, String>,
    /// Show a progress bar on stderr.
    pub progress: bool,
    /// Pack each component's files into one archive layer however few
    /// layers there are (Spin's `SPIN_OCI_ARCHIVE_LAYERS`); past
    /// [`MAX_LAYERS`] they always are.
    pub archive_layers: bool,
}

/// The most layers a push gives a manifest with a layer per file: past it,
/// as in Spin, each component's files go in one archive layer instead (500
/// is the most Amazon ECR takes; the locked app is one of them).
pub const MAX_LAYERS: usize = 500;

/// What a push did.
#[derive(Debug, Clone)]
pub struct PushOutcome {
    /// The reference pushed to.
    pub reference: String,
    /// The image manifest's digest.
    pub digest: String,
    /// Blobs uploaded (layers and config).
    pub uploaded: usize,
    /// Blobs the registry already had.
    pub skipped: usize,
    /// Bytes uploaded.
    pub uploaded_bytes: u64,
    /// Archive layers the files went in (none when each file has a layer).
    pub archive_layers: usize,
}

/// Pushes `app` (already built) to `reference`.
pub async fn push(app: &App, reference: &str, options: &PushOptions) -> Result<PushOutcome> {
    let reference = crate::parse_reference(reference)?;
    let assembled = assemble(app)?;
    let (mut layers, archive_layers) = assembled.layers(options.archive_layers)?;
    let locked_bytes = assembled.locked.to_json();
    let locked_layer = ImageLayer::new(locked_bytes, SPIN_APPLICATION_MEDIA_TYPE.to_owned(), None);
    let locked_digest = locked_layer.sha256_digest();
    layers.push(locked_layer);
    dedup(&mut layers);

    let config = image_config(&locked_digest)?;
    let annotations = annotations(app, &options.annotations);
    let manifest = OciImageManifest::build(&layers, &config, Some(annotations));

    let client = crate::client(options.insecure);
    let auth = crate::auth::registry_auth(reference.resolve_registry())?;
    client
        .auth(&reference, &auth, RegistryOperation::Push)
        .await
        .map_err(|e| crate::errors::explain(e, "pushing", &reference))?;

    let mut blobs: Vec<(String, Bytes)> = layers
        .iter()
        .map(|l| (l.sha256_digest(), l.data.clone()))
        .collect();
    blobs.push((manifest.config.digest.clone(), config.data.clone()));

    let mut missing = Vec::new();
    for (digest, data) in blobs {
        let exists = client
            .blob_exists(&reference, &digest)
            .await
            .map_err(|e| crate::errors::explain(e, "pushing", &reference))?;
        if !exists {
            missing.push((digest, data));
        }
    }
    let skipped = layers.len() + 1 - missing.len();
    let total: u64 = missing.iter().map(|(_, d)| d.len() as u64).sum();
    let bar = crate::progress_bar(options.progress, total, "Pushing");
    for (digest, data) in &missing {
        upload(&client, &reference, digest, data.clone(), &bar).await?;
    }
    bar.finish_and_clear();

    let body = serde_json::to_vec(&OciManifest::Image(manifest)).expect("a manifest serialises");
    let digest = crate::sha256_digest(&body);
    client
        .push_manifest_raw(
            &reference,
            body,
            oci_client::manifest::OCI_IMAGE_MEDIA_TYPE
                .parse()
                .expect("a valid media type"),
        )
        .await
        .map_err(|e| crate::errors::explain(e, "pushing", &reference))?;
    Ok(PushOutcome {
        reference: reference.whole(),
        digest,
        uploaded: missing.len(),
        skipped,
        uploaded_bytes: total,
        archive_layers,
    })
}

/// Chunk size for uploads: small enough for a smooth progress bar, large
/// enough that a 40 MB component is 40 requests.
const CHUNK: usize = 1 << 20;

async fn upload(
    client: &oci_client::Client,
    reference: &Reference,
    digest: &str,
    data: Bytes,
    bar: &ProgressBar,
) -> Result<()> {
    let chunks: Vec<oci_client::errors::Result<Bytes>> = (0..data.len())
        .step_by(CHUNK)
        .map(|start| Ok(data.slice(start..(start + CHUNK).min(data.len()))))
        .collect();
    let counted = {
        let bar = bar.clone();
        futures_util::StreamExt::inspect(stream::iter(chunks), move |c| {
            if let Ok(c) = c {
                bar.inc(c.len() as u64);
            }
        })
    };
    let size = Some(data.len() as u64);
    match client
        .push_blob_stream(reference, counted, digest, size)
        .await
    {
        Ok(_) => Ok(()),
        // A registry that cannot take chunks takes the blob whole.
        Err(oci_client::errors::OciDistributionError::SpecViolationError(_)) => client
            .push_blob(reference, data, digest)
            .await
            .map(drop)
            .map_err(|e| crate::errors::explain(e, "pushing", reference)),
        Err(e) => Err(crate::errors::explain(e, "pushing", reference)),
    }
}

/// An app made ready to push: its Wasm, its files, its locked form.
struct Assembled {
    /// A layer per component's Wasm.
    wasm: Vec<ImageLayer>,
    /// Each component's files (those it has).
    files: Vec<Vec<StagedFile>>,
    /// The locked app, naming every file and Wasm by its digest.
    locked: spin_locked_app::LockedApp,
}

/// One file of a component, with the layer it would have of its own.
struct StagedFile {
    /// Its path under the component's root, `/`-separated.
    path: String,
    /// Its bytes, as a data layer.
    layer: ImageLayer,
    /// Whether the locked app carries it inline (then it needs no layer).
    inline: bool,
}

impl Assembled {
    /// The Wasm and file layers: a layer per file not inline, or, past
    /// [`MAX_LAYERS`] or when `archive` asks, an archive layer per
    /// component with files (all of them, as Spin packs them). Returns how
    /// many archive layers there are.
    fn layers(&self, archive: bool) -> Result<(Vec<ImageLayer>, usize)> {
        let mut layers = self.wasm.clone();
        layers.extend(
            self.files
                .iter()
                .flatten()
                .filter(|f| !f.inline)
                .map(|f| f.layer.clone()),
        );
        dedup(&mut layers);
        // One more for the locked app.
        if !archive && layers.len() < MAX_LAYERS {
            return Ok((layers, 0));
        }
        let mut layers = self.wasm.clone();
        for files in self.files.iter().filter(|f| !f.is_empty()) {
            let packed =
                crate::archive::pack(files.iter().map(|f| (f.path.as_str(), &f.layer.data[..])))?;
            layers.push(ImageLayer::new(
                packed,
                crate::archive::ARCHIVE_MEDIA_TYPE.to_owned(),
                None,
            ));
        }
        // Components with the same files share their archive.
        dedup(&mut layers);
        let archives = layers
            .iter()
            .filter(|l| l.media_type == crate::archive::ARCHIVE_MEDIA_TYPE)
            .count();
        Ok((layers, archives))
    }
}

/// The app's Wasm and files, and its locked form naming them.
fn assemble(app: &App) -> Result<Assembled> {
    let staging = tempfile::tempdir().context("creating a staging directory")?;
    let mut wasm_layers = Vec::new();
    let mut all_files = Vec::new();
    let mut contents = BTreeMap::new();
    for component in &app.components {
        let wasm_path = match &component.source.value {
            ComponentSource::Local(path) => app.dir.join(path),
            ComponentSource::Remote { url, .. } => {
                return Err(spin_hint::Hinted::new(
                    format!(
                        "component `{}` has a URL source (`{url}`), which is to be downloaded before the app is packaged",
                        component.id
                    ),
                    "push with `spin registry push`, which downloads it first (`remote_source::resolve`)",
                )
                .into());
            }
        };
        let wasm = std::fs::read(&wasm_path).with_context(|| {
            spin_hint::Hinted::new(
                format!(
                    "cannot read the Wasm of component `{}` at `{}`",
                    component.id,
                    wasm_path.display()
                ),
                "build the app first (`spin build`, or `spin registry push --build`)",
            )
        })?;
        if !wasm.starts_with(b"\0asm") {
            bail!(
                "`{}`, the source of component `{}`, is not a Wasm binary",
                wasm_path.display(),
                component.id
            );
        }
        let layer = ImageLayer::new(wasm, WASM_LAYER_MEDIA_TYPE.to_owned(), None);
        let wasm_ref = ContentRef {
            digest: Some(layer.sha256_digest()),
            ..Default::default()
        };
        wasm_layers.push(layer);

        // The same staging `spin up` does: globs matched, exclusions
        // applied, links checked to stay inside the app.
        let mounts = spin_runtime::files::prepare(
            &app.dir,
            &staging.path().join(&component.id),
            component,
            spin_runtime::files::MountOptions::default(),
        )
        .with_context(|| format!("collecting the files of component `{}`", component.id))?;
        let mut staged = Vec::new();
        for (host_dir, guest_dir) in &mounts.0 {
            collect_files(host_dir, guest_dir, &mut staged)?;
        }
        staged.sort_by(|a, b| a.path.cmp(&b.path));
        let files = staged
            .iter()
            .map(|f| ContentPath {
                content: ContentRef {
                    inline: f.inline.then(|| f.layer.data.to_vec()),
                    digest: Some(f.layer.sha256_digest()),
                    source: None,
                },
                path: f.path.clone(),
            })
            .collect();
        all_files.push(staged);
        contents.insert(
            component.id.clone(),
            ComponentContent {
                wasm: wasm_ref,
                files,
            },
        );
    }
    let locked = spin_locked_app::lock(app, &contents);
    Ok(Assembled {
        wasm: wasm_layers,
        files: all_files,
        locked,
    })
}

fn collect_files(host_dir: &Path, guest_dir: &str, files: &mut Vec<StagedFile>) -> Result<()> {
    let guest_dir = guest_dir.trim_matches('/');
    for entry in walkdir::WalkDir::new(host_dir).sort_by_file_name() {
        let entry = entry.with_context(|| format!("reading `{}`", host_dir.display()))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let relative = entry
            .path()
            .strip_prefix(host_dir)
            .expect("walked under host_dir");
        let relative: Vec<String> = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let mut path = relative.join("/");
        if !guest_dir.is_empty() {
            path = format!("{guest_dir}/{path}");
        }
        let bytes = std::fs::read(entry.path())
            .with_context(|| format!("reading `{}`", entry.path().display()))?;
        let layer = ImageLayer::new(bytes, DATA_MEDIA_TYPE.to_owned(), None);
        let inline = layer.data.len() <= INLINE_MAX_BYTES;
        files.push(StagedFile {
            path,
            layer,
            inline,
        });
    }
    Ok(())
}

fn dedup(layers: &mut Vec<ImageLayer>) {
    let mut seen = HashSet::new();
    layers.retain(|l| seen.insert(l.sha256_digest()));
}

/// An OCI image config, as Spin writes it: the locked app's digest in a
/// label keeps two apps from sharing an image id in container runtimes.
fn image_config(locked_digest: &str) -> Result<Config> {
    let config = serde_json::json!({
        "architecture": "wasm",
        "os": "wasip1",
        "config": { "Labels": { "com.fermyon.spin.lockedAppDigest": locked_digest } },
        "rootfs": { "type": "layers", "diff_ids": [] },
    });
    Ok(Config::new(
        serde_json::to_vec(&config)?,
        oci_client::manifest::IMAGE_CONFIG_MEDIA_TYPE.to_owned(),
        None,
    ))
}

/// `org.opencontainers.image.*` annotations from the app, then the
/// user's, which win.
fn annotations(app: &App, explicit: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut all = BTreeMap::new();
    let mut add = |key: &str, value: Option<String>| {
        if let Some(v) = value {
            all.insert(format!("org.opencontainers.image.{key}"), v);
        }
    };
    add("title", Some(app.name.clone()));
    add("version", app.version.clone());
    add("description", app.description.clone());
    add(
        "authors",
        (!app.authors.is_empty()).then(|| app.authors.join(", ")),
    );
    add("created", Some(chrono::Utc::now().to_rfc3339()));
    all.extend(explicit.clone());
    all
}
