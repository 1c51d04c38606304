//! `[[variables_provider]]` (or `[[config_provider]]`): where variable
//! values come from (read by the `spin-variables` crate).

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::error::RuntimeConfigError;
use crate::table::Table;

/// One `[[variables_provider]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VariablesProviderConfig {
    /// `type = "env"`: `<PREFIX>_<NAME>` from the environment, then from a
    /// dotenv file.
    Env {
        /// The prefix (default `SPIN_VARIABLE`).
        prefix: Option<String>,
        /// A dotenv file, relative to the current directory.
        dotenv_path: Option<PathBuf>,
    },
    /// `type = "static"`: fixed values.
    Static {
        /// Values by variable name.
        values: BTreeMap<String, String>,
    },
}

/// One `[[variables_provider]]` table.
pub(crate) fn parse_provider(table: &Table) -> Result<VariablesProviderConfig, RuntimeConfigError> {
    const TYPES: &[&str] = &["env", "static"];
    let (kind, span) = table.kind(TYPES)?;
    match kind.as_str() {
        "env" => {
            table.check_keys(&["type", "prefix", "dotenv_path"])?;
            Ok(VariablesProviderConfig::Env {
                prefix: table.string("prefix")?,
                dotenv_path: table.string("dotenv_path")?.map(PathBuf::from),
            })
        }
        "static" => {
            table.check_keys(&["type", "values"])?;
            let Some((key, value)) = table.get("values") else {
                return Err(table.missing("values", "values = { name = \"value\" }"));
            };
            let values = table.nested(key, value, "values")?;
            let values = values
                .entries
                .iter()
                .map(|&(name, value)| Ok((name.get_ref().to_string(), values.str(name, value)?)))
                .collect::<Result<BTreeMap<_, _>, RuntimeConfigError>>()?;
            Ok(VariablesProviderConfig::Static { values })
        }
        _ => Err(table.unknown_type("variables provider", kind, span, TYPES)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::parse::tests::{parse_err, parse_ok};

    #[test]
    fn config_provider_is_an_alias() {
        let config = parse_ok("[[config_provider]]\ntype = \"env\"\n");
        assert_eq!(
            config.variables_providers,
            vec![VariablesProviderConfig::Env {
                prefix: None,
                dotenv_path: None
            }]
        );
        let err = parse_err(
            "[[variables_provider]]\ntype = \"env\"\n[[config_provider]]\ntype = \"env\"\n",
        );
        assert!(matches!(err.kind(), ErrorKind::BothProviderLists));
    }
}
