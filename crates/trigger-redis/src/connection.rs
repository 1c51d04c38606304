//! The trigger's connection to Redis: authenticate with the address's
//! credentials, subscribe, then read what Redis pushes through a bounded
//! reader ([`ValueReader`]).
//!
//! Why not the `redis` crate's `PubSub`: it reads each message whole
//! before handing it over, so a cap on the socket could only end the
//! connection at a message too large to keep, and whatever was published
//! while the trigger reconnected was lost. Here a payload past the cap is
//! skipped as its bytes stream by and the subscription goes on.

use std::collections::VecDeque;

use anyhow::{Result, bail};
use redis::ConnectionInfo;
use spin_runtime::capabilities::redis::reply_cap::{self, Socket};
use spin_wire_framing::resp::values::{Value, ValueReader};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// What a frame may hold beside its payload: the word `message`, the
/// channel's name, the framing, and each value's size in memory.
const FRAME_ROOM: usize = 64 * 1024;

/// How much is read from the socket at once.
const READ_SIZE: usize = 64 * 1024;

/// What Redis pushes to a subscriber.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Push {
    /// A message published on `channel`.
    Message { channel: String, payload: Vec<u8> },
    /// A message of `len` bytes on `channel`, larger than the cap: not read.
    TooLarge { channel: String, len: u64 },
}

/// A subscribed connection.
pub(crate) struct PubSubConnection {
    socket: Box<dyn Socket>,
    reader: ValueReader,
    /// Values read but not yet taken.
    values: VecDeque<Value>,
    /// Why reading stopped, once the values read before have been taken.
    broken: Option<anyhow::Error>,
    buffer: Box<[u8]>,
}

impl PubSubConnection {
    /// Connects to the server `info` names, authenticates with its
    /// credentials and subscribes to `channels`; returns once Redis has
    /// confirmed every subscription. A message longer than `max_payload`
    /// bytes is reported, not read.
    pub(crate) async fn open(
        info: &ConnectionInfo,
        channels: &[String],
        max_payload: usize,
    ) -> Result<Self> {
        let socket = reply_cap::open_socket(&info.addr, None).await?;
        let mut connection = Self {
            socket,
            // A payload past the cap is skipped as it streams by, never held.
            reader: ValueReader::with_bulk_limit(
                max_payload.saturating_add(FRAME_ROOM),
                max_payload,
            ),
            values: VecDeque::new(),
            broken: None,
            buffer: vec![0; READ_SIZE].into_boxed_slice(),
        };
        // The commands packed as the `redis` crate packs them.
        let mut commands = Vec::new();
        let authenticating = info.redis.password.is_some();
        if let Some(password) = &info.redis.password {
            let mut auth = redis::cmd("AUTH");
            auth.arg(info.redis.username.as_deref()).arg(password);
            commands.extend(auth.get_packed_command());
        }
        commands.extend(redis::cmd("SUBSCRIBE").arg(channels).get_packed_command());
        connection.socket.write_all(&commands).await?;
        connection.socket.flush().await?;

        if authenticating {
            match connection.next_value().await? {
                Some(Value::Status(_)) => {}
                Some(Value::Error(error)) => bail!(
                    "Redis refused the address's credentials: {}",
                    String::from_utf8_lossy(&error)
                ),
                Some(other) => bail!("Redis answered AUTH with {}", describe(&other)),
                None => bail!("Redis closed the connection"),
            }
        }
        // One confirmation per channel; messages on the channels confirmed
        // first may come between them, and wait for `next`.
        let mut unconfirmed = channels.len();
        let mut early = VecDeque::new();
        while unconfirmed > 0 {
            let Some(value) = connection.next_value().await? else {
                bail!("Redis closed the connection");
            };
            if is_message(&value) {
                early.push_back(value);
            } else {
                connection.interpret(value)?;
                unconfirmed -= 1;
            }
        }
        early.append(&mut connection.values);
        connection.values = early;
        Ok(connection)
    }

    /// The next message; `None` once Redis has closed the connection.
    pub(crate) async fn next(&mut self) -> Result<Option<Push>> {
        while let Some(value) = self.next_value().await? {
            if let Some(push) = self.interpret(value)? {
                return Ok(Some(push));
            }
        }
        Ok(None)
    }

    /// The next value Redis sent; `None` once it has closed the connection.
    async fn next_value(&mut self) -> Result<Option<Value>> {
        loop {
            if let Some(value) = self.values.pop_front() {
                return Ok(Some(value));
            }
            if let Some(broken) = self.broken.take() {
                return Err(broken);
            }
            let read = self.socket.read(&mut self.buffer).await?;
            if read == 0 {
                return Ok(None);
            }
            let mut values = Vec::new();
            let fed = self.reader.feed(&self.buffer[..read], &mut values);
            // The values before a failure are whole: they are taken first.
            self.values.extend(values);
            if let Err(error) = fed {
                self.broken = Some(anyhow::Error::new(error).context("reading from Redis"));
            }
        }
    }

    /// What a value Redis pushed means: a message, a confirmation (`None`),
    /// or an error.
    fn interpret(&self, value: Value) -> Result<Option<Push>> {
        let Value::Array(mut items) = value else {
            if let Value::Error(error) = value {
                bail!("Redis said: {}", String::from_utf8_lossy(&error));
            }
            bail!("Redis pushed {} to a subscriber", describe(&value));
        };
        let kind = match items.first() {
            Some(Value::Bulk(kind)) => kind.to_ascii_lowercase(),
            _ => bail!("Redis pushed an array this subscriber cannot read"),
        };
        if kind != b"message" || items.len() != 3 {
            // `subscribe` confirmations, and anything else a subscriber
            // ignores.
            return Ok(None);
        }
        let payload = items.pop().expect("three items");
        let channel = match items.pop().expect("three items") {
            Value::Bulk(channel) => String::from_utf8_lossy(&channel).into_owned(),
            other => bail!("Redis pushed a message on {}", describe(&other)),
        };
        Ok(Some(match payload {
            Value::Bulk(payload) => Push::Message { channel, payload },
            Value::Skipped(len) => Push::TooLarge { channel, len },
            other => bail!("Redis pushed a message of {}", describe(&other)),
        }))
    }
}

/// Whether `value` is a published message (rather than a confirmation).
fn is_message(value: &Value) -> bool {
    matches!(value, Value::Array(items)
        if matches!(items.first(), Some(Value::Bulk(kind)) if kind.eq_ignore_ascii_case(b"message")))
}

/// Names a value's kind, for an error.
fn describe(value: &Value) -> &'static str {
    match value {
        Value::Status(_) => "a status",
        Value::Error(_) => "an error",
        Value::Integer(_) => "an integer",
        Value::Bulk(_) | Value::Skipped(_) => "a string",
        Value::Array(_) => "an array",
        Value::Nil => "a nil",
    }
}
