//! `tcp check`: whether ports are open, for health checks in batch jobs.
//! Each target gets one line (status and connect time); targets are
//! checked concurrently but reported in the order given.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use futures::stream::{self, Stream, StreamExt};
use tokio::time::Instant;

use super::connect::{ConnectFailure, attempt};
use crate::net::addr::{Endpoint, Host};

/// Checks in flight at once: enough for a long list, few enough not to
/// look like a port scan or run out of file descriptors.
const CHECKS_IN_FLIGHT: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortStatus {
    /// A connection was made (and closed at once).
    Open,
    /// Refused: the host is up, nothing listens on the port.
    Closed,
    /// No answer within the timeout: host down or packets filtered.
    Timeout,
    /// Another network error, e.g. no route to the host.
    Error(String),
    /// The name did not resolve.
    Unresolved(String),
}

impl PortStatus {
    pub fn is_open(&self) -> bool {
        *self == PortStatus::Open
    }

    /// The word printed, stable for scripts to match.
    pub fn word(&self) -> &'static str {
        match self {
            PortStatus::Open => "open",
            PortStatus::Closed => "closed",
            PortStatus::Timeout => "timeout",
            PortStatus::Error(_) => "error",
            PortStatus::Unresolved(_) => "unresolved",
        }
    }
}

impl From<ConnectFailure> for PortStatus {
    fn from(failure: ConnectFailure) -> Self {
        match failure {
            ConnectFailure::Refused => PortStatus::Closed,
            ConnectFailure::Timeout(_) => PortStatus::Timeout,
            ConnectFailure::Other(err) => PortStatus::Error(err.to_string()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    pub target: Endpoint,
    /// The address the status is about, once the name resolved.
    pub addr: Option<SocketAddr>,
    pub status: PortStatus,
    /// Time to connect, be refused, or give up.
    pub elapsed: Duration,
}

/// `localhost:8080 open 0.3ms 127.0.0.1:8080`: target, status, time, and
/// the address used when the target is a name, or the error's reason.
impl fmt::Display for CheckResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {:.1}ms",
            self.target,
            self.status.word(),
            self.elapsed.as_secs_f64() * 1000.0
        )?;
        if let (Host::Name(_), Some(addr)) = (self.target.host(), self.addr) {
            write!(f, " {addr}")?;
        }
        match &self.status {
            PortStatus::Error(reason) | PortStatus::Unresolved(reason) => write!(f, " ({reason})"),
            PortStatus::Open | PortStatus::Closed | PortStatus::Timeout => Ok(()),
        }
    }
}

/// Checks one target. A name with several addresses is open if any of
/// them is; otherwise the first address's failure is reported.
pub async fn check_port(target: &Endpoint, timeout: Duration) -> CheckResult {
    let started = Instant::now();
    let addrs = match target.resolve(timeout).await {
        Ok(addrs) => addrs,
        Err(err) => {
            return CheckResult {
                target: target.clone(),
                addr: None,
                status: PortStatus::Unresolved(err.to_string()),
                elapsed: started.elapsed(),
            };
        }
    };
    let mut first_failure = None;
    for addr in addrs {
        let attempt_started = Instant::now();
        let outcome = attempt(addr, timeout).await;
        let elapsed = attempt_started.elapsed();
        let status = match outcome {
            // Dropping the stream closes it: the check sends no data.
            Ok(_stream) => PortStatus::Open,
            Err(failure) => PortStatus::from(failure),
        };
        let result = CheckResult {
            target: target.clone(),
            addr: Some(addr),
            status,
            elapsed,
        };
        if result.status.is_open() {
            return result;
        }
        first_failure.get_or_insert(result);
    }
    first_failure.unwrap_or_else(|| CheckResult {
        target: target.clone(),
        addr: None,
        status: PortStatus::Unresolved("the name has no addresses".to_owned()),
        elapsed: started.elapsed(),
    })
}

/// Checks all targets, a bounded number at a time, yielding results in
/// the order of `targets` as soon as each is known.
pub fn check_ports(targets: Vec<Endpoint>, timeout: Duration) -> impl Stream<Item = CheckResult> {
    stream::iter(targets)
        .map(move |target| async move { check_port(&target, timeout).await })
        .buffered(CHECKS_IN_FLIGHT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::addr::PortRule;

    fn result(target: &str, addr: Option<&str>, status: PortStatus) -> CheckResult {
        CheckResult {
            target: Endpoint::parse(target, PortRule::Required).expect("valid target"),
            addr: addr.map(|a| a.parse().expect("valid addr")),
            status,
            elapsed: Duration::from_micros(1234),
        }
    }

    #[test]
    fn lines_name_status_time_and_detail() {
        let open = result("127.0.0.1:80", Some("127.0.0.1:80"), PortStatus::Open);
        assert_eq!(open.to_string(), "127.0.0.1:80 open 1.2ms");
        let named = result("localhost:80", Some("[::1]:80"), PortStatus::Closed);
        assert_eq!(named.to_string(), "localhost:80 closed 1.2ms [::1]:80");
        let unresolved = result(
            "nowhere.invalid:80",
            None,
            PortStatus::Unresolved("no such name".into()),
        );
        assert_eq!(
            unresolved.to_string(),
            "nowhere.invalid:80 unresolved 1.2ms (no such name)"
        );
        let error = result(
            "10.0.0.1:80",
            Some("10.0.0.1:80"),
            PortStatus::Error("no route".into()),
        );
        assert_eq!(error.to_string(), "10.0.0.1:80 error 1.2ms (no route)");
    }

    #[test]
    fn refusal_means_closed() {
        assert_eq!(
            PortStatus::from(ConnectFailure::Refused),
            PortStatus::Closed
        );
        assert_eq!(
            PortStatus::from(ConnectFailure::Timeout(Duration::from_secs(1))),
            PortStatus::Timeout
        );
    }
}
