//! Plain-text output: tables with aligned columns and key/value blocks.
//! Every cell passes through [`clean`], so a name or justification stored in
//! Warrant cannot move the cursor or rewrite the operator's terminal.
//! What goes in the cells is decided by `render`.

use std::io::{self, Write};

/// Columns are separated by this many spaces.
const GAP: usize = 2;

/// Text made safe for a terminal: control characters (newlines, tabs,
/// escape sequences) are shown escaped, as `\n` or `\u{1b}`.
pub fn clean(text: &str) -> String {
    let mut safe = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            safe.extend(c.escape_debug());
        } else {
            safe.push(c);
        }
    }
    safe
}

/// A table: a header row, then one row per item. Each column is as wide as
/// its widest cell; the last column is not padded, and no line ends in
/// spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these column titles.
    pub fn new(header: &[&str]) -> Table {
        Table { header: header.iter().map(|h| (*h).to_owned()).collect(), rows: Vec::new() }
    }

    /// Adds a row; missing cells are blank, extra cells are dropped.
    pub fn row(&mut self, cells: Vec<String>) {
        let mut cells: Vec<String> = cells.iter().map(|c| clean(c)).collect();
        cells.resize(self.header.len(), String::new());
        self.rows.push(cells);
    }

    /// No row was added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Writes the header and the rows, each line indented by `indent` spaces.
    pub fn write(&self, out: &mut dyn Write, indent: usize) -> io::Result<()> {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = " ".repeat(indent);
            for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
                line.push_str(cell);
                if i + 1 < row.len() {
                    let pad = width.saturating_sub(cell.chars().count()) + GAP;
                    line.push_str(&" ".repeat(pad));
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }

    /// Writes the table, or `  none` when it has no row.
    pub fn write_or_none(&self, out: &mut dyn Write, indent: usize) -> io::Result<()> {
        if self.is_empty() {
            writeln!(out, "{}none", " ".repeat(indent))
        } else {
            self.write(out, indent)
        }
    }
}

/// Writes `key  value` lines with the values aligned.
pub fn fields(out: &mut dyn Write, pairs: &[(&str, String)]) -> io::Result<()> {
    let width = pairs.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
    for (key, value) in pairs {
        let line = format!("{key:<width$}{}{}", " ".repeat(GAP), clean(value));
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// Writes a section title preceded by a blank line.
pub fn section(out: &mut dyn Write, title: &str) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "{title}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(table: &Table) -> String {
        let mut out = Vec::new();
        table.write(&mut out, 0).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn columns_are_as_wide_as_their_widest_cell() {
        let mut table = Table::new(&["ID", "NAME", "STATUS"]);
        table.row(vec!["agt_1".into(), "Billing helper".into(), "active".into()]);
        table.row(vec!["agt_22".into(), "Bot".into(), "killed".into()]);
        assert_eq!(
            rendered(&table),
            "ID      NAME            STATUS\n\
             agt_1   Billing helper  active\n\
             agt_22  Bot             killed\n"
        );
    }

    #[test]
    fn no_line_ends_in_spaces_and_short_rows_are_padded() {
        let mut table = Table::new(&["A", "B", "C"]);
        table.row(vec!["x".into()]);
        table.row(vec!["y".into(), "z".into(), String::new()]);
        let text = rendered(&table);
        assert!(text.lines().all(|l| !l.ends_with(' ')), "{text:?}");
        assert_eq!(text, "A  B  C\nx\ny  z\n");
    }

    #[test]
    fn width_counts_characters_not_bytes() {
        let mut table = Table::new(&["NAME", "X"]);
        table.row(vec!["Zoë".into(), "1".into()]);
        assert_eq!(rendered(&table), "NAME  X\nZoë   1\n");
    }

    #[test]
    fn control_characters_in_cells_are_escaped() {
        let mut table = Table::new(&["NAME"]);
        table.row(vec!["evil\u{1b}[31m\nname\t".into()]);
        let text = rendered(&table);
        assert_eq!(text, "NAME\nevil\\u{1b}[31m\\nname\\t\n");
    }

    #[test]
    fn an_empty_table_says_none() {
        let mut out = Vec::new();
        Table::new(&["A"]).write_or_none(&mut out, 2).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "  none\n");
    }

    #[test]
    fn fields_align_their_values() {
        let mut out = Vec::new();
        fields(&mut out, &[("id", "agt_1".into()), ("client_id", "agt_1".into()), ("tags", String::new())])
            .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "id         agt_1\nclient_id  agt_1\ntags\n");
    }
}
