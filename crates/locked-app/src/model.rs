//! The locked app's serde model.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A whole application, locked: every component's content is pinned by
/// digest (or inlined, or a `file://` URL on the machine that made it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockedApp {
    /// `0` when nothing in the app needs a newer reader, else `1` (Spin
    /// writes 1 only with host requirements). Readers accept both.
    pub spin_lock_version: u32,
    /// Features a reader must support to run the app at all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub must_understand: Vec<String>,
    /// Application metadata: `name`, `version`, `description`, `authors`,
    /// `triggers` (per-type settings such as the HTTP `base`), `origin`.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
    /// Host features the app needs (`"required"`) or can use (`"optional"`).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub host_requirements: Map<String, Value>,
    /// Application variables, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, Variable>,
    /// Triggers, in manifest order.
    pub triggers: Vec<LockedTrigger>,
    /// Components, in manifest order.
    pub components: Vec<LockedComponent>,
}

/// An application variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variable {
    /// Human-readable description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The value when no provider gives one; none means required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Whether the value must never be logged.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
}

/// One trigger: its type and its type-specific settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockedTrigger {
    /// Unique within the app.
    pub id: String,
    /// `http`, `redis`, ...
    pub trigger_type: String,
    /// The trigger's table from the manifest, with `component` naming the
    /// component id.
    pub trigger_config: Value,
    /// Components composed around the trigger's (middleware); kept so an
    /// app using them is refused by name rather than run without them.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub trigger_dependencies: Map<String, Value>,
}

/// One component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockedComponent {
    /// The component id.
    pub id: String,
    /// `description`, `allowed_outbound_hosts`, `key_value_stores`,
    /// `databases`, `ai_models`.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
    /// The Wasm binary.
    pub source: LockedComponentSource,
    /// Environment variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Files mounted into the guest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<ContentPath>,
    /// Component variables (values may be `{{ app_variable }}` templates).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub config: BTreeMap<String, String>,
    /// Components composed into this one; kept so that an app using them
    /// is refused by name rather than run half-linked.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub dependencies: Map<String, Value>,
    /// Middleware composed around this component by its trigger.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub trigger_dependencies: Map<String, Value>,
    /// Host features this component needs.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub host_requirements: Map<String, Value>,
}

/// Where a component's Wasm comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockedComponentSource {
    /// Always `application/wasm`.
    pub content_type: String,
    /// The content.
    #[serde(flatten)]
    pub content: ContentRef,
}

/// A file placed at a guest path (relative to the guest's `/`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentPath {
    /// The content.
    #[serde(flatten)]
    pub content: ContentRef,
    /// The guest path, without a leading `/`.
    pub path: String,
}

/// Content, by one or more of: a URL, inline bytes, a digest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentRef {
    /// A URL (`file://...` for a local app).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The bytes themselves, base64 in JSON (Spin inlines files of up to
    /// 128 bytes: some registries refuse very small blobs).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "base64_bytes"
    )]
    pub inline: Option<Vec<u8>>,
    /// `sha256:<hex>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

impl LockedApp {
    /// Parses a locked app.
    pub fn from_json(bytes: &[u8]) -> serde_json::Result<Self> {
        serde_json::from_slice(bytes)
    }

    /// The locked app as compact JSON (the bytes whose digest names the
    /// config layer, so they must be stable for the same app).
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a locked app always serialises")
    }

    /// A metadata string, such as `name`.
    pub fn metadata_str(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).and_then(Value::as_str)
    }
}

/// Spin writes inline content as standard base64 without padding, and
/// its reader refuses padding (found running an app pushed here on Spin
/// 4.0.2); this reader takes either.
mod base64_bytes {
    use base64::Engine as _;
    use base64::alphabet::STANDARD;
    use base64::engine::general_purpose::STANDARD_NO_PAD;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    use serde::{Deserialize, Deserializer, Serializer};

    const EITHER_PADDING: GeneralPurpose = GeneralPurpose::new(
        &STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );

    pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => s.serialize_str(&STANDARD_NO_PAD.encode(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let text = Option::<String>::deserialize(d)?;
        text.map(|t| EITHER_PADDING.decode(t).map_err(serde::de::Error::custom))
            .transpose()
    }
}
