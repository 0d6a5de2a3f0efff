//! Error messages for people: input problems shown with the offending line,
//! file, line and column (through miette); other errors as one line with
//! their causes.

use std::io::IsTerminal;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource};

use crate::context::InputError;

pub fn error(err: &anyhow::Error) {
    eprint!("{}", error_text(err));
}

/// The error as `error` writes it: each problem of a file located, or the
/// error and its causes.
pub fn error_text(err: &anyhow::Error) -> String {
    let mut out = String::new();
    if let Some(InputError(problems)) = err.downcast_ref::<InputError>() {
        let theme = if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_width(100)
            .with_links(false);
        let source = NamedSource::new(&problems.file.name, problems.file.text.to_string());
        for problem in &problems.problems {
            let (line, column) = problems.file.line_column(problem.span.start);
            let mut diagnostic = MietteDiagnostic::new(format!(
                "{}:{line}:{column}: {}",
                problems.file.name, problem.message
            ))
            .with_label(LabeledSpan::at(problem.span.clone(), "here"));
            if let Some(help) = &problem.help {
                diagnostic = diagnostic.with_help(help.clone());
            }
            let report = miette::Report::new(diagnostic).with_source_code(source.clone());
            // Rendering into a String cannot fail.
            let _ = handler.render_report(&mut out, report.as_ref());
        }
        let n = problems.problems.len();
        out.push_str(&format!(
            "error: {n} problem{} in {}; nothing was written\n",
            if n == 1 { "" } else { "s" },
            problems.file.name
        ));
    } else {
        out.push_str(&format!("error: {err}\n"));
        for cause in err.chain().skip(1) {
            out.push_str(&format!("  caused by: {cause}\n"));
        }
    }
    out
}
