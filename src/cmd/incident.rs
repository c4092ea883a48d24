//! `canary incident`: keep the append-only incident log that every canary
//! commits to (`canaries/incidents.jsonl`).
//!
//! Appending reads the whole log, checks its chain, and writes the whole new
//! file atomically; nothing is written unless the new entry is valid.

use std::fmt::Write as _;
use std::io::{BufRead, Write};
use std::path::Path;

use serde::Serialize;

use crate::cli::{
    IncidentAddArgs, IncidentCommand, IncidentFields, IncidentListArgs, IncidentShowArgs,
    IncidentUpdateArgs,
};
use canary::error::{show_path, Error, Result};
use canary::project::Project;
use canary::store;
use canary::term::{self, paint, BAD, BOLD, DIM, OK, WARN};
use canary_core::exit::Exit;
use canary_core::incidents::{
    self, ComponentStatus, Compromise, Entry, Fold, Incident, IncidentEntry, Record, UpdateEntry,
};
use canary_core::sanitize::{block, line, rendered_line};
use canary_core::timefmt::{human_duration, Timestamp};
use canary_core::verify::Class;

pub fn run(root: &Path, c: IncidentCommand, now: Timestamp) -> Result<Exit> {
    let project = Project::load(root)?;
    match c {
        IncidentCommand::Add(a) => {
            let _lock = project.lock("incident add")?;
            add(&project, a, now)
        }
        IncidentCommand::Update(a) => {
            let _lock = project.lock("incident update")?;
            update(&project, a, now)
        }
        IncidentCommand::List(a) => list(&project, a, now),
        IncidentCommand::Show(a) => show(&project, a, now),
    }
}

/// The log's bytes, or None when there is no log yet: a regular file, up
/// to its own cap ([`store::MAX_INCIDENT_LOG_BYTES`], past every other
/// file's). Every command that reads the log reads it here.
pub(crate) fn read_log(path: &Path) -> Result<Option<Vec<u8>>> {
    if !path.exists() {
        return Ok(None);
    }
    store::read_incident_log(path).map(Some)
}

/// The existing log, which must be entirely valid before anything is added.
fn load(project: &Project) -> Result<(Vec<u8>, Vec<Record>)> {
    let path = project.incident_log_path();
    let bytes = read_log(&path)?.unwrap_or_default();
    let records = incidents::parse(&bytes).map_err(|p| Error::Verification {
        class: Class::IncidentLog,
        message: format!("{}: {}", show_path(&path), rendered_line(&p.to_string())),
    })?;
    Ok((bytes, records))
}

fn write(project: &Project, existing: &[u8], records: &[Record], entry: Entry) -> Result<u64> {
    let path = project.incident_log_path();
    let bytes = incidents::append(existing, records, entry).map_err(Error::usage)?;
    store::ensure_dir(&project.canaries_dir())?;
    store::write_atomic(&path, &bytes)?;
    Ok(records.len() as u64 + 1)
}

/// Times on the command line: RFC 3339 (any offset), or `now`.
fn time(value: &str, flag: &str, now: Timestamp) -> Result<Timestamp> {
    if value.trim().eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    super::parse_time(Some(value), flag, now)
}

fn opt_time(value: Option<&str>, flag: &str, now: Timestamp) -> Result<Option<Timestamp>> {
    value.map(|v| time(v, flag, now)).transpose()
}

/// Components must come from canary.toml's list.
fn check_components(project: &Project, list: &[String]) -> Result<()> {
    for c in list {
        if !project.config.components.contains(c) {
            return Err(Error::Usage(format!(
                "--component: unknown component `{}`; canary.toml lists: {}",
                line(c),
                project.config.components.join(", ")
            )));
        }
    }
    Ok(())
}

fn add(project: &Project, mut a: IncidentAddArgs, now: Timestamp) -> Result<Exit> {
    let (mut existing, mut records) = load(project)?;
    if term::stdin_is_terminal() && missing(&a).next().is_some() {
        let stdin = std::io::stdin();
        let mut input = stdin.lock();
        let mut err = std::io::stderr();
        ask_missing(
            &mut a,
            &project.config.components,
            now,
            &mut input,
            &mut err,
        )?;
        // Someone may have appended while the questions were answered:
        // append to the log as it is now.
        (existing, records) = load(project)?;
    }
    if let Some(flag) = missing(&a).next() {
        return Err(Error::Usage(format!(
            "missing required field {flag} (on a terminal, `canary incident add` asks for each missing field)"
        )));
    }
    let f = &a.fields;
    let started_at = time(f.started_at.as_deref().unwrap_or(""), "--started-at", now)?;
    let ended_at = opt_time(a.ended_at.as_deref(), "--ended-at", now)?;
    let recorded_at = opt_time(f.recorded_at.as_deref(), "--recorded-at", now)?.unwrap_or(now);
    check_components(project, &f.components)?;
    let title = f.title.clone().unwrap_or_default();
    let fold = Fold::of(&records);
    let id = match &a.id {
        Some(id) => id.clone(),
        None => incidents::default_id(started_at, &title, &fold),
    };
    let entry = Entry::Incident(IncidentEntry {
        seq: 0,
        prev: None,
        recorded_at,
        id: id.clone(),
        title: title.into(),
        started_at,
        ended_at,
        components: f.components.clone(),
        what_happened: f.what_happened.clone().unwrap_or_default().into(),
        compromised: f.compromised.unwrap_or(Compromise::Nothing),
        compromised_details: f.compromised_details.clone().unwrap_or_default().into(),
        measures: f.measures.clone().unwrap_or_default().into(),
    });
    let n = write(project, &existing, &records, entry)?;
    super::out(&format!(
        "Recorded incident {} as entry {n} of {}.\nThe next canary commits to it: `canary draft`, then sign and publish.\n",
        line(&id),
        show_path(&project.incident_log_path())
    ));
    Ok(Exit::Ok)
}

/// Required fields still missing, as their flags.
fn missing(a: &IncidentAddArgs) -> impl Iterator<Item = &'static str> + '_ {
    let f = &a.fields;
    [
        (f.title.is_none(), "--title"),
        (f.started_at.is_none(), "--started-at"),
        (f.components.is_empty(), "--component"),
        (f.what_happened.is_none(), "--what-happened"),
        (f.compromised.is_none(), "--compromised"),
    ]
    .into_iter()
    .filter(|(m, _)| *m)
    .map(|(_, flag)| flag)
}

/// Asks, in turn, for every field not given on the command line. Each
/// answer is checked as it is given, and asked again if it is not valid.
fn ask_missing(
    a: &mut IncidentAddArgs,
    components: &[String],
    now: Timestamp,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<()> {
    let f = &mut a.fields;
    let _ = writeln!(out, "New incident (Enter skips an optional field).");
    if f.title.is_none() {
        f.title = Some(ask(input, out, "Title (one line)", |s| {
            required(s).map(str::to_string)
        })?);
    }
    if f.started_at.is_none() {
        let s = ask(
            input,
            out,
            "When & what was affected: started at (RFC 3339, e.g. 2024-12-01T14:00:00Z, or `now`)",
            |s| {
                time(s, "start", now)
                    .map(|_| s.to_string())
                    .map_err(|e| e.to_string())
            },
        )?;
        f.started_at = Some(s);
    }
    if a.ended_at.is_none() {
        let s = ask(input, out, "Ended at (empty while on-going)", |s| {
            match s.trim() {
                "" => Ok(None),
                v => time(v, "end", now)
                    .map(|_| Some(v.to_string()))
                    .map_err(|e| e.to_string()),
            }
        })?;
        a.ended_at = s;
    }
    if f.components.is_empty() {
        let mut q = String::from("Affected components, comma-separated names or numbers:");
        for (i, c) in components.iter().enumerate() {
            let _ = write!(q, "\n  {}. {c}", i + 1);
        }
        f.components = ask(input, out, &q, |s| pick_components(s, components))?;
    }
    if f.what_happened.is_none() {
        f.what_happened = Some(ask(input, out, "What happened", |s| {
            required(s).map(str::to_string)
        })?);
    }
    if f.compromised.is_none() {
        f.compromised = Some(ask(
            input,
            out,
            "What was compromised/lost: nothing, data-exposed or data-lost",
            |s| {
                Compromise::parse(s)
                    .ok_or_else(|| "answer nothing, data-exposed or data-lost".into())
            },
        )?);
    }
    if f.compromised_details.is_none() {
        f.compromised_details = Some(ask(
            input,
            out,
            "Details of what was compromised/lost (optional)",
            |s| Ok(s.trim().to_string()),
        )?);
    }
    if f.measures.is_none() {
        f.measures = Some(ask(
            input,
            out,
            "Measures taken to prevent this in the future (optional)",
            |s| Ok(s.trim().to_string()),
        )?);
    }
    Ok(())
}

fn required(s: &str) -> std::result::Result<&str, String> {
    let t = s.trim();
    if t.is_empty() {
        Err("this field is required".into())
    } else {
        Ok(t)
    }
}

fn pick_components(s: &str, known: &[String]) -> std::result::Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let name = match part.parse::<usize>() {
            Ok(i) if (1..=known.len()).contains(&i) => known[i - 1].clone(),
            _ => known
                .iter()
                .find(|k| k.eq_ignore_ascii_case(part))
                .cloned()
                .ok_or_else(|| format!("unknown component `{}`", line(part)))?,
        };
        if !out.contains(&name) {
            out.push(name);
        }
    }
    if out.is_empty() {
        return Err("name at least one component".into());
    }
    Ok(out)
}

/// One question, repeated until `check` accepts the answer.
fn ask<T>(
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    question: &str,
    check: impl Fn(&str) -> std::result::Result<T, String>,
) -> Result<T> {
    loop {
        let _ = write!(out, "{question}\n> ");
        let _ = out.flush();
        let mut answer = String::new();
        let n = input
            .read_line(&mut answer)
            .map_err(|e| Error::input("<stdin>", e))?;
        if n == 0 {
            return Err(Error::refused(
                "input ended before every field was answered; nothing written",
            ));
        }
        match check(answer.trim_end_matches(['\n', '\r'])) {
            Ok(v) => return Ok(v),
            Err(e) => {
                let _ = writeln!(out, "  {e}; try again.");
            }
        }
    }
}

fn update(project: &Project, a: IncidentUpdateArgs, now: Timestamp) -> Result<Exit> {
    let (existing, records) = load(project)?;
    let fold = Fold::of(&records);
    if fold.get(&a.id).is_none() {
        return Err(unknown_id(project, &a.id));
    }
    let f: &IncidentFields = &a.fields;
    let recorded_at = opt_time(f.recorded_at.as_deref(), "--recorded-at", now)?.unwrap_or(now);
    let mut u = UpdateEntry::new(&a.id, recorded_at);
    u.resolved_at = opt_time(a.resolved_at.as_deref(), "--resolved-at", now)?;
    u.note = a.note.clone();
    u.title = f.title.clone().map(Into::into);
    u.started_at = opt_time(f.started_at.as_deref(), "--started-at", now)?;
    if !f.components.is_empty() {
        check_components(project, &f.components)?;
        u.components = Some(f.components.clone());
    }
    u.what_happened = f.what_happened.clone().map(Into::into);
    u.compromised = f.compromised;
    u.compromised_details = f.compromised_details.clone().map(Into::into);
    u.measures = f.measures.clone().map(Into::into);
    if u.is_empty() {
        return Err(Error::Usage(
            "nothing to record: give --resolved-at, --note or a corrected field (see --help)"
                .into(),
        ));
    }
    let n = write(project, &existing, &records, Entry::Update(u))?;
    super::out(&format!(
        "Recorded an update to incident {} as entry {n} of {}.\n",
        line(&a.id),
        show_path(&project.incident_log_path())
    ));
    Ok(Exit::Ok)
}

fn unknown_id(project: &Project, id: &str) -> Error {
    Error::Usage(format!(
        "{}: no incident `{}` (see `canary incident list`)",
        show_path(&project.incident_log_path()),
        line(id)
    ))
}

/// What the newest local canary commits to, as (canary, entries, whether
/// the log still matches it). Not authenticated: a maintainer's hint;
/// `canary verify` is the check.
fn local_commitment(project: &Project, records: &[Record]) -> Result<Option<(u64, u64, bool)>> {
    let (files, _) = super::read_history(&project.canaries_dir())?;
    let Some((st, _)) = super::newest_statement(&files)? else {
        return Ok(None);
    };
    let Some(l) = st.incident_log else {
        return Ok(None);
    };
    let matches = l.entries <= records.len() as u64
        && l.head_sha256
            .is_none_or(|h| records[(l.entries - 1) as usize].sha256 == h);
    Ok(Some((st.sequence, l.entries, matches)))
}

fn signed_note(project: &Project, records: &[Record]) -> Result<String> {
    let total = records.len() as u64;
    let entries = if total == 1 {
        "1 entry".to_string()
    } else {
        format!("{total} entries")
    };
    Ok(match local_commitment(project, records)? {
        None if total == 0 => "no entries yet".into(),
        None => format!("{entries}, none committed to by a canary yet"),
        Some((k, _, false)) => format!(
            "{entries}, which DO NOT match what canary {k} signed; run `canary verify`"
        ),
        Some((k, n, true)) if n == total => format!("{entries}, all committed to by canary {k}"),
        Some((k, n, true)) => format!(
            "{entries}; canary {k} commits to {n}, {} not yet signed (the next `canary draft` commits to them)",
            total - n
        ),
    })
}

/// For a signer: the incident log entries behind the draft's commitment
/// that earlier canaries did not cover, read from the local log (the
/// commitment is only a hash; this shows what it stands for).
pub(crate) fn review_for_signing(
    project: &Project,
    st: &canary_core::statement::Statement,
) -> Result<String> {
    let Some(c) = st.incident_log else {
        return Ok(String::new());
    };
    let mut o = String::from("  Incident log entries this canary newly commits to:\n");
    if c.entries == 0 {
        o.push_str("    none (the log is empty)\n");
        return Ok(o);
    }
    let path = project.incident_log_path();
    let records = read_log(&path)?
        .map(|b| incidents::scan(&b).valid)
        .unwrap_or_default();
    let n = c.entries as usize;
    if records.len() < n || c.head_sha256 != Some(records[n - 1].sha256) {
        let _ = writeln!(
            o,
            "    {} {} here does not hold the {} entries this draft commits to; compare by hand",
            paint(BAD, "unknown:"),
            show_path(&path),
            c.entries
        );
        return Ok(o);
    }
    let (files, _) = super::read_history(&project.canaries_dir())?;
    let before = super::newest_statement(&files)?
        .filter(|(p, _)| p.sequence < st.sequence)
        .and_then(|(p, _)| p.incident_log)
        .map_or(0, |l| l.entries as usize)
        .min(n);
    if before == n {
        o.push_str("    none\n");
    }
    for r in &records[before..n] {
        let what = match &r.entry {
            Entry::Incident(e) => format!("new incident: {}", e.title),
            Entry::Update(u) => {
                let mut parts = Vec::new();
                if let Some(t) = u.resolved_at {
                    parts.push(format!("resolved at {t}"));
                }
                if let Some(note) = &u.note {
                    parts.push(format!("note \"{}\"", line(note)));
                }
                let fields = u.changed_fields();
                if !fields.is_empty() {
                    parts.push(format!("corrects {}", fields.join(", ")));
                }
                format!("update: {}", parts.join("; "))
            }
        };
        let _ = writeln!(
            o,
            "    {}. [{}] {what}",
            r.entry.seq(),
            line(r.entry.incident_id())
        );
    }
    Ok(o)
}

#[derive(Serialize)]
struct ListJson<'a> {
    log: String,
    entries: usize,
    at: Timestamp,
    incidents: &'a [Incident],
    components: &'a [ComponentStatus],
}

fn list(project: &Project, a: IncidentListArgs, now: Timestamp) -> Result<Exit> {
    let at = super::parse_time(a.at.as_deref(), "--at", now)?;
    let (_, records) = load(project)?;
    let fold = Fold::of(&records);
    let status = incidents::component_status(&fold, &project.config.components, at);
    if a.json {
        let j = ListJson {
            log: show_path(&project.incident_log_path()),
            entries: records.len(),
            at,
            incidents: &fold.incidents,
            components: &status,
        };
        super::out(&canary_core::json::to_report(&j));
        return Ok(Exit::Ok);
    }
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{} ({}: {})",
        paint(BOLD, "Incidents"),
        show_path(&project.incident_log_path()),
        signed_note(project, &records)?
    );
    if fold.incidents.is_empty() {
        let _ = writeln!(o, "  none recorded");
    }
    let mut newest_first: Vec<&Incident> = fold.incidents.iter().collect();
    newest_first.sort_by_key(|i| std::cmp::Reverse(i.started_at));
    for inc in newest_first {
        let state = if inc.ongoing_at(at) {
            paint(BAD, "ON-GOING")
        } else if inc.ended_at.is_none() {
            paint(WARN, "not started")
        } else {
            paint(OK, "resolved")
        };
        let _ = writeln!(o, "  {}  {state}  {}", line(&inc.id), period(inc, at));
        let _ = writeln!(
            o,
            "      {} {}",
            inc.title,
            paint(DIM, &format!("[{}]", components(&inc.components)))
        );
    }
    let _ = writeln!(o, "\n{} (as of {at})", paint(BOLD, "Components"));
    o.push_str(&canary_core::render::components(&status, "  "));
    super::out(&o);
    Ok(Exit::Ok)
}

fn components(list: &[String]) -> String {
    list.iter().map(|c| line(c)).collect::<Vec<_>>().join(", ")
}

/// "2024-09-28T08:00:00Z – 2024-09-30T12:00:00Z (2 days)", or "since … — still on-going".
fn period(inc: &Incident, at: Timestamp) -> String {
    match inc.ended_at {
        Some(end) => format!(
            "{} – {end} ({})",
            inc.started_at,
            human_duration(inc.started_at.seconds_until(end)).trim_start_matches("in ")
        ),
        None if inc.started_at <= at => format!(
            "since {} ({}) — still on-going",
            inc.started_at,
            human_duration(at.seconds_until(inc.started_at))
        ),
        None => format!("from {} (not started yet)", inc.started_at),
    }
}

fn show(project: &Project, a: IncidentShowArgs, now: Timestamp) -> Result<Exit> {
    let (_, records) = load(project)?;
    let fold = Fold::of(&records);
    let Some(inc) = fold.get(&a.id) else {
        return Err(unknown_id(project, &a.id));
    };
    if a.json {
        super::out(&canary_core::json::to_report(inc));
        return Ok(Exit::Ok);
    }
    let signed = match local_commitment(project, &records)? {
        Some((_, n, true)) => n,
        _ => 0,
    };
    super::out(&render_incident(inc, now, signed));
    Ok(Exit::Ok)
}

/// An incident in the four parts of a public incident record; entries after
/// the first `signed` are marked as not yet signed.
pub(crate) fn render_incident(inc: &Incident, now: Timestamp, signed: u64) -> String {
    let unsigned = |seq: u64| {
        if seq > signed {
            format!(", {}", paint(WARN, "not yet signed"))
        } else {
            String::new()
        }
    };
    let mut o = String::new();
    let indent = |s: &str| format!("  {}", block(s).replace('\n', "\n  "));
    let _ = writeln!(o, "{}", paint(BOLD, &inc.title.to_string()));
    let state = if inc.ongoing_at(now) {
        paint(BAD, "ON-GOING")
    } else if inc.ended_at.is_some() {
        paint(OK, "resolved")
    } else {
        paint(WARN, "not started")
    };
    let _ = writeln!(o, "  Incident {} ({state})\n", line(&inc.id));
    let _ = writeln!(o, "{}", paint(BOLD, "When & what was affected"));
    let _ = writeln!(o, "  {}", period(inc, now));
    let _ = writeln!(o, "  Affected: {}\n", components(&inc.components));
    let _ = writeln!(o, "{}", paint(BOLD, "What happened"));
    let _ = writeln!(o, "{}\n", indent(inc.what_happened.raw()));
    let _ = writeln!(o, "{}", paint(BOLD, "What was compromised/lost"));
    let flag = match inc.compromised {
        Compromise::Nothing => paint(OK, "Nothing was compromised or lost."),
        Compromise::DataExposed => paint(BAD, "Data was exposed."),
        Compromise::DataLost => paint(BAD, "Data was lost."),
    };
    let _ = writeln!(o, "  {flag}");
    if !inc.compromised_details.raw().trim().is_empty() {
        let _ = writeln!(o, "{}", indent(inc.compromised_details.raw()));
    }
    o.push('\n');
    let _ = writeln!(
        o,
        "{}",
        paint(BOLD, "Measures taken to prevent this in the future")
    );
    if inc.measures.raw().trim().is_empty() {
        let _ = writeln!(o, "  none recorded yet");
    } else {
        let _ = writeln!(o, "{}", indent(inc.measures.raw()));
    }
    o.push('\n');
    let _ = writeln!(o, "{}", paint(BOLD, "Timeline"));
    let _ = writeln!(
        o,
        "  {}  recorded (entry {}{})",
        inc.recorded_at,
        inc.entry,
        unsigned(inc.entry)
    );
    for u in &inc.updates {
        let mut parts = Vec::new();
        if let Some(r) = u.resolved_at {
            parts.push(format!("resolved at {r}"));
        }
        let fields = u.changed_fields();
        if !fields.is_empty() {
            parts.push(format!("corrected {}", fields.join(", ")));
        }
        let _ = writeln!(
            o,
            "  {}  {} (entry {}{})",
            u.recorded_at,
            if parts.is_empty() {
                "new information".to_string()
            } else {
                parts.join("; ")
            },
            u.seq,
            unsigned(u.seq)
        );
        if let Some(note) = &u.note {
            let _ = writeln!(o, "    {}", block(note).replace('\n', "\n    "));
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comps() -> Vec<String> {
        canary::project::default_components()
    }

    fn blank() -> IncidentAddArgs {
        IncidentAddArgs {
            id: None,
            fields: IncidentFields::default(),
            ended_at: None,
        }
    }

    #[test]
    fn prompts_for_each_missing_field_in_turn_and_re_asks() {
        let mut a = blank();
        a.fields.what_happened = Some("given on the command line".into());
        let answers = "iOS push stopped\n\
                       yesterday\n\
                       2024-09-28T08:00:00Z\n\
                       2024-09-30T12:00:00+02:00\n\
                       Fax, 3\n\
                       3, email\n\
                       maybe\n\
                       nothing\n\
                       \n\
                       Expiry procedure documented.\n";
        let mut input = answers.as_bytes();
        let mut out = Vec::new();
        let now = Timestamp::parse_canonical("2026-01-01T00:00:00Z").unwrap();
        ask_missing(&mut a, &comps(), now, &mut input, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("unknown component `Fax`; try again"),
            "{text}"
        );
        assert!(text.contains("is not an RFC 3339"), "{text}");
        assert!(text.contains("answer nothing, data-exposed or data-lost"));
        assert!(
            !text.contains("What happened"),
            "asked a given field: {text}"
        );
        assert_eq!(a.fields.title.as_deref(), Some("iOS push stopped"));
        assert_eq!(a.fields.started_at.as_deref(), Some("2024-09-28T08:00:00Z"));
        assert_eq!(a.ended_at.as_deref(), Some("2024-09-30T12:00:00+02:00"));
        assert_eq!(a.fields.components, vec!["Push Notifications", "Email"]);
        assert_eq!(a.fields.compromised, Some(Compromise::Nothing));
        assert_eq!(a.fields.compromised_details.as_deref(), Some(""));
        assert_eq!(
            a.fields.measures.as_deref(),
            Some("Expiry procedure documented.")
        );
        assert_eq!(missing(&a).count(), 0);
    }

    #[test]
    fn prompt_ends_cleanly_when_input_ends() {
        let mut a = blank();
        let mut input = "A title\n".as_bytes();
        let e = ask_missing(
            &mut a,
            &comps(),
            Timestamp::now(),
            &mut input,
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("nothing written"), "{e}");
    }
}
