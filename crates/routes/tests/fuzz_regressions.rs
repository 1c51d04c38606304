//! Inputs found by the `router` fuzzer (`scripts/fuzz.sh`), each kept as a
//! test once fixed.

use spin_routes::Router;

fn winner(routes: &[&str], path: &str) -> Option<String> {
    let (router, _) = Router::build(routes.iter().map(|r| (r.to_string(), r.to_string()))).unwrap();
    router.route(path).map(|m| m.target.clone())
}

/// Checks that `expected`, one of two routes, wins `path` in either manifest
/// order.
fn wins_in_either_order(expected: &str, other: &str, path: &str) {
    for routes in [[expected, other], [other, expected]] {
        assert_eq!(
            winner(&routes, path).as_deref(),
            Some(expected),
            "{routes:?}"
        );
    }
}

/// A wildcard glued to a dot (`/.*`, `/a.*`) outranked a `/` at the same
/// place, so it took the exact route `/./x`'s own path.
#[test]
fn an_exact_route_beats_a_dot_wildcard() {
    wins_in_either_order("/./\u{3}", "/.*", "/./\u{3}");
    wins_in_either_order("/a./b", "/a.*", "/a./b");
    // The wildcard still takes what the exact route does not.
    wins_in_either_order("/a.*", "/a./b", "/a./c");
}

/// A parameter could capture nothing, so `/o.:id.` matched `/o..` and,
/// having more dots, took the exact route `/o..`'s own path; and `/.:*/M`
/// took `/./M`'s.
#[test]
fn a_parameter_is_never_empty() {
    wins_in_either_order("/o..", "/o.:id.", "/o..");
    wins_in_either_order("/./M/==.", "/.:*/M/==.", "/./M/==.");
    assert_eq!(winner(&["/.:x/a"], "/./a"), None);
    assert_eq!(winner(&["/.:x/a"], "/.b/a").as_deref(), Some("/.:x/a"));
    assert_eq!(winner(&["/:name.:ext"], "/.json"), None);
    assert_eq!(
        winner(&["/:name.:ext"], "/a.json").as_deref(),
        Some("/:name.:ext")
    );
}

/// Ranks compared token by token, but `/..` is one literal token where
/// `/.:ext` has a literal `.` and a parameter, so the parameter was compared
/// with the `/` after `..` and `/.:ext/.` took the exact route `/../.`'s
/// own path.
#[test]
fn a_longer_literal_beats_a_parameter_in_its_place() {
    wins_in_either_order("/../.", "/.:ext/.", "/../.");
    wins_in_either_order("/a.b/c", "/a.:x/c", "/a.b/c");
    // The parameter still takes what the literal does not.
    wins_in_either_order("/.:ext/.", "/../.", "/.x/.");
}
