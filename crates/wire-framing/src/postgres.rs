//! PostgreSQL's backend messages (a type byte, then a four-byte length
//! that counts itself): a message larger than the cap fails as soon as its
//! header says so, before its body is read. A row is one `DataRow`
//! message; PostgreSQL sends a value of up to 1 GB.
//!
//! A socket is framed from the first message the server sends. A client
//! that asks for TLS first (`SSLRequest`) gets one unframed byte back:
//! `N` (plain messages follow) or `S`, after which the socket carries TLS
//! and the framing belongs above it ([`PgFraming::inside_tls`]).

use crate::{Framing, Tripped};

/// Why a capped PostgreSQL connection stopped reading.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// One message passed the cap.
    #[error(
        "a message from PostgreSQL (a row, or the description of a result's columns) is larger than {0} bytes, the most the host reads for one result (`spin up --max-result-size`, at most the instance memory); select fewer or smaller columns"
    )]
    TooLarge(u64),
    /// The bytes are not PostgreSQL's framing.
    #[error("PostgreSQL sent a message this host cannot read: {0}")]
    Protocol(&'static str),
}

/// What a client writes first to ask for TLS: length 8, code 80877103.
pub const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Nothing written yet: the first bytes written tell whether the
    /// server answers a TLS request first.
    Start,
    /// An `SSLRequest` was written: one byte of answer comes first.
    SslAnswer,
    /// TLS runs on this socket: the stream above it frames.
    Tls,
    /// In a message's header (a type byte, a four-byte length that counts
    /// itself): `seen` bytes of it so far.
    Header { seen: u8, length: [u8; 4] },
    /// In a message's body: this many bytes to come.
    Body(u64),
}

/// Frames the messages a PostgreSQL server sends.
#[derive(Debug)]
pub struct PgFraming {
    max: u64,
    phase: Phase,
}

impl PgFraming {
    /// For the socket itself, which may carry an answer to `SSLRequest`.
    pub fn socket(max: usize) -> Self {
        Self {
            max: max as u64,
            phase: Phase::Start,
        }
    }

    /// For the messages inside TLS.
    pub fn inside_tls(max: usize) -> Self {
        Self {
            max: max as u64,
            phase: Phase::Header {
                seen: 0,
                length: [0; 4],
            },
        }
    }
}

impl Framing for PgFraming {
    type Error = MessageError;

    fn feed(&mut self, piece: &[u8]) -> Result<(), Tripped<MessageError>> {
        // Where the current message began in `piece` (0: in an earlier one).
        let mut message_start = 0;
        let mut at = 0;
        while at < piece.len() {
            let byte = piece[at];
            match self.phase {
                Phase::Tls => return Ok(()),
                Phase::SslAnswer if byte == b'S' => {
                    self.phase = Phase::Tls;
                    return Ok(());
                }
                Phase::SslAnswer | Phase::Start => {
                    // `N`: plain messages follow. Anything else (an old
                    // server's `ErrorResponse`) is a message itself.
                    if self.phase == Phase::SslAnswer && byte == b'N' {
                        at += 1;
                    }
                    self.phase = Phase::Header {
                        seen: 0,
                        length: [0; 4],
                    };
                }
                Phase::Header { seen, mut length } => {
                    if seen == 0 {
                        message_start = at;
                    } else {
                        length[usize::from(seen) - 1] = byte;
                    }
                    at += 1;
                    if seen < 4 {
                        self.phase = Phase::Header {
                            seen: seen + 1,
                            length,
                        };
                        continue;
                    }
                    let length = u64::from(u32::from_be_bytes(length));
                    let body = length.checked_sub(4).ok_or(Tripped {
                        before: message_start,
                        error: MessageError::Protocol("a message shorter than its length"),
                    })?;
                    if body > self.max {
                        return Err(Tripped {
                            before: message_start,
                            error: MessageError::TooLarge(self.max),
                        });
                    }
                    self.phase = match body {
                        0 => Phase::Header {
                            seen: 0,
                            length: [0; 4],
                        },
                        body => Phase::Body(body),
                    };
                }
                Phase::Body(left) => {
                    let taken = left.min((piece.len() - at) as u64);
                    at += taken as usize;
                    self.phase = match left - taken {
                        0 => Phase::Header {
                            seen: 0,
                            length: [0; 4],
                        },
                        left => Phase::Body(left),
                    };
                }
            }
        }
        Ok(())
    }

    fn wrote(&mut self, bytes: &[u8]) {
        if self.phase == Phase::Start && !bytes.is_empty() {
            // tokio-postgres writes the request whole, on its own.
            let asked = &SSL_REQUEST[..bytes.len().min(SSL_REQUEST.len())];
            self.phase = match bytes.starts_with(asked) {
                true => Phase::SslAnswer,
                false => Phase::Header {
                    seen: 0,
                    length: [0; 4],
                },
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message of type `kind` with `body`.
    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![kind];
        out.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
        out.extend_from_slice(body);
        out
    }

    fn feed_bytewise(framing: &mut PgFraming, bytes: &[u8]) -> Result<(), MessageError> {
        bytes
            .chunks(1)
            .try_for_each(|b| framing.feed(b))
            .map_err(|t| t.error)
    }

    #[test]
    fn messages_pass_until_one_is_larger_than_the_cap() {
        let small = [message(b'R', &[0, 0, 0, 0]), message(b'Z', b"I")].concat();
        let large = message(b'D', &[7; 100]);
        let mut framing = PgFraming::inside_tls(99);
        let tripped = framing
            .feed(&[small.as_slice(), &large].concat())
            .unwrap_err();
        assert_eq!(
            tripped,
            Tripped {
                before: small.len(),
                error: MessageError::TooLarge(99)
            }
        );
        // Exactly the cap passes, byte by byte as at once.
        let mut framing = PgFraming::inside_tls(100);
        assert_eq!(
            feed_bytewise(&mut framing, &[small.as_slice(), &large].concat()),
            Ok(())
        );
        assert_eq!(framing.phase, PgFraming::inside_tls(0).phase);
        let mut framing = PgFraming::inside_tls(99);
        assert_eq!(
            feed_bytewise(&mut framing, &large),
            Err(MessageError::TooLarge(99))
        );
    }

    #[test]
    fn the_answer_to_a_tls_request_is_one_unframed_byte() {
        let messages = message(b'D', &[1; 50]);
        // `N`: plain messages follow, framed.
        let mut framing = PgFraming::socket(10);
        framing.wrote(&SSL_REQUEST);
        let tripped = framing
            .feed(&[b"N".as_slice(), &messages].concat())
            .unwrap_err();
        assert_eq!(tripped.before, 1);
        // `S`: TLS follows; the socket frames nothing more.
        let mut framing = PgFraming::socket(10);
        framing.wrote(&SSL_REQUEST);
        assert_eq!(
            framing.feed(&[b"S".as_slice(), &[0x16; 500]].concat()),
            Ok(())
        );
        // No TLS request: framed from the first byte.
        let mut framing = PgFraming::socket(10);
        framing.wrote(&[0, 0, 0, 40, 0, 3, 0, 0]);
        assert!(framing.feed(&messages).is_err());
    }

    #[test]
    fn a_length_shorter_than_itself_is_refused() {
        let mut framing = PgFraming::inside_tls(100);
        let err = framing.feed(&[b'D', 0, 0, 0, 3]).unwrap_err();
        assert!(matches!(err.error, MessageError::Protocol(_)));
    }
}
