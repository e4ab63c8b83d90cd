//! Debian's `docker-registry` (the CNCF distribution registry) on 127.0.0.1,
//! with its own storage, for the tests that talk to a real registry.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::TempDir;

/// Where the registry binary is: `$DOCKER_REGISTRY_BIN`, Debian's path, PATH.
fn registry_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("DOCKER_REGISTRY_BIN") {
        return PathBuf::from(path);
    }
    let candidates = std::iter::once(PathBuf::from("/usr/bin/docker-registry")).chain(
        std::env::var_os("PATH")
            .map(|p| {
                std::env::split_paths(&p)
                    .map(|d| d.join("docker-registry"))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default(),
    );
    for candidate in candidates {
        if candidate.is_file() {
            return candidate;
        }
    }
    let hint = "the OCI round-trip test needs the CNCF distribution registry: \
                `apt-get install -y docker-registry` (Debian/Ubuntu; the service it may try to start is not needed), \
                or point DOCKER_REGISTRY_BIN at a `registry` binary";
    if std::env::var_os("CI").is_some() {
        panic!("docker-registry not found on this CI runner: .ci/run must install it. {hint}");
    }
    panic!("\n\n*** docker-registry not found: this test does not skip. {hint} ***\n\n");
}

/// Status, headers (lower-case names), body.
pub type HttpReply = (u16, Vec<(String, String)>, Vec<u8>);

/// A registry process on 127.0.0.1 with its own storage, killed on drop.
pub struct LocalRegistry {
    child: Child,
    port: u16,
    dir: TempDir,
}

impl LocalRegistry {
    pub fn start() -> LocalRegistry {
        let binary = registry_binary();
        let mut last_log = String::new();
        // A free port can be taken between probing and binding: try a few.
        for _ in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let dir = TempDir::new("registry");
            let config = dir.path("config.yml");
            std::fs::write(
                &config,
                format!(
                    "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n\
                     storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
                     http:\n  addr: 127.0.0.1:{port}\n",
                    dir.path("data").display()
                ),
            )
            .unwrap();
            let log = std::fs::File::create(dir.path("registry.log")).unwrap();
            let child = Command::new(&binary)
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
            let mut registry = LocalRegistry { child, port, dir };
            if registry.wait_ready() {
                return registry;
            }
            last_log =
                std::fs::read_to_string(registry.dir.path("registry.log")).unwrap_or_default();
        }
        panic!("docker-registry did not answer on /v2/; its log:\n{last_log}");
    }

    /// Until `GET /v2/` answers 200, the process dies, or 15 s pass.
    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return false;
            }
            if self
                .try_get("/v2/", "application/json")
                .is_some_and(|(status, _, _)| status == 200)
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// A plain HTTP/1.0 GET: status, headers (lower-case names), body.
    pub fn get(&self, path: &str, accept: &str) -> HttpReply {
        self.try_get(path, accept)
            .unwrap_or_else(|| panic!("GET {path}: no HTTP reply from the registry"))
    }

    fn try_get(&self, path: &str, accept: &str) -> Option<HttpReply> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .ok()?;
        let request = format!(
            "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\nAccept: {accept}\r\n\r\n",
            self.port
        );
        stream.write_all(request.as_bytes()).ok()?;
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).ok()?;
        let split = reply.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&reply[..split]).into_owned();
        let mut lines = head.split("\r\n");
        let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Some((status, headers, reply[split + 4..].to_vec()))
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for LocalRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}
