//! `fermyon:spin/mysql` (Spin 1), over the 2.0 interface (see
//! [`rdbms_v1::statement_per_connection`]).

use super::*;

crate::capabilities::rdbms_v1::statement_per_connection!(mysql, mysql, MysqlError, mysql_error, ());
