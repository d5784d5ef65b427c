//! Opening listening sockets, with errors that say what to do: a port that
//! is taken or needs privileges is the usual reason a server cannot start,
//! and the message suggests a `--bind` that would work.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, UdpSocket};

use super::addr::{Endpoint, ResolveError};
use super::log::Proto;

/// Ports below this need root or `CAP_NET_BIND_SERVICE` on Unix.
const FIRST_UNPRIVILEGED_PORT: u16 = 1024;

/// Why a server could not listen.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error(
        "cannot listen on {proto} {addr}: the port is already in use; \
         choose another port, e.g. --bind {suggestion} (port 0 picks a free one)"
    )]
    InUse {
        proto: Proto,
        addr: SocketAddr,
        suggestion: String,
    },
    #[error(
        "cannot listen on {proto} {addr}: permission denied (ports below 1024 need root \
         or CAP_NET_BIND_SERVICE); choose a higher port, e.g. --bind {suggestion}"
    )]
    Permission {
        proto: Proto,
        addr: SocketAddr,
        suggestion: String,
    },
    #[error(
        "cannot listen on {proto} {addr}: {} is not an address of this machine; \
         use 127.0.0.1, 0.0.0.0 (all addresses) or one of its own",
        addr.ip()
    )]
    NotLocal { proto: Proto, addr: SocketAddr },
    #[error("cannot listen on {proto} {addr}: {source}")]
    Other {
        proto: Proto,
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("cannot listen: {0}")]
    Resolve(#[from] ResolveError),
}

impl BindError {
    /// Turns the system's error into one that suggests a way out. Pure, so
    /// the privileged-port case is tested without dropping root.
    pub fn from_io(proto: Proto, addr: SocketAddr, source: io::Error) -> Self {
        match source.kind() {
            io::ErrorKind::AddrInUse => BindError::InUse {
                proto,
                addr,
                suggestion: SocketAddr::new(addr.ip(), 0).to_string(),
            },
            io::ErrorKind::PermissionDenied => {
                let port = match addr.port() {
                    // 13 -> 8013, 7 -> 8007: easy to tie back to the usual port.
                    port if port < FIRST_UNPRIVILEGED_PORT => port + 8000,
                    port => port,
                };
                BindError::Permission {
                    proto,
                    addr,
                    suggestion: SocketAddr::new(addr.ip(), port).to_string(),
                }
            }
            io::ErrorKind::AddrNotAvailable => BindError::NotLocal { proto, addr },
            _ => BindError::Other {
                proto,
                addr,
                source,
            },
        }
    }
}

/// Resolves a `--bind` endpoint to the one address to listen on: the
/// first the resolver gives, as a server listens on exactly one.
pub async fn bind_addr(endpoint: &Endpoint, timeout: Duration) -> Result<SocketAddr, BindError> {
    let addrs = endpoint.resolve(timeout).await?;
    match addrs.first() {
        Some(addr) => Ok(*addr),
        None => Err(ResolveError::NoAddresses {
            host: endpoint.to_string(),
        }
        .into()),
    }
}

pub async fn bind_tcp(addr: SocketAddr) -> Result<TcpListener, BindError> {
    TcpListener::bind(addr)
        .await
        .map_err(|err| BindError::from_io(Proto::Tcp, addr, err))
}

pub async fn bind_udp(addr: SocketAddr) -> Result<UdpSocket, BindError> {
    UdpSocket::bind(addr)
        .await
        .map_err(|err| BindError::from_io(Proto::Udp, addr, err))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().expect("valid socket address")
    }

    #[test]
    fn privileged_port_suggests_a_high_one() {
        let err = BindError::from_io(
            Proto::Tcp,
            addr("0.0.0.0:13"),
            io::Error::from(io::ErrorKind::PermissionDenied),
        );
        assert_eq!(
            err.to_string(),
            "cannot listen on tcp 0.0.0.0:13: permission denied (ports below 1024 need root \
             or CAP_NET_BIND_SERVICE); choose a higher port, e.g. --bind 0.0.0.0:8013"
        );
    }

    #[test]
    fn taken_port_suggests_a_free_one() {
        let err = BindError::from_io(
            Proto::Udp,
            addr("[::1]:7000"),
            io::Error::from(io::ErrorKind::AddrInUse),
        );
        assert_eq!(
            err.to_string(),
            "cannot listen on udp [::1]:7000: the port is already in use; \
             choose another port, e.g. --bind [::1]:0 (port 0 picks a free one)"
        );
    }

    #[test]
    fn foreign_address_is_named() {
        let err = BindError::from_io(
            Proto::Tcp,
            addr("192.0.2.1:80"),
            io::Error::from(io::ErrorKind::AddrNotAvailable),
        );
        assert!(
            err.to_string()
                .contains("192.0.2.1 is not an address of this machine")
        );
    }
}
