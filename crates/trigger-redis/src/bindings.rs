//! The Redis trigger's view of a component: which `inbound-redis` export it
//! has, and how to call it.

use anyhow::{Context as _, Result};
use wasmtime::Store;

use spin_runtime::{HostState, LoadedComponent};

mod v2 {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "fermyon:spin/inbound-redis-v2@2.0.0",
        exports: { default: async },
    });
}

mod v3 {
    wasmtime::component::bindgen!({
        path: "../../wit-spin4",
        world: "local:spin4/inbound-redis",
        exports: { default: async | store },
    });
}

/// A Redis-triggered component's instantiation template, by the version of
/// its `inbound-redis` export.
pub(crate) enum RedisHandlerPre {
    /// `fermyon:spin/inbound-redis` (unversioned): spin-sdk 3.x, `spin
    /// py2wasm`, and the modules of Spin 1's SDKs once they are components.
    V2(v2::InboundRedisV2Pre<HostState>),
    /// `spin:redis/inbound-redis@3.0.0`: spin-sdk 4.x and 5.x.
    V3(v3::InboundRedisPre<HostState>),
}

impl RedisHandlerPre {
    pub(crate) fn new(component: &LoadedComponent) -> Result<Self> {
        let Some(instance_pre) = &component.instance_pre else {
            return Err(spin_hint::Hinted::new(
                "it is a Wagi module (its HTTP trigger's `executor`), which cannot handle Redis messages",
                "give the Redis trigger a component that exports `inbound-redis`",
            )
            .into());
        };
        if let Ok(pre) = v3::InboundRedisPre::new(instance_pre.clone()) {
            return Ok(Self::V3(pre));
        }
        let pre = v2::InboundRedisV2Pre::new(instance_pre.clone())
            .map_err(anyhow::Error::from)
            .context(spin_hint::Hinted::new(
                "it exports neither `spin:redis/inbound-redis@3.0.0` nor `fermyon:spin/inbound-redis`, so it cannot handle Redis messages",
                "build it for spin-sdk's `spin:up/redis-trigger` world (spin-sdk 4 and 5) or `fermyon:spin/spin-redis` (spin-sdk 3)",
            ))?;
        Ok(Self::V2(pre))
    }

    /// Instantiates the component in `store` and hands it `message`; for a
    /// Spin 4 component, waits until every task it started has finished.
    pub(crate) async fn handle(
        &self,
        store: &mut Store<HostState>,
        message: Vec<u8>,
    ) -> Result<()> {
        match self {
            Self::V2(pre) => {
                let instance = pre.instantiate_async(&mut *store).await?;
                store.data_mut().instantiated();
                let outcome = instance
                    .fermyon_spin_inbound_redis()
                    .call_handle_message(&mut *store, &message)
                    .await?;
                outcome.map_err(|e| anyhow::anyhow!("the handler returned {e:?}"))
            }
            Self::V3(pre) => {
                let instance = pre.instantiate_async(&mut *store).await?;
                store.data_mut().instantiated();
                let outcome = store
                    .run_concurrent(async |accessor| -> wasmtime::Result<_> {
                        let outcome = instance
                            .spin_redis_inbound_redis()
                            .call_handle_message(accessor, message)
                            .await?;
                        std::future::poll_fn(|cx| accessor.poll_no_interesting_tasks(cx)).await;
                        Ok(outcome)
                    })
                    .await??;
                outcome.map_err(|e| anyhow::anyhow!("the handler returned {e:?}"))
            }
        }
    }
}
