//! A tiny HTTP/1.1 server on 127.0.0.1 for tests: fixed routes, plus the
//! hostile behaviours a verifier must survive (never answering, dripping,
//! huge bodies, redirect loops). One thread per connection; plain answers
//! (a body, a status, 404) keep the connection alive for the next request,
//! as a real server does, so clients that pool connections are tested
//! reusing them. Bodies carry an `ETag` and a `Last-Modified` and are
//! answered as a static file server does: 304 to a matching
//! `If-None-Match` / `If-Modified-Since`, 206 (or 416) to `Range: bytes=N-`;
//! each can be turned off, and every answer's status is counted, so tests
//! can tell what a client asked and got. Every connection thread stops by itself within
//! [`MAX_HANG`], and the listener stops when the server is dropped.

// bench/benches/watch.rs and site.rs include this file by path
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
    /// Which validators bodies carry (and are honoured): ETag, Last-Modified.
    etag: bool,
    last_modified: bool,
    /// Whether `Range: bytes=N-` is honoured (else the whole body, 200).
    ranges: bool,
    /// A hostile server: 304 to every GET of a body, asked or not.
    always_304: bool,
    /// Every GET answered: its path, status and request headers (names in
    /// lower case), in order of arrival.
    answers: Vec<Answer>,
}

/// One GET as the server saw and answered it.
#[derive(Clone, Debug)]
pub struct Answer {
    pub path: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
}

impl Answer {
    /// The value of request header `name` (lower case), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
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
        let state = Arc::new(Mutex::new(State {
            etag: true,
            last_modified: true,
            ranges: true,
            ..State::default()
        }));
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

    /// Which validators bodies carry and the server honours (both by
    /// default, as nginx or GitHub Pages send them).
    pub fn set_validators(&self, etag: bool, last_modified: bool) {
        let mut s = self.state.lock().unwrap();
        s.etag = etag;
        s.last_modified = last_modified;
    }

    /// Whether `Range` is honoured (by default); off: a server that
    /// ignores it and answers 200 with the whole body.
    pub fn set_ranges(&self, on: bool) {
        self.state.lock().unwrap().ranges = on;
    }

    /// A hostile server that answers 304 to every GET of a body.
    pub fn set_always_304(&self, on: bool) {
        self.state.lock().unwrap().always_304 = on;
    }

    /// Every GET answered so far (path, status, request headers).
    pub fn answers(&self) -> Vec<Answer> {
        self.state.lock().unwrap().answers.clone()
    }

    /// How many GETs were answered with `status`.
    pub fn count(&self, status: u16) -> usize {
        self.answers().iter().filter(|a| a.status == status).count()
    }

    /// Forgets the GETs and answers received so far.
    pub fn clear_answers(&self) {
        let mut s = self.state.lock().unwrap();
        s.gets.clear();
        s.answers.clear();
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
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
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
    let (route, delay, http) = {
        let mut s = state.lock().unwrap();
        s.gets.push(path.clone());
        let http = Http {
            etag: s.etag,
            last_modified: s.last_modified,
            ranges: s.ranges,
            always_304: s.always_304,
        };
        (s.routes.get(&path).cloned(), s.delay, http)
    };
    let status = match &route {
        None => 404,
        Some(Route::Body(b)) => http.answer(&headers, b).status,
        Some(Route::Status(code)) => *code,
        Some(Route::Redirect(_)) => 302,
        Some(_) => 200,
    };
    state.lock().unwrap().answers.push(Answer {
        path: path.clone(),
        status,
        headers: headers.clone(),
    });
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
            let a = http.answer(&headers, &b);
            let reason = match a.status {
                200 => "OK",
                206 => "Partial Content",
                304 => "Not Modified",
                _ => "Range Not Satisfiable",
            };
            let mut head = format!("HTTP/1.1 {} {reason}\r\n", a.status);
            for (k, v) in &a.headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            // A 304 has no body and says no length.
            if a.status != 304 {
                head.push_str(&format!("Content-Length: {}\r\n", a.body.len()));
            }
            head.push_str(&format!("Connection: {connection}\r\n\r\n"));
            out.write_all(head.as_bytes())?;
            out.write_all(a.body)?;
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

/// How the server answers a body: its validators, conditional requests and
/// ranges.
#[derive(Clone, Copy, Debug)]
struct Http {
    etag: bool,
    last_modified: bool,
    ranges: bool,
    always_304: bool,
}

struct BodyAnswer<'a> {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: &'a [u8],
}

impl Http {
    fn answer<'a>(&self, req: &[(String, String)], body: &'a [u8]) -> BodyAnswer<'a> {
        let header = |name: &str| req.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let (etag, modified) = validators(body);
        let mut headers = Vec::new();
        if self.etag {
            headers.push(("ETag", etag.clone()));
        }
        if self.last_modified {
            headers.push(("Last-Modified", modified.clone()));
        }
        // RFC 9110 13.2.2: If-None-Match first; If-Modified-Since only
        // without it; then Range (and If-Range).
        let not_modified = match (header("if-none-match"), header("if-modified-since")) {
            (Some(inm), _) => {
                self.etag && inm.split(',').any(|t| t.trim() == etag || t.trim() == "*")
            }
            (None, Some(ims)) => self.last_modified && ims == modified,
            (None, None) => false,
        };
        if self.always_304 || not_modified {
            return BodyAnswer {
                status: 304,
                headers,
                body: &[],
            };
        }
        let range = header("range")
            .filter(|_| self.ranges)
            .and_then(|r| r.strip_prefix("bytes="))
            .and_then(|r| r.strip_suffix('-'))
            .and_then(|n| n.parse::<usize>().ok());
        let same = |v: &str| (self.etag && v == etag) || (self.last_modified && v == modified);
        match range {
            Some(start) if header("if-range").is_none_or(same) => {
                if start < body.len() {
                    headers.push((
                        "Content-Range",
                        format!("bytes {start}-{}/{}", body.len() - 1, body.len()),
                    ));
                    BodyAnswer {
                        status: 206,
                        headers,
                        body: &body[start..],
                    }
                } else {
                    headers.push(("Content-Range", format!("bytes */{}", body.len())));
                    BodyAnswer {
                        status: 416,
                        headers,
                        body: &[],
                    }
                }
            }
            _ => BodyAnswer {
                status: 200,
                headers,
                body,
            },
        }
    }
}

/// A body's ETag and Last-Modified: both follow its bytes, so a changed
/// body has new ones and an unchanged one (served again) the same.
fn validators(body: &[u8]) -> (String, String) {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut h);
    let h = h.finish();
    // Some second of 2026, as an HTTP date.
    let secs = 1_767_225_600 + (h % 31_536_000) as i64;
    (format!("\"{h:016x}-{}\"", body.len()), http_date(secs))
}

/// `Thu, 01 Jan 2026 00:00:00 GMT` for a Unix time.
fn http_date(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(m - 1) as usize];
    format!(
        "{weekday}, {d:02} {month} {y} {:02}:{:02}:{:02} GMT",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
