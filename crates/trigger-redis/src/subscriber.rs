//! One Redis server's subscriptions: connect, subscribe, dispatch each
//! message; reconnect with back-off whenever the connection is lost.

use anyhow::{Context as _, Result};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::backlog::{Backlog, Pushed};
use crate::connection::{PubSubConnection, Push};
use crate::{RedisTriggerOptions, Subscription};
use spin_runtime::LoadedApp;

/// The first wait before reconnecting; it doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(250);
/// The longest wait between two reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// How long connecting and subscribing may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `subscriptions` on the server at `address`, forever.
pub(crate) async fn run(
    app: Arc<LoadedApp>,
    address: String,
    subscriptions: Vec<Arc<Subscription>>,
    options: RedisTriggerOptions,
    slots: Arc<Semaphore>,
) {
    let shown = spin_outbound_networking::redact_url(&address);
    let mut channels: Vec<String> = subscriptions.iter().map(|s| s.channel.clone()).collect();
    channels.sort();
    channels.dedup();
    let mut backoff = MIN_BACKOFF;
    let mut connected_before = false;
    loop {
        let session = Session {
            app: &app,
            address: &address,
            shown: &shown,
            channels: &channels,
            subscriptions: &subscriptions,
            options: &options,
            slots: &slots,
        };
        match session.listen(&mut backoff, &mut connected_before).await {
            Ok(Ended::Closed) => tracing::warn!(
                "Redis trigger: the connection to `{shown}` closed; reconnecting in {backoff:?}"
            ),
            Ok(Ended::Failed(err)) => tracing::warn!(
                "Redis trigger: the connection to `{shown}` failed: {err:#}; reconnecting in {backoff:?}"
            ),
            Err(err) => tracing::warn!(
                "Redis trigger: cannot subscribe at `{shown}`: {err:#}; retrying in {backoff:?}\n\nhint: check that Redis runs there, and the Redis trigger's `address` in the manifest (host, port, credentials; `rediss://` for TLS)"
            ),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// How a subscribed connection ended.
enum Ended {
    /// Redis closed it.
    Closed,
    /// Reading from it failed.
    Failed(anyhow::Error),
}

/// One connection's worth of subscribing and dispatching.
struct Session<'a> {
    app: &'a Arc<LoadedApp>,
    address: &'a str,
    shown: &'a str,
    channels: &'a [String],
    subscriptions: &'a [Arc<Subscription>],
    options: &'a RedisTriggerOptions,
    slots: &'a Arc<Semaphore>,
}

impl Session<'_> {
    /// Subscribes and dispatches messages until the connection ends; fails
    /// if it cannot subscribe.
    async fn listen(&self, backoff: &mut Duration, connected_before: &mut bool) -> Result<Ended> {
        let info = redis::IntoConnectionInfo::into_connection_info(self.address)
            .context("not a Redis URL")?;
        // A message is read whole before a handler sees it: one larger
        // than an instance may be handed is skipped as it arrives.
        let max = self.app.max_result_bytes();
        let mut connection = tokio::time::timeout(
            CONNECT_TIMEOUT,
            PubSubConnection::open(&info, self.channels, max),
        )
        .await
        .context("no answer in time")??;
        *backoff = MIN_BACKOFF;
        let verb = if *connected_before {
            "resubscribed"
        } else {
            "subscribed"
        };
        *connected_before = true;
        tracing::info!(
            "Redis trigger: {verb} to {} at `{}`",
            self.channels
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", "),
            self.shown
        );
        let mut backlog = Backlog::new(self.options.backlog);
        loop {
            tokio::select! {
                // Messages are taken from the connection as soon as they
                // arrive and wait in the bounded backlog for a slot.
                push = connection.next() => match push {
                    Err(err) => return Ok(Ended::Failed(err)),
                    Ok(None) => return Ok(Ended::Closed),
                    Ok(Some(Push::Message { channel, payload })) => {
                        self.enqueue(&mut backlog, &channel, payload);
                    }
                    Ok(Some(Push::TooLarge { channel, len })) => tracing::warn!(
                        "Redis trigger: dropped a message of {len} bytes on channel `{channel}` at `{}`: larger than {max} bytes, the most the host hands a component (`spin up --max-result-size`, at most the instance memory); the messages after it are handled\n\nhint: publish smaller messages, or raise `spin up --max-result-size`",
                        self.shown
                    ),
                },
                permit = self.slots.clone().acquire_owned(), if !backlog.is_empty() => {
                    let permit = permit?;
                    let (subscription, payload) = backlog.pop().expect("the backlog is not empty");
                    tokio::spawn(handle(
                        self.app.clone(),
                        subscription,
                        payload.to_vec(),
                        self.options.message_timeout.draw(),
                        permit,
                    ));
                    self.report_drops(&mut backlog);
                }
            }
        }
    }

    /// Queues `message` for each subscription to its channel, or counts it
    /// dropped when the backlog is full (warning at the first drop).
    fn enqueue(&self, backlog: &mut Backlog<Arc<Subscription>>, channel: &str, payload: Vec<u8>) {
        let payload: Arc<[u8]> = payload.into();
        for subscription in self.subscriptions.iter().filter(|s| s.channel == channel) {
            if backlog.push(channel, subscription.clone(), payload.clone()) == Pushed::FirstDrop {
                let (messages, bytes) = backlog.size();
                let limits = self.options.backlog;
                tracing::warn!(
                    "Redis trigger: the handlers are behind on `{}` ({messages} messages, {bytes} bytes wait, limits {} and {}): dropping new messages on channel `{channel}` until they catch up\n\nhint: handle messages faster, allow more at once with `--max-concurrent-requests`, or wait for more with `--redis-max-pending-messages` / `--redis-max-pending-bytes`",
                    self.shown,
                    limits.max_messages,
                    limits.max_bytes,
                );
            }
        }
    }

    /// Once every waiting message has been handed out, reports how many
    /// were dropped since the last report.
    fn report_drops(&self, backlog: &mut Backlog<Arc<Subscription>>) {
        for (channel, dropped) in backlog.take_drops_when_empty() {
            tracing::warn!(
                "Redis trigger: {dropped} message(s) on channel `{channel}` at `{}` were dropped while the handlers were behind",
                self.shown
            );
        }
    }
}

/// Hands one message to a fresh instance of the subscription's component.
async fn handle(
    app: Arc<LoadedApp>,
    subscription: Arc<Subscription>,
    message: Vec<u8>,
    timeout: Duration,
    _permit: OwnedSemaphorePermit,
) {
    let id = &subscription.component.config.id;
    let channel = &subscription.channel;
    let mut store = app.new_store(&subscription.component);
    store.data_mut().set_request_timeout(timeout);
    let outcome =
        tokio::time::timeout(timeout, subscription.handler.handle(&mut store, message)).await;
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(err)) => {
            let failure = format!("{err:?}");
            let hint = spin_runtime::failure_hints::rendered(&failure);
            tracing::error!(
                "component `{id}` failed to handle a message on Redis channel `{channel}`: {failure}{hint}"
            )
        }
        Err(_) => tracing::error!(
            "component `{id}` took longer than {timeout:?} to handle a message on Redis channel `{channel}` and was stopped\n\nhint: raise the limit with `spin up --request-timeout <seconds>`"
        ),
    }
}
