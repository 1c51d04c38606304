//! Messages received but not yet handed to a handler. The Redis client
//! reads published messages as fast as they arrive, whatever the handlers'
//! pace, so the subscriber drains it into this queue at once and bounds it
//! here: past `max_messages` or `max_bytes` (one message may wait alone,
//! whatever its size), a new message is dropped and
//! counted, as Redis itself drops a subscriber that falls too far behind
//! (`client-output-buffer-limit pubsub`). Pub/sub delivers at most once;
//! what matters is that a burst cannot take the host's memory, and that
//! every drop is reported.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// The bounds of a [`Backlog`].
#[derive(Clone, Copy, Debug)]
pub struct BacklogLimits {
    /// The most messages waiting at once.
    pub max_messages: usize,
    /// The most payload bytes waiting at once.
    pub max_bytes: usize,
}

/// Waiting messages, each with what it is for (a subscription).
pub(crate) struct Backlog<T> {
    limits: BacklogLimits,
    queue: VecDeque<(T, Arc<[u8]>)>,
    bytes: usize,
    /// Messages dropped since the backlog last emptied, by channel.
    dropped: BTreeMap<String, u64>,
}

/// What [`Backlog::push`] did with a message.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// It waits for a handler.
    Queued,
    /// It was dropped: the first drop since the backlog was last empty
    /// (worth a warning).
    FirstDrop,
    /// It was dropped, as others before it.
    Dropped,
}

impl<T> Backlog<T> {
    /// An empty backlog bounded by `limits`.
    pub(crate) fn new(limits: BacklogLimits) -> Self {
        Self {
            limits,
            queue: VecDeque::new(),
            bytes: 0,
            dropped: BTreeMap::new(),
        }
    }

    /// Queues `payload` for `target`, unless that would pass a bound.
    pub(crate) fn push(&mut self, channel: &str, target: T, payload: Arc<[u8]>) -> Pushed {
        // A message larger than the byte bound may still wait alone: the
        // client has read it already, and dropping it would lose it for good.
        let full = self.queue.len() >= self.limits.max_messages
            || (!self.queue.is_empty()
                && self.bytes.saturating_add(payload.len()) > self.limits.max_bytes);
        if full {
            let first = self.dropped.is_empty();
            *self.dropped.entry(channel.to_owned()).or_default() += 1;
            return if first {
                Pushed::FirstDrop
            } else {
                Pushed::Dropped
            };
        }
        self.bytes += payload.len();
        self.queue.push_back((target, payload));
        Pushed::Queued
    }

    /// The oldest waiting message.
    pub(crate) fn pop(&mut self) -> Option<(T, Arc<[u8]>)> {
        let (target, payload) = self.queue.pop_front()?;
        self.bytes -= payload.len();
        Some((target, payload))
    }

    /// Whether no message waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// How many messages and bytes wait.
    pub(crate) fn size(&self) -> (usize, usize) {
        (self.queue.len(), self.bytes)
    }

    /// Once the backlog has emptied, the drops counted since the last
    /// report, by channel (empty if there were none, or it is not empty).
    pub(crate) fn take_drops_when_empty(&mut self) -> BTreeMap<String, u64> {
        if self.queue.is_empty() {
            std::mem::take(&mut self.dropped)
        } else {
            BTreeMap::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(n: usize) -> Arc<[u8]> {
        vec![b'x'; n].into()
    }

    #[test]
    fn a_message_past_the_count_is_dropped_and_counted_by_channel() {
        let mut backlog = Backlog::new(BacklogLimits {
            max_messages: 2,
            max_bytes: 1 << 20,
        });
        assert_eq!(backlog.push("a", 1, payload(1)), Pushed::Queued);
        assert_eq!(backlog.push("a", 2, payload(1)), Pushed::Queued);
        assert_eq!(backlog.push("a", 3, payload(1)), Pushed::FirstDrop);
        assert_eq!(backlog.push("b", 4, payload(1)), Pushed::Dropped);
        assert_eq!(backlog.push("a", 5, payload(1)), Pushed::Dropped);
        assert_eq!(backlog.size(), (2, 2));
        // Not reported while messages still wait.
        assert!(backlog.take_drops_when_empty().is_empty());
        assert_eq!(backlog.pop().map(|(t, _)| t), Some(1));
        assert_eq!(backlog.pop().map(|(t, _)| t), Some(2));
        assert!(backlog.is_empty());
        let drops = backlog.take_drops_when_empty();
        assert_eq!(drops.get("a"), Some(&2));
        assert_eq!(drops.get("b"), Some(&1));
        // Reported once; the next drop is a first drop again.
        assert!(backlog.take_drops_when_empty().is_empty());
        assert_eq!(backlog.push("a", 6, payload(1)), Pushed::Queued);
    }

    #[test]
    fn a_message_past_the_bytes_is_dropped_and_the_bytes_are_given_back_on_pop() {
        let mut backlog = Backlog::new(BacklogLimits {
            max_messages: 100,
            max_bytes: 10,
        });
        assert_eq!(backlog.push("a", (), payload(6)), Pushed::Queued);
        assert_eq!(backlog.push("a", (), payload(5)), Pushed::FirstDrop);
        assert_eq!(backlog.push("a", (), payload(4)), Pushed::Queued);
        assert_eq!(backlog.size(), (2, 10));
        backlog.pop();
        assert_eq!(backlog.size(), (1, 4));
        assert_eq!(backlog.push("a", (), payload(6)), Pushed::Queued);
        // Alone, a message may wait whatever its size.
        backlog.pop();
        backlog.pop();
        assert_eq!(backlog.take_drops_when_empty().get("a"), Some(&1));
        assert_eq!(backlog.push("a", (), payload(50)), Pushed::Queued);
        assert_eq!(backlog.push("a", (), payload(1)), Pushed::FirstDrop);
    }
}
