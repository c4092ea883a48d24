//! A tiny HTTP/1.1 server on 127.0.0.1 for tests: fixed routes, plus the
//! hostile behaviours a verifier must survive (never answering, dripping,
//! huge bodies, redirect loops). One thread per connection; plain answers
//! (a body, a status, 404) keep the connection alive for the next request,
//! as a real server does, so clients that pool connections are tested
//! reusing them. Every connection thread stops by itself within
//! [`MAX_HANG`], and the listener stops when the server is dropped.

// benches/watch.rs includes this file by path
// and uses only part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The longest any connection is held open.
pub const MAX_HANG: Duration = Duration::from_secs(30);

#[derive(Clone, Debug)]
pub enum Route {
    /// 200 with this body.
    Body(Vec<u8>),
    /// This status, empty body.
    Status(u16),
    /// 302 to this location (absolute or path).
    Redirect(String),
    /// Accept the request and never answer (until MAX_HANG or drop).
    Hang,
    /// 200 with a body of this many bytes, streamed without Content-Length.
    Huge(u64),
    /// 200, sending `body` one byte every `every`.
    Drip { body: Vec<u8>, every: Duration },
    /// 200 with `body`, answered only once `release` is set (or after
    /// MAX_HANG): a client held at one request while a test acts.
    Held {
        body: Vec<u8>,
        release: Arc<AtomicBool>,
    },
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Route>,
    puts: Vec<(String, Vec<u8>)>,
    gets: Vec<String>,
    /// Waited before answering each GET (a slow link).
    delay: Duration,
    /// Connections accepted.
    connections: usize,
}

pub struct Server {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    st.lock().unwrap().connections += 1;
                    let (st, sp) = (st.clone(), sp.clone());
                    thread::spawn(move || {
                        let _ = handle(conn, &st, &sp);
                    });
                }
            }
        });
        Server { addr, state, stop }
    }

    /// `http://127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn set(&self, path: &str, route: Route) {
        self.state
            .lock()
            .unwrap()
            .routes
            .insert(path.to_string(), route);
    }

    /// Removes every route under `prefix/` (all routes for ``).
    pub fn clear_prefix(&self, prefix: &str) {
        let dir = format!("{prefix}/");
        self.state
            .lock()
            .unwrap()
            .routes
            .retain(|path, _| !path.starts_with(&dir));
    }

    pub fn body(&self, path: &str, body: impl Into<Vec<u8>>) {
        self.set(path, Route::Body(body.into()));
    }

    /// Serves every file under `root` at `/its/relative/path`, replacing
    /// all earlier routes (a snapshot: later changes to `root` are not seen).
    pub fn serve_dir(&self, root: &std::path::Path) {
        fn walk(dir: &std::path::Path, prefix: &str, out: &mut HashMap<String, Route>) {
            for entry in std::fs::read_dir(dir).expect("read served dir") {
                let entry = entry.unwrap();
                let name = entry.file_name().to_string_lossy().into_owned();
                let path = format!("{prefix}/{name}");
                if entry.file_type().unwrap().is_dir() {
                    walk(&entry.path(), &path, out);
                } else {
                    out.insert(path, Route::Body(std::fs::read(entry.path()).unwrap()));
                }
            }
        }
        let mut routes = HashMap::new();
        walk(root, "", &mut routes);
        self.state.lock().unwrap().routes = routes;
    }

    /// Every PUT received: (path, body), in order.
    pub fn puts(&self) -> Vec<(String, Vec<u8>)> {
        self.state.lock().unwrap().puts.clone()
    }

    /// Every GET path received, in order (of arrival: concurrent requests
    /// in any order).
    pub fn gets(&self) -> Vec<String> {
        self.state.lock().unwrap().gets.clone()
    }

    /// Forgets the GETs received so far.
    pub fn clear_gets(&self) {
        self.state.lock().unwrap().gets.clear();
    }

    /// Waits `delay` before answering each GET (a link of that latency).
    pub fn set_delay(&self, delay: Duration) {
        self.state.lock().unwrap().delay = delay;
    }

    /// How many connections were accepted (fewer than requests when
    /// clients reuse them).
    pub fn connections(&self) -> usize {
        self.state.lock().unwrap().connections
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

fn handle(conn: TcpStream, state: &Mutex<State>, stop: &AtomicBool) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    // Header and body go out as separate writes: without this, on a
    // kept-alive connection the body waits for the client's delayed ACK
    // (Nagle), tens of milliseconds a request no real server costs.
    conn.set_nodelay(true)?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let opened = Instant::now();
    // Requests on one connection until a route or the client ends it.
    while opened.elapsed() < MAX_HANG && !stop.load(Ordering::SeqCst) {
        match answer(&mut reader, &conn, state, stop)? {
            Next::KeepAlive => continue,
            Next::Close => break,
        }
    }
    Ok(())
}

enum Next {
    KeepAlive,
    Close,
}

fn answer(
    reader: &mut BufReader<TcpStream>,
    conn: &TcpStream,
    state: &Mutex<State>,
    stop: &AtomicBool,
) -> std::io::Result<Next> {
    let mut request_line = String::new();
    if reader.read_line(&mut request_line)? == 0 {
        return Ok(Next::Close);
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("/").to_string();
    let mut content_length = 0usize;
    let mut client_closes = false;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                content_length = v.trim().parse().unwrap_or(0);
            }
            if k.eq_ignore_ascii_case("connection") && v.trim().eq_ignore_ascii_case("close") {
                client_closes = true;
            }
        }
    }
    let mut out = conn.try_clone()?;
    if method == "PUT" {
        let mut body = vec![0u8; content_length.min(64 << 20)];
        reader.read_exact(&mut body)?;
        state.lock().unwrap().puts.push((path, body));
        out.write_all(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
        return Ok(Next::Close);
    }
    let (route, delay) = {
        let mut s = state.lock().unwrap();
        s.gets.push(path.clone());
        (s.routes.get(&path).cloned(), s.delay)
    };
    if !delay.is_zero() {
        thread::sleep(delay);
    }
    // Plain answers keep the connection; the hostile ones close it.
    let (keep, connection) = if client_closes {
        (Next::Close, "close")
    } else {
        (Next::KeepAlive, "keep-alive")
    };
    match route {
        None => {
            write!(
                out,
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: {connection}\r\n\r\n"
            )?;
            Ok(keep)
        }
        Some(Route::Body(b)) => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n",
                b.len()
            )?;
            out.write_all(&b)?;
            Ok(keep)
        }
        Some(Route::Status(code)) => {
            write!(
                out,
                "HTTP/1.1 {code} Status\r\nContent-Length: 0\r\nConnection: {connection}\r\n\r\n"
            )?;
            Ok(keep)
        }
        Some(Route::Redirect(to)) => {
            write!(
                out,
                "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )?;
            Ok(Next::Close)
        }
        Some(Route::Hang) => {
            let start = Instant::now();
            while start.elapsed() < MAX_HANG && !stop.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(50));
            }
            Ok(Next::Close)
        }
        Some(Route::Huge(n)) => {
            out.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")?;
            let chunk = vec![b'A'; 64 * 1024];
            let mut sent = 0u64;
            while sent < n && !stop.load(Ordering::SeqCst) {
                let k = chunk.len().min((n - sent) as usize);
                out.write_all(&chunk[..k])?;
                sent += k as u64;
            }
            Ok(Next::Close)
        }
        Some(Route::Held { body, release }) => {
            let start = Instant::now();
            while !release.load(Ordering::SeqCst)
                && start.elapsed() < MAX_HANG
                && !stop.load(Ordering::SeqCst)
            {
                thread::sleep(Duration::from_millis(10));
            }
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            out.write_all(&body)?;
            Ok(Next::Close)
        }
        Some(Route::Drip { body, every }) => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            let start = Instant::now();
            for b in body {
                if start.elapsed() > MAX_HANG || stop.load(Ordering::SeqCst) {
                    break;
                }
                out.write_all(&[b])?;
                out.flush()?;
                thread::sleep(every);
            }
            Ok(Next::Close)
        }
    }
}
