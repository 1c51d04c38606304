//! Compile each component once: compiled artifacts are kept on disk, keyed by
//! the component's content and the engine's configuration, so a second
//! `spin up` only maps the artifact back in. Individual compiled functions are
//! cached too (see `function_cache`), so a component never compiled before
//! still reuses the code it shares with others — every componentize-py
//! component embeds the same CPython.

use anyhow::{Context as _, Result};
use sha2::{Digest, Sha256};
use std::fs::OpenOptions;
use std::hash::{Hash, Hasher};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::engine::RuntimeEngine;
use crate::private_files::{ensure_private_dir, is_private, write_private};

/// Loads `path` as a component, compiling it only when no cached artifact for
/// this exact content and engine configuration exists in the engine's cache
/// directory.
///
/// The artifact is found by the SHA-256 of the component's bytes, computed
/// at every start (about 20 ms for a 30 MB Python component with the CPU's
/// SHA instructions): a file's path, size and modification time, which an
/// earlier version trusted instead, can all stay the same while its content
/// changes, and then the wrong native code would run.
pub fn load_component(runtime: &RuntimeEngine, path: &Path) -> Result<Component> {
    let engine = &runtime.engine;
    let bytes = std::fs::read(path).with_context(|| format!("reading `{}`", path.display()))?;
    let compile = |bytes: &[u8]| {
        engine
            .precompile_component(bytes)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("compiling `{}`", path.display()))
    };
    let Some(dir) = runtime
        .options
        .cache_dir
        .as_deref()
        .map(|d| d.join("components"))
    else {
        return Component::new(engine, &bytes)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("compiling `{}`", path.display()));
    };
    if let Err(err) = ensure_private_dir(&dir) {
        tracing::warn!(
            "not caching compiled code: {err}\n\nhint: remove `{}` or give it to this user with mode 0700",
            dir.display()
        );
        return Component::new(engine, &bytes).map_err(Into::into);
    }
    let artifact = dir.join(ArtifactKey::new(engine, &bytes).file_name());
    if let Some(component) = load_cached(engine, &artifact) {
        return Ok(component);
    }
    // Several `spin up`s (or test processes) may start on the same new
    // component at once: the first compiles, the rest wait and load its work.
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(artifact.with_extension("lock"))?;
    lock.lock()?;
    if let Some(component) = load_cached(engine, &artifact) {
        return Ok(component);
    }
    let compiled = compile(&bytes)?;
    let cache = runtime.function_cache.as_deref();
    let cold = cache.is_some_and(|c| c.take_was_cold());
    if let Some(cache) = cache {
        cache.finish();
    }
    let written = write_private(&artifact, &compiled);
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
        tracing::warn!(
            "could not cache the compiled component in `{}`: {err}",
            artifact.display()
        );
        // SAFETY: `compiled` was just produced by this engine.
        return unsafe { Component::deserialize(engine, &compiled) }.map_err(Into::into);
    }
    // SAFETY: the file is the artifact just written, in a directory only
    // this user can write to.
    unsafe { Component::deserialize_file(engine, &artifact) }.map_err(Into::into)
}

/// The cached artifact at `artifact`, if there is a usable one.
fn load_cached(engine: &Engine, artifact: &Path) -> Option<Component> {
    let meta = std::fs::symlink_metadata(artifact).ok()?;
    if !is_private(&meta) {
        tracing::warn!(
            "ignoring the cached artifact `{}`: another user could have written it",
            artifact.display()
        );
        return None;
    }
    // SAFETY: the artifact was written by `precompile_component` of an engine
    // with the same compatibility hash (part of its name) and the same
    // component bytes (the rest of its name), into a directory and a file
    // that only this user can write (checked above and by
    // `ensure_private_dir`). wasmtime also checks its header.
    match unsafe { Component::deserialize_file(engine, artifact) } {
        Ok(component) => Some(component),
        Err(err) => {
            tracing::warn!(
                "ignoring the unusable cached artifact `{}`: {err:#}",
                artifact.display()
            );
            None
        }
    }
}

/// The name of a cached artifact: the component's SHA-256 and the engine's
/// compatibility hash, both hex, so it is always a plain file name.
struct ArtifactKey(String);

impl ArtifactKey {
    fn new(engine: &Engine, bytes: &[u8]) -> Self {
        let mut hasher = std::hash::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Self(format!(
            "{}-{:016x}",
            hex::encode(Sha256::digest(bytes)),
            hasher.finish()
        ))
    }

    fn file_name(&self) -> String {
        format!("{}.cwasm", self.0)
    }
}
