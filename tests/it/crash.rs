//! Crash safety of `canary publish --site` (docs/FORMAT.md, "Publishing and
//! interruptions"): the real binary is killed with SIGKILL at many points
//! of one publication. After every kill:
//!
//! - the web root holds exactly the old site or the new one, and nothing
//!   else (no staging folder a web server could serve);
//! - unless the publish had committed (its journal exists), the project is
//!   byte for byte the old state or the new one;
//! - `canary verify` of the project exits 0;
//! - the same `canary publish`, run again, succeeds (or, when the killed
//!   run had finished everything, says the canary is already published),
//!   and leaves exactly the new state, byte for byte, with nothing left over.
//!
//! Half the kills are spread over the measured duration of a whole run; the
//! other half over a window that closes in on the commit point and the end,
//! so that the few steps between them (a millisecond or so) are hit too.
//! The test stops after [`KILLS`] kills or [`BUDGET`], and each step after
//! the commit point is also stopped at deterministically (the tests after
//! the kill test).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::support::{self, check_time, publish_time, text, Project, ISSUED};

type Snapshot = BTreeMap<PathBuf, (Vec<u8>, u32)>;

/// SIGKILLs at most, one per fresh copy of the project; fewer when they do
/// not fit in [`BUDGET`] (but at least [`MIN_KILLS`]).
const KILLS: usize = 200;
const MIN_KILLS: usize = 40;
const BUDGET: Duration = Duration::from_secs(20);
/// The site, inside a web root (`www/`) that must never hold anything else.
const WEB_ROOT: &str = "www";
const SITE: &str = "www/canary";
/// `canary publish`'s work folder and its commit record.
const WORK: &str = ".canary-publish";
const JOURNAL: &str = ".canary-publish/journal.json";
/// Longest any one command may take before the test gives up on it.
const CHILD_TIMEOUT: Duration = Duration::from_secs(30);

fn publish_args() -> Vec<String> {
    let at = publish_time(1);
    ["publish", "drafts/0002.json", "--site", SITE, "--at", &at]
        .map(String::from)
        .to_vec()
}

/// Where the copies go: a RAM file system when there is one. A SIGKILL
/// leaves the same files on any file system (the kernel keeps what was
/// written), and there a publish takes milliseconds, not the time of its
/// many `fsync`s on a shared disk.
fn scratch() -> PathBuf {
    let shm = Path::new("/dev/shm");
    match tempfile::tempdir_in(shm) {
        Ok(_) => shm.to_path_buf(),
        Err(_) => std::env::temp_dir(),
    }
}

/// Waits for `child`, killing it (and failing) after [`CHILD_TIMEOUT`].
fn wait(mut child: Child) -> ExitStatus {
    let deadline = Instant::now() + CHILD_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("a canary process ran for more than {CHILD_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Runs `canary ARGS` in `dir` to the end: exit code, stdout and stderr
/// (a few KiB at most, so reading them after the exit cannot block).
fn run(dir: &Path, args: &[String]) -> (i32, String, String) {
    use std::io::Read as _;
    let mut child = support::canary_process(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let status = wait(child);
    let (mut o, mut e) = (Vec::new(), Vec::new());
    out.read_to_end(&mut o).unwrap();
    err.read_to_end(&mut e).unwrap();
    (status.code().unwrap_or(-1), text(&o), text(&e))
}

/// Starts `canary publish` in `dir`, with its output discarded.
fn spawn_publish(dir: &Path) -> Child {
    support::canary_process(dir)
        .args(publish_args())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits `d` precisely (a sleep can overshoot by more than the whole span
/// the kills after the commit are spread over).
fn pause(d: Duration) {
    let until = Instant::now() + d;
    if d > Duration::from_millis(2) {
        std::thread::sleep(d - Duration::from_millis(1));
    }
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

/// The project without `canary publish`'s work folder: what the old and
/// the new state are compared on while a publish has not committed.
fn state(p: &Project) -> Snapshot {
    p.snapshot()
        .into_iter()
        .filter(|(k, _)| !k.starts_with(WORK))
        .collect()
}

fn under(s: &Snapshot, dir: &str) -> Snapshot {
    s.iter()
        .filter(|(k, _)| k.starts_with(dir))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Asserts that two snapshots are equal, naming the paths that differ
/// (their bytes would fill the screen).
#[track_caller]
fn assert_same(got: &Snapshot, want: &Snapshot, what: &str) {
    assert!(got == want, "{what}: {:?} differ", differences(got, want));
}

/// The paths that differ between `a` and `b`, a differing folder standing
/// for everything in it.
fn differences(a: &Snapshot, b: &Snapshot) -> Vec<PathBuf> {
    let all: std::collections::BTreeSet<&PathBuf> = a
        .keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .collect();
    all.iter()
        .filter(|k| {
            !k.ancestors()
                .skip(1)
                .any(|up| all.contains(&up.to_path_buf()))
        })
        .map(|k| k.to_path_buf())
        .collect()
}

/// Canary 1 published with its site in `www/canary`, and canary 2 drafted
/// and signed by two of three: the state every kill starts from.
fn template() -> Project {
    let p = Project::with_history(1);
    let at = publish_time(0);
    let rebuild = ["publish", "--rebuild", "--site", SITE, "--at", &at].map(String::from);
    let (code, _, err) = run(p.root(), &rebuild);
    assert_eq!(code, 0, "{err}");
    p.draft(ISSUED[1]).success();
    for s in ["alice", "bob"] {
        p.sign(&p.draft_path(2), s).success();
    }
    p
}

/// One uninterrupted publish in a copy: the state it leaves, and how long
/// it took.
fn reference_run(template: &Project, scratch: &Path) -> (Snapshot, Duration) {
    let q = template.copy_in(scratch);
    assert_same(
        &q.snapshot(),
        &template.snapshot(),
        "a copy is the template",
    );
    let start = Instant::now();
    let status = wait(spawn_publish(q.root()));
    let took = start.elapsed();
    assert!(status.success(), "the publish failed: {status}");
    let s = q.snapshot();
    assert!(!s.keys().any(|k| k.starts_with(WORK)), "work folder left");
    (s, took)
}

/// Where a kill landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Landed {
    /// Before the commit point: the old state.
    BeforeCommit,
    /// After the commit point, before the publish had finished.
    Committed,
    /// After everything (or not killed at all): the new state.
    Finished,
}

/// The delays of the kills: every other one spread over the whole run (and
/// a little past it); the others spread over a window that closes in on
/// where the kills switch from landing before the commit point to landing
/// after the end (the steps after the commit take a millisecond or so, and
/// a loaded machine shifts them around). Both are spread by van der
/// Corput's sequence, so however many kills there are, they cover their
/// span evenly.
struct Delays {
    whole: f64,
    lo: f64,
    hi: f64,
}

/// The `n`th point (from 1) of van der Corput's sequence in [0, 1): each
/// falls in the largest gap the earlier ones left.
fn van_der_corput(mut n: usize) -> f64 {
    let (mut u, mut f) = (0.0, 0.5);
    while n > 0 {
        u += f * (n % 2) as f64;
        n /= 2;
        f /= 2.0;
    }
    u
}

impl Delays {
    fn new(whole: Duration) -> Delays {
        let w = whole.as_secs_f64();
        Delays {
            whole: w,
            lo: 0.5 * w,
            hi: 1.1 * w,
        }
    }

    fn delay(&self, i: usize) -> Duration {
        let u = van_der_corput(i / 2 + 1);
        Duration::from_secs_f64(if i.is_multiple_of(2) {
            1.1 * self.whole * u
        } else {
            self.lo + (self.hi - self.lo) * u
        })
    }

    fn landed(&mut self, delay: Duration, at: Landed) {
        let d = delay.as_secs_f64();
        match at {
            Landed::BeforeCommit if d > self.lo && d < self.hi => self.lo = d,
            Landed::Finished if d > self.lo && d < self.hi => self.hi = d,
            _ => {}
        }
        // Never narrower than the noise between one run and the next.
        let min = 0.05 * self.whole;
        if self.hi - self.lo < min {
            let mid = (self.lo + self.hi) / 2.0;
            (self.lo, self.hi) = (mid - min, mid + min);
        }
    }
}

#[derive(Default, Debug)]
struct Tally {
    before_commit: usize,
    committed: usize,
    finished: usize,
}

#[test]
fn publish_killed_at_any_point_leaves_the_old_or_the_new_state_and_the_next_run_finishes() {
    kill_at_any_point(&template(), MIN_KILLS, BUDGET);
}

/// The same with a rotation taking effect: keys/policy.json is never
/// advanced without canary 2, nor canary 2 published without it.
#[test]
fn a_rotating_publish_killed_at_any_point_leaves_the_old_or_the_new_state() {
    kill_at_any_point(&rotation_template(), MIN_KILLS / 2, BUDGET / 3);
}

/// Kills `canary publish` of the template's canary 2 at many points (at
/// most [`KILLS`], fewer when they do not fit in `budget`, but at least
/// `min_kills`) and checks what each leaves (the module's comment).
fn kill_at_any_point(template: &Project, min_kills: usize, budget: Duration) {
    let started = Instant::now();
    let scratch = scratch();
    let old = template.snapshot();
    let args = publish_args();
    let at = check_time(1);
    let verify = ["verify", "--at", &at].map(String::from);

    // The new state, and the median duration of five runs (after one that
    // brings the binary into the page cache).
    reference_run(template, &scratch);
    let runs: Vec<_> = (0..5).map(|_| reference_run(template, &scratch)).collect();
    let new = runs[0].0.clone();
    assert!(
        runs.iter().all(|r| r.0 == new),
        "publishing is deterministic"
    );
    let mut took: Vec<_> = runs.iter().map(|r| r.1).collect();
    took.sort();
    let whole = took[2];
    let (old_site, new_site) = (under(&old, SITE), under(&new, SITE));
    assert_ne!(old_site, new_site);
    let mut delays = Delays::new(whole);

    let mut problems = Vec::new();
    let mut tally = Tally::default();
    let mut kills = 0;
    let kill_start = Instant::now();
    while kills < KILLS && (kills < min_kills || kill_start.elapsed() < budget) {
        let i = kills;
        kills += 1;
        let delay = delays.delay(i);
        let q = template.copy_in(&scratch);
        let mut child = spawn_publish(q.root());
        pause(delay);
        // SIGKILL on unix; an error only means it had exited already.
        let _ = child.kill();
        let status = wait(child);
        let mut problem = |p: String| problems.push(format!("kill {i} after {delay:?}: {p}"));
        if status.code().is_some_and(|c| c != 0) {
            problem(format!("the uninterrupted publish failed: {status}"));
        }

        // The web root: one folder, the old site or the new one.
        let mut served: Vec<String> = std::fs::read_dir(q.path(WEB_ROOT))
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        served.sort();
        if served != ["canary"] {
            problem(format!("the web root holds {served:?}"));
        }
        let site = under(&q.snapshot(), SITE);
        if site != old_site && site != new_site {
            problem(format!(
                "the site is neither old nor new: {:?} differ from the new one",
                differences(&site, &new_site)
            ));
        }

        // The project: old or new, unless the publish committed.
        let journal = q.path(JOURNAL).exists();
        let now = state(&q);
        let landed = if journal {
            tally.committed += 1;
            Landed::Committed
        } else if now == old {
            tally.before_commit += 1;
            Landed::BeforeCommit
        } else {
            if now != new {
                problem(format!(
                    "no journal, and the project is neither old nor new: {:?} differ from the old state",
                    differences(&now, &old)
                ));
            }
            tally.finished += 1;
            Landed::Finished
        };
        delays.landed(delay, landed);

        let (code, out, _) = run(q.root(), &verify);
        if code != 0 {
            let first = out.lines().find(|l| l.contains("FAIL")).unwrap_or("");
            problem(format!("verify exits {code}: {first}"));
        }

        // The next publish finishes the job.
        let was_new = !journal && now == new;
        let (code, _, err) = run(q.root(), &args);
        let done_already = was_new && code == 13 && err.contains("is already published");
        if code != 0 && !done_already {
            problem(format!(
                "the next publish exits {code}: {}",
                err.lines().next().unwrap_or("")
            ));
        }
        let after = q.snapshot();
        if after != new {
            problem(format!(
                "after the next publish, not the new state: {:?} differ",
                differences(&after, &new)
            ));
        }
    }
    support::needs::note(&format!(
        "crash: {kills} kills in {}, one publish {whole:?}: {tally:?}; {:?} in all",
        scratch.display(),
        started.elapsed()
    ));
    let kinds: Vec<String> = [
        "the web root holds",
        "the site is neither",
        "the project is neither",
        "verify exits",
        "the next publish exits",
        "after the next publish",
    ]
    .iter()
    .map(|k| format!("{k}: {}", problems.iter().filter(|p| p.contains(k)).count()))
    .collect();
    assert!(
        problems.is_empty(),
        "{} problem(s) in {kills} kills ({tally:?}; {}):\n{}",
        problems.len(),
        kinds.join(", "),
        problems.join("\n")
    );
    // The kills did land on both sides of the commit point. (How many land
    // between it and the end varies with the machine's load; each of those
    // steps is also stopped at deterministically, below.)
    assert!(
        tally.before_commit > 0 && tally.committed + tally.finished > 0,
        "{tally:?}"
    );
}

// ---- each step after the commit point, deterministically ----

/// A copy of the template in which `canary publish` committed canary 2 and
/// then failed before writing anything (`canaries/0002.txt` was a folder,
/// so its first write failed); the obstacle is gone again.
fn committed_copy(template: &Project, scratch: &Path) -> Project {
    let q = template.copy_in(scratch);
    let obstacle = q.path("canaries/0002.txt");
    std::fs::create_dir(&obstacle).unwrap();
    let (code, _, err) = run(q.root(), &publish_args());
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(
            "canary 2 is committed but not fully written; run `canary publish` again to finish it"
        ),
        "{err}"
    );
    std::fs::remove_dir(&obstacle).unwrap();
    assert!(q.path(JOURNAL).is_file());
    q
}

/// The staged site the journal of `q` names.
fn staged_site(q: &Project) -> PathBuf {
    let j: serde_json::Value = serde_json::from_slice(&q.read(&q.path(JOURNAL))).unwrap();
    PathBuf::from(j["site"]["staged"].as_str().unwrap())
}

/// The files of canary 2 in canaries/, in the order publish writes them.
const TEXTS: [&str; 5] = [
    "0002.txt",
    "0002.txt.alice.sig",
    "0002.txt.alice.minisig",
    "0002.txt.bob.sig",
    "0002.txt.bob.minisig",
];

#[test]
fn a_publish_that_fails_after_its_commit_point_is_finished_by_the_next_publish() {
    let scratch = scratch();
    let template = template();
    let old = template.snapshot();
    let (new, _) = reference_run(&template, &scratch);
    let q = template.copy_in(&scratch);
    std::fs::create_dir(q.path("canaries/0002.txt")).unwrap();
    let (code, _, err) = run(q.root(), &publish_args());
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("canaries/0002.txt: "), "{err}");

    // Committed: the journal is there, the site is still the old one.
    assert!(q.path(JOURNAL).is_file());
    assert_same(&under(&q.snapshot(), SITE), &under(&old, SITE), "the site");
    let at = check_time(1);
    let (code, _, err) = run(q.root(), &["verify", "--at", &at].map(String::from));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(
            "note: the publish of canary 2 was interrupted after it committed (.canary-publish/journal.json), before its canary file was written"
        ),
        "{err}"
    );
    let (code, _, err) = run(
        q.root(),
        &["draft", "--issued-at", ISSUED[2]].map(String::from),
    );
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains(
            ".canary-publish/journal.json: the publish of canary 2 was interrupted before it finished"
        ) && err.contains("hint: run `canary publish` to finish it"),
        "{err}"
    );
    // While the obstacle stays, finishing fails the same way and nothing
    // else changes.
    let before = q.snapshot();
    let (code, _, err) = run(q.root(), &["publish".to_string()]);
    assert_eq!(code, 1, "{err}");
    assert_same(&q.snapshot(), &before, "changed");

    // Without it, `canary publish` alone (no draft, no --site) finishes
    // the job, and says what it wrote.
    std::fs::remove_dir(q.path("canaries/0002.txt")).unwrap();
    let (code, out, err) = run(q.root(), &["publish".to_string()]);
    assert_eq!(code, 0, "{err}");
    let site = std::fs::canonicalize(q.path(WEB_ROOT))
        .unwrap()
        .join("canary");
    assert_eq!(
        out,
        format!(
            "Finished publishing canary 2, which an interrupted `canary publish` had committed \
             (.canary-publish/journal.json): wrote canaries/0002.txt, canaries/0002.txt.alice.sig, \
             canaries/0002.txt.alice.minisig, canaries/0002.txt.bob.sig, \
             canaries/0002.txt.bob.minisig, canaries/0002.json, canaries/latest.json; \
             swapped in its site at {}.\n",
            site.display()
        )
    );
    assert_same(&q.snapshot(), &new, "not the new state");
    // And the ceremony goes on.
    let (code, _, err) = run(
        q.root(),
        &["draft", "--issued-at", ISSUED[2]].map(String::from),
    );
    assert_eq!(code, 0, "{err}");
}

/// A publish stopped after each step that follows the commit point (the
/// text files, the canary, latest.json, the site swap, the removal of the
/// old site): `verify` passes, and the next publish does exactly the steps
/// left and says so.
#[test]
fn every_step_after_the_commit_point_is_finished_from_where_it_stopped() {
    let scratch = scratch();
    let template = template();
    let (new, _) = reference_run(&template, &scratch);
    let file = |name: &str| new[&PathBuf::from("canaries").join(name)].0.clone();
    let at = check_time(1);
    for step in 0..=5 {
        let q = committed_copy(&template, &scratch);
        let staged = staged_site(&q);
        let mut left = Vec::new();
        for name in TEXTS.iter().chain(&["0002.json", "latest.json"]) {
            let done = match *name {
                "0002.json" => step >= 2,
                "latest.json" => step >= 3,
                _ => step >= 1,
            };
            if done {
                q.write(&q.path(&format!("canaries/{name}")), &file(name));
            } else {
                left.push(format!("canaries/{name}"));
            }
        }
        let site = q.path(SITE);
        if step >= 4 {
            // The exchange: the new site, made readable, in place; the
            // old one where the new one was staged.
            use std::os::unix::fs::PermissionsExt;
            let readable = std::fs::Permissions::from_mode(0o755);
            std::fs::set_permissions(&staged, readable).unwrap();
            let swap = q.path("swap");
            std::fs::rename(&site, &swap).unwrap();
            std::fs::rename(&staged, &site).unwrap();
            std::fs::rename(&swap, &staged).unwrap();
        }
        if step >= 5 {
            std::fs::remove_dir_all(&staged).unwrap();
        }

        let (code, out, err) = run(q.root(), &["verify", "--at", &at].map(String::from));
        assert_eq!(code, 0, "step {step}: {out}{err}");
        // CI's daily check sees what verify sees, not a broken history.
        let (code, out, err) = run(q.root(), &["check", "--at", &at].map(String::from));
        assert_eq!(code, 0, "check, step {step}: {out}{err}");
        if step >= 2 {
            assert!(
                err.contains("verifying canaries/0002.json as latest.json"),
                "step {step}: {err}"
            );
        }
        let (code, out, err) = run(q.root(), &publish_args());
        assert_eq!(code, 0, "step {step}: {err}");
        let wrote = if left.is_empty() {
            "its files in canaries/ were already in place".to_string()
        } else {
            format!("wrote {}", left.join(", "))
        };
        let site = std::fs::canonicalize(q.path(WEB_ROOT))
            .unwrap()
            .join("canary");
        let swap = if step >= 4 {
            format!("the site {} already showed it", site.display())
        } else {
            format!("swapped in its site at {}", site.display())
        };
        assert!(
            out.contains(&format!(
                "committed (.canary-publish/journal.json): {wrote}; {swap}.\n"
            )),
            "step {step}: {out}"
        );
        assert_same(&q.snapshot(), &new, &format!("step {step}"));
    }
}

#[test]
fn without_its_journal_the_half_written_state_is_what_verify_calls_an_attack() {
    // The journal is what tells an interrupted publish from tampering: the
    // same files without it fail the history check, as they should.
    let scratch = scratch();
    let template = template();
    let (new, _) = reference_run(&template, &scratch);
    let q = committed_copy(&template, &scratch);
    let canary = new[&PathBuf::from("canaries/0002.json")].0.clone();
    q.write(&q.canary_path(2), &canary);
    let at = check_time(1);
    let (code, _, _) = run(q.root(), &["verify", "--at", &at].map(String::from));
    assert_eq!(code, 0);
    std::fs::remove_dir_all(q.path(WORK)).unwrap();
    let (code, out, _) = run(q.root(), &["verify", "--at", &at].map(String::from));
    assert_eq!(code, 13, "{out}");
}

#[test]
fn a_journal_canary_did_not_write_is_refused_and_changes_nothing() {
    let scratch = scratch();
    let template = template();
    let at = check_time(1);
    let tamper = |q: &Project, edit: &dyn Fn(&mut serde_json::Value)| {
        let path = q.path(JOURNAL);
        let mut j: serde_json::Value = serde_json::from_slice(&q.read(&path)).unwrap();
        edit(&mut j);
        q.write(&path, &serde_json::to_vec_pretty(&j).unwrap());
    };

    // A file name outside the canary's own: nothing is written anywhere.
    let q = committed_copy(&template, &scratch);
    tamper(&q, &|j| j["texts"][0]["name"] = "../canary.toml".into());
    let before = q.snapshot();
    let (code, _, err) = run(q.root(), &publish_args());
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains(
            ".canary-publish/journal.json: `../canary.toml` is not a text file of canary 2"
        ),
        "{err}"
    );
    assert_same(&q.snapshot(), &before, "changed");

    // A canary whose signature does not verify is never installed.
    let q = committed_copy(&template, &scratch);
    tamper(&q, &|j| {
        let canary = j["canary"].as_str().unwrap().as_bytes().to_vec();
        let bad = support::flip_signature_byte(&canary, 0, 5);
        j["canary"] = String::from_utf8(bad).unwrap().into();
    });
    let before = q.snapshot();
    let (code, _, err) = run(q.root(), &publish_args());
    assert_eq!(code, 10, "{err}");
    assert!(
        err.contains("the canary an interrupted publish committed does not verify, so it was not finished (to drop the interrupted publish, remove the folder .canary-publish)"),
        "{err}"
    );
    assert_same(&q.snapshot(), &before, "changed");
    // verify goes by the files as they are: canary 1, valid.
    let (code, _, err) = run(q.root(), &["verify", "--at", &at].map(String::from));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn what_interrupted_runs_left_is_removed_by_the_next_publish() {
    let scratch = scratch();
    let template = template();
    let (new, _) = reference_run(&template, &scratch);
    let q = template.copy_in(&scratch);
    // Where older versions staged the site (in the web root), a temporary
    // file of an atomic write, and staging from before a commit point.
    let leftovers = [
        "www/.canary-site-AbC123/index.html",
        "www/.canary-site-AbC123.old/index.html",
        "canaries/.canary-tmp-XyZ789",
        ".canary-publish/site-QqQ000/index.html",
        ".canary-publish/.canary-tmp-JjJ111",
    ];
    for l in leftovers {
        let p = q.path(l);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, "stale").unwrap();
    }
    let (code, _, err) = run(q.root(), &publish_args());
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("Removed what an interrupted run left behind (no published file needs it): .canary-publish, canaries/.canary-tmp-XyZ789, www/.canary-site-AbC123, www/.canary-site-AbC123.old\n"),
        "{err}"
    );
    assert_same(&q.snapshot(), &new, "not the new state");
}

#[test]
fn a_site_on_another_file_system_is_published_with_nothing_left_beside_it() {
    // The project on a RAM file system and the site on the disk (or the
    // other way round): the staging folder cannot be in the project, since
    // the swap is a rename.
    let scratch = scratch();
    let disk = tempfile::tempdir().unwrap();
    let (a, b) = (scratch.clone(), disk.path().to_path_buf());
    {
        use std::os::unix::fs::MetadataExt;
        if std::fs::metadata(&a).unwrap().dev() == std::fs::metadata(&b).unwrap().dev() {
            support::needs::note("SKIPPED: no second file system for the site");
            return;
        }
    }
    let template = template();
    let (new, _) = reference_run(&template, &scratch);
    let q = template.copy_in(&scratch);
    let web = disk.path().join("www");
    let site = web.join("canary");
    let site_arg = site.to_string_lossy().into_owned();
    let at = publish_time(0);
    let rebuild = ["publish", "--rebuild", "--site", &site_arg, "--at", &at].map(String::from);
    let (code, _, err) = run(q.root(), &rebuild);
    assert_eq!(code, 0, "{err}");
    let mut args = publish_args();
    args[3] = site_arg.clone();
    let (code, _, err) = run(q.root(), &args);
    assert_eq!(code, 0, "{err}");
    let names: Vec<_> = std::fs::read_dir(&web)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["canary"]);
    assert!(!q.path(WORK).exists());
    let served = crate::support::snapshot(&site);
    let want: Snapshot = under(&new, SITE)
        .into_iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(SITE).ok()?.to_path_buf(), v)))
        .filter(|(k, _)| !k.as_os_str().is_empty())
        .collect();
    assert_same(&served, &want, "not the new site");
}

// ---- a rotation taking effect with its first canary ----

/// [`template`] with version 2 of the policy pending (all three must sign)
/// and canary 2 drafted under it and signed by all three.
fn rotation_template() -> Project {
    let p = Project::with_history(1);
    let explain = ["policy", "propose", "--explain", "All three sign."];
    p.cmd()
        .args(explain)
        .args(["--threshold", "3"])
        .assert()
        .success();
    for s in support::SIGNERS {
        p.cmd()
            .args(["policy", "sign", "drafts/policy.2.json", "--key"])
            .arg(p.secret_path(s))
            .arg("--passphrase-file")
            .arg(p.pass_file())
            .arg("-y")
            .assert()
            .success();
    }
    p.cmd().args(["policy", "publish"]).assert().success();
    let at = publish_time(0);
    let rebuild = ["publish", "--rebuild", "--site", SITE, "--at", &at].map(String::from);
    let (code, _, err) = run(p.root(), &rebuild);
    assert_eq!(code, 0, "{err}");
    p.draft(ISSUED[1]).success();
    for s in support::SIGNERS {
        p.sign(&p.draft_path(2), s).success();
    }
    p
}

/// The rotation is part of the commit: a publish that fails after its
/// commit point leaves keys/policy.json as it was, with the journal
/// holding the new version; the next publish writes it with the canary,
/// and the site gets the chain.
#[test]
fn a_rotation_takes_effect_in_the_commit_of_its_first_canary_and_no_sooner() {
    let scratch = scratch();
    let template = rotation_template();
    let (new, _) = reference_run(&template, &scratch);
    let v1 = template.read(&template.policy_path());
    let v2 = template.read(&template.path("keys/policy.2.json"));
    let policy = PathBuf::from("keys/policy.json");
    assert_eq!(new[&policy].0, v2, "the publish made version 2 the policy");
    for f in ["keys/policy.1.json", "keys/rotation.2.json"] {
        let served = new[&PathBuf::from(SITE).join(f)].0.clone();
        assert_eq!(served, template.read(&template.path(f)), "{f}");
    }

    let q = committed_copy(&template, &scratch);
    let j: serde_json::Value = serde_json::from_slice(&q.read(&q.path(JOURNAL))).unwrap();
    assert_eq!(j["policy"]["content"].as_str().unwrap().as_bytes(), v2);
    assert_eq!(q.read(&q.policy_path()), v1, "not before the canary");
    let at = check_time(1);
    let verify = ["verify", "--at", &at].map(String::from);
    let (code, out, err) = run(q.root(), &verify);
    assert_eq!(code, 0, "before canary 2 is written: {out}{err}");
    let (code, out, err) = run(q.root(), &["publish".to_string()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("canaries/0002.json, canaries/latest.json, keys/policy.json; swapped in"),
        "{out}"
    );
    assert_same(&q.snapshot(), &new, "not the new state");

    // Stopped after latest.json: policy.json is what is left to do.
    let q = committed_copy(&template, &scratch);
    for (f, (bytes, _)) in under(&new, "canaries") {
        let name = f.to_string_lossy();
        if name.starts_with("canaries/0002") || name == "canaries/latest.json" {
            q.write(&q.root().join(&f), &bytes);
        }
    }
    // verify sees the state the journal committed to: canary 2 under
    // version 2, as publish verified it.
    let at = check_time(1);
    let (code, out, err) = run(q.root(), &["verify", "--at", &at].map(String::from));
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run(q.root(), &["check", "--at", &at].map(String::from));
    assert_eq!(code, 0, "check: {out}{err}");
    let (code, out, err) = run(q.root(), &publish_args());
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("): wrote keys/policy.json; swapped in"),
        "{out}"
    );
    assert_same(&q.snapshot(), &new, "not the new state");

    // A journal whose policy is not the one its canary names is refused.
    let q = committed_copy(&template, &scratch);
    let path = q.path(JOURNAL);
    let mut j: serde_json::Value = serde_json::from_slice(&q.read(&path)).unwrap();
    j["policy"]["content"] = String::from_utf8(v1.clone()).unwrap().into();
    q.write(&path, &serde_json::to_vec_pretty(&j).unwrap());
    let before = q.snapshot();
    let (code, _, err) = run(q.root(), &publish_args());
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("its policy is not the one its canary is signed under"),
        "{err}"
    );
    assert_same(&q.snapshot(), &before, "changed");
}
