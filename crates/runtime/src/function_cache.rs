//! Cranelift's incremental compilation cache, kept in one append-only pack
//! file.
//!
//! Every componentize-py component embeds the same CPython, so a component
//! never compiled before still finds most of its ~14,000 functions here. One
//! file per function (the obvious layout) made a new app's first start spend
//! a sixth of its CPU in the file system, mostly creating an inode for every
//! function compiled. The pack is read with one `read`, indexed in memory
//! while a compilation runs, appended to in batches, and dropped from memory
//! when the compilation is done: a new Python app's first start went from
//! 1.67–1.72 s to 1.48–1.50 s (means of 4–5 alternating runs each).
//!
//! Several processes may compile at once (parallel tests, two `spin up`s):
//! appends hold an exclusive `flock` on the pack and reads a shared one, so a
//! reader never sees half a record. A record torn by a crash fails its
//! checksum; everything from it on is cut off by the next reader.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::ops::Range;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The first bytes of a pack; a file that does not start with them (another
/// format, or a later version of it) is started afresh.
const MAGIC: &[u8; 8] = b"spinfn01";
/// Key length, value length and CRC-32 of both, little-endian.
const RECORD_HEADER: usize = 12;
/// Compiled functions are appended in batches of about this many bytes.
const FLUSH_BYTES: usize = 4 << 20;
/// A pack larger than this is started afresh: it keeps every variant of
/// every function ever compiled, and Cranelift's keys are not all stable
/// from one run to the next, so it only grows.
const MAX_PACK_BYTES: u64 = 1 << 30;

/// The cache handed to wasmtime's `Config::enable_incremental_compilation`.
#[derive(Debug)]
pub struct FunctionCache {
    path: PathBuf,
    state: Mutex<State>,
    /// Lookups and misses since the last `take_was_cold`.
    lookups: AtomicUsize,
    misses: AtomicUsize,
}

#[derive(Debug, Default)]
struct State {
    /// The pack's records, read on the first lookup of a compilation.
    loaded: Option<Loaded>,
    /// Records compiled since the last append, encoded.
    pending: Vec<u8>,
    /// Keys added since the pack was read: a compilation often compiles
    /// the same function body twice, and one record is enough.
    added: HashSet<Vec<u8>>,
}

#[derive(Debug)]
struct Loaded {
    bytes: Vec<u8>,
    /// Where each key's value lies in `bytes`.
    index: HashMap<Vec<u8>, Range<usize>>,
}

impl FunctionCache {
    /// A cache kept in the file `path` (created on the first append).
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            state: Mutex::new(State::default()),
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

    /// Appends what is pending and frees the in-memory copy of the pack.
    /// Called when a compilation is done: the pack is ~60 MB for one Python
    /// app, and a server has no use for it after start-up.
    pub fn finish(&self) {
        let mut state = self.lock();
        state.loaded = None;
        state.added = HashSet::new();
        let pending = std::mem::take(&mut state.pending);
        drop(state);
        self.save(&pending);
    }

    /// Appends records, warning (once per batch) when the pack cannot be
    /// written: compilation goes on, only the cache misses them later.
    fn save(&self, records: &[u8]) -> bool {
        match self.append(records) {
            Ok(()) => true,
            Err(err) => {
                tracing::warn!(
                    "could not save compiled functions to `{}`: {err}; the next new app will compile them again",
                    self.path.display()
                );
                false
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere cannot leave the state half-updated in a way
        // that matters: at worst a lookup misses.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads and indexes the pack, cutting off a torn tail and starting an
    /// oversized or foreign pack afresh.
    fn load(&self) -> Loaded {
        let empty = || Loaded {
            bytes: Vec::new(),
            index: HashMap::new(),
        };
        let Ok(mut file) = File::open(&self.path) else {
            return empty();
        };
        if !file
            .metadata()
            .is_ok_and(|m| crate::private_files::is_private(&m))
        {
            tracing::warn!(
                "ignoring `{}`: another user could have written it",
                self.path.display()
            );
            return empty();
        }
        let mut bytes = Vec::new();
        let read = file
            .lock_shared()
            .and_then(|()| file.read_to_end(&mut bytes));
        let _ = file.unlock();
        if read.is_err() {
            return empty();
        }
        let (index, valid) = parse(&bytes);
        if valid < bytes.len() || bytes.len() as u64 > MAX_PACK_BYTES {
            let keep = if bytes.len() as u64 > MAX_PACK_BYTES {
                0
            } else {
                valid
            };
            self.truncate(bytes.len() as u64, keep as u64);
        }
        bytes.truncate(valid);
        tracing::debug!(
            "read {} compiled functions from `{}`",
            index.len(),
            self.path.display()
        );
        Loaded { bytes, index }
    }

    /// Cuts the pack to `keep` bytes, unless another process changed its
    /// length since it was read as `seen` bytes long.
    fn truncate(&self, seen: u64, keep: u64) {
        let Ok(file) = OpenOptions::new().write(true).open(&self.path) else {
            return;
        };
        if file.lock().is_ok() {
            if file.metadata().is_ok_and(|m| m.len() == seen) {
                tracing::debug!("cutting `{}` to {keep} bytes", self.path.display());
                let _ = file.set_len(keep);
            }
            let _ = file.unlock();
        }
    }

    /// Appends encoded records, writing the header first into a new pack.
    fn append(&self, records: &[u8]) -> std::io::Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        if let Some(dir) = self.path.parent() {
            crate::private_files::ensure_private_dir(dir).map_err(std::io::Error::other)?;
        }
        // Compiled code: only this user may write it (see `private_files`).
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .mode(0o600)
            .open(&self.path)?;
        file.lock()?;
        let result = (|| {
            if file.seek(SeekFrom::End(0))? == 0 {
                file.write_all(MAGIC)?;
            }
            file.write_all(records)
        })();
        let _ = file.unlock();
        result
    }
}

impl wasmtime::CacheStore for FunctionCache {
    fn get(&self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        self.lookups.fetch_add(1, Ordering::Relaxed);
        let mut state = self.lock();
        let loaded = state.loaded.get_or_insert_with(|| self.load());
        let Some(range) = loaded.index.get(key) else {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        Some(Cow::Owned(loaded.bytes[range.clone()].to_vec()))
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        let mut state = self.lock();
        if !state.added.insert(key.to_vec()) {
            return true;
        }
        encode(&mut state.pending, key, &value);
        if state.pending.len() < FLUSH_BYTES {
            return true;
        }
        let batch = std::mem::take(&mut state.pending);
        drop(state);
        self.save(&batch)
    }
}

fn encode(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    let mut crc = crc32fast::Hasher::new();
    crc.update(key);
    crc.update(value);
    out.extend_from_slice(&(key.len() as u32).to_le_bytes());
    out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(value);
}

/// The index of a pack's records, and how many of its leading bytes hold
/// whole, intact records (0 when the magic is wrong).
fn parse(bytes: &[u8]) -> (HashMap<Vec<u8>, Range<usize>>, usize) {
    let mut index = HashMap::new();
    if bytes.get(..MAGIC.len()) != Some(MAGIC.as_slice()) {
        return (index, 0);
    }
    let mut at = MAGIC.len();
    while let Some(header) = bytes.get(at..at + RECORD_HEADER) {
        let field = |i: usize| u32::from_le_bytes(header[i..i + 4].try_into().expect("4 bytes"));
        let (key_len, value_len, crc) = (field(0) as usize, field(4) as usize, field(8));
        let key_start = at + RECORD_HEADER;
        let value_start = key_start + key_len;
        let end = value_start + value_len;
        let Some(record) = bytes.get(key_start..end) else {
            break;
        };
        if crc32fast::hash(record) != crc {
            break;
        }
        index.insert(bytes[key_start..value_start].to_vec(), value_start..end);
        at = end;
    }
    (index, at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::CacheStore as _;

    fn cache(dir: &tempfile::TempDir) -> FunctionCache {
        FunctionCache::new(dir.path().join("functions.pack"))
    }

    #[test]
    fn values_survive_the_process_that_compiled_them() {
        let dir = tempfile::tempdir().unwrap();
        let first = cache(&dir);
        assert!(first.get(b"k1").is_none());
        assert!(first.insert(b"k1", b"one".to_vec()));
        assert!(first.insert(b"k2", b"two".to_vec()));
        first.finish();

        let second = cache(&dir);
        assert_eq!(second.get(b"k1").as_deref(), Some(b"one".as_slice()));
        assert_eq!(second.get(b"k2").as_deref(), Some(b"two".as_slice()));
        assert!(second.get(b"k3").is_none());
    }

    #[test]
    fn a_torn_record_is_cut_off_and_later_appends_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let first = cache(&dir);
        first.insert(b"good", b"value".to_vec());
        first.insert(b"torn", b"half of it".to_vec());
        first.finish();
        let path = dir.path().join("functions.pack");
        let len = std::fs::metadata(&path).unwrap().len();
        OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(len - 3)
            .unwrap();

        let second = cache(&dir);
        assert_eq!(second.get(b"good").as_deref(), Some(b"value".as_slice()));
        assert!(second.get(b"torn").is_none());
        second.insert(b"after", b"later".to_vec());
        second.finish();

        let third = cache(&dir);
        assert_eq!(third.get(b"after").as_deref(), Some(b"later".as_slice()));
        assert_eq!(third.get(b"good").as_deref(), Some(b"value".as_slice()));
    }

    #[test]
    fn a_corrupted_value_is_not_returned() {
        let dir = tempfile::tempdir().unwrap();
        let first = cache(&dir);
        first.insert(b"key", b"compiled code".to_vec());
        first.finish();
        let path = dir.path().join("functions.pack");
        let mut bytes = std::fs::read(&path).unwrap();
        *bytes.last_mut().unwrap() ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
        assert!(cache(&dir).get(b"key").is_none());
    }

    #[test]
    fn a_compilation_is_cold_when_most_functions_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(&dir);
        let key = |i: u32| i.to_le_bytes();
        for i in 0..2000 {
            assert!(cache.get(&key(i)).is_none());
            if i % 2 == 0 {
                assert!(cache.insert(&key(i), vec![1]));
            }
        }
        assert!(cache.take_was_cold(), "2,000 misses of 2,000");
        assert!(!cache.take_was_cold(), "the counts start again");
        cache.finish();

        for i in 0..2000 {
            let _ = cache.get(&key(i));
        }
        assert!(!cache.take_was_cold(), "1,000 misses of 2,000");
        for i in 0..500 {
            let _ = cache.get(&key(i * 2 + 1));
        }
        assert!(!cache.take_was_cold(), "too few lookups to tell");
    }

    #[test]
    fn a_file_in_another_format_is_started_afresh() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("functions.pack"), b"not a pack").unwrap();
        let first = cache(&dir);
        assert!(first.get(b"key").is_none());
        first.insert(b"key", b"value".to_vec());
        first.finish();
        assert_eq!(
            cache(&dir).get(b"key").as_deref(),
            Some(b"value".as_slice())
        );
    }
}
