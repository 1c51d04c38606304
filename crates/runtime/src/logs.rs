//! Guest stdout and stderr: each line goes to the terminal, prefixed with the
//! component id so interleaved output from several components stays readable,
//! and to `<log-dir>/<id>_stdout.txt` / `<id>_stderr.txt`.
//!
//! The guest controls what it prints (issue 10): a line longer than
//! [`MAX_LINE_BYTES`] is split, so a guest printing without newlines cannot
//! grow the host's buffer without bound, and each write is scanned once.
//! Log files are opened without following symbolic links, so a link
//! committed at `.spin/logs/<id>_stdout.txt` cannot aim the log at another
//! file.

use bytes::Bytes;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// The longest line kept whole by default (`--max-log-line-length`): longer lines are cut into pieces of this
/// size, each but the last ending with [`SPLIT_MARKER`]. 64 KiB holds any
/// traceback line or JSON log record a guest writes in practice.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Ends each piece of a line that was split at [`MAX_LINE_BYTES`].
pub const SPLIT_MARKER: &[u8] = b" [line continues]";

/// Which terminal stream a guest stream is mirrored to.
#[derive(Clone, Copy, Debug)]
pub enum Terminal {
    /// The host's stdout.
    Stdout,
    /// The host's stderr.
    Stderr,
}

/// One of a component's output streams, shared by all its instances.
#[derive(Clone)]
pub struct ComponentLog {
    prefix: Arc<str>,
    terminal: Option<Terminal>,
    file: Option<Arc<Mutex<File>>>,
    max_line: usize,
    capture: Option<OutputCapture>,
}

/// The most of one request's output an [`OutputCapture`] keeps (its end:
/// a traceback's last lines say what failed).
pub const CAPTURE_BYTES: usize = 64 << 10;

/// What one instance writes (`spin up --dev`), so a failed request's
/// response can carry its share; the last [`CAPTURE_BYTES`] are kept.
#[derive(Clone, Default)]
pub struct OutputCapture(Arc<Mutex<Captured>>);

/// The end of an instance's output, and how much it wrote in all.
#[derive(Default)]
struct Captured {
    /// The last [`CAPTURE_BYTES`] written.
    tail: Vec<u8>,
    /// Every byte written since the instance started.
    total: u64,
}

impl OutputCapture {
    fn append(&self, lines: &[u8]) {
        let mut captured = self.0.lock().expect("capture lock");
        captured.tail.extend_from_slice(lines);
        captured.total += lines.len() as u64;
        if captured.tail.len() > CAPTURE_BYTES {
            let excess = captured.tail.len() - CAPTURE_BYTES;
            captured.tail.drain(..excess);
        }
    }

    /// What the instance writes from now on: a request's share of the
    /// output, even when other requests share the instance (their lines,
    /// written meanwhile, are in it too).
    pub fn from_now(&self) -> CaptureSince {
        let mark = self.0.lock().expect("capture lock").total;
        CaptureSince {
            capture: self.clone(),
            mark,
        }
    }
}

/// An instance's output since a point (see [`OutputCapture::from_now`]).
pub struct CaptureSince {
    capture: OutputCapture,
    mark: u64,
}

impl CaptureSince {
    /// What was written since the mark (its last [`CAPTURE_BYTES`]), as text.
    pub fn text(&self) -> String {
        let captured = self.capture.0.lock().expect("capture lock");
        let since = usize::try_from(captured.total - self.mark).unwrap_or(usize::MAX);
        let start = captured.tail.len().saturating_sub(since);
        String::from_utf8_lossy(&captured.tail[start..]).into_owned()
    }
}

impl ComponentLog {
    /// Opens (appending, or emptied first with `truncate`,
    /// `--truncate-logs`) `<dir>/<id>_<suffix>.txt` when `dir` is given, and
    /// mirrors to `terminal` unless it is `None` (quiet mode).
    pub fn open(
        component_id: &str,
        dir: Option<&Path>,
        suffix: &str,
        terminal: Option<Terminal>,
        truncate: bool,
    ) -> anyhow::Result<Self> {
        let file = match dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                let path = dir.join(format!("{component_id}_{suffix}.txt"));
                let file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .truncate(false)
                    .custom_flags(libc::O_NOFOLLOW | if truncate { libc::O_TRUNC } else { 0 })
                    .open(&path)
                    .map_err(|e| open_error(&path, e))?;
                Some(Arc::new(Mutex::new(file)))
            }
            None => None,
        };
        Ok(Self {
            prefix: format!("[{component_id}] ").into(),
            terminal,
            file,
            max_line: MAX_LINE_BYTES,
            capture: None,
        })
    }

    /// This log, also copying every line into `capture`.
    pub fn capturing(&self, capture: OutputCapture) -> Self {
        Self {
            capture: Some(capture),
            ..self.clone()
        }
    }

    /// Splits lines longer than `bytes` (`--max-log-line-length`) instead
    /// of [`MAX_LINE_BYTES`]; `None` keeps the default.
    pub fn max_line_length(mut self, bytes: Option<usize>) -> Self {
        // At least one byte, or splitting would never make progress.
        self.max_line = bytes.unwrap_or(MAX_LINE_BYTES).max(1);
        self
    }

    /// Writes complete lines: to the file as they are, and to the terminal
    /// with the component prefix.
    fn write_lines(&self, lines: &[u8]) {
        if let Some(capture) = &self.capture {
            capture.append(lines);
        }
        if let Some(file) = &self.file {
            let _ = file.lock().expect("log file lock").write_all(lines);
        }
        let Some(terminal) = self.terminal else {
            return;
        };
        let mut out = Vec::with_capacity(lines.len() + 16);
        for line in lines.split_inclusive(|b| *b == b'\n') {
            out.extend_from_slice(self.prefix.as_bytes());
            out.extend_from_slice(line);
        }
        if out.last() != Some(&b'\n') {
            out.push(b'\n');
        }
        let _ = match terminal {
            Terminal::Stdout => std::io::stdout().lock().write_all(&out),
            Terminal::Stderr => std::io::stderr().lock().write_all(&out),
        };
    }
}

impl IsTerminal for ComponentLog {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for ComponentLog {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(LineWriter::new(self.clone(), self.max_line))
    }

    /// A `wasi:io` output stream that takes each write whole. wasmtime's
    /// default adapter lets a guest write 8 KiB at a time, and a short write
    /// is not always written again: CPython's unbuffered stdout (seen with
    /// spin-sdk 5.0) drops the rest of the line.
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(LogStream(LineWriter::new(self.clone(), self.max_line)))
    }
}

/// What a `wasi:io` guest may write to a log in one call: 1 GiB.
const WRITE_PERMIT: usize = 1 << 30;

/// How much of a write the host handles at a time.
const WRITE_PIECE: usize = 64 * 1024;

/// A component log as a `wasi:io` output stream: writes go to the log at
/// once (files and terminal are written synchronously anyway), so it is
/// always ready and takes any length.
struct LogStream(LineWriter);

#[async_trait::async_trait]
impl Pollable for LogStream {
    async fn ready(&mut self) {}
}

impl OutputStream for LogStream {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        // In pieces: the host copies a write on its way to the file and the
        // terminal, and holds those copies of one piece at a time.
        for piece in bytes.chunks(WRITE_PIECE) {
            self.0.push(piece);
        }
        Ok(())
    }

    fn write_zeroes(&mut self, len: usize) -> StreamResult<()> {
        // wasmtime's default would allocate `len` zeroes at once.
        static ZEROES: [u8; WRITE_PIECE] = [0; WRITE_PIECE];
        let mut left = len.min(WRITE_PERMIT);
        while left > 0 {
            let n = left.min(WRITE_PIECE);
            self.0.push(&ZEROES[..n]);
            left -= n;
        }
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        // More than any one write (a write is a copy of guest memory), in
        // a number that stays positive even for a guest that reads it as
        // a signed 32-bit value.
        Ok(WRITE_PERMIT)
    }
}

/// Why a log file cannot be opened; a symbolic link gets its own message,
/// since `O_NOFOLLOW` reports it as a bare `ELOOP`.
fn open_error(path: &Path, error: std::io::Error) -> anyhow::Error {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if is_link {
        spin_hint::Hinted::new(
            format!(
                "the log file `{}` is a symbolic link, and spin does not write logs through links",
                path.display()
            ),
            format!(
                "remove the link (`rm {}`), or pass another log directory with `-L`",
                path.display()
            ),
        )
        .into()
    } else {
        anyhow::Error::new(error).context(format!("opening log file `{}`", path.display()))
    }
}

/// Buffers a partial line until its newline arrives (or the stream is
/// flushed or dropped), so the prefix only ever starts a line. The partial
/// line never exceeds `max_line` bytes.
struct LineWriter {
    log: ComponentLog,
    pending: Vec<u8>,
    max_line: usize,
}

impl LineWriter {
    fn new(log: ComponentLog, max_line: usize) -> Self {
        Self {
            log,
            pending: Vec::new(),
            max_line,
        }
    }

    /// Appends `buf`, writing out every line it completes. Each byte is
    /// looked at once: only `buf` is searched for newlines, never the
    /// buffered partial line again.
    fn push(&mut self, buf: &[u8]) {
        let mut complete = Vec::new();
        for mut piece in buf.split_inclusive(|b| *b == b'\n') {
            loop {
                let room = self.max_line - self.pending.len();
                let ends_line = piece.last() == Some(&b'\n');
                if piece.len() - usize::from(ends_line) <= room {
                    self.pending.extend_from_slice(piece);
                    if ends_line {
                        complete.append(&mut self.pending);
                    }
                    break;
                }
                self.pending.extend_from_slice(&piece[..room]);
                self.pending.extend_from_slice(SPLIT_MARKER);
                self.pending.push(b'\n');
                complete.append(&mut self.pending);
                piece = &piece[room..];
            }
        }
        if !complete.is_empty() {
            self.log.write_lines(&complete);
        }
    }

    /// Writes out the partial line, if any.
    fn finish(&mut self) {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.log.write_lines(&line);
        }
    }
}

impl AsyncWrite for LineWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.finish();
        Poll::Ready(Ok(()))
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `chunks` to a stream whose lines go to a file, as a guest's
    /// writes arrive, and returns the file's contents and the largest the
    /// buffered partial line grew.
    fn write_through(chunks: impl IntoIterator<Item = Vec<u8>>) -> (Vec<u8>, usize) {
        let dir = tempfile::tempdir().unwrap();
        let log = ComponentLog::open("guest", Some(dir.path()), "stdout", None, false).unwrap();
        let mut writer = LineWriter::new(log, MAX_LINE_BYTES);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut largest = 0;
        for chunk in chunks {
            let written = Pin::new(&mut writer).poll_write(&mut cx, &chunk);
            assert!(matches!(written, Poll::Ready(Ok(n)) if n == chunk.len()));
            largest = largest.max(writer.pending.capacity());
        }
        drop(writer);
        let text = std::fs::read(dir.path().join("guest_stdout.txt")).unwrap();
        (text, largest)
    }

    #[test]
    fn a_ten_mebibyte_line_is_split_and_never_buffered_whole() {
        let total = 10 * 1024 * 1024;
        let chunks = (0..total / 4096).map(|_| vec![b'x'; 4096]);
        let (text, largest) = write_through(chunks);
        assert!(
            largest <= 2 * MAX_LINE_BYTES,
            "the partial line grew to {largest} bytes"
        );
        let lines: Vec<&[u8]> = text.split(|b| *b == b'\n').collect();
        // Every piece but the last, which the end of the stream flushes.
        assert_eq!(lines.len(), total / MAX_LINE_BYTES);
        for line in &lines[..lines.len() - 1] {
            assert_eq!(line.len(), MAX_LINE_BYTES + SPLIT_MARKER.len());
            assert!(line.ends_with(SPLIT_MARKER));
        }
        assert_eq!(lines.last().unwrap().len(), MAX_LINE_BYTES);
        let payload: usize = lines
            .iter()
            .map(|l| l.strip_suffix(SPLIT_MARKER).unwrap_or(l).len())
            .sum();
        assert_eq!(payload, total, "nothing is lost");
    }

    #[test]
    fn lines_are_kept_whole_across_writes_and_flushed_at_the_end() {
        let chunks = [&b"hel"[..], b"lo\nwor", b"ld\n\npartial"];
        let (text, _) = write_through(chunks.iter().map(|c| c.to_vec()));
        assert_eq!(text, b"hello\nworld\n\npartial");

        let exact = vec![b'y'; MAX_LINE_BYTES];
        let (text, _) = write_through([exact.clone(), b"\n".to_vec()]);
        assert_eq!(
            text.len(),
            MAX_LINE_BYTES + 1,
            "a line of exactly the limit is not split"
        );
    }

    #[test]
    fn a_log_file_that_is_a_symbolic_link_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere.txt");
        std::fs::write(&target, "precious\n").unwrap();
        let logs = dir.path().join("logs");
        std::fs::create_dir(&logs).unwrap();
        std::os::unix::fs::symlink(&target, logs.join("guest_stdout.txt")).unwrap();
        let err = ComponentLog::open("guest", Some(&logs), "stdout", None, false)
            .err()
            .expect("a linked log file is refused");
        let message = format!("{err:#}");
        assert!(message.contains("symbolic link"), "{message}");
        let hinted = err.downcast_ref::<spin_hint::Hinted>().expect("a hint");
        assert!(hinted.hint.contains("remove the link"), "{message}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n");
    }
}
