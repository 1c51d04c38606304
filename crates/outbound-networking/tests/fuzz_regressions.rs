//! Inputs found by the `allowed_hosts` fuzzer (`scripts/fuzz.sh`), each kept
//! as a test once fixed.

use spin_outbound_networking::{AllowedHosts, Host, OutboundTarget, TargetError, suggestion};

/// `res..` normalized to `res.` (one root dot removed), which is not how an
/// entry for it normalizes, so the same name had two spellings and the
/// suggested entry did not allow the destination. A name ending in two dots
/// is not a DNS name: it is refused as a destination and as an entry.
#[test]
fn a_domain_ending_in_two_dots_is_refused() {
    for host in ["res..", "..", "example.com..", "a..."] {
        let err = OutboundTarget::new("https", host, None).unwrap_err();
        assert!(
            matches!(err, TargetError::InvalidHost { .. }),
            "{host}: {err}"
        );
        let url = format!("http://{host}/");
        assert!(OutboundTarget::parse_url(&url).is_err(), "{url}");
        assert!(
            AllowedHosts::parse(&[format!("https://{host}")]).is_err(),
            "{host}"
        );
    }
    // One root dot is still the same name.
    let target = OutboundTarget::new("stg", "res.", Some(24955)).unwrap();
    assert_eq!(target.host, Host::Domain("res".into()));
    let line = suggestion(&target, false);
    assert_eq!(line, "allowed_outbound_hosts = [\"stg://res:24955\"]");
    assert!(
        AllowedHosts::parse(&["stg://res:24955"])
            .unwrap()
            .allows(&target)
    );
}
