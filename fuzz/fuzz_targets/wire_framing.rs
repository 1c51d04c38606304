//! Feeds arbitrary server bytes, cut into arbitrary pieces, to the framers
//! that cap Redis replies and PostgreSQL messages on the host's sockets
//! (`spin-wire-framing`).
//!
//! Invariants:
//! - no panic or overflow, whatever the bytes, the cap or the cuts;
//! - the outcome does not depend on how the bytes are cut: fed whole or in
//!   pieces, the stream passes, or fails with the same error;
//! - a failure keeps at most the bytes of the piece it was fed (`before`);
//! - the bounded RESP2 reader (a subscriber's) reads the same values, or
//!   fails the same way, whole or in pieces.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use spin_wire_framing::postgres::{PgFraming, SSL_REQUEST};
use spin_wire_framing::resp::RespScanner;
use spin_wire_framing::resp::values::ValueReader;
use spin_wire_framing::Framing;

#[derive(Debug, Arbitrary)]
struct Input {
    /// Which framer: RESP, PostgreSQL inside TLS, a PostgreSQL socket
    /// (after an `SSLRequest` when `asked_tls`), or the RESP2 value reader.
    kind: u8,
    asked_tls: bool,
    /// Small caps reach the failure paths.
    max: u16,
    /// Where the bytes are cut, as lengths of the pieces.
    cuts: Vec<u8>,
    bytes: Vec<u8>,
}

/// Cuts `bytes` into pieces of the lengths `cuts` gives, in turn.
fn pieces<'a>(bytes: &'a [u8], cuts: &'a [u8]) -> impl Iterator<Item = &'a [u8]> {
    let mut rest = bytes;
    let mut cuts = cuts.iter().cycle();
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let cut = cuts.next().map_or(rest.len(), |&c| usize::from(c).max(1));
        let (piece, after) = rest.split_at(cut.min(rest.len()));
        rest = after;
        Some(piece)
    })
}

/// Reads `input.bytes` with the bounded RESP2 reader, whole and in pieces.
fn check_values(input: &Input) {
    let max = usize::from(input.max);
    let read = |pieces: &mut dyn Iterator<Item = &[u8]>| {
        let mut reader = ValueReader::new(max);
        let mut replies = Vec::new();
        let mut outcome = Ok(());
        for piece in pieces {
            outcome = reader.feed(piece, &mut replies);
            if outcome.is_err() {
                break;
            }
        }
        (replies, outcome)
    };
    let whole = read(&mut std::iter::once(input.bytes.as_slice()));
    let cut = read(&mut pieces(&input.bytes, &input.cuts));
    // A failure may come after some replies; those before it agree.
    assert_eq!(whole, cut, "{input:?}");
}

/// Feeds `input.bytes` to a framer `make` makes, whole and in pieces.
fn check<F: Framing>(make: impl Fn() -> F, input: &Input) {
    let whole = {
        let mut framer = make();
        let outcome = framer.feed(&input.bytes);
        if let Err(tripped) = &outcome {
            assert!(tripped.before <= input.bytes.len());
        }
        outcome.map_err(|t| t.error.to_string())
    };
    let pieces = {
        let mut framer = make();
        let mut outcome = Ok(());
        for piece in pieces(&input.bytes, &input.cuts) {
            if let Err(tripped) = framer.feed(piece) {
                assert!(tripped.before <= piece.len());
                outcome = Err(tripped.error.to_string());
                break;
            }
        }
        outcome
    };
    assert_eq!(whole, pieces, "{input:?}");
}

fuzz_target!(|input: Input| {
    let max = usize::from(input.max);
    match input.kind % 4 {
        0 => check(|| RespScanner::new(max), &input),
        1 => check(|| PgFraming::inside_tls(max), &input),
        2 => check_values(&input),
        _ => check(
            || {
                let mut pg = PgFraming::socket(max);
                if input.asked_tls {
                    pg.wrote(&SSL_REQUEST);
                }
                pg
            },
            &input,
        ),
    }
});
