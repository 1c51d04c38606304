//! Checks `scaffold` output against our own JSON Schemas for a SpinApp (a
//! transcription of the spin-operator CRD) and a core v1 Secret, and checks
//! that those schemas reject what the cluster would reject or silently drop.

use std::sync::LazyLock;

use jsonschema::Validator;
use serde_json::{Value, json};
use spin_kube::{ScaffoldOptions, scaffold};

const SPINAPP_SCHEMA: &str = include_str!("spinapp.schema.json");
const SECRET_SCHEMA: &str = include_str!("secret.schema.json");
const OPERATOR_COMMIT: &str = "943f5b1732b185f0f442c0fd813cf0ebf6839eca";

fn validator(source: &str) -> Validator {
    let schema: Value = serde_json::from_str(source).expect("schema is JSON");
    jsonschema::draft202012::new(&schema).expect("schema is a valid draft 2020-12 schema")
}

static SPINAPP: LazyLock<Validator> = LazyLock::new(|| validator(SPINAPP_SCHEMA));
static SECRET: LazyLock<Validator> = LazyLock::new(|| validator(SECRET_SCHEMA));

/// Each error as `instance path: message`; empty when `doc` is valid.
fn errors(validator: &Validator, doc: &Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// Validates each document of `yaml` against the schema for its kind.
fn check_documents(yaml: &str) -> Vec<Value> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(yaml).expect("output parses as YAML");
    for doc in &docs {
        let validator = match doc["kind"].as_str() {
            Some("SpinApp") => &*SPINAPP,
            Some("Secret") => &*SECRET,
            other => panic!("unexpected document kind {other:?} in:\n{yaml}"),
        };
        let errs = errors(validator, doc);
        assert!(errs.is_empty(), "{errs:#?}\nin:\n{yaml}");
    }
    docs
}

fn base() -> ScaffoldOptions {
    ScaffoldOptions::new("ghcr.io/me/hello-py:v1")
}

/// A valid SpinApp document to break in the negative tests.
fn valid_spinapp() -> Value {
    let docs = check_documents(&scaffold(&base()).unwrap());
    docs.into_iter().next().unwrap()
}

/// Asserts `doc` is invalid, with an error at `path` mentioning `needle`.
#[track_caller]
fn assert_rejected(validator: &Validator, doc: &Value, path: &str, needle: &str) {
    let errs = errors(validator, doc);
    assert!(
        errs.iter()
            .any(|e| e.starts_with(&format!("{path}: ")) && e.contains(needle)),
        "expected an error at `{path}` mentioning `{needle}`, got {errs:#?}\nfor {doc:#}"
    );
}

#[test]
fn schemas_say_what_they_mirror() {
    let schema: Value = serde_json::from_str(SPINAPP_SCHEMA).unwrap();
    let comment = schema["$comment"].as_str().unwrap();
    assert!(comment.contains(OPERATOR_COMMIT), "{comment}");
    assert!(
        comment.contains("config/crd/bases/core.spinkube.dev_spinapps.yaml"),
        "{comment}"
    );
}

#[test]
fn default_scaffold_is_a_valid_spinapp() {
    let docs = check_documents(&scaffold(&base()).unwrap());
    assert_eq!(docs.len(), 1);
}

#[test]
fn scaffold_with_every_option_is_valid() {
    let opts = ScaffoldOptions {
        image: "localhost:5000/hello-py:v1".into(),
        name: Some("hello".into()),
        replicas: Some(3),
        executor: "containerd-shim-spin".into(),
        variables: vec![
            ("greeting".into(), "hello: world".into()),
            ("enabled".into(), "yes".into()),
            ("ratio".into(), "1.0".into()),
            ("empty".into(), String::new()),
        ],
        runtime_config: Some("[key_value_store.default]\ntype = \"spin\"\n".into()),
        image_pull_secrets: vec!["regcred".into(), "ghcr.pull".into()],
        ..ScaffoldOptions::default()
    };
    let docs = check_documents(&scaffold(&opts).unwrap());
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[1]["kind"], "Secret");
}

#[test]
fn autoscaled_scaffold_is_valid() {
    let mut opts = base();
    opts.enable_autoscaling = true;
    let docs = check_documents(&scaffold(&opts).unwrap());
    assert_eq!(docs[0]["spec"]["enableAutoscaling"], true);
}

#[test]
fn empty_runtime_config_makes_a_valid_secret() {
    let mut opts = base();
    opts.runtime_config = Some(String::new());
    let docs = check_documents(&scaffold(&opts).unwrap());
    assert_eq!(docs[1]["data"]["runtime-config.toml"], "");
}

/// The schema must not reject what the operator accepts: a SpinApp using
/// the fields around those scaffold writes.
#[test]
fn hand_written_spinapp_with_neighbouring_fields_is_valid() {
    let doc = json!({
        "apiVersion": "core.spinkube.dev/v1alpha1",
        "kind": "SpinApp",
        "metadata": { "name": "shop", "namespace": "apps", "labels": { "team": "web" } },
        "spec": {
            "image": "ghcr.io/me/shop:v2",
            "executor": "containerd-shim-spin",
            "replicas": 1,
            "components": ["api"],
            "variables": [
                { "name": "token", "valueFrom": { "secretKeyRef": { "name": "s", "key": "t" } } },
                { "name": "pod", "valueFrom": { "fieldRef": { "fieldPath": "metadata.name" } } }
            ],
            "runtimeConfig": {
                "keyValueStores": [{
                    "name": "default",
                    "type": "redis",
                    "options": [{ "name": "url", "valueFrom": { "secretKeyRef": { "name": "r", "key": "url" } } }]
                }],
                "sqliteDatabases": [{ "name": "default", "type": "libsql", "options": [{ "name": "url", "value": "x" }] }]
            },
            "resources": { "limits": { "cpu": "500m", "memory": "128Mi" }, "requests": { "cpu": 1 } },
            "checks": { "readiness": { "httpGet": { "path": "/healthz" }, "periodSeconds": 5 } },
            "podAnnotations": { "a": "b" },
            "invocationLimits": { "memory": "64Mi" }
        }
    });
    let errs = errors(&SPINAPP, &doc);
    assert!(errs.is_empty(), "{errs:#?}");
}

#[test]
fn rejects_a_spinapp_without_an_image() {
    let mut doc = valid_spinapp();
    doc["spec"].as_object_mut().unwrap().remove("image");
    assert_rejected(&SPINAPP, &doc, "/spec", "\"image\" is a required property");
}

#[test]
fn rejects_an_unknown_spec_field() {
    // `replica` for `replicas`: the API server would prune it and run 1 pod.
    let mut doc = valid_spinapp();
    doc["spec"]["replica"] = json!(3);
    assert_rejected(&SPINAPP, &doc, "/spec", "replica");
}

#[test]
fn rejects_replicas_given_as_a_string() {
    let mut doc = valid_spinapp();
    doc["spec"]["replicas"] = json!("3");
    assert_rejected(&SPINAPP, &doc, "/spec/replicas", "integer");
}

#[test]
fn rejects_negative_or_oversized_replicas() {
    let mut doc = valid_spinapp();
    doc["spec"]["replicas"] = json!(-1);
    assert_rejected(&SPINAPP, &doc, "/spec/replicas", "minimum");
    doc["spec"]["replicas"] = json!(2_147_483_648_u64);
    assert_rejected(&SPINAPP, &doc, "/spec/replicas", "maximum");
}

/// One way to break a valid document: a label, the edit, and where the
/// error must point and what it must say.
type Breakage = (&'static str, fn(&mut Value), &'static str, &'static str);

#[test]
fn rejects_other_breakage_near_scaffold_fields() {
    let cases: Vec<Breakage> = vec![
        (
            "bad name",
            |d| d["metadata"]["name"] = json!("Hello_World"),
            "/metadata/name",
            "does not match",
        ),
        (
            "no name",
            |d| d["metadata"] = json!({}),
            "/metadata",
            "\"name\" is a required property",
        ),
        (
            "no executor",
            |d| {
                d["spec"].as_object_mut().unwrap().remove("executor");
            },
            "/spec",
            "\"executor\" is a required property",
        ),
        (
            "wrong kind",
            |d| d["kind"] = json!("SpinApps"),
            "/kind",
            "SpinApp",
        ),
        (
            "variable without name",
            |d| d["spec"]["variables"] = json!([{ "value": "x" }]),
            "/spec/variables/0",
            "\"name\" is a required property",
        ),
        (
            "variable value not a string",
            |d| d["spec"]["variables"] = json!([{ "name": "on", "value": true }]),
            "/spec/variables/0/value",
            "string",
        ),
        (
            "empty components",
            |d| d["spec"]["components"] = json!([]),
            "/spec/components",
            "less than 1 item",
        ),
        (
            "autoscaling as a string",
            |d| d["spec"]["enableAutoscaling"] = json!("true"),
            "/spec/enableAutoscaling",
            "boolean",
        ),
        (
            "store without type",
            |d| d["spec"]["runtimeConfig"] = json!({ "keyValueStores": [{ "name": "default" }] }),
            "/spec/runtimeConfig/keyValueStores/0",
            "\"type\" is a required property",
        ),
        (
            "runtimeConfig typo",
            |d| d["spec"]["runtimeConfig"] = json!({ "loadFromSecrets": "x" }),
            "/spec/runtimeConfig",
            "loadFromSecrets",
        ),
        (
            "pull secret as a string",
            |d| d["spec"]["imagePullSecrets"] = json!(["regcred"]),
            "/spec/imagePullSecrets/0",
            "object",
        ),
        (
            "annotation value not a string",
            |d| d["spec"]["podAnnotations"] = json!({ "a": 1 }),
            "/spec/podAnnotations/a",
            "string",
        ),
        (
            "bad quantity",
            |d| d["spec"]["resources"] = json!({ "limits": { "cpu": "lots" } }),
            "/spec/resources/limits/cpu",
            "lots",
        ),
    ];
    for (what, break_it, path, needle) in cases {
        let mut doc = valid_spinapp();
        break_it(&mut doc);
        eprintln!("case: {what}");
        assert_rejected(&SPINAPP, &doc, path, needle);
    }
}

fn valid_secret() -> Value {
    let mut opts = base();
    opts.runtime_config = Some("[key_value_store.default]\ntype = \"spin\"\n".into());
    check_documents(&scaffold(&opts).unwrap()).remove(1)
}

#[test]
fn rejects_a_secret_whose_data_is_not_base64() {
    let mut doc = valid_secret();
    doc["data"]["runtime-config.toml"] = json!("[key_value_store.default]");
    assert_rejected(&SECRET, &doc, "/data/runtime-config.toml", "does not match");
}

#[test]
fn rejects_a_secret_with_a_bad_key_or_unknown_field() {
    let mut doc = valid_secret();
    doc["data"]["runtime config.toml"] = json!("");
    assert_rejected(&SECRET, &doc, "/data", "does not match");

    let mut doc = valid_secret();
    doc["datas"] = json!({});
    assert_rejected(&SECRET, &doc, "", "datas");
}
