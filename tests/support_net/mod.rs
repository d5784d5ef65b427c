//! Shared by the `tests/net_*.rs` files: the tools' servers started
//! in-process on 127.0.0.1:0 with their events captured, small named fault
//! servers, netcat (`nc`, Debian's netcat-openbsd) run as a real third-party
//! peer, and a runner for the `collector` binary for the exit-code and
//! output tests that come once the binary is wired.
//!
//! Every wait is bounded by [`STEP`]; every child process is killed by its
//! own handle when dropped.

// Each test file uses a different part of this module.
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::process::{Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use collector::net::daytime::{
    DaytimeServeOptions, DaytimeStats, Transports, Zone, bind_daytime, serve_daytime,
};
use collector::net::listener::{ConnectionLimits, ServeStats};
use collector::net::log::{ConnectionRecord, ServerEvent, ServerLog};
use collector::net::tcp::serve::{TcpServeMode, TcpServeOptions, serve_tcp};
use collector::net::udp::{UdpServeMode, UdpServeStats, serve_udp};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpSocket, TcpStream, UdpSocket};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The longest any single step of a test may wait.
pub const STEP: Duration = Duration::from_secs(5);

pub fn localhost() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// Awaits `work`, failing the test with `what` if it takes over [`STEP`].
pub async fn within<F: Future>(what: &str, work: F) -> F::Output {
    match tokio::time::timeout(STEP, work).await {
        Ok(output) => output,
        Err(_) => panic!("{what}: no result within {STEP:?}"),
    }
}

/// Server events collected for assertions.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<ServerEvent>>>);

impl Captured {
    pub fn log(&self) -> ServerLog {
        let events = Arc::clone(&self.0);
        ServerLog::new(move |event| {
            events
                .lock()
                .expect("log lock poisoned")
                .push(event.clone());
        })
    }

    pub fn events(&self) -> Vec<ServerEvent> {
        self.0.lock().expect("log lock poisoned").clone()
    }

    pub fn connections(&self) -> Vec<ConnectionRecord> {
        self.events()
            .into_iter()
            .filter_map(|event| match event {
                ServerEvent::Connection(record) => Some(record),
                _ => None,
            })
            .collect()
    }

    /// Waits until `count` connection lines are logged (they are written
    /// when a connection task ends, which a client cannot observe).
    pub async fn wait_for_connections(&self, count: usize) -> Vec<ConnectionRecord> {
        within("waiting for connection log lines", async {
            loop {
                let records = self.connections();
                if records.len() >= count {
                    return records;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
    }
}

/// A server running in its own task.
pub struct Running<S> {
    pub addr: SocketAddr,
    pub shutdown: CancellationToken,
    pub task: JoinHandle<S>,
    pub log: Captured,
}

impl<S> Running<S> {
    /// Fires shutdown and returns the server's totals.
    pub async fn stop(self) -> S {
        self.shutdown.cancel();
        within("server stopping", self.task)
            .await
            .expect("server task ended normally")
    }
}

/// Options for test servers: short limits so every test stays quick.
pub fn tcp_options(mode: TcpServeMode) -> TcpServeOptions {
    TcpServeOptions {
        mode,
        limits: ConnectionLimits {
            max_conns: 128,
            shutdown_timeout: Duration::from_secs(1),
        },
        idle_timeout: Duration::from_secs(3),
    }
}

pub async fn start_tcp(options: TcpServeOptions) -> Running<ServeStats> {
    let listener = TcpListener::bind(localhost())
        .await
        .expect("bind a free tcp port");
    let addr = listener.local_addr().expect("bound address");
    let shutdown = CancellationToken::new();
    let log = Captured::default();
    let task = tokio::spawn(serve_tcp(listener, options, log.log(), shutdown.clone()));
    Running {
        addr,
        shutdown,
        task,
        log,
    }
}

pub async fn start_udp(mode: UdpServeMode) -> Running<UdpServeStats> {
    let socket = UdpSocket::bind(localhost())
        .await
        .expect("bind a free udp port");
    let addr = socket.local_addr().expect("bound address");
    let shutdown = CancellationToken::new();
    let log = Captured::default();
    let task = tokio::spawn(serve_udp(socket, mode, log.log(), shutdown.clone()));
    Running {
        addr,
        shutdown,
        task,
        log,
    }
}

/// A daytime server on one free port for both TCP and UDP.
pub async fn start_daytime(zone: Zone) -> Running<DaytimeStats> {
    let both = Transports {
        tcp: true,
        udp: true,
    };
    let sockets = bind_daytime(localhost(), both)
        .await
        .expect("bind daytime on a free port");
    let addr = sockets.local_addr().expect("bound address");
    let options = DaytimeServeOptions {
        zone,
        limits: ConnectionLimits {
            max_conns: 16,
            shutdown_timeout: Duration::from_secs(1),
        },
    };
    let shutdown = CancellationToken::new();
    let log = Captured::default();
    let task = tokio::spawn(serve_daytime(sockets, options, log.log(), shutdown.clone()));
    Running {
        addr,
        shutdown,
        task,
        log,
    }
}

/// Fault server: a UDP echo that ignores the first datagram, as a lossy
/// network would. The task returns how many datagrams arrived.
pub async fn drops_first_datagram() -> (SocketAddr, JoinHandle<usize>) {
    let socket = UdpSocket::bind(localhost())
        .await
        .expect("bind a free udp port");
    let addr = socket.local_addr().expect("bound address");
    let task = tokio::spawn(async move {
        let mut buf = vec![0; 65_536];
        let mut seen = 0;
        // Bounded: the test sends a handful; stops at the first silence.
        while let Ok(Ok((read, peer))) =
            tokio::time::timeout(STEP, socket.recv_from(&mut buf)).await
        {
            seen += 1;
            if seen > 1 {
                let answer = buf.get(..read).expect("received bytes fit the buffer");
                socket.send_to(answer, peer).await.expect("answer sent");
                return seen;
            }
        }
        seen
    });
    (addr, task)
}

/// Fault server: a UDP socket that receives and never answers.
pub async fn never_answers() -> UdpSocket {
    UdpSocket::bind(localhost())
        .await
        .expect("bind a free udp port")
}

/// Fault server: accepts and then neither sends nor closes.
pub async fn accepts_and_stalls() -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind(localhost())
        .await
        .expect("bind a free tcp port");
    let addr = listener.local_addr().expect("bound address");
    let task = tokio::spawn(async move {
        if let Ok((stream, _)) = listener.accept().await {
            tokio::time::sleep(STEP).await;
            drop(stream);
        }
    });
    (addr, task)
}

/// Fault server: a listener that never accepts, with its backlog already
/// full, so that further connection attempts get no answer at all (Linux
/// drops a SYN when the accept queue is full). Keep the returned value
/// alive for as long as the port should stay unanswered.
pub async fn full_backlog() -> (SocketAddr, TcpListener, Vec<TcpStream>) {
    let socket = TcpSocket::new_v4().expect("tcp socket");
    socket.bind(localhost()).expect("bind a free tcp port");
    let addr = socket.local_addr().expect("bound address");
    let listener = socket.listen(0).expect("listen");
    let mut held = Vec::new();
    for _ in 0..8 {
        match tokio::time::timeout(Duration::from_millis(300), TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => held.push(stream),
            Ok(Err(err)) => panic!("filling the backlog failed: {err}"),
            Err(_) => return (addr, listener, held),
        }
    }
    panic!("the backlog of {addr} never filled");
}

/// A port with nothing listening: bound once to find it free, then closed.
pub async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind(localhost())
        .await
        .expect("bind a free tcp port");
    listener.local_addr().expect("bound address")
}

/// Runs `nc` with `args`, feeding `stdin`, and returns what it printed.
pub async fn nc(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = spawn_nc(args);
    let mut input = child.stdin.take().expect("nc stdin is piped");
    input.write_all(stdin).await.expect("write to nc stdin");
    drop(input);
    within("nc finishing", child.wait_with_output())
        .await
        .expect("nc ran")
}

fn spawn_nc(args: &[&str]) -> Child {
    match Command::new("nc")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
    {
        Ok(child) => child,
        Err(err) => panic!("cannot run nc ({err}); install it: apt-get install netcat-openbsd"),
    }
}

/// `nc -l` on a free port, answering the first client with `reply`. Its
/// port is read from the "Listening on" line `-v` prints.
pub async fn nc_listen(reply: &[u8]) -> (SocketAddr, Child) {
    let mut child = spawn_nc(&["-l", "-N", "-n", "-v", "127.0.0.1", "0"]);
    let mut input = child.stdin.take().expect("nc stdin is piped");
    // nc reads its input only once a client is connected; the pipe holds it.
    input.write_all(reply).await.expect("write to nc stdin");
    drop(input);
    let stderr = child.stderr.take().expect("nc stderr is piped");
    let mut lines = BufReader::new(stderr).lines();
    let line = within("nc saying where it listens", lines.next_line())
        .await
        .expect("read nc stderr")
        .expect("nc printed a line");
    let port = line
        .rsplit(' ')
        .next()
        .and_then(|port| port.parse::<u16>().ok())
        .unwrap_or_else(|| panic!("no port in nc's line {line:?}"));
    (SocketAddr::from(([127, 0, 0, 1], port)), child)
}

/// Runs the `collector` binary with `args` and `stdin`, killed if it runs
/// past `limit`. For the exit-code and output tests once `collector tcp`,
/// `udp` and `daytime` are wired into the binary.
pub async fn run_collector(args: &[&str], stdin: &[u8], limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_collector"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("collector binary runs");
    let mut input = child.stdin.take().expect("stdin is piped");
    input
        .write_all(stdin)
        .await
        .expect("write to collector stdin");
    drop(input);
    match tokio::time::timeout(limit, child.wait_with_output()).await {
        Ok(output) => output.expect("collector ran"),
        Err(_) => panic!("collector {args:?} ran past {limit:?}"),
    }
}
