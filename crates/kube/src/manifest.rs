//! The Kubernetes documents `scaffold` writes, as serde structs.
//!
//! Field names, order and omission follow the spin-operator CRD
//! (`core.spinkube.dev/v1alpha1`, `api/v1alpha1/spinapp_types.go`): fields
//! left at their zero value are omitted, as Go's `omitempty` does, so the
//! output only says what the user chose.

use std::collections::BTreeMap;

use serde::Serialize;

/// `apiVersion` of a SpinApp.
pub(crate) const SPINAPP_API_VERSION: &str = "core.spinkube.dev/v1alpha1";

/// A `SpinApp` custom resource.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SpinApp<'a> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    pub spec: SpinAppSpec<'a>,
}

/// The part of Kubernetes object metadata `scaffold` sets.
#[derive(Debug, Serialize)]
pub(crate) struct ObjectMeta {
    pub name: String,
}

/// `SpinApp.spec`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SpinAppSpec<'a> {
    pub image: &'a str,
    pub executor: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub enable_autoscaling: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub variables: Vec<SpinVar<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub image_pull_secrets: Vec<LocalObjectReference<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_config: Option<RuntimeConfig>,
}

/// A binding of a Spin variable to a static value.
#[derive(Debug, Serialize)]
pub(crate) struct SpinVar<'a> {
    pub name: &'a str,
    pub value: &'a str,
}

/// A reference to an object in the same namespace, by name.
#[derive(Debug, Serialize)]
pub(crate) struct LocalObjectReference<'a> {
    pub name: &'a str,
}

/// `SpinApp.spec.runtimeConfig`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RuntimeConfig {
    pub load_from_secret: String,
}

/// A core `v1` `Secret`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Secret {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    #[serde(rename = "type")]
    pub type_: &'static str,
    /// Keys to base64-encoded values.
    pub data: BTreeMap<&'static str, String>,
}
