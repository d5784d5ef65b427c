//! The TCP tools: `tcp serve` (echo, reply or discard server), `tcp send`
//! (a client that prints the reply) and `tcp check` (is the port open).

pub mod check;
pub mod connect;
pub mod send;
pub mod serve;
