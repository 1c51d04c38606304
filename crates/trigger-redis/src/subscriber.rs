//! One Redis server's subscriptions: connect, subscribe, dispatch each
//! message; reconnect with back-off whenever the connection is lost.

use anyhow::{Context as _, Result};
use futures::StreamExt as _;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

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
            Ok(()) => tracing::warn!(
                "Redis trigger: the connection to `{shown}` closed; reconnecting in {backoff:?}"
            ),
            Err(err) => tracing::warn!(
                "Redis trigger: cannot subscribe at `{shown}`: {err:#}; retrying in {backoff:?}"
            ),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
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
    /// Subscribes and dispatches messages until the connection ends.
    async fn listen(&self, backoff: &mut Duration, connected_before: &mut bool) -> Result<()> {
        let client = redis::Client::open(self.address).context("not a Redis URL")?;
        let subscribe = async {
            let mut pubsub = client.get_async_pubsub().await?;
            for channel in self.channels {
                pubsub.subscribe(channel).await?;
            }
            redis::RedisResult::Ok(pubsub)
        };
        let mut pubsub = tokio::time::timeout(CONNECT_TIMEOUT, subscribe)
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
        let mut messages = pubsub.on_message();
        while let Some(message) = messages.next().await {
            let channel = message.get_channel_name().to_owned();
            let payload = message.get_payload_bytes().to_vec();
            for subscription in self.subscriptions.iter().filter(|s| s.channel == channel) {
                // Waiting for a slot holds back reading the next message:
                // a burst queues in Redis's output buffer, not in memory here.
                let permit = self.slots.clone().acquire_owned().await?;
                tokio::spawn(handle(
                    self.app.clone(),
                    subscription.clone(),
                    payload.clone(),
                    self.options.message_timeout,
                    permit,
                ));
            }
        }
        Ok(())
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
        Ok(Err(err)) => tracing::error!(
            "component `{id}` failed to handle a message on Redis channel `{channel}`: {err:?}"
        ),
        Err(_) => tracing::error!(
            "component `{id}` took longer than {timeout:?} to handle a message on Redis channel `{channel}` and was stopped\n\nhint: raise the limit with `spin up --request-timeout <seconds>`"
        ),
    }
}
