//! The Redis trigger: for each `[[trigger.redis]]` (v2) or Redis
//! `[component.trigger]` (v1), a subscription to `channel` on the
//! application's (or the trigger's) Redis `address`; each message is handed
//! to a fresh instance of the trigger's component, through its
//! `inbound-redis` export (`fermyon:spin` for Spin 2/3 components,
//! `spin:redis@3.0.0` for spin-sdk 4.x and 5.x).
//!
//! A message's failure (a trap, a Python exception, the handler's error, a
//! timeout) is logged with the component and channel and fails that
//! message only. When Redis goes away, the subscriber reconnects with
//! back-off and subscribes again; the HTTP side never notices. Messages
//! that arrive faster than they are handled wait in a bounded backlog
//! (see [`backlog`]).
#![deny(missing_docs)]

pub mod backlog;
mod bindings;
mod connection;
mod subscriber;

use anyhow::{Context as _, Result};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

pub use backlog::BacklogLimits;
use bindings::RedisHandlerPre;
use spin_runtime::per_instance::PerInstance;
use spin_runtime::{LoadedApp, LoadedComponent};

/// Limits of the Redis trigger.
#[derive(Clone, Debug)]
pub struct RedisTriggerOptions {
    /// How long one message may take to handle (a range is drawn for each
    /// message, which has an instance of its own).
    pub message_timeout: PerInstance<Duration>,
    /// How many messages may be handled at once, across all channels.
    pub max_concurrent_messages: usize,
    /// How many messages may wait for a handler, per Redis server.
    pub backlog: BacklogLimits,
}

/// One component subscribed to one channel.
struct Subscription {
    channel: String,
    component: Arc<LoadedComponent>,
    handler: RedisHandlerPre,
}

/// The application's Redis subscriptions, by server address.
pub struct RedisTrigger {
    app: Arc<LoadedApp>,
    servers: BTreeMap<String, Vec<Arc<Subscription>>>,
    options: RedisTriggerOptions,
}

impl RedisTrigger {
    /// The subscriptions `app`'s manifest declares. Fails, before anything
    /// is served, when a trigger has no address or its component does not
    /// export a Redis handler.
    pub fn new(app: Arc<LoadedApp>, options: RedisTriggerOptions) -> Result<Self> {
        let mut servers: BTreeMap<String, Vec<Arc<Subscription>>> = BTreeMap::new();
        for trigger in &app.app.redis_triggers {
            let Some(address) = trigger.address.as_ref().or(app.app.redis_address.as_ref()) else {
                return Err(spin_hint::Hinted::new(
                    format!(
                        "the Redis trigger of component `{}` (line {} of `{}`) has no Redis address",
                        trigger.component,
                        trigger.location.line,
                        app.app.path.display()
                    ),
                    "add `[application.trigger.redis]` with `address = \"redis://localhost:6379\"` (v1: `trigger = { type = \"redis\", address = \"redis://...\" }`)",
                )
                .into());
            };
            let address = app
                .expand(address)
                .with_context(|| format!("the Redis trigger address `{address}`"))?;
            let component = app
                .component(&trigger.component)
                .with_context(|| format!("component `{}` was not loaded", trigger.component))?
                .clone();
            let handler = RedisHandlerPre::new(&component).with_context(|| {
                format!(
                    "component `{}` is the Redis trigger's handler for channel `{}`",
                    trigger.component, trigger.channel
                )
            })?;
            servers
                .entry(address)
                .or_default()
                .push(Arc::new(Subscription {
                    channel: trigger.channel.clone(),
                    component,
                    handler,
                }));
        }
        Ok(Self {
            app,
            servers,
            options,
        })
    }

    /// Whether the manifest declares any Redis trigger.
    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }

    /// What is subscribed: (address without credentials, channel, component).
    pub fn subscriptions(&self) -> Vec<(String, String, String)> {
        self.servers
            .iter()
            .flat_map(|(address, subs)| {
                subs.iter().map(|s| {
                    (
                        spin_outbound_networking::redact_url(address),
                        s.channel.clone(),
                        s.component.config.id.clone(),
                    )
                })
            })
            .collect()
    }

    /// Subscribes to every channel and handles messages until the process
    /// ends. Never returns an error: an unreachable server is retried.
    pub async fn run(self) {
        let slots = Arc::new(Semaphore::new(self.options.max_concurrent_messages));
        let mut tasks = Vec::new();
        for (address, subscriptions) in self.servers {
            tasks.push(tokio::spawn(subscriber::run(
                self.app.clone(),
                address,
                subscriptions,
                self.options.clone(),
                slots.clone(),
            )));
        }
        for task in tasks {
            let _ = task.await;
        }
    }
}
