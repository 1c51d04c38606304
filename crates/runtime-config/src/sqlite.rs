//! `[sqlite_database.<label>]`: where each SQLite database lives, and
//! whether its statements may attach files (the SQLite capability opens
//! them: `spin-runtime`'s `capabilities/sqlite`).

use std::path::PathBuf;

use crate::error::RuntimeConfigError;
use crate::table::Table;

/// Where an SQLite database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    /// A file, created on first use.
    File(PathBuf),
    /// Memory, kept until `spin up` exits (no `path`, or no state directory).
    Memory,
}

/// The database's location, and whether its statements may attach files.
pub(crate) fn parse_database(
    table: &Table,
) -> Result<(DatabaseLocation, bool), RuntimeConfigError> {
    const TYPES: &[&str] = &["spin"];
    let (kind, span) = table.kind(TYPES)?;
    if kind != "spin" {
        return Err(table.unknown_type("SQLite database", kind, span, TYPES));
    }
    table.check_keys(&["type", "path", "allow_attach_file"])?;
    // Off by default, as in Spin: a statement that could attach any path
    // could read or overwrite any file the host user can.
    let allow_attach_file = table.boolean("allow_attach_file")?.unwrap_or(false);
    let location = match table.string("path")? {
        // Relative to the current directory, as in Spin.
        Some(path) => DatabaseLocation::File(PathBuf::from(path)),
        None => DatabaseLocation::Memory,
    };
    Ok((location, allow_attach_file))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::parse::tests::{parse_err, parse_ok};

    #[test]
    fn attaching_files_is_off_unless_allowed() {
        let config = parse_ok(
            "[sqlite_database.a]\ntype = \"spin\"\n[sqlite_database.b]\ntype = \"spin\"\npath = \"b.db\"\nallow_attach_file = true\n",
        );
        assert_eq!(config.sqlite_databases["a"], DatabaseLocation::Memory);
        assert_eq!(
            config.sqlite_databases["b"],
            DatabaseLocation::File("b.db".into())
        );
        assert_eq!(config.sqlite_attach_allowed, ["b".to_string()].into());
        let err = parse_err("[sqlite_database.a]\ntype = \"spin\"\nallow_attach_file = \"yes\"\n");
        assert!(matches!(err.kind(), ErrorKind::WrongType { .. }), "{err}");
        assert_eq!(err.line(), Some(3));
    }
}
