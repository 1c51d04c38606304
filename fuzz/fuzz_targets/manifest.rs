//! Arbitrary text into the manifest parser (`spin_manifest::parse`), v1 and
//! v2 alike.
//!
//! Invariants:
//! - no panic, including while rendering an error;
//! - every error ends with a `hint:` line, as the crate promises;
//! - an accepted manifest's HTTP routes all build into one `spin_routes::Router`
//!   (what `spin up` does next), so a route the manifest accepts never fails
//!   at startup.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use spin_manifest::HttpRoute;
use spin_routes::Router;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // A fixed path: the parser only uses it to name the file and resolve
    // the app directory.
    let app = match spin_manifest::parse(text, Path::new("/app/spin.toml")) {
        Ok(app) => app,
        Err(err) => {
            let rendered = err.to_string();
            assert!(
                rendered.contains("\nhint: "),
                "error without a hint:\n{rendered}"
            );
            return;
        }
    };

    let routes: Vec<(String, usize)> = app
        .http_triggers
        .iter()
        .enumerate()
        .filter_map(|(i, trigger)| match &trigger.route.value {
            HttpRoute::Path(path) => Some((path.clone(), i)),
            HttpRoute::Private => None,
        })
        .collect();
    if let Err(err) = Router::build(routes) {
        panic!("the manifest accepts a route the router rejects: {err}");
    }

    // Later layers point at manifest locations; that must not panic either.
    for component in &app.components {
        for host in &component.allowed_outbound_hosts {
            let _ = app
                .error_at(host.location, "allowed_outbound_hosts", "rejected")
                .to_string();
        }
        let _ = app
            .error_at(component.source.location, "source", "missing")
            .to_string();
    }
});
