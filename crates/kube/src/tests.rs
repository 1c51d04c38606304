use base64::Engine as _;
use serde_json::{Value, json};

use super::*;

fn opts(image: &str) -> ScaffoldOptions {
    ScaffoldOptions::new(image)
}

fn render(opts: &ScaffoldOptions) -> String {
    scaffold(opts).unwrap_or_else(|e| panic!("{e}\n\nhint: {:?}", e.hint()))
}

/// Every YAML document in `yaml`, as JSON values.
fn documents(yaml: &str) -> Vec<Value> {
    serde_saphyr::from_multiple(yaml).expect("scaffold output parses as YAML")
}

fn error(opts: &ScaffoldOptions) -> ScaffoldError {
    scaffold(opts).expect_err("scaffold should refuse these options")
}

#[test]
fn default_manifest_matches_spin_kube() {
    // spin-plugin-kube pkg/cmd/testdata/scaffold_image.yml, whose image is
    // needlessly quoted there.
    assert_eq!(
        render(&opts("ghcr.io/foo/example-app:v0.1.0")),
        "\
apiVersion: core.spinkube.dev/v1alpha1
kind: SpinApp
metadata:
  name: example-app
spec:
  image: ghcr.io/foo/example-app:v0.1.0
  executor: containerd-shim-spin
  replicas: 2
"
    );
}

#[test]
fn runtime_config_goes_to_a_secret_the_app_loads() {
    // spin-plugin-kube pkg/cmd/testdata/scaffold_runtime_config.yml.
    let mut o = opts("ghcr.io/foo/example-app:v0.1.0");
    o.runtime_config = Some("log_dir = \"/asdf\"\n".into());
    assert_eq!(
        render(&o),
        "\
apiVersion: core.spinkube.dev/v1alpha1
kind: SpinApp
metadata:
  name: example-app
spec:
  image: ghcr.io/foo/example-app:v0.1.0
  executor: containerd-shim-spin
  replicas: 2
  runtimeConfig:
    loadFromSecret: example-app-runtime-config
---
apiVersion: v1
kind: Secret
metadata:
  name: example-app-runtime-config
type: Opaque
data:
  runtime-config.toml: bG9nX2RpciA9ICIvYXNkZiIK
"
    );
}

#[test]
fn every_option_in_one_manifest() {
    let o = ScaffoldOptions {
        image: "localhost:5000/hello-py:v1".into(),
        replicas: Some(3),
        variables: vec![("greeting".into(), "hello: world".into())],
        runtime_config: Some("[key_value_store.default]\ntype = \"spin\"\n".into()),
        image_pull_secrets: vec!["regcred".into()],
        ..ScaffoldOptions::default()
    };
    assert_eq!(
        render(&o),
        "\
apiVersion: core.spinkube.dev/v1alpha1
kind: SpinApp
metadata:
  name: hello-py
spec:
  image: localhost:5000/hello-py:v1
  executor: containerd-shim-spin
  replicas: 3
  variables:
  - name: greeting
    value: \"hello: world\"
  imagePullSecrets:
  - name: regcred
  runtimeConfig:
    loadFromSecret: hello-py-runtime-config
---
apiVersion: v1
kind: Secret
metadata:
  name: hello-py-runtime-config
type: Opaque
data:
  runtime-config.toml: W2tleV92YWx1ZV9zdG9yZS5kZWZhdWx0XQp0eXBlID0gInNwaW4iCg==
"
    );
}

#[test]
fn secret_holds_the_runtime_config_bytes_exactly() {
    let toml = "# café ☕\n[sqlite_database.default]\ntype = \"spin\"\npath = \"/data/db\"\n\n";
    let mut o = opts("ghcr.io/me/app:v1");
    o.name = Some("shop".into());
    o.runtime_config = Some(toml.into());
    let docs = documents(&render(&o));
    assert_eq!(docs.len(), 2);
    let (app, secret) = (&docs[0], &docs[1]);
    assert_eq!(secret["metadata"]["name"], "shop-runtime-config");
    assert_eq!(
        app["spec"]["runtimeConfig"],
        json!({ "loadFromSecret": "shop-runtime-config" })
    );
    assert_eq!(secret["type"], "Opaque");
    let data = secret["data"].as_object().unwrap();
    assert_eq!(data.keys().collect::<Vec<_>>(), [RUNTIME_CONFIG_KEY]);
    let encoded = data[RUNTIME_CONFIG_KEY].as_str().unwrap();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    assert_eq!(decoded, toml.as_bytes());
}

#[test]
fn no_runtime_config_means_no_secret() {
    let out = render(&opts("ghcr.io/me/app:v1"));
    assert!(!out.contains("---"), "{out}");
    assert!(!out.contains("runtimeConfig"), "{out}");
    assert_eq!(documents(&out).len(), 1);
}

/// Strings that YAML 1.1 (kubectl's go-yaml) or YAML 1.2 would read as
/// something else, or that YAML syntax would break up.
const TRICKY: &[&str] = &[
    "yes",
    "no",
    "y",
    "n",
    "on",
    "off",
    "True",
    "NULL",
    "~",
    "",
    "1.0",
    "012",
    "0x1F",
    "1_000",
    "1e3",
    "1:20",
    ".inf",
    "2001-12-14",
    "a: b",
    "- x",
    "#c",
    "x #c",
    "@x",
    "`x",
    "%x",
    "*a",
    "&a",
    "!t",
    "|",
    "> x",
    "{a}",
    "[a]",
    "'q'",
    "\"d\"",
    " lead",
    "trail ",
    "multi\nline",
    "tab\tstop",
    "back\\slash",
    "café",
];

/// Of [`TRICKY`], those a YAML 1.1 reader types as bool, null, number or
/// timestamp when unquoted; a 1.2 parser would accept some of them plain,
/// so the test checks the text, not only a round trip.
const YAML_1_1_TYPED: &[&str] = &[
    "yes",
    "no",
    "y",
    "n",
    "on",
    "off",
    "True",
    "NULL",
    "~",
    "1.0",
    "012",
    "0x1F",
    "1_000",
    "1e3",
    "1:20",
    ".inf",
    "2001-12-14",
];

#[test]
fn variable_values_round_trip_as_strings() {
    let mut o = opts("ghcr.io/me/app:v1");
    o.variables = TRICKY
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("v{i}"), (*v).to_owned()))
        .collect();
    let out = render(&o);
    let docs = documents(&out);
    let vars = docs[0]["spec"]["variables"].as_array().unwrap();
    assert_eq!(vars.len(), TRICKY.len());
    for (i, (var, expected)) in vars.iter().zip(TRICKY).enumerate() {
        assert_eq!(var["name"], format!("v{i}"));
        assert_eq!(var["value"], Value::String((*expected).into()), "{out}");
    }
    for value in YAML_1_1_TYPED {
        let quoted = format!("    value: \"{value}\"\n");
        assert!(out.contains(&quoted), "`{value}` is not quoted:\n{out}");
    }
}

#[test]
fn images_that_look_like_other_types_stay_strings() {
    // Each is a valid reference (`1:20` is image `1`, tag `20`).
    for image in [
        "yes", "on", "y", "null", "true", "1.0", "012", "1:20", "1e3",
    ] {
        let mut o = opts(image);
        o.name = Some("app".into());
        let out = render(&o);
        assert!(
            out.contains(&format!("  image: \"{image}\"\n")),
            "`{image}` is not quoted:\n{out}"
        );
        assert_eq!(documents(&out)[0]["spec"]["image"], image);
    }
}

#[test]
fn names_come_from_the_last_path_segment() {
    for (image, name) in [
        ("localhost:5000/hello-py:v1", "hello-py"),
        ("ghcr.io/me/team/hello_py:v1", "hello-py"),
        ("ghcr.io/me/app.v2", "app-v2"),
        ("docker.io/library/nginx", "nginx"),
        (
            "ghcr.io/me/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "app",
        ),
    ] {
        assert_eq!(derive_name(image).unwrap(), name, "{image}");
        let docs = documents(&render(&opts(image)));
        assert_eq!(docs[0]["metadata"]["name"], name);
    }
}

#[test]
fn a_given_name_wins_but_must_be_valid() {
    let mut o = opts("ghcr.io/me/2048:v1");
    assert!(matches!(error(&o), ScaffoldError::UnnamableImage { .. }));
    o.name = Some("game".into());
    assert_eq!(documents(&render(&o))[0]["metadata"]["name"], "game");

    o.name = Some("My_Game".into());
    let err = error(&o);
    assert_eq!(
        err.to_string(),
        "`My_Game` is not a valid SpinApp name: `M` is not allowed; use lowercase letters, digits and `-`"
    );
    assert!(
        err.hint().unwrap().starts_with("use `--name my-game`"),
        "{:?}",
        err.hint()
    );
}

#[test]
fn a_given_name_does_not_excuse_a_bad_image() {
    let mut o = opts("ghcr.io/Me/App:v1");
    o.name = Some("app".into());
    assert!(matches!(error(&o), ScaffoldError::InvalidImage { .. }));
}

#[test]
fn replicas_default_to_two_and_follow_the_webhook_rules() {
    let replicas = |o: &ScaffoldOptions| documents(&render(o))[0]["spec"].get("replicas").cloned();
    let mut o = opts("ghcr.io/me/app:v1");
    assert_eq!(replicas(&o), Some(json!(DEFAULT_REPLICAS)));
    o.replicas = Some(5);
    assert_eq!(replicas(&o), Some(json!(5)));
    o.replicas = Some(i32::MAX as u32);
    assert_eq!(replicas(&o), Some(json!(i32::MAX)));

    o.replicas = Some(0);
    assert!(matches!(error(&o), ScaffoldError::ZeroReplicas));
    o.replicas = Some(i32::MAX as u32 + 1);
    assert!(matches!(error(&o), ScaffoldError::TooManyReplicas { .. }));

    o.enable_autoscaling = true;
    o.replicas = Some(3);
    assert!(matches!(
        error(&o),
        ScaffoldError::ReplicasWithAutoscaling { replicas: 3 }
    ));
    o.replicas = None;
    let docs = documents(&render(&o));
    assert_eq!(replicas(&o), None);
    assert_eq!(docs[0]["spec"]["enableAutoscaling"], true);
}

#[test]
fn variables_keep_their_order_and_reject_bad_names() {
    let mut o = opts("ghcr.io/me/app:v1");
    o.variables = vec![("zeta".into(), "1".into()), ("alpha".into(), "2".into())];
    let docs = documents(&render(&o));
    assert_eq!(
        docs[0]["spec"]["variables"],
        json!([{ "name": "zeta", "value": "1" }, { "name": "alpha", "value": "2" }])
    );

    o.variables = vec![("API-Key".into(), "x".into())];
    let err = error(&o);
    assert!(matches!(err, ScaffoldError::InvalidVariableName { .. }));
    assert_eq!(
        err.hint().unwrap(),
        "write it as `--variable api_key=...`; it must match a name in the app's `[variables]`"
    );

    o.variables = vec![("key".into(), "1".into()), ("key".into(), "2".into())];
    assert!(matches!(
        error(&o),
        ScaffoldError::DuplicateVariable { name } if name == "key"
    ));
}

#[test]
fn executor_and_pull_secrets_must_be_kubernetes_names() {
    let mut o = opts("ghcr.io/me/app:v1");
    o.executor = "Containerd Shim".into();
    assert!(matches!(error(&o), ScaffoldError::InvalidExecutor { .. }));

    o.executor = "my-executor".into();
    o.image_pull_secrets = vec!["regcred".into(), "ghcr.pull".into()];
    let docs = documents(&render(&o));
    assert_eq!(docs[0]["spec"]["executor"], "my-executor");
    assert_eq!(
        docs[0]["spec"]["imagePullSecrets"],
        json!([{ "name": "regcred" }, { "name": "ghcr.pull" }])
    );

    o.image_pull_secrets = vec!["Reg_Cred".into()];
    assert!(matches!(error(&o), ScaffoldError::InvalidPullSecret { .. }));
}

#[test]
fn errors_say_what_is_wrong_and_hint_at_a_fix() {
    let with = |f: &dyn Fn(&mut ScaffoldOptions)| {
        let mut o = opts("ghcr.io/me/app:v1");
        f(&mut o);
        error(&o)
    };
    let cases: Vec<(ScaffoldError, &str, &str)> = vec![
        (
            with(&|o| o.image.clear()),
            "no image reference given",
            "pass the app's registry reference",
        ),
        (
            with(&|o| o.image = "oci://ghcr.io/me/app:v1".into()),
            "`oci://ghcr.io/me/app:v1` is not an image reference: a reference has no URL scheme",
            "drop the scheme: `--from ghcr.io/me/app:v1`",
        ),
        (
            with(&|o| o.image = "ghcr.io/me/App:v1".into()),
            "`ghcr.io/me/App:v1` is not an image reference: the path segment `App` must be lowercase letters and digits, joined by `.`, `_`, `__` or `-`",
            "write it as `[registry/]path[:tag][@sha256:digest]`",
        ),
        (
            with(&|o| o.image = "ghcr.io/me/2048:v1".into()),
            "cannot name the app after image `ghcr.io/me/2048:v1`: its last path segment `2048` is not a valid SpinApp name: it must start with a letter (the operator names the app's Service after it)",
            "name the app yourself with `--name my-app`",
        ),
        (
            with(&|o| o.image = "ghcr.io/me/3d_viewer:v1".into()),
            "cannot name the app after image `ghcr.io/me/3d_viewer:v1`: its last path segment `3d_viewer` gives `3d-viewer`, not a valid SpinApp name: it must start with a letter (the operator names the app's Service after it)",
            "name the app yourself",
        ),
        (
            with(&|o| o.variables = vec![("2fa".into(), "x".into())]),
            "`2fa` is not a Spin variable name: each word must start with a lowercase letter, not `2`",
            "variable names are lower snake_case",
        ),
        (
            with(&|o| o.replicas = Some(0)),
            "a SpinApp without autoscaling needs at least 1 replica, not 0",
            "pass `--replicas 1` or more",
        ),
        (
            with(&|o| o.executor.clear()),
            "`` is not a SpinAppExecutor name: it is empty",
            "use `--executor containerd-shim-spin`",
        ),
    ];
    for (err, message, hint) in cases {
        assert_eq!(err.to_string(), message);
        let got = err.hint().expect("a user-fixable error has a hint");
        assert!(got.starts_with(hint), "hint for `{message}`: {got}");
        assert!(!got.contains('\n') && !got.starts_with("hint"), "{got}");
    }
}
