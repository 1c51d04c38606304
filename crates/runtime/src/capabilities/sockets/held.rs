//! How many sockets a guest may hold open: at most `spin up
//! --max-sockets-per-instance` per instance (64 by default), and, when the
//! runtime config sets them, `[outbound_networking] max_socket_connections`
//! and `max_total_connections` across the application, as in Spin.
//!
//! Every socket costs the host a file descriptor, and the HTTP trigger needs
//! descriptors to accept connections: without a cap, one guest opening
//! sockets in a loop would starve every other app of the server. So a socket
//! is counted from the moment it is created, connected or not (Spin counts a
//! TCP socket from its connect, which leaves sockets that never connect
//! uncounted), until the guest drops it or its instance ends. Past a cap, the
//! creation fails at once with `new-socket-limit` (`wasi:sockets` 0.2) or
//! `other` with the reason (0.3, which has no such code).
//!
//! A 0.3 TCP socket's `send` and `receive` streams keep its connection open
//! after the socket itself is dropped (0.2 refuses to drop a socket whose
//! streams are open): such a socket stays counted until its streams are
//! done too, or else a guest could open, stream and drop sockets in a loop
//! and hold any number of descriptors while counting none.
//!
//! wasmtime-wasi implements the sockets; this module only replaces, in the
//! linker, the functions where a socket begins and ends in each version:
//! `create-tcp-socket`, `create-udp-socket` (0.2) or the `create` statics
//! (0.3), the destructors of `tcp-socket` and `udp-socket`, and (0.3) the
//! TCP socket's `send` and `receive`. Each replacement counts, then calls
//! wasmtime-wasi's own.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use wasmtime::component::{Linker, Resource, ResourceType};
use wasmtime::{Result, StoreContextMut};
use wasmtime_wasi::sockets::{WasiSocketsCtxView, WasiSocketsView};

use crate::capabilities::connection_quota::{ConnectionPermit, ConnectionQuotas};
use crate::runtime_config::connection_limits::Outbound;

/// The sockets one instance may hold at once unless `spin up
/// --max-sockets-per-instance` says otherwise: far more than a Python
/// client library keeps (a connection pool holds ten), far fewer than the
/// server's descriptors.
pub const DEFAULT_MAX_SOCKETS_PER_INSTANCE: usize = 64;

/// The `wasi:sockets` 0.2 version wasmtime-wasi 48 registers; components
/// importing any 0.2.x reach these definitions. (If an upgrade moved it, the
/// replacements would define an instance nobody imports, and the integration
/// test `sockets.rs` of the cap would fail.)
const P2_VERSION: &str = "0.2.12";
/// The `wasi:sockets` 0.3 version (release candidates are bridged to it).
const P3_VERSION: &str = "0.3.0";

/// What caps one component's sockets, shared by its instances.
pub struct SocketCaps {
    component: String,
    per_instance: usize,
    quotas: Arc<ConnectionQuotas>,
    /// Whether a refusal by `per_instance` was logged (once per component).
    logged: AtomicBool,
}

impl SocketCaps {
    /// At most `per_instance` sockets per instance of `component`, and the
    /// application's `quotas`.
    pub fn new(component: &str, per_instance: usize, quotas: Arc<ConnectionQuotas>) -> Self {
        Self {
            component: component.to_owned(),
            per_instance,
            quotas,
            logged: AtomicBool::new(false),
        }
    }
}

/// One open socket's hold on the caps: its permits of the application's
/// caps and its place in its instance's count, both given back when the
/// last holder drops it. The socket resource holds it, and so do (0.3) its
/// streams, which may outlive the resource.
struct SocketLease {
    _permit: ConnectionPermit,
    /// The instance's count of open sockets.
    open: Arc<AtomicUsize>,
}

impl Drop for SocketLease {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One instance's open sockets, each holding its permits of the
/// application's caps.
pub struct HeldSockets {
    caps: Arc<SocketCaps>,
    /// By the socket resource's handle in the store's table.
    held: HashMap<u32, Arc<SocketLease>>,
    /// Sockets whose connection is still open: those in `held`, and those
    /// dropped while their streams go on.
    open: Arc<AtomicUsize>,
}

impl HeldSockets {
    /// No sockets yet, under `caps`.
    pub fn new(caps: Arc<SocketCaps>) -> Self {
        Self {
            caps,
            held: HashMap::new(),
            open: Arc::default(),
        }
    }

    /// How many sockets the instance holds open (dropped ones whose
    /// streams are still open included).
    pub fn len(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The permits for one more socket, or `None` (logged) past a cap.
    fn admit(&mut self) -> Option<ConnectionPermit> {
        let caps = &self.caps;
        let max = caps.per_instance;
        if self.len() >= max {
            if !caps.logged.swap(true, Ordering::Relaxed) {
                let held = match max {
                    0 => "`spin up --max-sockets-per-instance` is 0, so its instances may open no socket".to_owned(),
                    _ => format!("an instance already holds {max} open sockets, the most `spin up --max-sockets-per-instance` allows"),
                };
                tracing::warn!(
                    "component `{}`: {held}; a new socket fails (`new-socket-limit`, or `other` in wasi:sockets 0.3) (logged once)\n\nhint: close sockets the component no longer needs (in wasi:sockets 0.3, their send and receive streams too), or raise `--max-sockets-per-instance`",
                    caps.component
                );
            }
            return None;
        }
        caps.quotas
            .try_acquire_for(&caps.component, Outbound::Socket)
            .ok()
    }

    fn hold(&mut self, rep: u32, permit: ConnectionPermit) {
        self.open.fetch_add(1, Ordering::Relaxed);
        let lease = SocketLease {
            _permit: permit,
            open: self.open.clone(),
        };
        self.held.insert(rep, Arc::new(lease));
    }

    /// The socket's resource is gone; its lease goes with the last of its
    /// streams.
    fn release(&mut self, rep: u32) {
        self.held.remove(&rep);
    }

    /// A share of the lease of the socket `rep`, for a stream of it.
    fn share(&self, rep: u32) -> Option<Arc<SocketLease>> {
        self.held.get(&rep).cloned()
    }
}

/// What the replaced functions reach: wasmtime-wasi's sockets and the
/// instance's count.
pub struct SocketsView<'a> {
    /// wasmtime-wasi's sockets context and the store's table.
    pub wasi: WasiSocketsCtxView<'a>,
    /// The sockets held.
    pub held: &'a mut HeldSockets,
}

/// Replaces, in `linker` (which already holds wasmtime-wasi's sockets), the
/// functions where a socket begins and ends, so that sockets are counted.
pub(crate) fn add_to_linker<T: WasiSocketsView + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> SocketsView<'_>,
) -> Result<()> {
    linker.allow_shadowing(true);
    let linked = p2::add_to_linker(linker, get).and_then(|()| p3::add_to_linker(linker, get));
    linker.allow_shadowing(false);
    linked
}

/// What the guest gets for `created`: the socket, now counted with
/// `permit`, or its error code (`convert`ed as wasmtime-wasi does).
fn counted<S: 'static, E, Code>(
    view: &mut SocketsView<'_>,
    permit: ConnectionPermit,
    created: std::result::Result<Resource<S>, E>,
    convert: fn(&mut WasiSocketsCtxView<'_>, E) -> Result<Code>,
) -> Result<(std::result::Result<Resource<S>, Code>,)> {
    match created {
        Ok(socket) => {
            view.held.hold(socket.rep(), permit);
            Ok((Ok(socket),))
        }
        Err(err) => Ok((Err(convert(&mut view.wasi, err)?),)),
    }
}

/// Redefines the destructor of the socket resource `name` (of type `S`) in
/// `instance`: wasmtime-wasi's own (`drop`), then the socket's permits go.
fn released_on_drop<T: Send + 'static, S: 'static>(
    instance: &mut wasmtime::component::LinkerInstance<'_, T>,
    name: &str,
    get: fn(&mut T) -> SocketsView<'_>,
    drop: fn(&mut WasiSocketsCtxView<'_>, Resource<S>) -> Result<()>,
) -> Result<()> {
    instance.resource(name, ResourceType::host::<S>(), move |mut store, rep| {
        let view = get(store.data_mut());
        let mut wasi = view.wasi;
        // Released only once the socket is gone: a 0.2 socket whose streams
        // are still open is not dropped (the guest traps).
        drop(&mut wasi, Resource::new_own(rep))?;
        view.held.release(rep);
        Ok(())
    })
}

/// `wasi:sockets` 0.2.
mod p2 {
    use super::*;
    use wasmtime_wasi::p2::bindings::sockets::network::{self, ErrorCode, IpAddressFamily};
    use wasmtime_wasi::p2::bindings::sockets::{tcp, tcp_create_socket, udp, udp_create_socket};
    use wasmtime_wasi::p2::{SocketResult, TcpSocket, UdpSocket};

    type Created<S> = Result<(Result<Resource<S>, ErrorCode>,)>;

    fn counted<S: 'static>(
        view: &mut SocketsView<'_>,
        permit: ConnectionPermit,
        created: SocketResult<Resource<S>>,
    ) -> Created<S> {
        super::counted(view, permit, created, |wasi, err| {
            network::Host::convert_error_code(wasi, err)
        })
    }

    pub(super) fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        get: fn(&mut T) -> SocketsView<'_>,
    ) -> Result<()> {
        linker
            .instance(&format!("wasi:sockets/tcp-create-socket@{P2_VERSION}"))?
            .func_wrap(
                "create-tcp-socket",
                move |mut store: StoreContextMut<'_, T>, (family,): (IpAddressFamily,)| {
                    let mut view = get(store.data_mut());
                    let Some(permit) = view.held.admit() else {
                        return Ok((Err(ErrorCode::NewSocketLimit),));
                    };
                    let created =
                        tcp_create_socket::Host::create_tcp_socket(&mut view.wasi, family);
                    counted::<TcpSocket>(&mut view, permit, created)
                },
            )?;
        linker
            .instance(&format!("wasi:sockets/udp-create-socket@{P2_VERSION}"))?
            .func_wrap_async(
                "create-udp-socket",
                move |mut store: StoreContextMut<'_, T>, (family,): (IpAddressFamily,)| {
                    Box::new(async move {
                        let mut view = get(store.data_mut());
                        let Some(permit) = view.held.admit() else {
                            return Ok((Err(ErrorCode::NewSocketLimit),));
                        };
                        let created =
                            udp_create_socket::Host::create_udp_socket(&mut view.wasi, family)
                                .await;
                        counted::<UdpSocket>(&mut view, permit, created)
                    })
                },
            )?;
        let mut tcp = linker.instance(&format!("wasi:sockets/tcp@{P2_VERSION}"))?;
        released_on_drop::<T, TcpSocket>(&mut tcp, "tcp-socket", get, |wasi, socket| {
            tcp::HostTcpSocket::drop(wasi, socket)
        })?;
        let mut udp = linker.instance(&format!("wasi:sockets/udp@{P2_VERSION}"))?;
        released_on_drop::<T, UdpSocket>(&mut udp, "udp-socket", get, |wasi, socket| {
            udp::HostUdpSocket::drop(wasi, socket)
        })
    }
}

/// `wasi:sockets` 0.3.
mod p3 {
    use super::*;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use tokio::sync::oneshot;
    use wasmtime::AsContextMut;
    use wasmtime::component::{Access, FutureConsumer, FutureReader, Source, StreamReader};
    use wasmtime_wasi::p3::bindings::sockets::types::{
        ErrorCode, Host, HostTcpSocket, HostTcpSocketWithStore, HostUdpSocket, IpAddressFamily,
    };
    use wasmtime_wasi::p3::sockets::SocketResult;
    use wasmtime_wasi::sockets::{TcpSocket, UdpSocket, WasiSockets};

    type Created<S> = Result<(Result<Resource<S>, ErrorCode>,)>;

    /// 0.3 has no `new-socket-limit`.
    fn refused<S>() -> Created<S> {
        Ok((Err(ErrorCode::Other(Some(
            "too many sockets: a cap on open sockets is reached (the host's log says which)".into(),
        ))),))
    }

    fn counted<S: 'static>(
        view: &mut SocketsView<'_>,
        permit: ConnectionPermit,
        created: SocketResult<Resource<S>>,
    ) -> Created<S> {
        super::counted(view, permit, created, |wasi, err| {
            Host::convert_error_code(wasi, err)
        })
    }

    pub(super) fn add_to_linker<T: WasiSocketsView + 'static>(
        linker: &mut Linker<T>,
        get: fn(&mut T) -> SocketsView<'_>,
    ) -> Result<()> {
        let mut types = linker.instance(&format!("wasi:sockets/types@{P3_VERSION}"))?;
        types.func_wrap(
            "[static]tcp-socket.create",
            move |mut store: StoreContextMut<'_, T>, (family,): (IpAddressFamily,)| {
                let mut view = get(store.data_mut());
                let Some(permit) = view.held.admit() else {
                    return refused();
                };
                let created = HostTcpSocket::create(&mut view.wasi, family);
                counted::<TcpSocket>(&mut view, permit, created)
            },
        )?;
        types.func_wrap_async(
            "[static]udp-socket.create",
            move |mut store: StoreContextMut<'_, T>, (family,): (IpAddressFamily,)| {
                Box::new(async move {
                    let mut view = get(store.data_mut());
                    let Some(permit) = view.held.admit() else {
                        return refused();
                    };
                    let created = HostUdpSocket::create(&mut view.wasi, family).await;
                    counted::<UdpSocket>(&mut view, permit, created)
                })
            },
        )?;
        released_on_drop::<T, TcpSocket>(&mut types, "tcp-socket", get, |wasi, socket| {
            HostTcpSocket::drop(wasi, socket)
        })?;
        released_on_drop::<T, UdpSocket>(&mut types, "udp-socket", get, |wasi, socket| {
            HostUdpSocket::drop(wasi, socket)
        })?;
        types.func_wrap(
            "[method]tcp-socket.send",
            move |mut store: StoreContextMut<'_, T>,
                  (socket, data): (Resource<TcpSocket>, StreamReader<u8>)| {
                let lease = get(store.data_mut()).held.share(socket.rep());
                let wasi = Access::<T, WasiSockets>::new(store.as_context_mut(), T::sockets);
                let done = <WasiSockets as HostTcpSocketWithStore<T>>::send(wasi, socket, data)?;
                Ok((leased_until(&mut store, done, lease)?,))
            },
        )?;
        types.func_wrap(
            "[method]tcp-socket.receive",
            move |mut store: StoreContextMut<'_, T>, (socket,): (Resource<TcpSocket>,)| {
                let lease = get(store.data_mut()).held.share(socket.rep());
                let wasi = Access::<T, WasiSockets>::new(store.as_context_mut(), T::sockets);
                let (data, done) =
                    <WasiSockets as HostTcpSocketWithStore<T>>::receive(wasi, socket)?;
                Ok(((data, leased_until(&mut store, done, lease)?),))
            },
        )
    }

    /// How a stream of a socket ends.
    type StreamEnd = std::result::Result<(), ErrorCode>;

    /// `done`, the future that resolves when a socket's stream is done with
    /// its connection, as the guest gets it, with `lease` held until then
    /// (whether or not the guest keeps the future). The lease goes when the
    /// store's event loop passes `done` on, a moment after the stream is
    /// dropped: a guest that drops a stream and at once creates a socket
    /// at its cap, without waiting on anything in between, is refused.
    fn leased_until<T: 'static>(
        store: &mut StoreContextMut<'_, T>,
        done: FutureReader<StreamEnd>,
        lease: Option<Arc<SocketLease>>,
    ) -> Result<FutureReader<StreamEnd>> {
        let Some(lease) = lease else {
            return Ok(done);
        };
        let (tx, rx) = oneshot::channel();
        done.pipe(
            store.as_context_mut(),
            LeaseHolder {
                lease: Some(lease),
                tx: Some(tx),
            },
        )?;
        FutureReader::new(store.as_context_mut(), async move {
            // Without a value only when the instance ends first.
            let end = rx.await.unwrap_or_else(|_| {
                Err(ErrorCode::Other(Some(
                    "the socket's stream ended with its instance".into(),
                )))
            });
            Ok::<_, wasmtime::Error>(end)
        })
    }

    /// Reads the end of a socket's stream, then lets go of the socket's
    /// lease and passes the end on.
    struct LeaseHolder {
        lease: Option<Arc<SocketLease>>,
        tx: Option<oneshot::Sender<StreamEnd>>,
    }

    impl<D: 'static> FutureConsumer<D> for LeaseHolder {
        type Item = StreamEnd;

        fn poll_consume(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            mut store: StoreContextMut<'_, D>,
            mut source: Source<'_, StreamEnd>,
            _: bool,
        ) -> Poll<Result<()>> {
            let mut end = None;
            source.read(&mut store, &mut end)?;
            self.lease = None;
            if let (Some(end), Some(tx)) = (end, self.tx.take()) {
                let _ = tx.send(end);
            }
            Poll::Ready(Ok(()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use wasmtime::component::{Component, ResourceTable, TypedFunc};
    use wasmtime::{Config, Engine, Store};
    use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

    use crate::runtime_config::connection_limits::{ConnectionLimits, Limit};

    /// A component that creates `wasi:sockets@0.3` sockets (Python's own
    /// `socket` uses 0.2, which the integration tests drive): `open(udp, n,
    /// keep)` creates `n` UDP or TCP sockets, dropping each at once unless
    /// `keep`, and returns how many it could create.
    const OPENER: &str = r#"(component
      (import "wasi:sockets/types@0.3.0" (instance $types
        (export "tcp-socket" (type $tcp (sub resource)))
        (export "udp-socket" (type $udp (sub resource)))
        (type $family' (enum "ipv4" "ipv6"))
        (export "ip-address-family" (type $family (eq $family')))
        (type $error' (variant
          (case "access-denied") (case "not-supported") (case "invalid-argument")
          (case "out-of-memory") (case "timeout") (case "invalid-state")
          (case "address-not-bindable") (case "address-in-use")
          (case "remote-unreachable") (case "connection-refused")
          (case "connection-broken") (case "connection-reset")
          (case "connection-aborted") (case "datagram-too-large")
          (case "other" (option string))))
        (export "error-code" (type $error (eq $error')))
        (export "[static]tcp-socket.create"
          (func (param "address-family" $family) (result (result (own $tcp) (error $error)))))
        (export "[static]udp-socket.create"
          (func (param "address-family" $family) (result (result (own $udp) (error $error)))))))
      (alias export $types "tcp-socket" (type $tcp))
      (alias export $types "udp-socket" (type $udp))
      (alias export $types "[static]tcp-socket.create" (func $tcp-create))
      (alias export $types "[static]udp-socket.create" (func $udp-create))
      (core module $libc
        (memory (export "memory") 1)
        (global $next (mut i32) (i32.const 1024))
        (func (export "realloc") (param i32 i32 i32 i32) (result i32)
          (local $at i32)
          (local.set $at (global.get $next))
          (global.set $next (i32.add (global.get $next) (i32.add (local.get 3) (i32.const 8))))
          (local.get $at)))
      (core instance $libc (instantiate $libc))
      (alias core export $libc "memory" (core memory $memory))
      (alias core export $libc "realloc" (core func $realloc))
      (core func $tcp-create-lowered (canon lower (func $tcp-create) (memory $memory) (realloc $realloc)))
      (core func $udp-create-lowered (canon lower (func $udp-create) (memory $memory) (realloc $realloc)))
      (core func $tcp-drop (canon resource.drop $tcp))
      (core func $udp-drop (canon resource.drop $udp))
      (core module $opener
        (import "libc" "memory" (memory 1))
        (import "sockets" "tcp-create" (func $tcp-create (param i32 i32)))
        (import "sockets" "udp-create" (func $udp-create (param i32 i32)))
        (import "sockets" "tcp-drop" (func $tcp-drop (param i32)))
        (import "sockets" "udp-drop" (func $udp-drop (param i32)))
        (func (export "open") (param $udp i32) (param $n i32) (param $keep i32) (result i32)
          (local $opened i32)
          (block $done
            (loop $next
              (br_if $done (i32.eqz (local.get $n)))
              (local.set $n (i32.sub (local.get $n) (i32.const 1)))
              (if (local.get $udp)
                (then (call $udp-create (i32.const 0) (i32.const 16)))
                (else (call $tcp-create (i32.const 0) (i32.const 16))))
              (if (i32.eqz (i32.load8_u (i32.const 16)))
                (then
                  (local.set $opened (i32.add (local.get $opened) (i32.const 1)))
                  (if (i32.eqz (local.get $keep))
                    (then
                      (if (local.get $udp)
                        (then (call $udp-drop (i32.load (i32.const 20))))
                        (else (call $tcp-drop (i32.load (i32.const 20)))))))))
              (br $next)))
          (local.get $opened)))
      (core instance $opener (instantiate $opener
        (with "libc" (instance $libc))
        (with "sockets" (instance
          (export "tcp-create" (func $tcp-create-lowered))
          (export "udp-create" (func $udp-create-lowered))
          (export "tcp-drop" (func $tcp-drop))
          (export "udp-drop" (func $udp-drop))))))
      (func (export "open") (param "udp" bool) (param "n" u32) (param "keep" bool) (result u32)
        (canon lift (core func $opener "open"))))"#;

    struct Guest {
        wasi: WasiCtx,
        table: ResourceTable,
        held: HeldSockets,
    }

    impl WasiView for Guest {
        fn ctx(&mut self) -> WasiCtxView<'_> {
            WasiCtxView {
                ctx: &mut self.wasi,
                table: &mut self.table,
            }
        }
    }

    impl Guest {
        fn sockets(&mut self) -> SocketsView<'_> {
            SocketsView {
                wasi: WasiSocketsCtxView {
                    ctx: self.wasi.sockets(),
                    table: &mut self.table,
                },
                held: &mut self.held,
            }
        }
    }

    type Open = TypedFunc<(bool, u32, bool), (u32,)>;

    /// An instance of [`OPENER`] under `caps`, and its `open`.
    async fn opener(caps: &Arc<SocketCaps>) -> (Store<Guest>, Open) {
        let engine = Engine::new(&Config::new()).unwrap();
        let mut linker = Linker::<Guest>::new(&engine);
        wasmtime_wasi::p3::add_to_linker(&mut linker).unwrap();
        add_to_linker(&mut linker, Guest::sockets).unwrap();
        let component = Component::new(&engine, OPENER).unwrap();
        let mut wasi = WasiCtx::builder();
        wasi.allow_tcp(true).allow_udp(true);
        let guest = Guest {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            held: HeldSockets::new(caps.clone()),
        };
        let mut store = Store::new(&engine, guest);
        let instance = linker
            .instantiate_async(&mut store, &component)
            .await
            .unwrap();
        let open = instance.get_typed_func(&mut store, "open").unwrap();
        (store, open)
    }

    /// How many sockets `open` could create.
    async fn opened(store: &mut Store<Guest>, open: &Open, udp: bool, n: u32, keep: bool) -> u32 {
        open.call_async(store, (udp, n, keep)).await.unwrap().0
    }

    #[tokio::test]
    async fn wasi_sockets_0_3_are_counted_from_creation_until_dropped() {
        let caps = Arc::new(SocketCaps::new("c", 3, Arc::default()));
        let (mut store, open) = opener(&caps).await;
        // Dropped at once, any number may be created one after another.
        assert_eq!(opened(&mut store, &open, true, 5, false).await, 5);
        assert_eq!(opened(&mut store, &open, false, 5, false).await, 5);
        // Each was released as it was dropped (a new socket may take the
        // handle of the last one dropped, so this is the telling check).
        assert_eq!(store.data().held.len(), 0);
        // Kept, three at most, TCP and UDP together.
        assert_eq!(opened(&mut store, &open, false, 2, true).await, 2);
        assert_eq!(opened(&mut store, &open, true, 5, true).await, 1);
        assert_eq!(opened(&mut store, &open, false, 1, true).await, 0);
        assert_eq!(store.data().held.len(), 3);
    }

    #[tokio::test]
    async fn the_application_s_socket_cap_spans_instances() {
        let limits = ConnectionLimits {
            total: None,
            per_kind: [(
                Outbound::Socket,
                Limit {
                    max: 2,
                    origin: "rc.toml:2".into(),
                },
            )]
            .into(),
        };
        let quotas = Arc::new(ConnectionQuotas::new(&limits, Duration::from_secs(60)));
        let caps = Arc::new(SocketCaps::new("c", 64, quotas));
        let (mut first, open_first) = opener(&caps).await;
        let (mut second, open_second) = opener(&caps).await;
        assert_eq!(opened(&mut first, &open_first, false, 1, true).await, 1);
        assert_eq!(opened(&mut second, &open_second, true, 5, true).await, 1);
        // An instance's end gives its permits back.
        drop(first);
        assert_eq!(opened(&mut second, &open_second, false, 5, true).await, 1);
    }
}
