//! Aligned text tables for people. A cell may hold several lines; columns
//! are as wide as their widest line, two spaces apart.

#[derive(Debug, Default)]
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<Vec<String>>>,
}

impl Table {
    pub fn new(headers: &[&'static str]) -> Table {
        Table {
            headers: headers.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; each cell is a list of lines.
    pub fn row(&mut self, cells: Vec<Vec<String>>) {
        debug_assert_eq!(cells.len(), self.headers.len());
        self.rows.push(cells);
    }

    pub fn render(&self, out: &mut String) {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.len()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                for line in cell {
                    widths[i] = widths[i].max(line.chars().count());
                }
            }
        }
        let header: Vec<Vec<String>> = self.headers.iter().map(|h| vec![h.to_string()]).collect();
        for row in std::iter::once(&header).chain(&self.rows) {
            let height = row.iter().map(Vec::len).max().unwrap_or(1).max(1);
            for line in 0..height {
                let mut text = String::new();
                for (i, cell) in row.iter().enumerate() {
                    let value = cell.get(line).map(String::as_str).unwrap_or("");
                    if i + 1 == row.len() {
                        text.push_str(value);
                    } else {
                        let pad = widths[i] - value.chars().count();
                        text.push_str(value);
                        text.extend(std::iter::repeat_n(' ', pad + 2));
                    }
                }
                out.push_str(text.trim_end());
                out.push('\n');
            }
        }
    }
}

/// Wraps text at spaces into lines of at most `width` characters (a word
/// longer than that stands alone), each starting with `indent`.
pub fn wrap(text: &str, indent: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::from(indent);
    for word in text.split(' ') {
        if line.len() > indent.len() && line.len() + 1 + word.len() > width {
            out.push_str(&line);
            out.push('\n');
            line = String::from(indent);
        }
        if line.len() > indent.len() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_spaces() {
        assert_eq!(wrap("aa bb cc dd", "  ", 8), "  aa bb\n  cc dd\n");
        assert_eq!(wrap("abcdefghij x", "", 4), "abcdefghij\nx\n");
    }

    #[test]
    fn aligns_multiline_cells() {
        let mut t = Table::new(&["HOST", "ROLES", "NOTE"]);
        t.row(vec![
            vec!["a.example".into()],
            vec!["client".into(), "console".into()],
            vec![],
        ]);
        t.row(vec![vec!["bb".into()], vec!["x".into()], vec!["n".into()]]);
        let mut out = String::new();
        t.render(&mut out);
        assert_eq!(
            out,
            "HOST       ROLES    NOTE\na.example  client\n           console\nbb         x        n\n"
        );
    }
}
