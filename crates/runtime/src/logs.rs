//! Guest stdout and stderr: each line goes to the terminal, prefixed with the
//! component id so interleaved output from several components stays readable,
//! and to `<log-dir>/<id>_stdout.txt` / `<id>_stderr.txt`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

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
}

impl ComponentLog {
    /// Opens (appending) `<dir>/<id>_<suffix>.txt` when `dir` is given, and
    /// mirrors to `terminal` unless it is `None` (quiet mode).
    pub fn open(
        component_id: &str,
        dir: Option<&Path>,
        suffix: &str,
        terminal: Option<Terminal>,
    ) -> anyhow::Result<Self> {
        let file = match dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                let path = dir.join(format!("{component_id}_{suffix}.txt"));
                let file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|e| anyhow::anyhow!("opening log file `{}`: {e}", path.display()))?;
                Some(Arc::new(Mutex::new(file)))
            }
            None => None,
        };
        Ok(Self {
            prefix: format!("[{component_id}] ").into(),
            terminal,
            file,
        })
    }

    /// Writes complete lines: to the file as they are, and to the terminal
    /// with the component prefix.
    fn write_lines(&self, lines: &[u8]) {
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
        Box::new(LineWriter {
            log: self.clone(),
            pending: Vec::new(),
        })
    }
}

/// Buffers a partial line until its newline arrives (or the stream is
/// flushed or dropped), so the prefix only ever starts a line.
struct LineWriter {
    log: ComponentLog,
    pending: Vec<u8>,
}

impl LineWriter {
    fn emit(&mut self, all: bool) {
        let end = if all {
            self.pending.len()
        } else {
            match self.pending.iter().rposition(|b| *b == b'\n') {
                Some(i) => i + 1,
                None => return,
            }
        };
        if end > 0 {
            let lines: Vec<u8> = self.pending.drain(..end).collect();
            self.log.write_lines(&lines);
        }
    }
}

impl AsyncWrite for LineWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.pending.extend_from_slice(buf);
        self.emit(false);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.emit(true);
        Poll::Ready(Ok(()))
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        self.emit(true);
    }
}
