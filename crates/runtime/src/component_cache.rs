//! Compile each component once: compiled artifacts are kept on disk, keyed by
//! the component's content and the engine's configuration, so a second
//! `spin up` only maps the artifact back in. Individual compiled functions are
//! cached too (see `function_cache`), so a component never compiled before
//! still reuses the code it shares with others — every componentize-py
//! component embeds the same CPython.

use anyhow::{Context as _, Result};
use std::fs::OpenOptions;
use std::hash::{Hash, Hasher};
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _};
use std::path::Path;
use wasmtime::component::Component;
use wasmtime::{Engine, Module};

use crate::engine::RuntimeEngine;
use crate::private_files::{ensure_private_dir, is_private, write_private};

/// Whether `path` holds Wasm: it starts with the binary format's magic
/// number, or is Wasm text named `.wat`.
pub fn is_wasm_file(path: &Path) -> bool {
    use std::io::Read as _;
    if path.extension().is_some_and(|e| e == "wat") {
        return true;
    }
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| &magic == b"\0asm")
}

/// What the cache compiles and keeps: a component, or a core module (a
/// Wagi module). Both are found the same way; they differ in how wasmtime
/// compiles and loads them.
pub(crate) trait Compiled: Sized {
    /// What kind of artifact it is: part of its cache key, since a core
    /// module's bytes may be compiled as a Wagi module or, turned into a
    /// component, as a Spin 1 module.
    const KIND: &'static str;
    /// The bytes to compile instead of `bytes` (read from `path`), if any.
    fn prepare(bytes: &[u8], path: &Path) -> Result<Option<Vec<u8>>>;
    /// Compiles `bytes` for use now (no cache).
    fn compile(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self>;
    /// Compiles `bytes` into an artifact.
    fn precompile(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Vec<u8>>;
    /// Loads an artifact.
    ///
    /// # Safety
    /// `bytes` must come from [`Compiled::precompile`] of a compatible
    /// engine (wasmtime checks the header, not the code).
    unsafe fn deserialize(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self>;
    /// Loads the artifact at `path`.
    ///
    /// # Safety
    /// As for [`Compiled::deserialize`], and nobody else may write the file.
    unsafe fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Self>;
}

impl Compiled for Component {
    const KIND: &'static str = "component";
    fn prepare(bytes: &[u8], path: &Path) -> Result<Option<Vec<u8>>> {
        if spin_componentize::is_core_module(bytes) {
            return spin1_componentized(bytes, path).map(Some);
        }
        wasip3_bridged(bytes, path)
    }
    fn compile(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self> {
        Component::new(engine, bytes)
    }
    fn precompile(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Vec<u8>> {
        engine.precompile_component(bytes)
    }
    unsafe fn deserialize(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self> {
        // SAFETY: the caller's.
        unsafe { Component::deserialize(engine, bytes) }
    }
    unsafe fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Self> {
        // SAFETY: the caller's.
        unsafe { Component::deserialize_file(engine, path) }
    }
}

impl Compiled for Module {
    const KIND: &'static str = "module";
    fn prepare(_: &[u8], _: &Path) -> Result<Option<Vec<u8>>> {
        Ok(None)
    }
    fn compile(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self> {
        Module::new(engine, bytes)
    }
    fn precompile(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Vec<u8>> {
        engine.precompile_module(bytes)
    }
    unsafe fn deserialize(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self> {
        // SAFETY: the caller's.
        unsafe { Module::deserialize(engine, bytes) }
    }
    unsafe fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Self> {
        // SAFETY: the caller's.
        unsafe { Module::deserialize_file(engine, path) }
    }
}

/// Loads `path` as a core module (a Wagi module), cached as components are
/// (see [`load_component`]).
pub fn load_module(runtime: &RuntimeEngine, path: &Path) -> Result<Module> {
    load_compiled(runtime, path)
}

/// Loads `path` as a component, compiling it only when no cached artifact for
/// this exact content and engine configuration exists in the engine's cache
/// directory.
///
/// The artifact is found by the BLAKE3 hash of the component's bytes.
/// Reading and hashing a 37 MB Python component at every start made a warm
/// start take 55 ms (BLAKE3) or 70 ms (SHA-256) instead of 25 (medians of 8,
/// 2026-11-27), so a private index remembers each file's hash by its
/// [`FileStamp`]: device, inode, size, and modification *and change* times.
/// An earlier index used the path, size and mtime only, and any program can
/// set a file's mtime back after changing it; the change time (ctime) is
/// set by the kernel on every write and cannot be set back.
pub fn load_component(runtime: &RuntimeEngine, path: &Path) -> Result<Component> {
    load_compiled(runtime, path)
}

/// [`load_component`] and [`load_module`].
fn load_compiled<C: Compiled>(runtime: &RuntimeEngine, path: &Path) -> Result<C> {
    let engine = &runtime.engine;
    let cache_dir = runtime.options.cache_dir.as_deref();
    let dir = cache_dir.map(|d| d.join("components"));
    let index = dir.as_ref().map(|d| d.join("index"));
    // The fast path of a warm start: the index names the artifact.
    if let (Some(dir), Some(index)) = (&dir, &index)
        && ensure_private_dir(index).is_ok()
        && let Ok(stamp) = FileStamp::of(path)
        && let Some(key) = stamp.lookup(&index.join(FileStamp::index_name(path)))
        && key.is_for::<C>(engine)
        && let Some(component) = load_cached::<C>(engine, &dir.join(key.file_name()))
    {
        return Ok(component);
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading `{}`", path.display()))?;
    let compile = |bytes: &[u8]| {
        C::precompile(engine, bytes)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("compiling `{}`", path.display()))
    };
    let Some(dir) = dir else {
        let bridged = C::prepare(&bytes, path)?;
        return C::compile(engine, bridged.as_deref().unwrap_or(&bytes))
            .map_err(anyhow::Error::from)
            .with_context(|| format!("compiling `{}`", path.display()));
    };
    if let Err(err) = ensure_private_dir(&dir) {
        tracing::warn!(
            "not caching compiled code: {err}\n\nhint: remove `{}` or give it to this user with mode 0700",
            dir.display()
        );
        let bridged = C::prepare(&bytes, path)?;
        return C::compile(engine, bridged.as_deref().unwrap_or(&bytes)).map_err(Into::into);
    }
    let key = ArtifactKey::new::<C>(engine, &bytes);
    let artifact = dir.join(key.file_name());
    if let Some(index) = &index
        && ensure_private_dir(index).is_ok()
        && let Ok(stamp) = FileStamp::of(path)
    {
        stamp.record(&index.join(FileStamp::index_name(path)), &key);
    }
    if let Some(component) = load_cached::<C>(engine, &artifact) {
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
    if let Some(component) = load_cached::<C>(engine, &artifact) {
        return Ok(component);
    }
    let bridged = C::prepare(&bytes, path)?;
    let compiled_bytes = bridged.as_deref().unwrap_or(&bytes);
    let compiled = compile(compiled_bytes)?;
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
        let _ = C::precompile(engine, compiled_bytes);
        cache.take_was_cold();
        cache.finish();
    }
    if let Err(err) = written {
        tracing::warn!(
            "could not cache the compiled component in `{}`: {err}",
            artifact.display()
        );
        // SAFETY: `compiled` was just produced by this engine.
        return unsafe { C::deserialize(engine, &compiled) }.map_err(Into::into);
    }
    // SAFETY: the file is the artifact just written, in a directory only
    // this user can write to.
    unsafe { C::deserialize_file(engine, &artifact) }.map_err(Into::into)
}

/// The component a Spin 1 module (`bytes`, at `path`) becomes.
fn spin1_componentized(bytes: &[u8], path: &Path) -> Result<Vec<u8>> {
    spin_componentize::componentize(bytes).map_err(|e| {
        let hint = match e {
            spin_componentize::Error::NotSpin => {
                "a Spin component is a WebAssembly component, or a module built by one of Spin 1's SDKs; a WASI command runs with `executor = { type = \"wagi\" }` on its HTTP trigger"
            }
            _ => "rebuild it with a current Spin SDK (for Python, `spin py2wasm` or componentize-py with spin-sdk)",
        };
        spin_hint::Hinted::new(format!("`{}` cannot be served: {e}", path.display()), hint).into()
    })
}

/// `bytes` wrapped to link against WASI 0.3.0 alone, when it uses WASI
/// 0.3.0-rc-2026-03-15 names (spin-sdk 4.x and 5.x components). The
/// artifact key stays the hash of the file as written, so a warm start
/// neither reads nor wraps it.
fn wasip3_bridged(bytes: &[u8], path: &Path) -> Result<Option<Vec<u8>>> {
    spin_wasip3_rc::bridge(bytes).with_context(|| {
        format!(
            "adapting `{}` from WASI {} to {}",
            path.display(),
            spin_wasip3_rc::RELEASE_CANDIDATE,
            spin_wasip3_rc::RELEASE
        )
    })
}

/// The cached artifact at `artifact`, if there is a usable one.
fn load_cached<C: Compiled>(engine: &Engine, artifact: &Path) -> Option<C> {
    let meta = std::fs::symlink_metadata(artifact).ok()?;
    if !is_private(&meta) {
        tracing::warn!(
            "ignoring the cached artifact `{}`: another user could have written it",
            artifact.display()
        );
        return None;
    }
    // SAFETY: the artifact was written by `C::precompile` of an engine
    // with the same compatibility hash (part of its name) from the same
    // source bytes (the rest of its name), into a directory and a file that
    // only this user can write (checked above and by `ensure_private_dir`).
    // One file's bytes compile as a module or as a component, never both,
    // so a name holds one kind; should a file change between the check of
    // its kind and this load, wasmtime refuses an artifact of the other
    // kind by its header (and its compatibility) before using any of it.
    match unsafe { C::deserialize_file(engine, artifact) } {
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

/// The name of a cached artifact: the component's BLAKE3 hash and the
/// engine's compatibility hash, both hex, so it is always a plain file name.
#[derive(Debug, PartialEq)]
struct ArtifactKey(String);

impl ArtifactKey {
    /// A key read back from the index, if it has the shape of one (64 and
    /// 16 hex digits): anything else never becomes part of a path.
    fn parse(text: &str) -> Option<Self> {
        let (hash, engine) = text.split_once('-')?;
        let hex = |s: &str, len| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
        (hex(hash, 64) && hex(engine, 16)).then(|| Self(text.to_string()))
    }

    fn new<C: Compiled>(engine: &Engine, bytes: &[u8]) -> Self {
        Self(format!(
            "{}-{:016x}",
            blake3::hash(bytes).to_hex(),
            Self::engine_hash::<C>(engine)
        ))
    }

    /// What besides the component's bytes decides an artifact: the
    /// engine's settings and the release-candidate wrapping.
    fn engine_hash<C: Compiled>(engine: &Engine) -> u64 {
        let mut hasher = std::hash::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        C::KIND.hash(&mut hasher);
        // An artifact holds the wrapped component (see `wasip3_bridged`),
        // or the component a Spin 1 module became. Both versions belong
        // here, not in the content half of the key: a warm start checks
        // only this half of a key it reads back from the index.
        spin_wasip3_rc::BRIDGE_VERSION.hash(&mut hasher);
        spin_componentize::COMPONENTIZE_VERSION.hash(&mut hasher);
        hasher.finish()
    }

    /// Whether this key (read back from the index) names an artifact of
    /// this engine and wrapping: after an upgrade, the index still names
    /// the old ones.
    fn is_for<C: Compiled>(&self, engine: &Engine) -> bool {
        self.0
            .ends_with(&format!("-{:016x}", Self::engine_hash::<C>(engine)))
    }

    fn file_name(&self) -> String {
        format!("{}.cwasm", self.0)
    }
}

/// What identifies one version of a file without reading it: its device,
/// inode, size, and modification and change times in nanoseconds.
#[derive(Debug, PartialEq, Eq)]
struct FileStamp(String);

impl FileStamp {
    fn of(path: &Path) -> std::io::Result<Self> {
        let meta = std::fs::metadata(path)?;
        let nanos = |secs: i64, nsec: i64| i128::from(secs) * 1_000_000_000 + i128::from(nsec);
        Ok(Self(format!(
            "{}:{}:{}:{}:{}",
            meta.dev(),
            meta.ino(),
            meta.len(),
            nanos(meta.mtime(), meta.mtime_nsec()),
            nanos(meta.ctime(), meta.ctime_nsec()),
        )))
    }

    /// The index file for `path`, named by a hash of the path.
    fn index_name(path: &Path) -> String {
        format!(
            "{}.txt",
            blake3::hash(path.as_os_str().as_encoded_bytes()).to_hex()
        )
    }

    /// The key recorded for this stamp, if the file has not changed since.
    fn lookup(&self, index: &Path) -> Option<ArtifactKey> {
        let meta = std::fs::symlink_metadata(index).ok()?;
        if !is_private(&meta) {
            return None;
        }
        let text = std::fs::read_to_string(index).ok()?;
        let (stamp, key) = text.trim().rsplit_once(' ')?;
        if stamp != self.0 {
            return None;
        }
        ArtifactKey::parse(key)
    }

    /// Records `key` for this stamp, unless the file changed within the
    /// last two seconds: a write landing in the same clock tick as the
    /// stamp (git's "racily clean" case) would leave the stamp unchanged, so
    /// such a file is hashed again next time instead.
    fn record(&self, index: &Path, key: &ArtifactKey) {
        let recent = self
            .0
            .rsplit(':')
            .next()
            .and_then(|ctime| ctime.parse::<i128>().ok())
            .is_none_or(|ctime| {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as i128);
                now - ctime < 2_000_000_000
            });
        if !recent {
            let _ = write_private(index, format!("{} {}", self.0, key.0).as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_keys_are_read_back() {
        let good = format!("{}-{}", "a".repeat(64), "0".repeat(16));
        assert!(ArtifactKey::parse(&good).is_some());
        for bad in [
            "../../etc/passwd".to_string(),
            format!("{}-{}/x", "a".repeat(64), "0".repeat(16)),
            format!("{}-{}", "g".repeat(64), "0".repeat(16)),
            String::new(),
        ] {
            assert!(ArtifactKey::parse(&bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn debug_info_builds_are_cached_apart() {
        let engine = |debug_info| {
            let options = crate::engine::EngineOptions {
                debug_info,
                ..Default::default()
            };
            Engine::new(&crate::engine::RuntimeEngine::config(&options, false, None).unwrap())
                .unwrap()
        };
        let (plain, debug) = (engine(false), engine(true));
        let key = ArtifactKey::new::<Component>(&plain, b"component");
        assert!(key.is_for::<Component>(&plain));
        assert!(!key.is_for::<Component>(&debug));
        assert!(!key.is_for::<Module>(&plain));
        assert_ne!(key, ArtifactKey::new::<Component>(&debug, b"component"));
    }

    #[test]
    fn a_rewritten_file_has_another_stamp_even_with_its_old_mtime() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("app.wasm");
        std::fs::write(&file, b"first").unwrap();
        let before = FileStamp::of(&file).unwrap();
        let mtime = std::fs::metadata(&file).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        // Same size, and the old mtime put back: only ctime tells.
        std::fs::write(&file, b"other").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        assert_ne!(FileStamp::of(&file).unwrap(), before);
    }
}
