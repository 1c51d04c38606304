//! The HTTP handler of a Spin 1 module (`handle-http-request`, exported by
//! the modules of Spin 1's SDKs as `fermyon:spin/inbound-http` once they
//! are components): a whole request in, a whole response out.

use wasmtime::Store;
use wasmtime::component::InstancePre;

use crate::capabilities::bindings::v1::inbound_http::GuestIndices;
use crate::state::HostState;

pub use crate::capabilities::bindings::v1::http_types::{Method, Request, Response};

/// A Spin 1 module's component, linked, and where its handler is.
pub struct Spin1HttpPre {
    pre: InstancePre<HostState>,
    indices: GuestIndices,
}

impl Spin1HttpPre {
    /// The handler of `pre`, if its component exports Spin 1's.
    pub fn new(pre: &InstancePre<HostState>) -> wasmtime::Result<Self> {
        Ok(Self {
            indices: GuestIndices::new(pre)?,
            pre: pre.clone(),
        })
    }

    /// Makes an instance in `store` and has it answer `request`.
    pub async fn handle(
        &self,
        store: &mut Store<HostState>,
        request: &Request,
    ) -> wasmtime::Result<Response> {
        let instance = self.pre.instantiate_async(&mut *store).await?;
        store.data_mut().instantiated();
        let guest = self.indices.load(&mut *store, &instance)?;
        guest.call_handle_request(&mut *store, request).await
    }
}
