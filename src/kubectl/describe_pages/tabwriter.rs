//! Go's `text/tabwriter` as kubectl's describers configure it (`tabbedString`: minwidth
//! 0, padding 2, padded with spaces, no flags), and kubectl's `PrefixWriter`, which
//! indents each write by two spaces per level and escapes terminal control characters
//! (`printers.WriteEscaped`).
//!
//! Cells end at `\t` (or `\v`); a line's last cell belongs to no column. A column's width
//! is set by the run of consecutive lines that have a cell in it, so a line with no tab
//! ends every column above it. `\f` ends a line and forces a flush.

/// One cell: its text and its width in runes.
struct Cell<'a> {
    text: &'a str,
    width: usize,
}

/// Pads `text` as Go's tabwriter with the given minimal width and padding.
pub fn tabwrite(text: &str, minwidth: usize, padding: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    // A form feed flushes: what precedes it is formatted on its own.
    let segments: Vec<&str> = text.split('\u{c}').collect();
    for (i, seg) in segments.iter().enumerate() {
        let lines: Vec<Vec<Cell>> = seg
            .split('\n')
            .map(|l| {
                l.split(['\t', '\u{b}'])
                    .map(|c| Cell {
                        text: c,
                        width: c.chars().count(),
                    })
                    .collect()
            })
            .collect();
        let f = Formatter {
            lines: &lines,
            minwidth,
            padding,
        };
        let mut widths = Vec::new();
        f.format(&mut widths, 0, lines.len(), &mut out);
        if i + 1 < segments.len() {
            out.push('\n');
        }
    }
    out
}

struct Formatter<'a, 'b> {
    lines: &'a [Vec<Cell<'b>>],
    minwidth: usize,
    padding: usize,
}

impl Formatter<'_, '_> {
    /// `(*Writer).format`: lays out lines `line0..line1` given the widths of the columns
    /// to the left.
    fn format(&self, widths: &mut Vec<usize>, line0: usize, line1: usize, out: &mut String) {
        let column = widths.len();
        let mut line0 = line0;
        let mut this = line0;
        while this < line1 {
            if column + 1 >= self.lines[this].len() {
                this += 1;
                continue;
            }
            // A block of lines with a cell in this column begins here.
            self.write_lines(widths, line0, this, out);
            line0 = this;
            let mut width = self.minwidth;
            while this < line1 && column + 1 < self.lines[this].len() {
                width = width.max(self.lines[this][column].width + self.padding);
                this += 1;
            }
            widths.push(width);
            self.format(widths, line0, this, out);
            widths.pop();
            line0 = this;
        }
        self.write_lines(widths, line0, line1, out);
    }

    fn write_lines(&self, widths: &[usize], line0: usize, line1: usize, out: &mut String) {
        for i in line0..line1 {
            for (j, c) in self.lines[i].iter().enumerate() {
                out.push_str(c.text);
                if let Some(&w) = widths.get(j) {
                    for _ in c.width..w {
                        out.push(' ');
                    }
                }
            }
            if i + 1 < self.lines.len() {
                out.push('\n');
            }
        }
    }
}

/// The indentation levels of kubectl's describers (`LEVEL_0` ...).
pub const LEVEL_0: usize = 0;
pub const LEVEL_1: usize = 1;
pub const LEVEL_2: usize = 2;
pub const LEVEL_3: usize = 3;

/// kubectl's `PrefixWriter` over a tabwriter: collects text, then pads it.
#[derive(Default)]
pub struct PrefixWriter {
    buf: String,
    /// Levels added to every write, as `NewNestedPrefixWriter(w, nest)` adds them.
    pub nest: usize,
}

impl PrefixWriter {
    /// `Write(level, ...)`: the text indented by two spaces per level.
    pub fn write(&mut self, level: usize, text: &str) {
        for _ in 0..level + self.nest {
            self.buf.push_str("  ");
        }
        escape_into(&mut self.buf, text);
    }

    /// `WriteLine(text)`: the text and a newline, not indented (a nested writer
    /// indents it).
    pub fn write_line(&mut self, text: &str) {
        if self.nest > 0 {
            self.write(LEVEL_0, &format!("{text}\n"));
            return;
        }
        escape_into(&mut self.buf, text);
        self.buf.push('\n');
    }

    /// The text as written, without padding (a `PrefixWriter` over a plain buffer).
    pub fn raw(self) -> String {
        self.buf
    }

    /// The padded page.
    pub fn finish(self) -> String {
        tabwrite(&self.buf, 0, 2)
    }
}

/// `printers.WriteEscaped`: ESC becomes `^[` and CR becomes `\r`.
fn escape_into(buf: &mut String, text: &str) {
    for ch in text.chars() {
        match ch {
            '\u{1b}' => buf.push_str("^["),
            '\r' => buf.push_str("\\r"),
            c => buf.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn columns_are_set_by_runs_of_lines() {
        // Go: tabwriter.NewWriter(buf, 0, 8, 2, ' ', 0). A line without a tab ends the
        // run; the last cell of a line is never padded.
        let cases = [
            ("a:\tb\nlong key:\tc\n", "a:         b\nlong key:  c\n"),
            (
                "a:\tb\nbreak\nlong key:\tc\n",
                "a:  b\nbreak\nlong key:  c\n",
            ),
            (
                "k:\tv\tw\nkey2:\tvalue\nk3:\tx\ty\n",
                "k:     v  w\nkey2:  value\nk3:    x  y\n",
            ),
            ("x\t\ty\nlonger\t\tz\n", "x         y\nlonger    z\n"),
            ("Type \tTrue \n", "Type   True \n"),
            ("é:\tv\nab:\tw", "é:   v\nab:  w"),
            ("a\tb\u{c}c\td\n", "a  b\nc  d\n"),
        ];
        for (input, want) in cases {
            assert_eq!(tabwrite(input, 0, 2), want, "{input:?}");
        }
    }

    #[test]
    fn prefix_writer_indents_and_escapes() {
        let mut w = PrefixWriter::default();
        w.write(LEVEL_0, "Name:\tweb\n");
        w.write(LEVEL_1, "IP:\t10.0.0.1\n");
        w.write(LEVEL_0, "Msg:\t");
        w.write_line("a\u{1b}[31mb\rc");
        assert_eq!(
            w.finish(),
            "Name:  web\n  IP:  10.0.0.1\nMsg:   a^[[31mb\\rc\n"
        );
    }
}
