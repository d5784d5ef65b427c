//! The command-line arguments of `collector tcp`, `collector udp` and
//! `collector daytime`: clap subcommand enums the top-level CLI embeds.
//! Addresses and durations are checked here, while the command line is
//! read, so bad input is reported (exit 2) before any network work.
//! Help that shows `HOST[:PORT]` forms is given as `help = ...` rather than
//! a doc comment, where rustdoc would take the brackets for links.

use std::time::Duration;

use clap::{Args, Subcommand};

use super::addr::{Endpoint, PortRule};
use super::daytime::DAYTIME_PORT;

/// Longest accepted timeout: a year, far beyond any real use, and well
/// inside what timers can represent.
const MAX_SECONDS: f64 = 365.0 * 24.0 * 3600.0;

/// The closing section of `collector tcp|udp|daytime --help`.
pub const TOOLS_EXIT_CODES: &str = "\
Exit codes:
  0    ok (a server stopped by Ctrl-C included)
  1    failed (refused, no answer, timeout, a port not open)
  2    bad input (invalid address, unusable --bind, message too large)
  130  a client interrupted by Ctrl-C";

const SERVE_EXIT_CODES: &str = "\
Exit codes:
  0    stopped by Ctrl-C (open connections finish first)
  1    failed while serving
  2    bad input: an invalid or unusable --bind (taken, refused, not an
       address of this host), bad flags";

const TCP_SEND_EXIT_CODES: &str = "\
Exit codes:
  0    sent, and the server closed the connection
  1    failed: refused, unresolved, connect timeout, or the server silent
       for --timeout
  2    bad input: an invalid address, bad flags
  130  interrupted by Ctrl-C";

const TCP_CHECK_EXIT_CODES: &str = "\
Exit codes:
  0    every address is open
  1    some address is closed, timed out, failed or did not resolve
  2    bad input: an invalid address, bad flags
  130  interrupted by Ctrl-C";

const UDP_SEND_EXIT_CODES: &str = "\
Exit codes:
  0    an answer came and was printed
  1    failed: no answer after the retries, unresolved
  2    bad input: an invalid address, a message larger than one datagram,
       bad flags
  130  interrupted by Ctrl-C";

const DAYTIME_GET_EXIT_CODES: &str = "\
Exit codes:
  0    an answer came and was printed
  1    failed: refused, unresolved, no answer in time
  2    bad input: an invalid address, bad flags
  130  interrupted by Ctrl-C";

#[derive(Debug, Clone, Subcommand)]
pub enum TcpCommand {
    /// Run a TCP server that echoes, sends a fixed reply, or discards
    #[command(after_help = SERVE_EXIT_CODES)]
    Serve(TcpServeArgs),
    /// Connect, send MESSAGE (or standard input), print the reply
    #[command(after_help = TCP_SEND_EXIT_CODES)]
    Send(TcpSendArgs),
    /// Print whether TCP ports are open; exit 0 only if all are
    #[command(after_help = TCP_CHECK_EXIT_CODES)]
    Check(TcpCheckArgs),
}

#[derive(Debug, Clone, Args)]
pub struct TcpServeArgs {
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:0",
        value_parser = parse_bind_any,
        help = "Address to listen on, HOST[:PORT]; port 0 picks a free port (shown at start)"
    )]
    pub bind: Endpoint,
    #[command(flatten)]
    pub mode: TcpModeArgs,
    /// Connections served at once; more wait until one closes
    #[arg(
        long,
        value_name = "N",
        default_value_t = 100,
        value_parser = clap::value_parser!(u32).range(1..=100_000)
    )]
    pub max_conns: u32,
    /// Close a connection where nothing is sent or received for SECS
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_seconds)]
    pub idle_timeout: Duration,
    /// On Ctrl-C, how long open connections may go on before they are cut
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = parse_seconds)]
    pub shutdown_timeout: Duration,
}

/// What `tcp serve` does with a connection; echo when none is given.
#[derive(Debug, Clone, Args)]
#[group(multiple = false)]
pub struct TcpModeArgs {
    /// Send back everything received (the default)
    #[arg(long)]
    pub echo: bool,
    /// Send TEXT (as given, no newline added) to each client, then close
    #[arg(long, value_name = "TEXT")]
    pub reply: Option<String>,
    /// Read and throw away everything, send nothing
    #[arg(long)]
    pub discard: bool,
}

#[derive(Debug, Clone, Args)]
pub struct TcpSendArgs {
    #[arg(help = "Server address, HOST:PORT or [IPv6]:PORT", value_name = "ADDR")]
    pub addr: Endpoint,
    /// Text to send (as given, no newline added); without it, standard input is sent
    #[arg(value_name = "MESSAGE")]
    pub message: Option<String>,
    /// Give up connecting (and resolving) after SECS
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = parse_seconds)]
    pub connect_timeout: Duration,
    /// Once all is sent, stop when the server is silent for SECS (exit 1)
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_seconds)]
    pub timeout: Duration,
    /// Interactive use: send each input line when it is complete, print the reply by lines
    #[arg(long)]
    pub lines: bool,
    /// With --lines, end each line sent with CRLF instead of LF
    #[arg(long, requires = "lines")]
    pub crlf: bool,
}

#[derive(Debug, Clone, Args)]
pub struct TcpCheckArgs {
    #[arg(
        value_name = "ADDR",
        required = true,
        num_args = 1..,
        help = "Addresses to check, HOST:PORT or [IPv6]:PORT"
    )]
    pub addrs: Vec<Endpoint>,
    /// Report an address as timeout after SECS without an answer
    #[arg(long, value_name = "SECS", default_value = "3", value_parser = parse_seconds)]
    pub timeout: Duration,
}

#[derive(Debug, Clone, Subcommand)]
pub enum UdpCommand {
    /// Run a UDP server that answers each datagram (echo or a fixed reply)
    #[command(after_help = SERVE_EXIT_CODES)]
    Serve(UdpServeArgs),
    /// Send one datagram, print the answer; send again when none comes
    #[command(after_help = UDP_SEND_EXIT_CODES)]
    Send(UdpSendArgs),
}

#[derive(Debug, Clone, Args)]
pub struct UdpServeArgs {
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:0",
        value_parser = parse_bind_any,
        help = "Address to listen on, HOST[:PORT]; port 0 picks a free port (shown at start)"
    )]
    pub bind: Endpoint,
    #[command(flatten)]
    pub mode: UdpModeArgs,
}

/// What `udp serve` answers; echo when none is given.
#[derive(Debug, Clone, Args)]
#[group(multiple = false)]
pub struct UdpModeArgs {
    /// Send each datagram back to its sender (the default)
    #[arg(long)]
    pub echo: bool,
    /// Answer every datagram with TEXT
    #[arg(long, value_name = "TEXT")]
    pub reply: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct UdpSendArgs {
    #[arg(help = "Server address, HOST:PORT or [IPv6]:PORT", value_name = "ADDR")]
    pub addr: Endpoint,
    /// Text to send as one datagram (at most 65507 bytes over IPv4)
    #[arg(value_name = "MESSAGE")]
    pub message: String,
    /// Wait SECS for an answer before sending again
    #[arg(long, value_name = "SECS", default_value = "2", value_parser = parse_seconds)]
    pub timeout: Duration,
    /// Send again up to N times when no answer comes
    #[arg(
        long,
        value_name = "N",
        default_value_t = 3,
        value_parser = clap::value_parser!(u32).range(0..=100)
    )]
    pub retries: u32,
}

#[derive(Debug, Clone, Subcommand)]
pub enum DaytimeCommand {
    /// Run an RFC 867 daytime server over TCP and UDP
    #[command(after_help = SERVE_EXIT_CODES)]
    Serve(DaytimeServeArgs),
    /// Ask a daytime server for the time and print its answer
    #[command(after_help = DAYTIME_GET_EXIT_CODES)]
    Get(DaytimeGetArgs),
}

#[derive(Debug, Clone, Args)]
pub struct DaytimeServeArgs {
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:13",
        value_parser = parse_bind_daytime,
        help = "Address to listen on, HOST[:PORT]; port 13 (needs root) unless given"
    )]
    pub bind: Endpoint,
    /// Serve over TCP (with --udp: both, the default)
    #[arg(long)]
    pub tcp: bool,
    /// Serve over UDP (with --tcp: both, the default)
    #[arg(long)]
    pub udp: bool,
    /// Send the time in UTC (the default)
    #[arg(long, conflicts_with = "local")]
    pub utc: bool,
    /// Send the host's local time, with its offset from UTC
    #[arg(long)]
    pub local: bool,
}

#[derive(Debug, Clone, Args)]
pub struct DaytimeGetArgs {
    #[arg(
        value_name = "HOST[:PORT]",
        value_parser = parse_daytime_target,
        help = "Server address, HOST[:PORT] (port 13 when left out)"
    )]
    pub addr: Endpoint,
    /// Ask over UDP instead of TCP
    #[arg(long)]
    pub udp: bool,
    /// Give up after SECS (connecting, then the answer; over UDP, per datagram)
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = parse_seconds)]
    pub timeout: Duration,
    /// Over UDP, send again up to N times when no answer comes
    #[arg(
        long,
        value_name = "N",
        default_value_t = 2,
        value_parser = clap::value_parser!(u32).range(0..=100)
    )]
    pub retries: u32,
}

/// `--bind` for tcp and udp serve: port 0 (any free port) when left out.
pub fn parse_bind_any(text: &str) -> Result<Endpoint, String> {
    Endpoint::parse(text, PortRule::Bind(0)).map_err(|err| err.to_string())
}

/// `--bind` for daytime serve: port 13 when left out.
pub fn parse_bind_daytime(text: &str) -> Result<Endpoint, String> {
    Endpoint::parse(text, PortRule::Bind(DAYTIME_PORT)).map_err(|err| err.to_string())
}

/// The daytime client's target: port 13 when left out.
pub fn parse_daytime_target(text: &str) -> Result<Endpoint, String> {
    Endpoint::parse(text, PortRule::Default(DAYTIME_PORT)).map_err(|err| err.to_string())
}

/// Seconds as users write them: `5`, `0.5`; more than zero.
pub fn parse_seconds(text: &str) -> Result<Duration, String> {
    let expected = "expected a number of seconds above 0, e.g. 5 or 0.5";
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds; {expected}"))?;
    if secs.is_nan() || secs <= 0.0 {
        return Err(format!("{text:?} is not above 0; {expected}"));
    }
    if secs > MAX_SECONDS {
        return Err(format!("{text:?} is more than a year; {expected}"));
    }
    Duration::try_from_secs_f64(secs).map_err(|err| format!("{text:?}: {err}; {expected}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        command: Tools,
    }

    #[derive(Debug, Subcommand)]
    enum Tools {
        #[command(subcommand)]
        Tcp(TcpCommand),
        #[command(subcommand)]
        Udp(UdpCommand),
        #[command(subcommand)]
        Daytime(DaytimeCommand),
    }

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn seconds_accept_fractions_and_reject_the_rest() {
        assert_eq!(parse_seconds("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_seconds("0.25"), Ok(Duration::from_millis(250)));
        for bad in ["0", "-1", "abc", "NaN", "inf", "1e12", ""] {
            let err = parse_seconds(bad).expect_err(bad);
            assert!(
                err.contains("expected a number of seconds above 0"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let cli = Cli::try_parse_from(["collector", "daytime", "serve"]).expect("parses");
        let Tools::Daytime(DaytimeCommand::Serve(args)) = cli.command else {
            panic!("daytime serve expected");
        };
        assert_eq!(args.bind.to_string(), "127.0.0.1:13");
        assert!(!args.tcp && !args.udp && !args.local);

        let cli = Cli::try_parse_from(["collector", "tcp", "serve"]).expect("parses");
        let Tools::Tcp(TcpCommand::Serve(args)) = cli.command else {
            panic!("tcp serve expected");
        };
        assert_eq!(args.bind.to_string(), "127.0.0.1:0");
        assert_eq!(args.max_conns, 100);
        assert_eq!(args.idle_timeout, Duration::from_secs(30));
    }

    #[test]
    fn modes_exclude_each_other() {
        let err = Cli::try_parse_from(["collector", "tcp", "serve", "--echo", "--discard"])
            .expect_err("two modes");
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
        let err = Cli::try_parse_from(["collector", "daytime", "serve", "--utc", "--local"])
            .expect_err("two zones");
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
        let err = Cli::try_parse_from(["collector", "tcp", "send", "h:1", "--crlf"])
            .expect_err("--crlf needs --lines");
        assert_eq!(err.kind(), clap::error::ErrorKind::MissingRequiredArgument);
    }
}
