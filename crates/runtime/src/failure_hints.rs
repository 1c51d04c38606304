//! Hints for guest failures whose cause the error itself does not say:
//! matched on the failure as logged (the error with its wasm backtrace),
//! rendered once after it by the trigger that logs it.

/// A socket call trapped on a handle of the wrong type or one that does not
/// exist: the guest's C library kept a network handle from when the
/// component was built (componentize-py runs the app's top level then), and
/// that handle means nothing in a new instance.
const STALE_NETWORK_HANDLE: &str = "the component seems to have used a socket while it was being built (its module's top level: `import requests` binds one through urllib3's IPv6 probe), and the C library kept that build's network handle, which means nothing when the component runs; import such libraries, and open connections, inside the handler (`spin py2wasm` components are guarded against this)";

/// A call trapped because the instance holds as many WASI resources as it
/// may (wasmtime's message for a full resource table).
const RESOURCES_FULL: &str = "the instance holds as many WASI resources at once (HTTP fields, requests, streams, files…) as `spin up --max-resources-per-instance` allows: let the guest drop what it no longer uses, or raise the flag";

/// The failure of a request its guest did not finish within `timeout`
/// (`--request-timeout`), with its hint in the message (as logged).
pub fn timed_out(timeout: std::time::Duration) -> anyhow::Error {
    anyhow::anyhow!(
        "the request ran longer than the {timeout:?} limit and was stopped\n\nhint: raise the limit with `spin up --request-timeout <seconds>`"
    )
}

/// What to do about `failure` (an error formatted with `{:?}`), when it is
/// a failure this host recognizes.
pub fn hint(failure: &str) -> Option<&'static str> {
    let sockets = failure.contains("wasi:sockets/");
    let bad_handle =
        failure.contains("unknown handle index") || failure.contains("used with the wrong type");
    if sockets && bad_handle {
        return Some(STALE_NETWORK_HANDLE);
    }
    failure
        .contains("resource table has no free keys")
        .then_some(RESOURCES_FULL)
}

/// `\n\nhint: …` for `failure`, or nothing.
pub fn rendered(failure: &str) -> String {
    hint(failure)
        .map(|hint| format!("\n\nhint: {hint}"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_network_handle_is_recognized_and_nothing_else() {
        let trap = "error while executing at wasm backtrace:\n    0: 0x239f681 - wit-component:shim!indirect-wasi:sockets/tcp@0.2.0-[method]tcp-socket.start-connect\n\nCaused by:\n    handle index 1 used with the wrong type, expected guest-defined resource but found a different guest-defined resource";
        assert!(rendered(trap).starts_with("\n\nhint: the component seems to have used a socket"));
        let lookup = "0: wasi:sockets/ip-name-lookup@0.2.0-resolve-addresses\nCaused by:\n    unknown handle index 1";
        assert!(hint(lookup).is_some());
        // Other handle errors, or other socket failures, are not this.
        assert!(hint("wasi:http/types@0.2.0 ... unknown handle index 3").is_none());
        assert!(hint("wasi:sockets/tcp ... connection refused").is_none());
        assert_eq!(rendered("wasm trap: unreachable"), "");
    }

    #[test]
    fn a_full_resource_table_names_the_flag() {
        let trap = "error while executing at wasm backtrace:\n    0: wasi:http/types@0.3.0#[constructor]fields\n\nCaused by:\n    resource table has no free keys";
        assert!(rendered(trap).contains("--max-resources-per-instance"));
    }
}
