//! RESP2 and RESP3, as Redis sends replies: each reply's bytes are
//! counted as it arrives. Redis sends one of up to 512 MB
//! (`proto-max-bulk-len`) for a short command: `GET` of a value a single
//! `SETRANGE key 500000000 x` made, `KEYS *`, `LRANGE`, a published
//! message.

use crate::{Framing, Tripped};

pub mod values;

/// Why a capped connection stopped reading.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    /// One reply passed the cap.
    #[error(
        "a Redis reply is larger than {0} bytes, the most the host reads for one result (`spin up --max-result-size`, at most the instance memory)"
    )]
    TooLarge(u64),
    /// The bytes are not RESP as Redis sends it.
    #[error("Redis sent a reply this host cannot read: {0}")]
    Protocol(&'static str),
}

/// Where the scanner is within the current value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    /// At the type byte that starts a value.
    Type,
    /// In a line whose content does not change the framing (a simple
    /// string, an error, an integer, a double, a boolean, a null, a big
    /// number): skipped to its `\r\n` (a lone `\n` does not end it, as
    /// it does not for the client's parser). `cr`: the last byte was `\r`.
    Line { cr: bool },
    /// In the length or count line of a value of type `kind`.
    Header { kind: u8, line: LengthLine },
    /// In a bulk payload: this many bytes, its `\r\n` included, to come.
    Payload(u64),
}

/// A length or count line being read: `[-]digits\r\n`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct LengthLine {
    number: u64,
    digits: u8,
    negative: bool,
    /// The line's `\r` has been read: only `\n` may follow.
    cr: bool,
}

/// Whether a length line ended with the byte just read.
enum LineEnd {
    /// It goes on.
    Not,
    /// It ended: the count, or `None` for a null (a negative count).
    Count(Option<u64>),
}

impl LengthLine {
    /// Takes the line's next byte.
    fn byte(&mut self, byte: u8) -> Result<LineEnd, ReplyError> {
        const MALFORMED: ReplyError = ReplyError::Protocol("a malformed length");
        match byte {
            b'\n' if self.cr => {
                return Ok(LineEnd::Count((!self.negative).then_some(self.number)));
            }
            _ if self.cr => return Err(MALFORMED),
            b'\r' if self.digits > 0 => self.cr = true,
            b'-' if self.digits == 0 && !self.negative => self.negative = true,
            // 19 digits always fit in a u64.
            b'0'..=b'9' if self.digits < 19 => {
                self.number = self.number * 10 + u64::from(byte - b'0');
                self.digits += 1;
            }
            _ => return Err(MALFORMED),
        }
        Ok(LineEnd::Not)
    }
}

/// Frames RESP2 and RESP3 replies incrementally, counting each one's bytes.
#[derive(Debug)]
pub struct RespScanner {
    max: u64,
    /// Bytes of the current reply so far.
    seen: u64,
    /// Values still to come in the current reply; 0 between replies.
    open: u64,
    at: Position,
}

/// How many bytes Redis sends for a bulk string of `len` bytes
/// (`$<len>\r\n<bytes>\r\n`): what a `GET` of such a value weighs
/// against the cap.
pub fn bulk_reply_len(len: usize) -> usize {
    let digits = len.checked_ilog10().map_or(1, |d| d as usize + 1);
    1 + digits + 2 + len + 2
}

impl RespScanner {
    /// A scanner that fails a reply of more than `max` bytes.
    pub fn new(max: usize) -> Self {
        Self {
            max: max as u64,
            seen: 0,
            open: 0,
            at: Position::Type,
        }
    }

    /// Takes the next bytes of the stream. Fails once one reply has passed
    /// the cap, or when the bytes are not RESP, saying where in `piece` the
    /// failing reply began; the scanner must not be fed again after a
    /// failure.
    pub fn feed(&mut self, piece: &[u8]) -> Result<(), Tripped<ReplyError>> {
        // Where the current reply began in `piece` (0: in an earlier one).
        let mut reply_start = 0;
        let mut bytes = piece;
        let tripped = |reply_start, error| Tripped {
            before: reply_start,
            error,
        };
        while let Some(&first) = bytes.first() {
            if self.open == 0 {
                self.open = 1;
                self.seen = 0;
                reply_start = piece.len() - bytes.len();
            }
            let taken = match self.at {
                Position::Type => {
                    self.start(first).map_err(|e| tripped(reply_start, e))?;
                    1
                }
                Position::Line { mut cr } => {
                    let mut end = None;
                    for (i, &b) in bytes.iter().enumerate() {
                        if b == b'\n' && cr {
                            end = Some(i);
                            break;
                        }
                        cr = b == b'\r';
                    }
                    match end {
                        Some(end) => {
                            self.at = Position::Type;
                            self.value_done();
                            end + 1
                        }
                        None => {
                            self.at = Position::Line { cr };
                            bytes.len()
                        }
                    }
                }
                Position::Header { .. } => {
                    self.header_byte(first)
                        .map_err(|e| tripped(reply_start, e))?;
                    1
                }
                Position::Payload(left) => {
                    let taken = left.min(bytes.len() as u64);
                    if taken == left {
                        self.at = Position::Type;
                        self.value_done();
                    } else {
                        self.at = Position::Payload(left - taken);
                    }
                    taken as usize
                }
            };
            self.seen = self.seen.saturating_add(taken as u64);
            if self.seen > self.max {
                return Err(tripped(reply_start, ReplyError::TooLarge(self.max)));
            }
            bytes = &bytes[taken..];
        }
        Ok(())
    }

    /// The type byte `kind` starts a value.
    fn start(&mut self, kind: u8) -> Result<(), ReplyError> {
        self.at = match kind {
            b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Position::Line { cr: false },
            b'$' | b'!' | b'=' | b'*' | b'%' | b'~' | b'|' | b'>' => Position::Header {
                kind,
                line: LengthLine::default(),
            },
            _ => return Err(ReplyError::Protocol("a value of an unknown type")),
        };
        Ok(())
    }

    /// One byte of a length or count line.
    fn header_byte(&mut self, byte: u8) -> Result<(), ReplyError> {
        let Position::Header { kind, line } = &mut self.at else {
            unreachable!("called in a header only");
        };
        let kind = *kind;
        match line.byte(byte)? {
            LineEnd::Not => Ok(()),
            LineEnd::Count(count) => {
                self.at = Position::Type;
                self.header_done(kind, count)
            }
        }
    }

    /// A length or count line ended: `count` is `None` for a null.
    fn header_done(&mut self, kind: u8, count: Option<u64>) -> Result<(), ReplyError> {
        let Some(count) = count else {
            self.value_done();
            return Ok(());
        };
        match kind {
            b'$' | b'!' | b'=' => self.at = Position::Payload(count.saturating_add(2)),
            // The aggregate itself is done; its elements are to come.
            b'*' | b'~' | b'>' => self.open = (self.open - 1).saturating_add(count),
            b'%' => self.open = (self.open - 1).saturating_add(count.saturating_mul(2)),
            // An attribute's pairs come before the value it annotates,
            // which is still to come.
            b'|' => self.open = self.open.saturating_add(count.saturating_mul(2)),
            _ => unreachable!("only header kinds start a header"),
        }
        Ok(())
    }

    fn value_done(&mut self) {
        self.open -= 1;
    }
}

impl Framing for RespScanner {
    type Error = ReplyError;

    fn feed(&mut self, piece: &[u8]) -> Result<(), Tripped<ReplyError>> {
        RespScanner::feed(self, piece)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `stream` whole, then one byte at a time: both must agree.
    fn scan(max: usize, stream: &[u8]) -> Result<(), ReplyError> {
        let whole = RespScanner::new(max).feed(stream).map_err(|t| t.error);
        let mut bytewise = RespScanner::new(max);
        let split = stream
            .chunks(1)
            .try_for_each(|b| bytewise.feed(b))
            .map_err(|t| t.error);
        assert_eq!(whole, split, "{:?}", String::from_utf8_lossy(stream));
        whole
    }

    #[test]
    fn a_bulk_reply_weighs_its_framing() {
        for value in [&b""[..], b"x", b"0123456789", &[b'y'; 1000]] {
            let mut reply = format!("${}\r\n", value.len()).into_bytes();
            reply.extend_from_slice(value);
            reply.extend_from_slice(b"\r\n");
            assert_eq!(bulk_reply_len(value.len()), reply.len());
            assert_eq!(scan(reply.len(), &reply), Ok(()));
            assert!(scan(reply.len() - 1, &reply).is_err());
        }
    }

    #[test]
    fn the_replies_before_the_one_past_the_cap_are_kept() {
        let small = b"+OK\r\n:1\r\n".as_slice();
        let large = b"$20\r\n01234567890123456789\r\n".as_slice();
        let mut scanner = RespScanner::new(10);
        let tripped = scanner.feed(&[small, large].concat()).unwrap_err();
        assert_eq!(
            tripped,
            Tripped {
                before: small.len(),
                error: ReplyError::TooLarge(10)
            }
        );
        // A reply begun in an earlier piece: nothing of this one is kept.
        let mut scanner = RespScanner::new(10);
        scanner.feed(&large[..4]).unwrap();
        assert_eq!(scanner.feed(&large[4..]).unwrap_err().before, 0);
    }

    #[test]
    fn a_simple_line_ends_at_crlf_only() {
        // A lone `\n` inside a status, then the `\r\n` split across pieces.
        let mut scanner = RespScanner::new(100);
        scanner.feed(b"+a\nb\r").unwrap();
        assert_eq!(scanner.open, 1);
        scanner.feed(b"\n").unwrap();
        assert_eq!((scanner.open, scanner.at), (0, Position::Type));
    }

    #[test]
    fn replies_are_counted_one_at_a_time() {
        // Five replies, the largest (the array) 12 bytes; 36 in all.
        let stream = b"+OK\r\n:12\r\n$3\r\nabc\r\n$-1\r\n*2\r\n:1\r\n:2\r\n";
        assert_eq!(scan(12, stream), Ok(()));
        assert_eq!(scan(11, stream), Err(ReplyError::TooLarge(11)));
    }

    #[test]
    fn a_bulk_string_counts_its_payload() {
        let reply = b"$10\r\n0123456789\r\n";
        assert_eq!(scan(reply.len(), reply), Ok(()));
        assert_eq!(scan(reply.len() - 1, reply), Err(ReplyError::TooLarge(16)));
    }

    #[test]
    fn nested_aggregates_make_one_reply() {
        // RESP3: a map of one pair whose value is a set of two, then an
        // attribute before an integer, then a push message.
        let map = b"%1\r\n+k\r\n~2\r\n$1\r\na\r\n#t\r\n".as_slice();
        let attributed = b"|1\r\n+ttl\r\n:3\r\n:7\r\n".as_slice();
        let push = b">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$2\r\nhi\r\n".as_slice();
        let stream = [map, attributed, push].concat();
        let largest = map.len().max(attributed.len()).max(push.len());
        assert_eq!(scan(largest, &stream), Ok(()));
        assert!(scan(largest - 1, &stream).is_err());
        // Every reply was complete: the scanner is between replies.
        let mut scanner = RespScanner::new(largest);
        scanner.feed(&stream).unwrap();
        assert_eq!((scanner.open, scanner.at), (0, Position::Type));
    }

    #[test]
    fn empty_and_null_aggregates_end_at_once() {
        let stream = b"*0\r\n*-1\r\n%0\r\n_\r\n+after\r\n";
        let mut scanner = RespScanner::new(8);
        scanner.feed(stream).unwrap();
        assert_eq!(scanner.open, 0);
    }

    #[test]
    fn a_huge_count_cannot_overflow_but_trips_the_cap() {
        let stream = b"*9999999999999999999\r\n*9999999999999999999\r\n:1\r\n";
        assert_eq!(scan(30, stream), Err(ReplyError::TooLarge(30)));
        // 20 digits do not fit a count: not RESP.
        assert!(matches!(
            scan(1000, b"*99999999999999999999\r\n"),
            Err(ReplyError::Protocol(_))
        ));
    }

    #[test]
    fn what_is_not_resp_fails() {
        for stream in [
            b"?\r\n".as_slice(),
            b"$\r\n",
            b"$1x\r\n",
            b"$1\rx",
            b"*?\r\n",
            b"$--1\r\n",
        ] {
            assert!(
                matches!(scan(1000, stream), Err(ReplyError::Protocol(_))),
                "{:?}",
                String::from_utf8_lossy(stream)
            );
        }
    }

    /// A tiny deterministic generator (no dependency for one test).
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }
    }

    /// One random RESP2/RESP3 value, nested at most `depth` deep.
    fn value(rng: &mut Lcg, depth: u32, out: &mut Vec<u8>) {
        let aggregate = depth > 0 && rng.below(3) == 0;
        if !aggregate {
            match rng.below(6) {
                0 => out.extend_from_slice(b"+OK\r\n"),
                1 => out.extend_from_slice(format!(":{}\r\n", rng.below(1000)).as_bytes()),
                2 => out.extend_from_slice(b"$-1\r\n"),
                3 => out.extend_from_slice(b"_\r\n"),
                4 => out.extend_from_slice(b"-ERR no\r\n"),
                _ => {
                    let len = rng.below(40) as usize;
                    out.extend_from_slice(format!("${len}\r\n").as_bytes());
                    // Payloads may hold CR, LF and type bytes.
                    out.extend((0..len).map(|i| b"\r\n*$+x"[i % 6]));
                    out.extend_from_slice(b"\r\n");
                }
            }
            return;
        }
        let count = rng.below(4);
        match rng.below(4) {
            0 => out.extend_from_slice(format!("*{count}\r\n").as_bytes()),
            1 => out.extend_from_slice(format!("~{count}\r\n").as_bytes()),
            2 => {
                out.extend_from_slice(format!("%{count}\r\n").as_bytes());
                for _ in 0..count {
                    value(rng, depth - 1, out);
                }
            }
            _ => {
                // An attribute, then the value it annotates.
                out.extend_from_slice(format!("|{count}\r\n").as_bytes());
                for _ in 0..2 * count {
                    value(rng, depth - 1, out);
                }
                value(rng, depth - 1, out);
                return;
            }
        }
        for _ in 0..count {
            value(rng, depth - 1, out);
        }
    }

    #[test]
    fn random_streams_in_random_pieces_frame_as_generated() {
        let mut rng = Lcg(7);
        for _ in 0..500 {
            let mut stream = Vec::new();
            let mut largest = 0;
            for _ in 0..1 + rng.below(5) {
                let start = stream.len();
                value(&mut rng, 3, &mut stream);
                largest = largest.max(stream.len() - start);
            }
            let pieces = |rng: &mut Lcg, max: usize| -> Result<_, ReplyError> {
                let mut scanner = RespScanner::new(max);
                let mut rest = stream.as_slice();
                while !rest.is_empty() {
                    let (piece, after) = rest.split_at(1 + rng.below(rest.len() as u64) as usize);
                    scanner.feed(piece).map_err(|t| t.error)?;
                    rest = after;
                }
                Ok((scanner.open, scanner.at))
            };
            let text = String::from_utf8_lossy(&stream).into_owned();
            assert_eq!(
                pieces(&mut rng, largest),
                Ok((0, Position::Type)),
                "{text:?}"
            );
            assert_eq!(
                pieces(&mut rng, largest - 1),
                Err(ReplyError::TooLarge(largest as u64 - 1)),
                "{text:?}"
            );
        }
    }
}
