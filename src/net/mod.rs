//! Small network tools shipped as subcommands: `collector tcp` (serve,
//! send, check), `collector udp` (serve, send) and `collector daytime`
//! (RFC 867 serve, get).
//!
//! ```text
//! args.rs ──► command.rs  run_tcp / run_udp / run_daytime: resolve, bind,
//!  (clap)        │        stdio, exit codes
//!                ├──► tcp/serve.rs ──► listener.rs  accept loop, cap, shutdown
//!                ├──► tcp/send.rs, tcp/check.rs ──► tcp/connect.rs
//!                ├──► udp.rs      serve; send with retries
//!                └──► daytime.rs  line format, TCP+UDP server, client
//! addr.rs  HOST:PORT parsing and resolution    bind.rs  listening, clear errors
//! log.rs   server events (stderr or tests)     stdin.rs stdin on a thread
//! ```
//!
//! The servers take an already bound socket and a cancellation token, so
//! tests run them in-process on `127.0.0.1:0` and stop them without signals.

pub mod addr;
pub mod args;
pub mod bind;
pub mod command;
pub mod daytime;
pub mod listener;
pub mod log;
mod stdin;
pub mod tcp;
pub mod udp;

pub use args::{DaytimeCommand, TcpCommand, UdpCommand};
pub use command::{outcome_for, run_daytime, run_tcp, run_udp};
