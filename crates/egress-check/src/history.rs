//! `serve`'s history: the last runs of the check, each as its features'
//! statuses and its failed endpoints, bounded so that failures and
//! changes stay longest, and the `--state` file's JSON lines.

use std::collections::VecDeque;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::plan::{Outcome, Report};

/// One run, as the history keeps it (and `--state` stores it, a line
/// each). Its pairs are shared with the other runs that hold the same (the
/// history interns them): a full history of failing runs repeats the same
/// endpoints and reasons run after run, and keeps each pair once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// When it finished (RFC 3339).
    pub finished: String,
    pub duration_seconds: f64,
    /// Each feature's status.
    pub features: Vec<Pair>,
    /// The endpoints that failed, with the reason.
    pub failed: Vec<Pair>,
}

/// Two texts of a run: a feature and its status, or an endpoint and why
/// it failed. Stored as a two-element array.
pub type Pair = Arc<(String, String)>;

impl Run {
    /// The run `report` gives, finished at `finished`.
    pub fn of(report: &Report, finished: jiff::Timestamp) -> Run {
        Run {
            finished: finished.to_string(),
            duration_seconds: report.duration.as_secs_f64(),
            features: report
                .features
                .iter()
                .map(|f| Arc::new((f.id.clone(), f.status.as_str().to_owned())))
                .collect(),
            failed: report
                .endpoints
                .iter()
                .filter(|e| e.counts && matches!(e.outcome, Outcome::Failed { .. }))
                .map(|e| {
                    Arc::new((
                        e.url.clone().unwrap_or_else(|| e.row.clone()),
                        e.outcome.reason().to_owned(),
                    ))
                })
                .collect(),
        }
    }
}

/// The last runs, at most `capacity`. When full, the oldest run that
/// neither failed nor changed a feature's status goes first; only when
/// every run did is the oldest dropped.
#[derive(Debug)]
pub struct History {
    capacity: usize,
    runs: VecDeque<(Run, bool)>,
    /// Every pair the runs hold, once.
    pairs: std::collections::HashSet<Pair>,
}

impl History {
    pub fn new(capacity: usize) -> History {
        History {
            capacity: capacity.max(1),
            runs: VecDeque::new(),
            pairs: std::collections::HashSet::new(),
        }
    }

    pub fn push(&mut self, mut run: Run) {
        for pairs in [&mut run.features, &mut run.failed] {
            for pair in pairs.iter_mut() {
                match self.pairs.get(pair) {
                    Some(kept) => *pair = kept.clone(),
                    None => {
                        self.pairs.insert(pair.clone());
                    }
                }
            }
        }
        let changed = self
            .runs
            .back()
            .is_none_or(|(last, _)| last.features != run.features);
        let keep = changed || !run.failed.is_empty();
        self.runs.push_back((run, keep));
        if self.runs.len() > self.capacity {
            match self.runs.iter().position(|(_, keep)| !keep) {
                Some(at) => {
                    self.runs.remove(at);
                }
                None => {
                    self.runs.pop_front();
                }
            }
            // Pairs no run holds any more.
            self.pairs.retain(|p| Arc::strong_count(p) > 1);
        }
    }

    pub fn runs(&self) -> impl Iterator<Item = &Run> {
        self.runs.iter().map(|(r, _)| r)
    }

    /// How many runs it keeps at most.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Writes the runs as a state file: a JSON line a run, oldest first.
    pub fn write(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        for run in self.runs() {
            serde_json::to_writer(&mut *out, run)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Adds the runs of a state file's lines (blank ones skipped), or
    /// says which line is not a run and why.
    pub fn read(
        &mut self,
        lines: impl IntoIterator<Item = String>,
    ) -> Result<(), (usize, serde_json::Error)> {
        for (n, line) in lines.into_iter().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            self.push(serde_json::from_str::<Run>(&line).map_err(|e| (n + 1, e))?);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(n: usize, status: &str, failed: bool) -> Run {
        Run {
            finished: format!("t{n}"),
            duration_seconds: 0.0,
            features: vec![Arc::new(("f".into(), status.into()))],
            failed: if failed {
                vec![Arc::new(("u".into(), "r".into()))]
            } else {
                Vec::new()
            },
        }
    }

    #[test]
    fn history_keeps_failures_and_changes_longest() {
        let mut h = History::new(3);
        h.push(run(0, "OK", false)); // a change: the first
        h.push(run(1, "OK", false));
        h.push(run(2, "critical", true));
        h.push(run(3, "critical", true));
        let kept: Vec<&str> = h.runs().map(|r| r.finished.as_str()).collect();
        assert_eq!(kept, ["t0", "t2", "t3"]);
        h.push(run(4, "critical", true));
        let kept: Vec<&str> = h.runs().map(|r| r.finished.as_str()).collect();
        assert_eq!(kept, ["t2", "t3", "t4"]);
    }

    /// A state file reads back as the history that wrote it, its pairs
    /// shared; a line that is not a run is named.
    #[test]
    fn the_state_file_reads_back() {
        let mut h = History::new(5);
        h.push(run(0, "OK", false));
        h.push(run(1, "critical", true));
        let mut text = Vec::new();
        h.write(&mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        let mut back = History::new(5);
        back.read(text.lines().map(str::to_owned).chain([String::new()]))
            .unwrap();
        assert_eq!(
            back.runs().collect::<Vec<_>>(),
            h.runs().collect::<Vec<_>>()
        );
        let mut bad = History::new(5);
        let (line, _) = bad
            .read([text.lines().next().unwrap().to_owned(), "{}".to_owned()])
            .unwrap_err();
        assert_eq!(line, 2);
    }
}
