//! Whole RESP2 values, read with a bound, for a client that must go on
//! reading after a value it cannot take: a Redis subscriber. A bulk string
//! that would take its reply past the cap is skipped as its bytes stream
//! by, and stands in the reply as [`Value::Skipped`] with its length, so
//! one oversized published message costs neither the connection nor the
//! messages published after it.
//!
//! Why not the `redis` crate's subscriber: it reads each message whole
//! before its caller sees it, and a capped socket under it
//! ([`super::RespScanner`]) can only end the connection, losing whatever
//! is published while the subscriber reconnects.

use super::{LengthLine, LineEnd, ReplyError};

/// One RESP2 value, as a subscriber receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `+…`: a status, such as `OK`.
    Status(Vec<u8>),
    /// `-…`: an error, such as `WRONGPASS invalid username-password pair`.
    Error(Vec<u8>),
    /// `:…`: an integer.
    Integer(i64),
    /// `$…`: a bulk string.
    Bulk(Vec<u8>),
    /// A bulk string of this many bytes that was not kept: it would have
    /// taken its reply past the cap.
    Skipped(u64),
    /// `*…`: an array.
    Array(Vec<Value>),
    /// `$-1` or `*-1`.
    Nil,
}

/// How deeply arrays may nest. Redis's pub/sub frames are flat; the bound
/// keeps a hostile stream from building a value too deep to drop.
pub const MAX_DEPTH: usize = 8;

/// Where the reader is within the current value.
#[derive(Debug)]
enum At {
    /// At the type byte that starts a value.
    Type,
    /// In a status, error or integer line; `cr`: the last byte was `\r`.
    Line { kind: u8, line: Vec<u8>, cr: bool },
    /// In the length line of a bulk string or array.
    Header { kind: u8, line: LengthLine },
    /// In a kept bulk payload: this many bytes, its `\r\n` included, to come.
    Payload { bytes: Vec<u8>, left: u64 },
    /// In a skipped bulk payload of `len` bytes: `left` to come.
    Skip { len: u64, left: u64 },
}

/// An array whose elements are still arriving.
#[derive(Debug)]
struct OpenArray {
    items: Vec<Value>,
    left: u64,
}

/// Reads RESP2 values from a stream fed in pieces, holding at most `max`
/// bytes of one reply (its kept bytes, and each value's own size in
/// memory); bulk strings that do not fit, or are longer than the bulk
/// limit, are skipped.
#[derive(Debug)]
pub struct ValueReader {
    max: u64,
    /// The longest bulk string kept.
    max_bulk: u64,
    /// What the current reply holds so far.
    weight: u64,
    stack: Vec<OpenArray>,
    at: At,
}

/// What one value weighs in memory, beyond its bytes.
const VALUE_WEIGHT: u64 = std::mem::size_of::<Value>() as u64;

impl ValueReader {
    /// A reader that keeps at most `max` bytes of one reply.
    pub fn new(max: usize) -> Self {
        Self::with_bulk_limit(max, max)
    }

    /// A reader that keeps at most `max` bytes of one reply, and skips any
    /// bulk string longer than `max_bulk` (a subscriber's payload cap, with
    /// room in `max` for the rest of its frame).
    pub fn with_bulk_limit(max: usize, max_bulk: usize) -> Self {
        Self {
            max: max as u64,
            max_bulk: max_bulk as u64,
            weight: 0,
            stack: Vec::new(),
            at: At::Type,
        }
    }

    /// Takes the next bytes of the stream and appends each reply they
    /// complete to `replies`. Fails when a reply passes the cap even with
    /// its bulk strings skipped, or when the bytes are not RESP2; the reader
    /// must not be fed again after a failure.
    pub fn feed(&mut self, mut bytes: &[u8], replies: &mut Vec<Value>) -> Result<(), ReplyError> {
        while let Some(&first) = bytes.first() {
            let taken = match &mut self.at {
                At::Type => {
                    self.start(first)?;
                    self.weigh(1)?;
                    1
                }
                At::Line { kind, line, cr } => {
                    let end = bytes.iter().enumerate().find_map(|(i, &b)| {
                        let after_cr = if i == 0 { *cr } else { bytes[i - 1] == b'\r' };
                        (b == b'\n' && after_cr).then_some(i)
                    });
                    let Some(end) = end else {
                        *cr = bytes.last() == Some(&b'\r');
                        line.extend_from_slice(bytes);
                        self.weigh(bytes.len() as u64)?;
                        break;
                    };
                    line.extend_from_slice(&bytes[..end]);
                    line.pop(); // its `\r`
                    let (kind, line) = (*kind, std::mem::take(line));
                    self.weigh(end as u64 + 1)?;
                    self.at = At::Type;
                    self.complete(line_value(kind, line)?, replies)?;
                    end + 1
                }
                At::Header { .. } => {
                    self.weigh(1)?;
                    self.header_byte(first, replies)?;
                    1
                }
                At::Payload { bytes: kept, left } => {
                    let taken = (*left).min(bytes.len() as u64) as usize;
                    if kept.capacity() == 0 {
                        // Exactly what was declared, which fits the cap
                        // (growing by doubling could take twice that).
                        kept.reserve_exact(*left as usize);
                    }
                    kept.extend_from_slice(&bytes[..taken]);
                    *left -= taken as u64;
                    if *left == 0 {
                        let mut kept = std::mem::take(kept);
                        if !kept.ends_with(b"\r\n") {
                            return Err(ReplyError::Protocol("a bulk string without its CRLF"));
                        }
                        kept.truncate(kept.len() - 2);
                        self.at = At::Type;
                        self.weigh(taken as u64)?;
                        self.complete(Value::Bulk(kept), replies)?;
                    } else {
                        self.weigh(taken as u64)?;
                    }
                    taken
                }
                At::Skip { len, left } => {
                    // Skipped bytes weigh nothing: they are not kept.
                    let taken = (*left).min(bytes.len() as u64) as usize;
                    *left -= taken as u64;
                    if *left == 0 {
                        let len = *len;
                        self.at = At::Type;
                        self.complete(Value::Skipped(len), replies)?;
                    }
                    taken
                }
            };
            bytes = &bytes[taken..];
        }
        Ok(())
    }

    /// Adds `bytes` to the current reply's weight, failing past the cap.
    fn weigh(&mut self, bytes: u64) -> Result<(), ReplyError> {
        self.weight = self.weight.saturating_add(bytes);
        if self.weight > self.max {
            return Err(ReplyError::TooLarge(self.max));
        }
        Ok(())
    }

    /// The type byte `kind` starts a value.
    fn start(&mut self, kind: u8) -> Result<(), ReplyError> {
        self.at = match kind {
            b'+' | b'-' | b':' => At::Line {
                kind,
                line: Vec::new(),
                cr: false,
            },
            b'$' | b'*' => At::Header {
                kind,
                line: LengthLine::default(),
            },
            _ => return Err(ReplyError::Protocol("a value of an unknown type")),
        };
        Ok(())
    }

    /// One byte of a length line.
    fn header_byte(&mut self, byte: u8, replies: &mut Vec<Value>) -> Result<(), ReplyError> {
        let At::Header { kind, line } = &mut self.at else {
            unreachable!("called in a header only");
        };
        let kind = *kind;
        match line.byte(byte)? {
            LineEnd::Not => Ok(()),
            LineEnd::Count(count) => {
                self.at = At::Type;
                self.header_done(kind, count, replies)
            }
        }
    }

    /// A length line ended: `count` is `None` for a nil.
    fn header_done(
        &mut self,
        kind: u8,
        count: Option<u64>,
        replies: &mut Vec<Value>,
    ) -> Result<(), ReplyError> {
        let Some(count) = count else {
            return self.complete(Value::Nil, replies);
        };
        if kind == b'$' {
            let left = count.saturating_add(2);
            // Room for the payload once the string and every array it
            // closes have been weighed.
            let values = VALUE_WEIGHT.saturating_mul(1 + self.stack.len() as u64);
            let room = self.max.saturating_sub(self.weight.saturating_add(values));
            self.at = if left > room || count > self.max_bulk {
                At::Skip { len: count, left }
            } else {
                // Reserved when the first bytes arrive, not as declared.
                At::Payload {
                    bytes: Vec::new(),
                    left,
                }
            };
            return Ok(());
        }
        if count == 0 {
            return self.complete(Value::Array(Vec::new()), replies);
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(ReplyError::Protocol("arrays nested too deeply"));
        }
        self.stack.push(OpenArray {
            items: Vec::with_capacity(count.min(16) as usize),
            left: count,
        });
        Ok(())
    }

    /// A value is whole: it joins its array, or is a reply of its own.
    fn complete(&mut self, mut value: Value, replies: &mut Vec<Value>) -> Result<(), ReplyError> {
        loop {
            self.weight = self.weight.saturating_add(VALUE_WEIGHT);
            if self.weight > self.max {
                return Err(ReplyError::TooLarge(self.max));
            }
            let Some(open) = self.stack.last_mut() else {
                replies.push(value);
                self.weight = 0;
                return Ok(());
            };
            open.items.push(value);
            open.left -= 1;
            if open.left > 0 {
                return Ok(());
            }
            let done = self.stack.pop().expect("an array is open");
            value = Value::Array(done.items);
        }
    }
}

/// The value a status, error or integer line stands for.
fn line_value(kind: u8, line: Vec<u8>) -> Result<Value, ReplyError> {
    Ok(match kind {
        b'+' => Value::Status(line),
        b'-' => Value::Error(line),
        _ => Value::Integer(
            std::str::from_utf8(&line)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or(ReplyError::Protocol("a malformed integer"))?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `stream` fed whole, then one byte at a time: both must agree.
    fn read(max: usize, stream: &[u8]) -> Result<Vec<Value>, ReplyError> {
        let whole = {
            let mut replies = Vec::new();
            ValueReader::new(max)
                .feed(stream, &mut replies)
                .map(|()| replies)
        };
        let bytewise = {
            let mut reader = ValueReader::new(max);
            let mut replies = Vec::new();
            stream
                .chunks(1)
                .try_for_each(|b| reader.feed(b, &mut replies))
                .map(|()| replies)
        };
        assert_eq!(whole, bytewise, "{:?}", String::from_utf8_lossy(stream));
        whole
    }

    fn message(channel: &str, payload: &[u8]) -> Vec<u8> {
        let mut frame = format!(
            "*3\r\n$7\r\nmessage\r\n${}\r\n{channel}\r\n${}\r\n",
            channel.len(),
            payload.len()
        )
        .into_bytes();
        frame.extend_from_slice(payload);
        frame.extend_from_slice(b"\r\n");
        frame
    }

    fn bulk(bytes: &[u8]) -> Value {
        Value::Bulk(bytes.to_vec())
    }

    #[test]
    fn a_subscriber_reads_acknowledgements_and_messages() {
        let stream = [
            &b"+OK\r\n*3\r\n$9\r\nsubscribe\r\n$6\r\nevents\r\n:1\r\n"[..],
            &message("events", b"hello\r\nworld"),
            b"$-1\r\n*-1\r\n*0\r\n-ERR no\r\n:-42\r\n",
        ]
        .concat();
        assert_eq!(
            read(1024, &stream),
            Ok(vec![
                Value::Status(b"OK".to_vec()),
                Value::Array(vec![bulk(b"subscribe"), bulk(b"events"), Value::Integer(1)]),
                Value::Array(vec![
                    bulk(b"message"),
                    bulk(b"events"),
                    bulk(b"hello\r\nworld")
                ]),
                Value::Nil,
                Value::Nil,
                Value::Array(vec![]),
                Value::Error(b"ERR no".to_vec()),
                Value::Integer(-42),
            ])
        );
    }

    #[test]
    fn a_payload_past_the_cap_is_skipped_and_the_next_message_is_whole() {
        let large = vec![b'x'; 5000];
        let stream = [message("events", &large), message("events", b"small")].concat();
        assert_eq!(
            read(1024, &stream),
            Ok(vec![
                Value::Array(vec![
                    bulk(b"message"),
                    bulk(b"events"),
                    Value::Skipped(5000)
                ]),
                Value::Array(vec![bulk(b"message"), bulk(b"events"), bulk(b"small")]),
            ])
        );
        // The same message under a cap that holds it arrives whole.
        let read_whole = read(8192, &message("events", &large)).unwrap();
        assert_eq!(
            read_whole,
            vec![Value::Array(vec![
                bulk(b"message"),
                bulk(b"events"),
                bulk(&large)
            ])]
        );
    }

    #[test]
    fn a_bulk_string_past_its_own_limit_is_skipped() {
        let mut reader = ValueReader::with_bulk_limit(4096, 10);
        let mut replies = Vec::new();
        let stream = [
            message("events", &[b'x'; 11]),
            message("events", &[b'y'; 10]),
        ]
        .concat();
        reader.feed(&stream, &mut replies).unwrap();
        assert_eq!(
            replies,
            vec![
                Value::Array(vec![bulk(b"message"), bulk(b"events"), Value::Skipped(11)]),
                Value::Array(vec![bulk(b"message"), bulk(b"events"), bulk(&[b'y'; 10])]),
            ]
        );
    }

    #[test]
    fn what_cannot_be_skipped_trips_the_cap() {
        // A status line is never skipped.
        let long_line = [&b"+"[..], &[b'a'; 2000], b"\r\n"].concat();
        assert_eq!(read(1024, &long_line), Err(ReplyError::TooLarge(1024)));
        // Nor are many small values.
        let mut many = b"*1000\r\n".to_vec();
        for _ in 0..1000 {
            many.extend_from_slice(b":1\r\n");
        }
        assert_eq!(read(1024, &many), Err(ReplyError::TooLarge(1024)));
        // A huge count alone holds nothing.
        assert_eq!(read(1024, b"*9999999999999999999\r\n"), Ok(vec![]));
    }

    #[test]
    fn what_is_not_resp2_fails() {
        for stream in [
            &b"%1\r\n"[..],
            b"$x\r\n",
            b"$1\r\nab\r\n",
            b":12a\r\n",
            b"$1\rx",
            b"$-\r\n",
            b"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n",
        ] {
            assert!(read(1 << 20, stream).is_err(), "{stream:?}");
        }
        // Eight levels are fine.
        let deep = [&b"*1\r\n".repeat(MAX_DEPTH)[..], b":7\r\n"].concat();
        let mut value = Value::Integer(7);
        for _ in 0..MAX_DEPTH {
            value = Value::Array(vec![value]);
        }
        assert_eq!(read(1 << 20, &deep), Ok(vec![value]));
    }

    #[test]
    fn a_line_ends_at_crlf_split_across_pieces() {
        let mut reader = ValueReader::new(100);
        let mut replies = Vec::new();
        reader.feed(b"+a\nb\r", &mut replies).unwrap();
        assert!(replies.is_empty());
        reader.feed(b"\n+c\r\n", &mut replies).unwrap();
        assert_eq!(
            replies,
            vec![
                Value::Status(b"a\nb".to_vec()),
                Value::Status(b"c".to_vec())
            ]
        );
    }
}
