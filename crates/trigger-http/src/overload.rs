//! What the server does when a limit is reached: the open-file limit, the
//! back-off after failed accepts, and logging a flood of like events once.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// The most connections served at once when `--max-connections` is not
/// given, whatever the open-file limit: each costs a file descriptor and
/// up to `--http-max-header-size` of buffer.
const MAX_DEFAULT_CONNECTIONS: u64 = 16_384;

/// Raises the process's soft limit on open files to its hard limit, so the
/// server is not starved of descriptors by a low default soft limit (often
/// 1024). Returns the soft limit now in force.
#[cfg(unix)]
pub fn raise_open_file_limit() -> std::io::Result<u64> {
    let mut limit = current_limit()?;
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: `raised` is a valid rlimit that outlives the call.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        limit = raised;
    }
    Ok(limit.rlim_cur)
}

/// Does nothing where there is no open-file limit to raise.
#[cfg(not(unix))]
pub fn raise_open_file_limit() -> std::io::Result<u64> {
    Ok(u64::MAX)
}

#[cfg(unix)]
fn current_limit() -> std::io::Result<libc::rlimit> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(limit)
}

/// The default for `--max-connections`: half the soft open-file limit (the
/// other half is left to log files, databases and outbound connections),
/// at most [`MAX_DEFAULT_CONNECTIONS`].
pub(crate) fn default_max_connections() -> usize {
    #[cfg(unix)]
    let files = current_limit().map_or(u64::MAX, |l| l.rlim_cur);
    #[cfg(not(unix))]
    let files = u64::MAX;
    (files / 2).clamp(1, MAX_DEFAULT_CONNECTIONS) as usize
}

/// Whether a failed `accept` concerns only the connection being accepted
/// (retried at once), rather than the process (retried after a pause).
pub(crate) fn is_connection_error(err: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        err.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted
    )
}

/// Exponential back-off for a loop that keeps failing, e.g. `accept` out of
/// file descriptors: retrying at once spins a core and floods the log.
#[derive(Debug, Default)]
pub(crate) struct Backoff {
    next: Option<Duration>,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(10);
    const MAX: Duration = Duration::from_secs(1);

    /// The pause before the next attempt, twice the last, up to one second.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let delay = self.next.unwrap_or(Self::FIRST);
        self.next = Some((delay * 2).min(Self::MAX));
        delay
    }

    /// An attempt succeeded: the next failure starts over.
    pub(crate) fn reset(&mut self) {
        self.next = None;
    }
}

/// A run of like events (failed accepts, requests turned away) of which only
/// the first is logged, so a flood cannot flood the log too.
#[derive(Debug, Default)]
pub(crate) struct Burst {
    active: AtomicBool,
    count: AtomicU64,
}

impl Burst {
    /// Counts one event; true if it starts a burst (and is to be logged).
    pub(crate) fn hit(&self) -> bool {
        self.count.fetch_add(1, Ordering::Relaxed);
        !self.active.swap(true, Ordering::Relaxed)
    }

    /// Ends the burst, if one is on: how many events it had.
    pub(crate) fn end(&self) -> Option<u64> {
        // A load first: the common case (no burst) writes nothing shared.
        if !self.active.load(Ordering::Relaxed) || !self.active.swap(false, Ordering::Relaxed) {
            return None;
        }
        Some(self.count.swap(0, Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_10ms_to_1s_and_resets() {
        let mut backoff = Backoff::default();
        let delays: Vec<_> = (0..9).map(|_| backoff.next_delay().as_millis()).collect();
        assert_eq!(delays, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        backoff.reset();
        assert_eq!(backoff.next_delay(), Duration::from_millis(10));
    }

    #[test]
    fn a_burst_is_reported_once_and_counted() {
        let burst = Burst::default();
        assert_eq!(burst.end(), None);
        assert!(burst.hit());
        assert!(!burst.hit());
        assert!(!burst.hit());
        assert_eq!(burst.end(), Some(3));
        assert_eq!(burst.end(), None);
        assert!(burst.hit());
    }

    #[test]
    fn the_open_file_limit_is_raised_to_the_hard_limit() {
        let soft = raise_open_file_limit().unwrap();
        let limit = current_limit().unwrap();
        assert_eq!(soft, limit.rlim_max);
        assert!(default_max_connections() >= 1);
    }
}
