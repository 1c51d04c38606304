//! `fermyon:spin/postgres` (Spin 1), over the 2.0 interface (see
//! [`rdbms_v1::statement_per_connection`]).

use super::*;

crate::capabilities::rdbms_v1::statement_per_connection!(
    postgres, postgres, PgError, pg_error, u64
);
