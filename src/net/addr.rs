//! Network addresses as users type them: `host:port`, `[v6]:port` and
//! names. Parsing is pure and happens while the command line is read, so a
//! typo is reported before anything touches the network; resolution is the
//! one async step and always runs under a timeout.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

/// A parsed, not yet resolved, `host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    host: Host,
    port: u16,
}

/// The host part of an [`Endpoint`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Ip(IpAddr),
    Name(String),
}

/// What a parser accepts for the port: it decides both validation and the
/// form shown in error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortRule {
    /// `HOST:PORT`, port 1-65535: an address to connect to.
    Required,
    /// `HOST[:PORT]`, port 1-65535, the given one when left out.
    Default(u16),
    /// `HOST[:PORT]` to listen on; 0 asks the system for any free port.
    Bind(u16),
}

/// An address that does not parse; the message shows the expected form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid address {input:?}: {problem}; expected {}", expected_form(*.rule))]
pub struct AddrError {
    pub input: String,
    pub problem: String,
    pub rule: PortRule,
}

/// A name that could not be turned into socket addresses.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("could not resolve {host}: {source}")]
    Lookup {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error("could not resolve {host}: no answer within {}", seconds(*.timeout))]
    Timeout { host: String, timeout: Duration },
    #[error("could not resolve {host}: the name has no addresses")]
    NoAddresses { host: String },
}

fn expected_form(rule: PortRule) -> String {
    match rule {
        PortRule::Required => "HOST:PORT, [IPv6]:PORT or NAME:PORT, \
             e.g. 127.0.0.1:7000, [::1]:7000 or localhost:7000"
            .to_owned(),
        PortRule::Default(port) => format!(
            "HOST[:PORT], [IPv6][:PORT] or NAME[:PORT] (port {port} when left out), \
             e.g. 127.0.0.1, [::1]:{port} or localhost"
        ),
        PortRule::Bind(port) => format!(
            "HOST[:PORT] or [IPv6][:PORT] (port {port} when left out, 0 for any free port), \
             e.g. 127.0.0.1:7000, 0.0.0.0:7000 or [::1]:7000"
        ),
    }
}

/// Formats a duration the way users typed it: `5s`, `0.5s`.
pub(crate) fn seconds(duration: Duration) -> String {
    format!("{}s", duration.as_secs_f64())
}

impl Endpoint {
    /// Parses `text` under `rule`.
    pub fn parse(text: &str, rule: PortRule) -> Result<Self, AddrError> {
        split(text, rule).map_err(|problem| AddrError {
            input: text.to_owned(),
            problem,
            rule,
        })
    }

    /// An endpoint for a known IP address, e.g. one a listener is bound to.
    pub fn from_socket_addr(addr: SocketAddr) -> Self {
        Self {
            host: Host::Ip(addr.ip()),
            port: addr.port(),
        }
    }

    pub fn host(&self) -> &Host {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The socket addresses of this endpoint, in the resolver's order.
    /// Literal IPs need no lookup; names are looked up under `timeout`.
    pub async fn resolve(&self, timeout: Duration) -> Result<Vec<SocketAddr>, ResolveError> {
        let name = match &self.host {
            Host::Ip(ip) => return Ok(vec![SocketAddr::new(*ip, self.port)]),
            Host::Name(name) => name,
        };
        let lookup = tokio::net::lookup_host((name.as_str(), self.port));
        let addrs: Vec<SocketAddr> = match tokio::time::timeout(timeout, lookup).await {
            Err(_) => {
                return Err(ResolveError::Timeout {
                    host: name.clone(),
                    timeout,
                });
            }
            Ok(Err(source)) => {
                return Err(ResolveError::Lookup {
                    host: name.clone(),
                    source,
                });
            }
            Ok(Ok(addrs)) => addrs.collect(),
        };
        if addrs.is_empty() {
            return Err(ResolveError::NoAddresses { host: name.clone() });
        }
        Ok(addrs)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]:{}", self.port),
            Host::Ip(IpAddr::V4(ip)) => write!(f, "{ip}:{}", self.port),
            Host::Name(name) => write!(f, "{name}:{}", self.port),
        }
    }
}

/// `HOST:PORT` with the port required: what `FromStr` (and so clap) uses.
impl FromStr for Endpoint {
    type Err = AddrError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text, PortRule::Required)
    }
}

/// Splits and validates; the error is the problem alone, the caller adds
/// the input and the expected form.
fn split(text: &str, rule: PortRule) -> Result<Endpoint, String> {
    if text.is_empty() {
        return Err("it is empty".to_owned());
    }
    if text.chars().any(char::is_whitespace) {
        return Err("it contains whitespace".to_owned());
    }
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (inside, after) = rest
            .split_once(']')
            .ok_or_else(|| "'[' is not closed by ']'".to_owned())?;
        let ip = Ipv6Addr::from_str(inside)
            .map_err(|_| format!("{inside:?} inside brackets is not an IPv6 address"))?;
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| format!("{after:?} after ']' should be ':PORT'"))?,
            ),
        };
        (Host::Ip(IpAddr::V6(ip)), port)
    } else if text.matches(':').count() > 1 {
        return Err(match Ipv6Addr::from_str(text) {
            Ok(ip) => format!("an IPv6 address needs brackets, e.g. [{ip}]:PORT"),
            Err(_) => "it has more than one ':'".to_owned(),
        });
    } else {
        let (host, port) = match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        };
        if host.is_empty() {
            return Err("the host is missing".to_owned());
        }
        if port.is_none() && host.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "{host:?} looks like a port alone; put a host before it, e.g. 127.0.0.1:{host}"
            ));
        }
        (parse_host(host)?, port)
    };
    let port = match (port, rule) {
        (Some(port), _) => parse_port(port, rule)?,
        (None, PortRule::Required) => return Err("the port is missing".to_owned()),
        (None, PortRule::Default(port) | PortRule::Bind(port)) => port,
    };
    Ok(Endpoint { host, port })
}

fn parse_port(text: &str, rule: PortRule) -> Result<u16, String> {
    let lowest = match rule {
        PortRule::Bind(_) => 0,
        PortRule::Required | PortRule::Default(_) => 1,
    };
    match text.parse::<u16>() {
        Ok(port) if port >= lowest && text.bytes().all(|b| b.is_ascii_digit()) => Ok(port),
        _ if text.is_empty() => Err("the port after ':' is missing".to_owned()),
        _ => Err(format!(
            "port {text:?} is not a number from {lowest} to 65535"
        )),
    }
}

fn parse_host(text: &str) -> Result<Host, String> {
    if let Ok(ip) = Ipv4Addr::from_str(text) {
        return Ok(Host::Ip(IpAddr::V4(ip)));
    }
    // Only digits and dots but not an IPv4 address: a mistyped IP, which a
    // resolver would otherwise report as an unknown name.
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(format!("{text:?} is not a valid IPv4 address"));
    }
    // RFC 1123 host names, plus '_' which real DNS names do carry.
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    let name = text.strip_suffix('.').unwrap_or(text);
    if text.len() > 253 || !name.split('.').all(label_ok) {
        return Err(format!("{text:?} is not a valid host name"));
    }
    Ok(Host::Name(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str, rule: PortRule) -> String {
        match Endpoint::parse(text, rule) {
            Ok(endpoint) => endpoint.to_string(),
            Err(err) => panic!("{text:?} should parse: {err}"),
        }
    }

    fn problem(text: &str, rule: PortRule) -> String {
        match Endpoint::parse(text, rule) {
            Ok(endpoint) => panic!("{text:?} should not parse, got {endpoint}"),
            Err(err) => err.problem,
        }
    }

    #[test]
    fn accepts_the_documented_forms() {
        assert_eq!(ok("127.0.0.1:7000", PortRule::Required), "127.0.0.1:7000");
        assert_eq!(ok("[::1]:7000", PortRule::Required), "[::1]:7000");
        assert_eq!(ok("localhost:80", PortRule::Required), "localhost:80");
        assert_eq!(
            ok("time.example.org.:13", PortRule::Required),
            "time.example.org.:13"
        );
        assert_eq!(ok("my_host-1:9", PortRule::Required), "my_host-1:9");
        assert_eq!(ok("localhost", PortRule::Default(13)), "localhost:13");
        assert_eq!(ok("[fe80::1]", PortRule::Default(13)), "[fe80::1]:13");
        assert_eq!(ok("0.0.0.0", PortRule::Bind(0)), "0.0.0.0:0");
        assert_eq!(ok("127.0.0.1:0", PortRule::Bind(13)), "127.0.0.1:0");
    }

    #[test]
    fn names_each_problem() {
        let req = PortRule::Required;
        assert_eq!(problem("", req), "it is empty");
        assert_eq!(problem("localhost", req), "the port is missing");
        assert_eq!(problem(":80", req), "the host is missing");
        assert_eq!(problem("host:", req), "the port after ':' is missing");
        assert_eq!(
            problem("host:http", req),
            "port \"http\" is not a number from 1 to 65535"
        );
        assert_eq!(
            problem("host:70000", req),
            "port \"70000\" is not a number from 1 to 65535"
        );
        assert_eq!(
            problem("host:+80", req),
            "port \"+80\" is not a number from 1 to 65535"
        );
        assert_eq!(
            problem("host:0", req),
            "port \"0\" is not a number from 1 to 65535"
        );
        assert_eq!(
            problem("::1", req),
            "an IPv6 address needs brackets, e.g. [::1]:PORT"
        );
        assert_eq!(problem("a:b:c", req), "it has more than one ':'");
        assert_eq!(problem("[::1:80", req), "'[' is not closed by ']'");
        assert_eq!(
            problem("[::1]80", req),
            "\"80\" after ']' should be ':PORT'"
        );
        assert_eq!(
            problem("[1.2.3.4]:80", req),
            "\"1.2.3.4\" inside brackets is not an IPv6 address"
        );
        assert_eq!(
            problem("256.1.1.1:80", req),
            "\"256.1.1.1\" is not a valid IPv4 address"
        );
        assert_eq!(problem("h@st:80", req), "\"h@st\" is not a valid host name");
        assert_eq!(
            problem("-host:80", req),
            "\"-host\" is not a valid host name"
        );
        assert_eq!(problem("a..b:80", req), "\"a..b\" is not a valid host name");
        assert_eq!(problem("local host:80", req), "it contains whitespace");
        assert_eq!(
            problem("8080", PortRule::Bind(0)),
            "\"8080\" looks like a port alone; put a host before it, e.g. 127.0.0.1:8080"
        );
    }

    #[test]
    fn message_shows_input_and_expected_form() {
        let err = Endpoint::parse("nope", PortRule::Required).expect_err("no port");
        assert_eq!(
            err.to_string(),
            "invalid address \"nope\": the port is missing; expected HOST:PORT, \
             [IPv6]:PORT or NAME:PORT, e.g. 127.0.0.1:7000, [::1]:7000 or localhost:7000"
        );
        let err = Endpoint::parse("x:y", PortRule::Default(13)).expect_err("bad port");
        assert!(err.to_string().contains("(port 13 when left out)"), "{err}");
        let err = Endpoint::parse("x:y", PortRule::Bind(0)).expect_err("bad port");
        assert!(err.to_string().contains("0 for any free port"), "{err}");
    }

    #[tokio::test]
    async fn resolves_literals_without_lookup_and_names_with_one() {
        let literal = Endpoint::parse("[::1]:9", PortRule::Required).expect("valid");
        let addrs = literal
            .resolve(Duration::from_secs(1))
            .await
            .expect("literal");
        assert_eq!(addrs, vec!["[::1]:9".parse::<SocketAddr>().expect("valid")]);

        let name = Endpoint::parse("localhost:9", PortRule::Required).expect("valid");
        let addrs = name
            .resolve(Duration::from_secs(5))
            .await
            .expect("localhost resolves");
        assert!(
            addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 9),
            "{addrs:?}"
        );
    }
}
