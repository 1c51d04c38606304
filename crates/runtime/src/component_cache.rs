//! Compile each component once: compiled artifacts are kept on disk, keyed by
//! the component's content and the engine's configuration, so a second
//! `spin up` only maps the artifact back in. Individual compiled functions are
//! cached too (see `function_cache`), so a component never compiled before
//! still reuses the code it shares with others — every componentize-py
//! component embeds the same CPython.

use anyhow::{Context as _, Result};
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::Path;
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::engine::RuntimeEngine;

/// Loads `path` as a component, compiling it only when no cached artifact for
/// this exact content and engine configuration exists in the engine's cache
/// directory.
pub fn load_component(runtime: &RuntimeEngine, path: &Path) -> Result<Component> {
    let engine = &runtime.engine;
    let Some(cache_dir) = runtime.options.cache_dir.as_deref() else {
        return Component::from_file(engine, path)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("compiling `{}`", path.display()));
    };
    // Hashing a 30 MB component costs more than loading its artifact, so a
    // small index remembers the hash of each file by path, size and mtime.
    let stamp = FileStamp::of(path)?;
    let index = cache_dir.join("components").join("index").join(format!(
        "{}.txt",
        hex::encode(Sha256::digest(path.as_os_str().as_encoded_bytes()))
    ));
    if let Some(key) = stamp.lookup(&index) {
        let artifact = cache_dir.join("components").join(format!("{key}.cwasm"));
        // SAFETY: see below.
        if let Ok(component) = unsafe { Component::deserialize_file(engine, &artifact) } {
            return Ok(component);
        }
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading `{}`", path.display()))?;
    let key = artifact_key(engine, &bytes);
    let _ = stamp.record(&index, &key);
    let artifact = cache_dir.join("components").join(format!("{key}.cwasm"));
    if artifact.exists() {
        // SAFETY: the artifact was written by `precompile_component` of an
        // engine with the same compatibility hash (part of the file name), in
        // a directory only this tool writes to.
        match unsafe { Component::deserialize_file(engine, &artifact) } {
            Ok(component) => return Ok(component),
            Err(err) => tracing::warn!(
                "ignoring the unusable cached artifact `{}`: {err:#}",
                artifact.display()
            ),
        }
    }
    // Several `spin up`s (or test processes) may start on the same new
    // component at once: the first compiles, the rest wait and load its work.
    std::fs::create_dir_all(artifact.parent().expect("artifact paths have a parent"))?;
    let lock = std::fs::File::create(artifact.with_extension("lock"))?;
    lock.lock()?;
    if artifact.exists() {
        // SAFETY: as above.
        if let Ok(component) = unsafe { Component::deserialize_file(engine, &artifact) } {
            return Ok(component);
        }
    }
    let compiled = engine
        .precompile_component(&bytes)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("compiling `{}`", path.display()))?;
    let cache = runtime.function_cache.as_deref();
    let cold = cache.is_some_and(|c| c.take_was_cold());
    if let Some(cache) = cache {
        cache.finish();
    }
    let written = write_atomically(&artifact, &compiled);
    drop(lock);
    if cold && let Some(cache) = cache {
        // Cranelift's cache key for a function can depend on whether the
        // function compiled before it was found in the cache. A cache filled
        // by one cold compilation missed ~1,050 functions of the next Python
        // app; one that had also seen a warm compilation missed ~500, and
        // that start took 1.6–1.8 s instead of 2.7–3.0 s. So, once, after the
        // first cold compilation, compile again to record those keys.
        tracing::debug!(
            "compiling `{}` once more to warm the function cache",
            path.display()
        );
        let _ = engine.precompile_component(&bytes);
        cache.take_was_cold();
        cache.finish();
    }
    if let Err(err) = written {
        tracing::warn!("could not cache the compiled component: {err:#}");
        // SAFETY: `compiled` was just produced by this engine.
        return unsafe { Component::deserialize(engine, &compiled) }.map_err(Into::into);
    }
    // SAFETY: as above; the file is the artifact just written.
    unsafe { Component::deserialize_file(engine, &artifact) }.map_err(Into::into)
}

/// A file's identity for the hash index: its size and modification time.
struct FileStamp(String);

impl FileStamp {
    fn of(path: &Path) -> Result<Self> {
        let meta =
            std::fs::metadata(path).with_context(|| format!("reading `{}`", path.display()))?;
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        Ok(Self(format!("{} {mtime}", meta.len())))
    }

    /// The key recorded for this stamp, if the file has not changed since.
    fn lookup(&self, index: &Path) -> Option<String> {
        let text = std::fs::read_to_string(index).ok()?;
        let (stamp, key) = text.trim().rsplit_once(' ')?;
        (stamp == self.0).then(|| key.to_string())
    }

    fn record(&self, index: &Path, key: &str) -> Result<()> {
        write_atomically(index, format!("{} {key}", self.0).as_bytes())
    }
}

/// The cache key: the component's SHA-256 and the engine's compatibility hash.
fn artifact_key(engine: &Engine, bytes: &[u8]) -> String {
    let mut hasher = std::hash::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!(
        "{}-{:016x}",
        hex::encode(Sha256::digest(bytes)),
        hasher.finish()
    )
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().expect("artifact paths have a parent");
    std::fs::create_dir_all(dir).with_context(|| format!("creating `{}`", dir.display()))?;
    let tmp = dir.join(format!(".tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing `{}`", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing `{}`", path.display()))
}
