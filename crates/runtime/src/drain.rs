//! Reading a body nobody wants to its end, so that whoever writes it (a
//! guest) finishes instead of failing on a closed stream.

use http_body_util::BodyExt as _;
use wasmtime_wasi_http::WasiBody;

/// Reads `body` to its end in a task of its own, throwing it away. The task
/// ends when the writer finishes or drops the body (with its instance, at
/// the latest).
pub fn drain(body: WasiBody) {
    if http_body::Body::is_end_stream(&body) {
        return;
    }
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            let mut body = body;
            while let Some(Ok(_)) = body.frame().await {}
        });
    }
}
