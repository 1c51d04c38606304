//! `spin:postgres@4.0.0`: adds UUIDs, JSONB, decimals, ranges, arrays
//! and intervals, and the server's error fields.

v4_conversions!();

impl v4::Host for ConnectionState {}

host_connection!(v4);
