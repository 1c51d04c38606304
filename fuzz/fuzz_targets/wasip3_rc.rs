//! Components into `spin_wasip3_rc::bridge`, which `spin up` runs on every
//! component whose bytes name WASI 0.3's release candidate (spin-sdk 4.x
//! and 5.x builds, or a file made to look like one) before it compiles it.
//!
//! Invariants: no panic; a wrapped component is valid, and none of its
//! outermost imports and exports is a release-candidate WASI name.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(Some(wrapped)) = spin_wasip3_rc::bridge(data) else {
        return;
    };
    spin_fuzz::assert_valid(&wrapped);
    let (imports, exports) = spin_fuzz::outer_names(&wrapped);
    for name in imports.iter().chain(&exports) {
        assert!(
            spin_wasip3_rc::released_name(name).is_none(),
            "`{name}` is still a release-candidate name"
        );
    }
});
