//! Compile each component once: compiled artifacts are kept on disk, keyed by
//! the component's content and the engine's configuration, so a second
//! `spin up` only maps the artifact back in. Individual compiled functions are
//! cached too (Cranelift's incremental cache), so a component never compiled
//! before still reuses the code it shares with others — every
//! componentize-py component embeds the same CPython.

use anyhow::{Context as _, Result};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
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

/// Cranelift's incremental compilation cache, one file per compiled function.
#[derive(Debug)]
pub struct IncrementalCache {
    dir: PathBuf,
    /// Lookups and misses since the last `take_was_cold`.
    lookups: AtomicUsize,
    misses: AtomicUsize,
}

impl IncrementalCache {
    /// A cache stored under `dir` (created on first write).
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            lookups: AtomicUsize::new(0),
            misses: AtomicUsize::new(0),
        }
    }

    /// Whether the compilation since the last call found less than half of
    /// its (more than 1,000) functions here: the first Python app compiled
    /// on this machine. Resets the counts.
    pub fn take_was_cold(&self) -> bool {
        let lookups = self.lookups.swap(0, Ordering::Relaxed);
        let misses = self.misses.swap(0, Ordering::Relaxed);
        lookups > 1000 && misses * 2 > lookups
    }

    fn path(&self, key: &[u8]) -> PathBuf {
        let name = hex::encode(Sha256::digest(key));
        self.dir.join(&name[..2]).join(&name[2..])
    }
}

impl wasmtime::CacheStore for IncrementalCache {
    fn get(&self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        self.lookups.fetch_add(1, Ordering::Relaxed);
        let found = std::fs::read(self.path(key)).ok().map(Cow::Owned);
        if found.is_none() {
            self.misses.fetch_add(1, Ordering::Relaxed);
        }
        found
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        let path = self.path(key);
        let dir = path.parent().expect("cache paths have a parent");
        let tmp = dir.join(format!(
            ".tmp-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(dir).is_ok()
            && std::fs::write(&tmp, &value).is_ok()
            && std::fs::rename(&tmp, &path).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::CacheStore as _;

    #[test]
    fn a_compilation_is_cold_when_most_functions_miss() {
        let dir = std::env::temp_dir().join(format!("spin-fn-cache-{}", std::process::id()));
        let cache = IncrementalCache::new(dir.clone());
        let key = |i: u32| i.to_le_bytes();
        for i in 0..2000 {
            assert!(cache.get(&key(i)).is_none());
            if i % 2 == 0 {
                assert!(cache.insert(&key(i), vec![1]));
            }
        }
        assert!(cache.take_was_cold(), "2,000 misses of 2,000");
        assert!(!cache.take_was_cold(), "the counts start again");

        for i in 0..2000 {
            let _ = cache.get(&key(i));
        }
        assert!(!cache.take_was_cold(), "1,000 misses of 2,000");
        for i in 0..500 {
            let _ = cache.get(&key(i * 2 + 1));
        }
        assert!(!cache.take_was_cold(), "too few lookups to tell");
        let _ = std::fs::remove_dir_all(dir);
    }
}
