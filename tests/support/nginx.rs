//! A real nginx (installed by `.ci/run`), started by a test on a free
//! loopback port in the foreground as one process, serving a directory of
//! the test's with nginx's own ETag and Last-Modified headers and 304s.
//! Its access log names, for each request, the path, the status and the
//! conditional headers sent. Killed by its PID when dropped.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Nginx {
    pub port: u16,
    dir: PathBuf,
    child: Child,
}

/// One line of the access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub path: String,
    pub status: u16,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<String>,
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
    l.local_addr().expect("addr").port()
}

fn binary() -> PathBuf {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("nginx"))
}

impl Nginx {
    /// Serves `root`; nginx's files (config, logs, temp) go in `dir`.
    pub fn start(root: &Path, dir: &Path) -> Nginx {
        std::fs::create_dir_all(dir.join("tmp")).expect("nginx dir");
        let port = free_port();
        let d = dir.display();
        let config = format!(
            "daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 64; }}
http {{
    log_format hits '$uri\\t$status\\t$http_if_none_match\\t$http_if_modified_since';
    access_log {d}/access.log hits;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    types {{ text/html html; }}
    default_type text/html;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        etag on;
    }}
}}
",
            root = root.display()
        );
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, config).expect("nginx.conf");
        let child = Command::new(binary())
            .arg("-c")
            .arg(&conf)
            .arg("-p")
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx runs (apt-get install nginx; .ci/run installs it)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nginx did not start: {}",
                std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Nginx {
            port,
            dir: dir.to_path_buf(),
            child,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Every request logged so far, in order (nginx writes each line as
    /// the request ends).
    pub fn hits(&self) -> Vec<Hit> {
        let text = std::fs::read_to_string(self.dir.join("access.log")).unwrap_or_default();
        let header = |v: &str| (v != "-").then(|| v.to_string());
        text.lines()
            .map(|line| {
                let f: Vec<&str> = line.split('\t').collect();
                assert_eq!(f.len(), 4, "access log line {line:?}");
                Hit {
                    path: f[0].to_string(),
                    status: f[1].parse().expect("status"),
                    if_none_match: header(f[2]),
                    if_modified_since: header(f[3]),
                }
            })
            .collect()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
