//! YAML and JSON text, the way kubectl reads and prints it.
//!
//! kubectl reads manifests with `k8s.io/apimachinery`'s `YAMLOrJSONDecoder`, which splits a
//! stream into documents line by line on `---`, and converts each document to JSON with
//! `sigs.k8s.io/yaml` on top of go-yaml v2 (YAML 1.1 scalar typing: `yes`/`no`/`on`/`off`/`y`/`n`
//! are booleans, `0777` is octal, and so on). It prints `-o yaml` with the same library (go-yaml
//! v2's emitter: keys in go-yaml's "natural" order, sequences not indented under their key,
//! strings folded at 80 columns) and `-o json` with Go's `encoding/json` (4-space indent,
//! HTML-safe escaping). This module reproduces those behaviours on top of the `saphyr-parser`
//! event parser; nothing here recurses deeper than [`MAX_DEPTH`] on parser input, and nothing
//! panics on any input.
//!
//! The public API:
//! - [`parse_documents`] / [`parse_documents_with`]: a stream to JSON values, one per non-empty
//!   document, with its start line.
//! - [`to_yaml_string`]: what `kubectl get -o yaml` prints for a JSON value.
//! - [`to_json_pretty`]: what `kubectl get -o json` prints for a JSON value.

use std::collections::HashMap;
use std::fmt;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span};
use serde_json::{Map, Number, Value};

/// Deepest nesting of mappings and sequences accepted in one document (aliases included).
///
/// go-yaml allows 10,000 levels; that is too deep for a browser's wasm stack, and no manifest
/// comes close, so this parser stops at 512 with the error `exceeded max depth of 512`.
/// Flow collections (`[`, `{`) nest at most 255 deep (saphyr-parser's own limit, reported as
/// `exceeded max depth of 255`).
pub const MAX_DEPTH: usize = 512;

/// One non-empty document of a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The document as JSON, as `sigs.k8s.io/yaml` converts it.
    pub value: Value,
    /// 1-based line of the document's first content (its root node) in the whole text.
    pub line: usize,
}

/// A stream that kubectl would refuse.
///
/// `line` and `column` (both 1-based) point into the whole text that was parsed. `message` is
/// the text kubectl prints after `error parsing FILE: `, e.g.
/// `error converting YAML to JSON: yaml: line 3: mapping values are not allowed in this context`.
/// Like kubectl, the line number inside `message` counts from the start of the document's chunk
/// (kubectl hands go-yaml one `---`-separated chunk at a time) and follows go-yaml's own
/// conventions (parser errors report the line before the problem; errors on a chunk's first line
/// carry no line at all), so it can differ from `line`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for YamlError {}

/// How [`parse_documents_with`] treats a key that appears twice in one mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DuplicateKeys {
    /// Refuse the document, like go-yaml's `UnmarshalStrict` (`YAMLToJSONStrict`):
    /// `yaml: unmarshal errors:\n  line 5: key "name" already set in map`.
    #[default]
    Error,
    /// Keep the last value, like go-yaml's `Unmarshal` (what `kubectl apply -f` does today).
    LastWins,
}

/// Options for [`parse_documents_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ParseOptions {
    pub duplicate_keys: DuplicateKeys,
}

/// Parses a YAML (or JSON) stream into its non-empty documents, refusing duplicate keys.
///
/// Empty documents (nothing, comments only, or `null`) are skipped, as kubectl skips them.
pub fn parse_documents(text: &str) -> Result<Vec<Document>, YamlError> {
    parse_documents_with(text, ParseOptions::default())
}

/// [`parse_documents`] with options.
pub fn parse_documents_with(text: &str, options: ParseOptions) -> Result<Vec<Document>, YamlError> {
    let mut docs = Vec::new();
    let mut yaml_from = 0usize;
    let mut json_error: Option<YamlError> = None;
    if text.trim_start().starts_with('{') {
        // kubectl first tries the stream as concatenated JSON objects; if that fails on the
        // first or second object, it goes on from there as YAML.
        let mut count = 0usize;
        let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
        loop {
            let before = stream.byte_offset();
            match stream.next() {
                None => return Ok(docs),
                Some(Ok(value)) => {
                    count += 1;
                    if !value.is_null() {
                        let start = before + leading_ws_len(&text[before..]);
                        docs.push(Document {
                            value,
                            line: line_of_byte(text, start),
                        });
                    }
                }
                Some(Err(e)) => {
                    let err = json_syntax_error(text, before, &e);
                    if count > 1 {
                        return Err(err);
                    }
                    json_error = Some(err);
                    yaml_from = before + ws_through_newline(&text[before..]);
                    break;
                }
            }
        }
    }
    let first_line = line_of_byte(text, yaml_from);
    let mut first_chunk = true;
    for chunk in split_chunks(&text[yaml_from..], first_line) {
        let result = chunk.and_then(|c| parse_chunk(&c, options));
        match result {
            Ok(Some(doc)) => docs.push(doc),
            Ok(None) => {}
            Err(e) => {
                if first_chunk {
                    if let Some(j) = json_error {
                        return Err(j);
                    }
                }
                return Err(e);
            }
        }
        first_chunk = false;
    }
    Ok(docs)
}

fn leading_ws_len(s: &str) -> usize {
    s.len() - s.trim_start().len()
}

/// Whitespace up to and including the first newline (what kubectl eats before switching to YAML).
fn ws_through_newline(s: &str) -> usize {
    let mut n = 0;
    for c in s.chars() {
        if !c.is_whitespace() {
            break;
        }
        n += c.len_utf8();
        if c == '\n' {
            break;
        }
    }
    n
}

fn line_of_byte(text: &str, byte: usize) -> usize {
    let end = byte.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn json_syntax_error(text: &str, base: usize, e: &serde_json::Error) -> YamlError {
    // serde_json reports line/column relative to the whole input.
    let line = e.line().max(1);
    let column = e.column().max(1);
    let offset = byte_of_line_col(text, line, column).max(base);
    let full = e.to_string();
    let msg = match full.rfind(" at line ") {
        Some(i) => full[..i].to_string(),
        None => full,
    };
    // Go's encoding/json wording for the common cases.
    let mut from = offset.saturating_sub(1).min(text.len());
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    let at = text[from..].chars().next().unwrap_or(' ');
    let go = if e.is_eof() {
        return YamlError {
            line,
            column,
            message: "unexpected EOF".into(),
        };
    } else if msg.starts_with("key must be a string")
        || msg.starts_with("trailing comma") && at == '}'
    {
        format!("invalid character '{at}' looking for beginning of object key string")
    } else if msg.starts_with("expected value") || msg.starts_with("trailing comma") {
        format!("invalid character '{at}' looking for beginning of value")
    } else if msg.starts_with("expected `:`") {
        format!("invalid character '{at}' after object key")
    } else if msg.starts_with("expected `,` or `}`") {
        format!("invalid character '{at}' after object key:value pair")
    } else if msg.starts_with("expected `,` or `]`") {
        format!("invalid character '{at}' after array element")
    } else {
        msg
    };
    YamlError {
        line,
        column,
        message: format!("json: offset {offset}: {go}"),
    }
}

fn byte_of_line_col(text: &str, line: usize, column: usize) -> usize {
    let mut cur = 1;
    let mut start = 0;
    if line > 1 {
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                cur += 1;
                if cur == line {
                    start = i + 1;
                    break;
                }
            }
        }
    }
    (start + column).min(text.len())
}

/// One `---`-separated chunk, as apimachinery's `YAMLReader` cuts it.
struct Chunk {
    text: String,
    /// 1-based line in the whole text of the chunk's first line.
    first_line: usize,
}

/// Splits like `YAMLReader.Read`: line by line (CRLF becomes LF); a line starting with `---`
/// followed by only spaces or a comment ends the current chunk (and is dropped), or, when the
/// chunk is still empty, becomes its first line; anything else after `---` is an error.
fn split_chunks(text: &str, first_line: usize) -> Vec<Result<Chunk, YamlError>> {
    let mut out = Vec::new();
    let mut buf = String::new();
    let mut buf_line = first_line;
    let mut lines: Vec<&str> = text.split('\n').collect();
    if text.ends_with('\n') || text.is_empty() {
        lines.pop();
    }
    for (i, raw) in lines.iter().enumerate() {
        let line_no = first_line + i;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(rest) = line.strip_prefix("---") {
            let trimmed = rest.trim();
            if !trimmed.is_empty() && !trimmed.starts_with('#') {
                out.push(Err(YamlError {
                    line: line_no,
                    column: 4,
                    message: format!("invalid Yaml document separator: {trimmed}"),
                }));
                return out;
            }
            if !buf.is_empty() {
                out.push(Ok(Chunk {
                    text: std::mem::take(&mut buf),
                    first_line: buf_line,
                }));
                buf_line = line_no + 1;
                continue;
            }
        }
        if buf.is_empty() {
            buf_line = line_no;
        }
        buf.push_str(line);
        buf.push('\n');
    }
    if !buf.is_empty() {
        out.push(Ok(Chunk {
            text: buf,
            first_line: buf_line,
        }));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Events to a node tree.

#[derive(Debug)]
enum Kind {
    Scalar {
        value: String,
        plain: bool,
        tag: Option<(String, String)>,
    },
    Seq(Vec<usize>),
    /// Keys and values, alternating.
    Map(Vec<usize>),
    Alias {
        target: usize,
        name: String,
    },
}

#[derive(Debug)]
struct Node {
    kind: Kind,
    /// 1-based line within the chunk.
    line: usize,
    /// 0-based column.
    col: usize,
}

struct Ctx<'a> {
    chunk: &'a Chunk,
    chars: Vec<char>,
}

impl Ctx<'_> {
    fn abs_line(&self, line: usize) -> usize {
        self.chunk.first_line + line.max(1) - 1
    }

    fn err_at(&self, line: usize, col: usize, message: String) -> YamlError {
        YamlError {
            line: self.abs_line(line),
            column: col + 1,
            message: format!("error converting YAML to JSON: {message}"),
        }
    }

    fn alias_name(&self, span: &Span) -> String {
        self.anchor_name_at(span.start.index())
    }

    /// The anchor or alias name after the `&`/`*` at `index`, as go-yaml scans it.
    fn anchor_name_at(&self, index: usize) -> String {
        self.chars
            .iter()
            .skip(index + 1)
            .take_while(|c| c.is_alphanumeric() || matches!(c, '-' | '_'))
            .collect()
    }
}

/// How many tokens of one chunk may be moved right to get around saphyr's flow indentation rule.
const MAX_REINDENTS: usize = 64;

fn parse_chunk(chunk: &Chunk, options: ParseOptions) -> Result<Option<Document>, YamlError> {
    // libyaml (go-yaml) ignores indentation inside flow collections; saphyr-parser refuses a
    // token there that sits left of the enclosing block's indentation, e.g. the `]` of
    //     command: [
    //       "sh", "-c"
    //     ]
    // (after a quoted scalar). Whitespace before a flow token means nothing, so on that error
    // the token is moved one column right and the chunk parsed again.
    let mut patched: Option<Chunk> = None;
    let mut attempts = 0;
    loop {
        let current = patched.as_ref().unwrap_or(chunk);
        let ctx = Ctx {
            chunk: current,
            chars: current.text.chars().collect(),
        };
        check_characters(&ctx)?;
        let mut reindent = None;
        match build_tree(&ctx, &mut reindent) {
            Ok((nodes, root)) => return decode_tree(&ctx, &nodes, root, options),
            Err(e) => match reindent {
                Some((line, col)) if attempts < MAX_REINDENTS => {
                    attempts += 1;
                    let text = insert_space(&current.text, line, col);
                    patched = Some(Chunk {
                        text,
                        first_line: chunk.first_line,
                    });
                }
                _ => return Err(e),
            },
        }
    }
}

/// `text` with a space inserted before the character at (1-based `line`, 0-based `col`).
fn insert_space(text: &str, line: usize, col: usize) -> String {
    let mut start = 0;
    if line > 1 {
        let mut seen = 1;
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                seen += 1;
                if seen == line {
                    start = i + 1;
                    break;
                }
            }
        }
    }
    let at = text[start..]
        .char_indices()
        .nth(col)
        .map_or(text.len(), |(i, _)| start + i);
    let mut out = String::with_capacity(text.len() + 1);
    out.push_str(&text[..at]);
    out.push(' ');
    out.push_str(&text[at..]);
    out
}

fn decode_tree(
    ctx: &Ctx<'_>,
    nodes: &[Node],
    root: Option<usize>,
    options: ParseOptions,
) -> Result<Option<Document>, YamlError> {
    let Some(root) = root else {
        return Ok(None);
    };
    let mut dec = Decoder {
        nodes,
        ctx,
        strict: options.duplicate_keys == DuplicateKeys::Error,
        dup_errors: Vec::new(),
        deferred: None,
        expanding: Vec::new(),
        decode_count: 0,
        alias_count: 0,
        alias_depth: 0,
    };
    let value = dec.decode(root, 0)?;
    if let Some((line, col, _)) = dec.dup_errors.first() {
        let lines: Vec<String> = dec
            .dup_errors
            .iter()
            .map(|(_, _, m)| format!("\n  {m}"))
            .collect();
        return Err(ctx.err_at(
            *line,
            *col,
            format!("yaml: unmarshal errors:{}", lines.concat()),
        ));
    }
    if let Some(e) = dec.deferred {
        return Err(e);
    }
    if value.is_null() {
        return Ok(None);
    }
    Ok(Some(Document {
        value,
        line: ctx.abs_line(nodes[root].line),
    }))
}

fn build_tree(
    ctx: &Ctx<'_>,
    reindent: &mut Option<(usize, usize)>,
) -> Result<(Vec<Node>, Option<usize>), YamlError> {
    let mut parser = Parser::new_from_str(&ctx.chunk.text);
    let mut nodes: Vec<Node> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    let mut anchors: HashMap<usize, usize> = HashMap::new();
    let mut root: Option<usize> = None;
    let mut in_doc = false;
    // Per open collection: its opening bracket when it is a flow collection.
    let mut flows: Vec<Option<char>> = Vec::new();
    let mut last_was_end = false;
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| {
            let flow = flows.iter().rev().find_map(|f| *f);
            if flow.is_some() && e.info().starts_with("invalid indentation") {
                *reindent = Some((e.marker().line(), e.marker().col()));
            }
            scan_error(ctx, &e, flow, last_was_end)
        })?;
        last_was_end = matches!(event, Event::SequenceEnd | Event::MappingEnd);
        let line = span.start.line();
        let col = span.start.col();
        let new_node = match event {
            Event::StreamStart | Event::Nothing => continue,
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                in_doc = true;
                continue;
            }
            Event::DocumentEnd => {
                if in_doc {
                    // go-yaml reads only the first document of a chunk.
                    break;
                }
                continue;
            }
            Event::Scalar(value, style, anchor, tag) => {
                let is_key = stack.last().is_some_and(|&p| match &nodes[p].kind {
                    Kind::Map(items) => items.len() % 2 == 0,
                    _ => false,
                });
                if is_key
                    && value.is_empty()
                    && tag.is_none()
                    && flows.last().is_some_and(Option::is_none)
                    && ctx.chars.get(span.start.index()) == Some(&':')
                {
                    // libyaml has no empty implicit keys in block mappings.
                    return Err(ctx.err_at(
                        line,
                        col,
                        go_message("did not find expected key", line, true),
                    ));
                }
                let tag = tag.map(|t| (t.handle.clone(), t.suffix.clone()));
                let idx = push_node(
                    &mut nodes,
                    Kind::Scalar {
                        value: value.into_owned(),
                        plain: style == ScalarStyle::Plain,
                        tag,
                    },
                    line,
                    col,
                );
                if anchor != 0 {
                    anchors.insert(anchor, idx);
                }
                Some(idx)
            }
            Event::Alias(id) => {
                let name = ctx.alias_name(&span);
                let Some(&target) = anchors.get(&id) else {
                    return Err(ctx.err_at(
                        line,
                        col,
                        format!("yaml: unknown anchor '{name}' referenced"),
                    ));
                };
                Some(push_node(
                    &mut nodes,
                    Kind::Alias { target, name },
                    line,
                    col,
                ))
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(ctx.err_at(
                        line,
                        col,
                        format!("yaml: line {line}: exceeded max depth of {MAX_DEPTH}"),
                    ));
                }
                let kind = if matches!(event, Event::SequenceStart(..)) {
                    Kind::Seq(Vec::new())
                } else {
                    Kind::Map(Vec::new())
                };
                let idx = push_node(&mut nodes, kind, line, col);
                if anchor != 0 {
                    anchors.insert(anchor, idx);
                }
                attach(&mut nodes, &stack, &mut root, idx);
                stack.push(idx);
                let opener = ctx.chars.get(span.start.index()).copied();
                flows.push(opener.filter(|c| *c == '[' || *c == '{'));
                None
            }
            Event::SequenceEnd | Event::MappingEnd => {
                stack.pop();
                flows.pop();
                None
            }
        };
        if let Some(idx) = new_node {
            attach(&mut nodes, &stack, &mut root, idx);
        }
    }
    Ok((nodes, root))
}

fn push_node(nodes: &mut Vec<Node>, kind: Kind, line: usize, col: usize) -> usize {
    nodes.push(Node { kind, line, col });
    nodes.len() - 1
}

fn attach(nodes: &mut [Node], stack: &[usize], root: &mut Option<usize>, idx: usize) {
    match stack.last() {
        Some(&parent) => match &mut nodes[parent].kind {
            Kind::Seq(items) | Kind::Map(items) => items.push(idx),
            _ => {}
        },
        None => {
            if root.is_none() {
                *root = Some(idx);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Scanner errors to go-yaml's wording.

fn scan_error(ctx: &Ctx<'_>, e: &ScanError, flow: Option<char>, after_end: bool) -> YamlError {
    let s = |t: &str| t.to_string();
    let mark = e.marker();
    let line = mark.line().max(1);
    let col = mark.col();
    let info = e.info();
    // (go-yaml text, whether go-yaml reports it as a parser error: those carry the 0-based
    // line, i.e. one less than the problem's line, as go-yaml prints it).
    let (text, parser_error): (String, bool) = if info.contains("unknown anchor") {
        let name = ctx.anchor_name_at(mark.index());
        if name.is_empty() {
            (
                s("did not find expected alphabetic or numeric character"),
                false,
            )
        } else {
            return ctx.err_at(
                line,
                col,
                format!("yaml: unknown anchor '{name}' referenced"),
            );
        }
    } else {
        map_scan_message(info, ctx, line, col, flow, after_end)
    };
    // Where go-yaml puts the problem when saphyr points elsewhere.
    let line = if text == "found unexpected end of stream" {
        ctx.chunk.text.matches('\n').count() + 1
    } else if info.contains("plain scalar, found a tab") {
        let tab_line = ctx
            .chunk
            .text
            .lines()
            .enumerate()
            .skip(line - 1)
            .find(|(_, l)| l.starts_with('\t'))
            .map(|(i, _)| i + 1);
        tab_line.unwrap_or(line)
    } else {
        line
    };
    ctx.err_at(line, col, go_message(&text, line, parser_error))
}

/// go-yaml's `yaml: line N: TEXT`: parser errors print the 0-based line of the problem, scanner
/// errors the 1-based one, and neither prints a line when the problem is on the first line.
fn go_message(text: &str, line: usize, parser_error: bool) -> String {
    let go_line = if parser_error {
        line.saturating_sub(1)
    } else {
        line
    };
    if go_line >= 2 || (go_line == 1 && parser_error) {
        format!("yaml: line {go_line}: {text}")
    } else {
        format!("yaml: {text}")
    }
}

/// go-yaml's reader refuses these characters anywhere in the input.
fn check_characters(ctx: &Ctx<'_>) -> Result<(), YamlError> {
    let (mut line, mut col) = (1usize, 0usize);
    for &c in &ctx.chars {
        let u = c as u32;
        let ok = matches!(u, 0x09 | 0x0A | 0x0D | 0x20..=0x7E | 0x85 | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..);
        if !ok {
            return Err(ctx.err_at(line, col, "yaml: control characters are not allowed".into()));
        }
        if c == '\n' {
            line += 1;
            col = 0;
        } else {
            col += 1;
        }
    }
    Ok(())
}

fn map_scan_message(
    info: &str,
    ctx: &Ctx<'_>,
    line: usize,
    col: usize,
    flow: Option<char>,
    after_end: bool,
) -> (String, bool) {
    let s = |t: &str| t.to_string();
    let at = ctx
        .chars
        .iter()
        .scan((1usize, 0usize), |pos, c| {
            let here = *pos;
            if *c == '\n' {
                *pos = (pos.0 + 1, 0);
            } else {
                pos.1 += 1;
            }
            Some((here, *c))
        })
        .find(|((l, c), _)| *l == line && *c == col)
        .map(|(_, c)| c);
    if info.contains("illegal placement of ':'") || info.contains("while parsing a flow") {
        match flow {
            Some('[') => return (s("did not find expected ',' or ']'"), true),
            Some('{') => return (s("did not find expected ',' or '}'"), true),
            _ => {}
        }
    }
    if info.contains("misplaced bracket") {
        if after_end {
            return (s("did not find expected key"), true);
        }
        return (s("did not find expected node content"), true);
    }
    if info.contains("invalid trailing content after double-quoted scalar") {
        return (s("did not find expected key"), true);
    }
    if info.contains("invalid indentation in quoted scalar") {
        return (s("found unexpected end of stream"), false);
    }
    if info.contains("tabs disallowed within this context (block indentation)") {
        return (s("found character that cannot start any token"), false);
    }
    if info.contains("plain scalar, found a tab") {
        return (s("found a tab character that violates indentation"), false);
    }
    if info.contains("recursion limit exceeded") {
        // saphyr-parser counts flow levels in a u8.
        return (s("exceeded max depth of 255"), false);
    }
    if info.contains("mapping keys are not allowed") {
        return (s("mapping keys are not allowed in this context"), false);
    }
    if info.contains("mapping values are not allowed") || info.contains("illegal placement of ':'")
    {
        return (s("mapping values are not allowed in this context"), false);
    }
    if info.contains("tabs disallowed") || info.contains("tab cannot be used as indentation") {
        return (s("found a tab character that violates indentation"), false);
    }
    if info.contains("unexpected end of stream") && info.contains("quoted") {
        return (s("found unexpected end of stream"), false);
    }
    if info.contains("unknown escape character") {
        return (s("found unknown escape character"), false);
    }
    if info.contains("did not find expected hexadecimal number") {
        return (s("did not find expected hexadecimal number"), false);
    }
    if info.contains("simple key expect ':'") || info.contains("could not find expected ':'") {
        return (s("could not find expected ':'"), false);
    }
    if info.contains("unexpected character")
        || info.contains("found unprintable character")
        || info.contains("cannot start any token")
        || matches!(at, Some('@' | '`' | '%'))
    {
        return (s("found character that cannot start any token"), false);
    }
    if info.contains("block sequence entries are not allowed") {
        return (
            s("block sequence entries are not allowed in this context"),
            false,
        );
    }
    if info.contains("did not find expected ',' or ']'") || info.contains("expected ',' or ']'") {
        return (s("did not find expected ',' or ']'"), true);
    }
    if info.contains("did not find expected ',' or '}'") || info.contains("expected ',' or '}'") {
        return (s("did not find expected ',' or '}'"), true);
    }
    if info.contains("did not find expected '-'") {
        return (s("did not find expected '-' indicator"), true);
    }
    if info.contains("did not find expected key") || info.contains("invalid indentation") {
        return (s("did not find expected key"), true);
    }
    if info.contains("did not find expected node content") {
        return (s("did not find expected node content"), true);
    }
    if info.contains("while scanning a block scalar") {
        return (s("did not find expected comment or line break"), false);
    }
    if info.contains("while scanning an anchor or alias") {
        return (
            s("did not find expected alphabetic or numeric character"),
            false,
        );
    }
    (info.to_string(), false)
}

// ---------------------------------------------------------------------------------------------
// Node tree to JSON, with go-yaml v2's typing and sigs.k8s.io/yaml's key conversion.

/// A scalar as go-yaml v2 resolves it into an `interface{}`.
#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
}

/// A map key as Go compares them (for the duplicate check).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum GoKey {
    Null,
    Bool(bool),
    Int(i128),
    Float(u64),
    Str(String),
}

struct Decoder<'a> {
    nodes: &'a [Node],
    ctx: &'a Ctx<'a>,
    strict: bool,
    /// (line, col, "line N: key ... already set in map")
    dup_errors: Vec<(usize, usize, String)>,
    /// The first error of the JSON conversion (after go-yaml succeeded).
    deferred: Option<YamlError>,
    expanding: Vec<usize>,
    decode_count: u64,
    alias_count: u64,
    alias_depth: u32,
}

type Res<T> = Result<T, YamlError>;

fn allowed_alias_ratio(decode_count: u64) -> f64 {
    const LOW: f64 = 400_000.0;
    const HIGH: f64 = 4_000_000.0;
    let d = decode_count as f64;
    if d <= LOW {
        0.99
    } else if d >= HIGH {
        0.10
    } else {
        0.99 - 0.89 * ((d - LOW) / (HIGH - LOW))
    }
}

impl Decoder<'_> {
    #[cold]
    #[inline(never)]
    fn fail(&self, node: usize, message: String) -> YamlError {
        let n = &self.nodes[node];
        self.ctx.err_at(n.line, n.col, message)
    }

    fn count(&mut self, node: usize) -> Res<()> {
        self.decode_count += 1;
        if self.alias_depth > 0 {
            self.alias_count += 1;
        }
        if self.alias_count > 100
            && self.decode_count > 1000
            && self.alias_count as f64 / self.decode_count as f64
                > allowed_alias_ratio(self.decode_count)
        {
            return Err(self.fail(node, "yaml: document contains excessive aliasing".into()));
        }
        Ok(())
    }

    fn enter_alias(&mut self, node: usize) -> Res<usize> {
        let Kind::Alias { target, name } = &self.nodes[node].kind else {
            return Ok(node);
        };
        if self.expanding.contains(&node) {
            return Err(self.fail(node, format!("yaml: anchor '{name}' value contains itself")));
        }
        self.expanding.push(node);
        self.alias_depth += 1;
        Ok(*target)
    }

    fn leave_alias(&mut self) {
        self.expanding.pop();
        self.alias_depth = self.alias_depth.saturating_sub(1);
    }

    // The recursion is decode -> decode_seq/decode_map(_into) -> decode; each of these keeps
    // its frame small (no formatting, no scalar work inline) so that MAX_DEPTH levels fit
    // in a wasm stack even in debug builds.
    fn decode(&mut self, node: usize, depth: usize) -> Res<Value> {
        self.count(node)?;
        match &self.nodes[node].kind {
            Kind::Alias { .. } => self.decode_alias(node, depth),
            Kind::Scalar { .. } => self.decode_scalar(node),
            Kind::Seq(_) => self.decode_seq(node, depth),
            Kind::Map(_) => self.decode_map(node, depth),
        }
    }

    fn decode_alias(&mut self, node: usize, depth: usize) -> Res<Value> {
        let target = self.enter_alias(node)?;
        let v = self.decode(target, depth);
        self.leave_alias();
        v
    }

    #[inline(never)]
    fn decode_scalar(&mut self, node: usize) -> Res<Value> {
        let s = self.scalar(node)?;
        Ok(self.scalar_value(node, s))
    }

    fn decode_seq(&mut self, node: usize, depth: usize) -> Res<Value> {
        if depth >= MAX_DEPTH {
            return Err(self.depth_error(node));
        }
        let nodes = self.nodes;
        let Kind::Seq(items) = &nodes[node].kind else {
            return Ok(Value::Null);
        };
        let mut out = Vec::with_capacity(items.len());
        for &item in items {
            out.push(self.decode(item, depth + 1)?);
        }
        Ok(Value::Array(out))
    }

    fn decode_map(&mut self, node: usize, depth: usize) -> Res<Value> {
        if depth >= MAX_DEPTH {
            return Err(self.depth_error(node));
        }
        let mut out = Map::new();
        let mut seen = HashMap::new();
        self.decode_map_into(node, &mut out, &mut seen, depth)?;
        Ok(Value::Object(out))
    }

    #[cold]
    #[inline(never)]
    fn depth_error(&self, node: usize) -> YamlError {
        let line = self.nodes[node].line;
        self.fail(
            node,
            format!("yaml: line {line}: exceeded max depth of {MAX_DEPTH}"),
        )
    }

    fn decode_map_into(
        &mut self,
        node: usize,
        out: &mut Map<String, Value>,
        seen: &mut HashMap<GoKey, ()>,
        depth: usize,
    ) -> Res<()> {
        let Kind::Map(items) = &self.nodes[node].kind else {
            return Ok(());
        };
        for pair in items.chunks(2) {
            let (k, v) = match pair {
                [k, v] => (*k, *v),
                _ => continue,
            };
            if self.is_merge(k) {
                self.merge(v, out, seen, depth)?;
                continue;
            }
            let key = self.decode_key(k, depth)?;
            let value = self.decode(v, depth + 1)?;
            self.set_map_index(k, v, key, value, out, seen);
        }
        Ok(())
    }

    fn is_merge(&self, node: usize) -> bool {
        match &self.nodes[node].kind {
            Kind::Scalar { value, plain, tag } => {
                value == "<<"
                    && match tag {
                        None => *plain,
                        Some((h, s)) => h == CORE && s == "merge",
                    }
            }
            _ => false,
        }
    }

    fn merge(
        &mut self,
        node: usize,
        out: &mut Map<String, Value>,
        seen: &mut HashMap<GoKey, ()>,
        depth: usize,
    ) -> Res<()> {
        let want_map = |d: &Self| {
            d.fail(
                node,
                "yaml: map merge requires map or sequence of maps as the value".into(),
            )
        };
        match &self.nodes[node].kind {
            Kind::Map(_) => {
                self.count(node)?;
                self.decode_map_into(node, out, seen, depth)
            }
            Kind::Alias { target, .. } => {
                if !matches!(self.nodes[*target].kind, Kind::Map(_)) {
                    return Err(want_map(self));
                }
                self.count(node)?;
                let target = self.enter_alias(node)?;
                self.count(target)?;
                let r = self.decode_map_into(target, out, seen, depth);
                self.leave_alias();
                r
            }
            Kind::Seq(items) => {
                for &item in items.iter().rev() {
                    match &self.nodes[item].kind {
                        Kind::Alias { target, .. } => {
                            if !matches!(self.nodes[*target].kind, Kind::Map(_)) {
                                return Err(want_map(self));
                            }
                        }
                        Kind::Map(_) => {}
                        _ => return Err(want_map(self)),
                    }
                    self.merge(item, out, seen, depth)?;
                }
                Ok(())
            }
            Kind::Scalar { .. } => Err(want_map(self)),
        }
    }

    /// Decodes a key the way go-yaml does into an `interface{}`, then names it as
    /// sigs.k8s.io/yaml does. Collections as keys are go-yaml errors.
    fn decode_key(&mut self, node: usize, depth: usize) -> Res<(GoKey, Option<String>)> {
        self.count(node)?;
        let mut target = node;
        let mut entered = 0;
        while let Kind::Alias { .. } = &self.nodes[target].kind {
            target = self.enter_alias(target)?;
            entered += 1;
            self.count(target)?;
        }
        let result = match &self.nodes[target].kind {
            Kind::Scalar { .. } => self.scalar(target).map(|s| key_of(&s)),
            _ => {
                let v = self.decode(target, depth + 1);
                match v {
                    Ok(v) => {
                        Err(self.fail(node, format!("yaml: invalid map key: {}", go_sharp_v(&v))))
                    }
                    Err(e) => Err(e),
                }
            }
        };
        for _ in 0..entered {
            self.leave_alias();
        }
        result
    }

    fn set_map_index(
        &mut self,
        knode: usize,
        vnode: usize,
        key: (GoKey, Option<String>),
        value: Value,
        out: &mut Map<String, Value>,
        seen: &mut HashMap<GoKey, ()>,
    ) {
        let (gokey, name) = key;
        let is_nan = matches!(gokey, GoKey::Float(bits) if f64::from_bits(bits).is_nan());
        if !is_nan && seen.contains_key(&gokey) {
            if self.strict {
                self.record_duplicate(knode, vnode, &gokey);
                return;
            }
        } else {
            seen.insert(gokey.clone(), ());
        }
        match name {
            Some(name) => {
                out.insert(name, value);
            }
            None => self.refuse_key(knode, &gokey, &value),
        }
    }

    #[cold]
    #[inline(never)]
    fn record_duplicate(&mut self, knode: usize, vnode: usize, gokey: &GoKey) {
        let vline = self.nodes[vnode].line;
        let kn = &self.nodes[knode];
        self.dup_errors.push((
            kn.line,
            kn.col,
            format!(
                "line {vline}: key {} already set in map",
                go_key_sharp_v(gokey)
            ),
        ));
    }

    #[cold]
    #[inline(never)]
    fn refuse_key(&mut self, knode: usize, gokey: &GoKey, value: &Value) {
        if self.deferred.is_some() {
            return;
        }
        let what = match gokey {
            GoKey::Null => "%!s(<nil>), key: <nil>".to_string(),
            GoKey::Int(i) => format!("uint64, key: 0x{i:x}"),
            _ => "unknown".to_string(),
        };
        let shown = if value.is_null() {
            "<nil>".to_string()
        } else {
            go_sharp_v(value)
        };
        self.deferred = Some(self.fail(
            knode,
            format!("unsupported map key of type: {what}, value: {shown}"),
        ));
    }

    fn scalar(&self, node: usize) -> Res<Scalar> {
        let Kind::Scalar { value, plain, tag } = &self.nodes[node].kind else {
            return Ok(Scalar::Null);
        };
        match tag {
            None if !*plain => Ok(Scalar::Str(value.clone())),
            None => Ok(resolve_plain(value)),
            Some((handle, suffix)) if handle == CORE => {
                let want = suffix.as_str();
                match want {
                    "str" => Ok(Scalar::Str(value.clone())),
                    "binary" => match decode_base64(value) {
                        Some(bytes) => {
                            Ok(Scalar::Str(String::from_utf8_lossy(&bytes).into_owned()))
                        }
                        None => Err(self.fail(
                            node,
                            "yaml: !!binary value contains invalid base64 data".into(),
                        )),
                    },
                    "int" | "float" | "bool" | "null" | "timestamp" => {
                        let resolved = if want == "timestamp" {
                            if is_go_timestamp(value) {
                                Some(Scalar::Str(value.clone()))
                            } else {
                                None
                            }
                        } else {
                            None
                        };
                        let got = resolved.unwrap_or_else(|| resolve_tagged(value));
                        let got_tag = scalar_tag(&got, value);
                        match (want, &got) {
                            ("int", Scalar::Int(_) | Scalar::Uint(_)) => Ok(got),
                            ("float", Scalar::Float(_)) => Ok(got),
                            ("float", Scalar::Int(i)) => Ok(Scalar::Float(*i as f64)),
                            ("float", Scalar::Uint(u)) => Ok(Scalar::Float(*u as f64)),
                            ("bool", Scalar::Bool(_)) => Ok(got),
                            ("null", Scalar::Null) => Ok(got),
                            ("timestamp", Scalar::Str(_)) if got_tag == "timestamp" => Ok(got),
                            _ => Err(self.fail(
                                node,
                                format!("yaml: cannot decode !!{got_tag} `{value}` as a !!{want}"),
                            )),
                        }
                    }
                    // !!merge, !!map, !!seq and unknown core tags: go-yaml keeps the text.
                    _ => Ok(Scalar::Str(value.clone())),
                }
            }
            // Local and custom tags: the text, as a string.
            Some(_) => Ok(Scalar::Str(value.clone())),
        }
    }

    fn scalar_value(&mut self, node: usize, s: Scalar) -> Value {
        match s {
            Scalar::Null => Value::Null,
            Scalar::Bool(b) => Value::Bool(b),
            Scalar::Int(i) => Value::Number(i.into()),
            Scalar::Uint(u) => Value::Number(u.into()),
            Scalar::Str(s) => Value::String(s),
            Scalar::Float(f) => match go_float_to_json(f) {
                Some(v) => v,
                None => {
                    if self.deferred.is_none() {
                        let what = if f.is_nan() {
                            "NaN"
                        } else if f > 0.0 {
                            "+Inf"
                        } else {
                            "-Inf"
                        };
                        self.deferred =
                            Some(self.fail(node, format!("json: unsupported value: {what}")));
                    }
                    Value::Null
                }
            },
        }
    }
}

const CORE: &str = "tag:yaml.org,2002:";

fn scalar_tag(s: &Scalar, text: &str) -> &'static str {
    match s {
        Scalar::Null => "null",
        Scalar::Bool(_) => "bool",
        Scalar::Int(_) | Scalar::Uint(_) => "int",
        Scalar::Float(_) => "float",
        Scalar::Str(_) => {
            if is_go_timestamp(text) {
                "timestamp"
            } else {
                "str"
            }
        }
    }
}

/// A Go `float64` as `encoding/json` writes it, read back by serde_json: integral values below
/// 1e21 are written without a fraction, so they come back as integers when they fit.
fn go_float_to_json(f: f64) -> Option<Value> {
    if !f.is_finite() {
        return None;
    }
    let text = go_json_float(f);
    if let Ok(u) = text.parse::<u64>() {
        return Some(Value::Number(u.into()));
    }
    if let Ok(i) = text.parse::<i64>() {
        return Some(Value::Number(i.into()));
    }
    if text == "-0" {
        return Some(Value::Number(0u64.into()));
    }
    Number::from_f64(f).map(Value::Number)
}

/// The name sigs.k8s.io/yaml gives a non-string key (None: it refuses the key).
fn key_of(s: &Scalar) -> (GoKey, Option<String>) {
    match s {
        Scalar::Null => (GoKey::Null, None),
        Scalar::Bool(b) => (GoKey::Bool(*b), Some(b.to_string())),
        Scalar::Int(i) => (GoKey::Int(i128::from(*i)), Some(i.to_string())),
        Scalar::Uint(u) => (GoKey::Int(i128::from(*u)), None),
        Scalar::Float(f) => {
            let same = if *f == 0.0 { 0.0 } else { *f };
            (GoKey::Float(same.to_bits()), Some(go_format_g32(*f)))
        }
        Scalar::Str(s) => (GoKey::Str(s.clone()), Some(s.clone())),
    }
}

fn go_key_sharp_v(k: &GoKey) -> String {
    match k {
        GoKey::Null => "interface {}(nil)".into(),
        GoKey::Bool(b) => b.to_string(),
        GoKey::Int(i) => i.to_string(),
        GoKey::Float(bits) => go_format_g(f64::from_bits(*bits)),
        GoKey::Str(s) => go_quote(s),
    }
}

/// Roughly Go's `%#v` of a decoded YAML value (for error messages only).
fn go_sharp_v(v: &Value) -> String {
    match v {
        Value::Null => "interface {}(nil)".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => go_quote(s),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(go_sharp_v).collect();
            format!("[]interface {{}}{{{}}}", parts.join(", "))
        }
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}:{}", go_quote(k), go_sharp_v(v)))
                .collect();
            format!("map[interface {{}}]interface {{}}{{{}}}", parts.join(", "))
        }
    }
}

fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ---------------------------------------------------------------------------------------------
// go-yaml v2's resolve table.

/// How go-yaml v2 resolves an untagged plain scalar.
fn resolve_plain(s: &str) -> Scalar {
    resolve_inner(s, true)
}

/// How go-yaml v2 resolves a scalar with an explicit core tag (no timestamp guessing).
fn resolve_tagged(s: &str) -> Scalar {
    resolve_inner(s, false)
}

fn resolve_inner(s: &str, allow_timestamp: bool) -> Scalar {
    let Some(&first) = s.as_bytes().first() else {
        return Scalar::Null;
    };
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Scalar::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Scalar::Bool(false)
        }
        "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        ".nan" | ".NaN" | ".NAN" => return Scalar::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Scalar::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Scalar::Float(f64::NEG_INFINITY),
        _ => {}
    }
    match first {
        b'.' => {
            if let Some(f) = go_parse_float(s) {
                return Scalar::Float(f);
            }
        }
        b'0'..=b'9' | b'+' | b'-' => {
            if allow_timestamp && is_go_timestamp(s) {
                return Scalar::Str(s.to_string());
            }
            let plain: String = s.chars().filter(|&c| c != '_').collect();
            if let Some(i) = go_parse_int(&plain) {
                return Scalar::Int(i);
            }
            if let Some(u) = go_parse_uint(&plain) {
                return Scalar::Uint(u);
            }
            if yaml_style_float(&plain) {
                if let Some(f) = go_parse_float(&plain) {
                    return Scalar::Float(f);
                }
            }
        }
        _ => {}
    }
    Scalar::Str(s.to_string())
}

/// Is this plain text something go-yaml v2 would read as anything but a string?
fn resolves_to_non_string(s: &str) -> bool {
    if let Some(&b) = s.as_bytes().first() {
        if matches!(b, b'0'..=b'9' | b'+' | b'-') && is_go_timestamp(s) {
            return true;
        }
    }
    !matches!(resolve_plain(s), Scalar::Str(_))
}

/// Go's `strconv.ParseUint(s, 0, 64)` digits after the sign: base prefix, digits.
fn go_parse_magnitude(s: &str) -> Option<u64> {
    let (digits, radix) = if let Some(r) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (r, 16)
    } else if let Some(r) = s.strip_prefix("0o").or_else(|| s.strip_prefix("0O")) {
        (r, 8)
    } else if let Some(r) = s.strip_prefix("0b").or_else(|| s.strip_prefix("0B")) {
        (r, 2)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

fn go_parse_int(s: &str) -> Option<i64> {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let m = go_parse_magnitude(rest)?;
    if neg {
        if m <= 1u64 << 63 {
            Some((m as i64).wrapping_neg())
        } else {
            None
        }
    } else {
        i64::try_from(m).ok()
    }
}

fn go_parse_uint(s: &str) -> Option<u64> {
    if s.starts_with(['+', '-']) {
        return None;
    }
    go_parse_magnitude(s)
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseFloat(s, 64)` for decimal text; out-of-range values are errors.
fn go_parse_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let ok = b.iter().enumerate().all(|(i, &c)| {
        c.is_ascii_digit()
            || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-')
            || (c == b'_'
                && i > 0
                && b[i - 1].is_ascii_digit()
                && b.get(i + 1).is_some_and(u8::is_ascii_digit))
    });
    if !ok {
        return None;
    }
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    let f: f64 = plain.parse().ok()?;
    if f.is_finite() {
        Some(f)
    } else {
        None
    }
}

/// `isBase60Float`: `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(&c) = b.first() else {
        return false;
    };
    if !(c == b'+' || c == b'-' || c.is_ascii_digit()) || !s.contains(':') {
        return false;
    }
    let mut i = 0;
    if b[i] == b'+' || b[i] == b'-' {
        i += 1;
    }
    if i >= b.len() || !b[i].is_ascii_digit() {
        return false;
    }
    i += 1;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while i < b.len() && b[i] == b':' {
        i += 1;
        // [0-5]?[0-9]
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 2 {
            i += 1;
        }
        match i - start {
            1 => {}
            2 if b[start] <= b'5' => {}
            2 => {
                // "[0-5]?" failed: backtrack to one digit; then a digit follows, which fails.
                return false;
            }
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// go-yaml v2's `parseTimestamp`: the layouts `2006-1-2T15:4:5.999999999Z07:00` (also with `t`),
/// `2006-1-2 15:4:5.999999999` and `2006-1-2`, as Go's `time.Parse` accepts them.
fn is_go_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let lead = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if lead != 4 || b.len() == 4 || b[4] != b'-' {
        return false;
    }
    let year: u32 = s[..4].parse().unwrap_or(0);
    let mut i = 5;
    let num = |i: &mut usize, max_digits: usize| -> Option<u32> {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() && *i - start < max_digits {
            *i += 1;
        }
        if *i == start {
            return None;
        }
        s[start..*i].parse().ok()
    };
    let Some(month) = num(&mut i, 2) else {
        return false;
    };
    if i >= b.len() || b[i] != b'-' {
        return false;
    }
    i += 1;
    let Some(day) = num(&mut i, 2) else {
        return false;
    };
    if !(1..=12).contains(&month) || day < 1 || day > days_in(month, year) {
        return false;
    }
    if i == b.len() {
        return true;
    }
    let with_zone = match b[i] {
        b'T' | b't' => true,
        b' ' => false,
        _ => return false,
    };
    i += 1;
    let Some(h) = num(&mut i, 2) else {
        return false;
    };
    if i >= b.len() || b[i] != b':' {
        return false;
    }
    i += 1;
    let Some(m) = num(&mut i, 2) else {
        return false;
    };
    if i >= b.len() || b[i] != b':' {
        return false;
    }
    i += 1;
    let Some(sec) = num(&mut i, 2) else {
        return false;
    };
    if h > 23 || m > 59 || sec > 59 {
        return false;
    }
    if i + 1 < b.len() && (b[i] == b'.' || b[i] == b',') && b[i + 1].is_ascii_digit() {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    if !with_zone {
        return i == b.len();
    }
    if i < b.len() && b[i] == b'Z' {
        return i + 1 == b.len();
    }
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        let z = &b[i + 1..];
        return z.len() == 5
            && z[0].is_ascii_digit()
            && z[1].is_ascii_digit()
            && z[2] == b':'
            && z[3].is_ascii_digit()
            && z[4].is_ascii_digit();
    }
    false
}

fn days_in(month: u32, year: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 => {
            if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) {
                29
            } else {
                28
            }
        }
        _ => 31,
    }
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    // Go's StdEncoding.DecodeString: padded standard alphabet; it skips \r and \n.
    let mut vals = Vec::with_capacity(s.len());
    let mut pad = 0;
    for c in s.bytes() {
        if c == b'\r' || c == b'\n' {
            continue;
        }
        if c == b'=' {
            pad += 1;
            continue;
        }
        if pad > 0 {
            return None;
        }
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        vals.push(v);
    }
    if (vals.len() + pad) % 4 != 0 || pad > 2 || (pad > 0 && vals.len() % 4 + pad != 4) {
        return None;
    }
    let mut out = Vec::with_capacity(vals.len() * 3 / 4);
    for group in vals.chunks(4) {
        let mut acc: u32 = 0;
        for (j, &v) in group.iter().enumerate() {
            acc |= u32::from(v) << (18 - 6 * j);
        }
        let bytes = acc.to_be_bytes();
        let n = group.len().saturating_sub(1);
        out.extend_from_slice(&bytes[1..1 + n]);
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------------
// Go's float formatting.

/// Shortest decimal digits and the decimal point position (`0.DIGITS × 10^dp`) of a finite,
/// non-zero float, from Rust's shortest round-trip `{:e}` formatting.
fn shortest_digits(e_fmt: &str) -> (String, i32) {
    let body = e_fmt.trim_start_matches('-');
    let (mant, exp) = body.split_once('e').unwrap_or((body, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    (digits.to_string(), exp + 1)
}

/// `strconv.FormatFloat(f, 'g', -1, 64)`, with go-yaml's `.inf`/`.nan` spellings.
fn go_format_g(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let (digits, dp) = shortest_digits(&format!("{f:e}"));
    format_g(f < 0.0, &digits, dp)
}

/// `strconv.FormatFloat(f, 'g', -1, 32)` (sigs.k8s.io/yaml names float keys so).
fn go_format_g32(f: f64) -> String {
    if f.is_nan() || f.is_infinite() {
        return go_format_g(f);
    }
    let g = f as f32;
    if g == 0.0 {
        return if g.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    if g.is_infinite() {
        return go_format_g(f64::from(g));
    }
    let (digits, dp) = shortest_digits(&format!("{g:e}"));
    format_g(g < 0.0, &digits, dp)
}

fn format_g(neg: bool, digits: &str, dp: i32) -> String {
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    let exp = dp - 1;
    if !(-4..6).contains(&exp) {
        format_e(&mut out, digits, exp);
    } else {
        format_f(&mut out, digits, dp);
    }
    out
}

fn format_e(out: &mut String, digits: &str, exp: i32) {
    let mut chars = digits.chars();
    out.push(chars.next().unwrap_or('0'));
    let rest: String = chars.collect();
    if !rest.is_empty() {
        out.push('.');
        out.push_str(&rest);
    }
    out.push('e');
    out.push(if exp < 0 { '-' } else { '+' });
    let a = exp.unsigned_abs();
    if a < 10 {
        out.push('0');
    }
    out.push_str(&a.to_string());
}

fn format_f(out: &mut String, digits: &str, dp: i32) {
    let nd = digits.len() as i32;
    if dp <= 0 {
        out.push_str("0.");
        for _ in 0..(-dp) {
            out.push('0');
        }
        out.push_str(digits);
    } else if dp >= nd {
        out.push_str(digits);
        for _ in 0..(dp - nd) {
            out.push('0');
        }
    } else {
        let (a, b) = digits.split_at(dp as usize);
        out.push_str(a);
        out.push('.');
        out.push_str(b);
    }
}

/// How Go's `encoding/json` writes a float64.
fn go_json_float(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let (digits, dp) = shortest_digits(&format!("{f:e}"));
    let mut out = String::new();
    if f < 0.0 {
        out.push('-');
    }
    let a = f.abs();
    if !(1e-6..1e21).contains(&a) {
        format_e(&mut out, &digits, dp - 1);
        // Go cleans up e-09 to e-9.
        let n = out.len();
        if n >= 4
            && out.as_bytes()[n - 4] == b'e'
            && out.as_bytes()[n - 3] == b'-'
            && out.as_bytes()[n - 2] == b'0'
        {
            out.remove(n - 2);
        }
    } else {
        format_f(&mut out, &digits, dp);
    }
    out
}

/// The text go-yaml v2 prints for a JSON number after sigs.k8s.io/yaml's JSON round trip.
fn yaml_number(n: &Number) -> String {
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    // Go's JSON text of the float, then go-yaml's resolve of that text.
    let text = go_json_float(f);
    match resolve_plain(&text) {
        Scalar::Int(i) => i.to_string(),
        Scalar::Uint(u) => u.to_string(),
        Scalar::Float(f) => go_format_g(f),
        _ => text,
    }
}

// ---------------------------------------------------------------------------------------------
// The go-yaml v2 emitter, for the events sigs.k8s.io/yaml's JSONToYAML produces.

/// What `kubectl get -o yaml` prints for `value`: sigs.k8s.io/yaml's JSON to YAML conversion
/// through go-yaml v2's emitter (2-space indent, sequences not indented under their key, keys in
/// go-yaml's natural order, `{}`/`[]` for empty collections, strings quoted only when go-yaml
/// quotes them, multi-line strings as `|` blocks, and long lines folded after column 80 at
/// spaces, as go-yaml v2 does by default). Ends with a newline.
pub fn to_yaml_string(value: &Value) -> String {
    let mut e = Emitter {
        out: String::new(),
        column: 0,
        whitespace: true,
        indention: true,
        indent: -1,
        indents: Vec::new(),
        mapping_context: false,
        simple_key_context: false,
        root_context: false,
    };
    e.emit_node(value, true, false, false);
    // The implicit document end; go-yaml's encoder clears `open_ended` before the stream end,
    // so no `...` follows a root plain scalar.
    e.write_indent();
    e.out
}

const BEST_INDENT: i64 = 2;
const BEST_WIDTH: usize = 80;

struct Emitter {
    out: String,
    column: usize,
    whitespace: bool,
    indention: bool,
    indent: i64,
    indents: Vec<i64>,
    mapping_context: bool,
    simple_key_context: bool,
    root_context: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// go-yaml's `yaml_emitter_analyze_scalar`.
#[derive(Debug)]
struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

fn is_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0A
        || (0x20..=0x7E).contains(&u)
        || (0xA0..=0xD7FF).contains(&u)
        || ((0xE000..=0xFFFD).contains(&u) && u != 0xFEFF)
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blankz(c: Option<char>) -> bool {
    match c {
        None => true,
        Some(c) => c == ' ' || c == '\t' || is_break(c) || c == '\0',
    }
}

fn analyze_scalar(v: &[char]) -> Analysis {
    if v.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let mut block_indicators = false;
    let mut line_breaks = false;
    let mut special_characters = false;
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    if v.len() >= 3 && (v[..3] == ['-', '-', '-'] || v[..3] == ['.', '.', '.']) {
        block_indicators = true;
    }
    let mut preceded_by_whitespace = true;
    for (i, &c) in v.iter().enumerate() {
        let followed_by_whitespace = match v.get(i + 1) {
            None => true,
            Some(&n) => n == ' ' || n == '\t',
        };
        let indicator = if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => true,
                '?' | ':' | '-' => followed_by_whitespace,
                _ => false,
            }
        } else {
            match c {
                ':' => followed_by_whitespace,
                '#' => preceded_by_whitespace,
                _ => false,
            }
        };
        if indicator {
            block_indicators = true;
        }
        if !is_printable(c) {
            special_characters = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i + 1 == v.len() {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            if i == 0 {
                leading_break = true;
            }
            if i + 1 == v.len() {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blankz(Some(c));
    }
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special_characters {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// go-yaml v2's `encoder.stringv` choice, then the emitter's `select_scalar_style`.
fn select_style(s: &str, a: &Analysis, simple_key: bool) -> Style {
    let can_use_plain = !resolves_to_non_string(s) && !is_base60_float(s);
    let mut style = if s.contains('\n') {
        Style::Literal
    } else if can_use_plain {
        Style::Plain
    } else {
        Style::Double
    };
    if simple_key && a.multiline {
        style = Style::Double;
    }
    if style == Style::Plain {
        if !a.block_plain_allowed {
            style = Style::Single;
        }
        if s.is_empty() && simple_key {
            style = Style::Single;
        }
    }
    if style == Style::Single && !a.single_quoted_allowed {
        style = Style::Double;
    }
    if style == Style::Literal && (!a.block_allowed || simple_key) {
        style = Style::Double;
    }
    style
}

impl Emitter {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
        }
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(
        &mut self,
        indicator: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        for c in indicator.chars() {
            self.put(c);
        }
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    fn emit_node(&mut self, v: &Value, root: bool, mapping: bool, simple_key: bool) {
        self.root_context = root;
        self.mapping_context = mapping;
        self.simple_key_context = simple_key;
        match v {
            Value::Null => self.emit_plain_token("null"),
            Value::Bool(b) => self.emit_plain_token(if *b { "true" } else { "false" }),
            Value::Number(n) => {
                let text = yaml_number(n);
                self.emit_plain_token(&text);
            }
            Value::String(s) => self.emit_string(s),
            Value::Array(items) => {
                if items.is_empty() {
                    self.emit_empty_flow("[", "]");
                    return;
                }
                let indentless = self.mapping_context && !self.indention;
                self.increase_indent(false, indentless);
                for item in items {
                    self.write_indent();
                    self.write_indicator("-", true, false, true);
                    self.emit_node(item, false, false, false);
                }
                self.pop_indent();
            }
            Value::Object(map) => {
                if map.is_empty() {
                    self.emit_empty_flow("{", "}");
                    return;
                }
                self.increase_indent(false, false);
                for (k, val) in sorted_entries(map) {
                    self.write_indent();
                    let chars: Vec<char> = k.chars().collect();
                    let a = analyze_scalar(&chars);
                    if !a.multiline && k.len() <= 128 {
                        self.emit_node_string(k, false, true, true);
                        self.write_indicator(":", false, false, false);
                    } else {
                        self.write_indicator("?", true, false, true);
                        self.emit_node_string(k, false, true, false);
                        self.write_indent();
                        self.write_indicator(":", true, false, true);
                    }
                    self.emit_node(val, false, true, false);
                }
                self.pop_indent();
            }
        }
    }

    fn emit_node_string(&mut self, s: &str, root: bool, mapping: bool, simple_key: bool) {
        self.root_context = root;
        self.mapping_context = mapping;
        self.simple_key_context = simple_key;
        self.emit_string(s);
    }

    fn emit_empty_flow(&mut self, open: &str, close: &str) {
        self.write_indicator(open, true, true, false);
        self.increase_indent(true, false);
        self.pop_indent();
        self.write_indicator(close, false, false, false);
    }

    /// A scalar that go-yaml emits plain and that needs no analysis beyond its text.
    fn emit_plain_token(&mut self, text: &str) {
        let chars: Vec<char> = text.chars().collect();
        self.increase_indent(true, false);
        self.write_plain(&chars, !self.simple_key_context);
        self.pop_indent();
    }

    fn emit_string(&mut self, s: &str) {
        let chars: Vec<char> = s.chars().collect();
        let a = analyze_scalar(&chars);
        let style = select_style(s, &a, self.simple_key_context);
        self.increase_indent(true, false);
        let allow_breaks = !self.simple_key_context;
        match style {
            Style::Plain => self.write_plain(&chars, allow_breaks),
            Style::Single => self.write_single(&chars, allow_breaks),
            Style::Double => self.write_double(&chars, allow_breaks),
            Style::Literal => self.write_literal(&chars),
        }
        self.pop_indent();
    }

    fn write_plain(&mut self, v: &[char], allow_breaks: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        let mut spaces = false;
        let mut breaks = false;
        for (i, &c) in v.iter().enumerate() {
            if c == ' ' {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && v.get(i + 1) != Some(&' ')
                {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_single(&mut self, v: &[char], allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let mut spaces = false;
        let mut breaks = false;
        let n = v.len();
        for (i, &c) in v.iter().enumerate() {
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i > 0
                    && i + 1 < n
                    && v.get(i + 1) != Some(&' ')
                {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double(&mut self, v: &[char], allow_breaks: bool) {
        let mut spaces = false;
        self.write_indicator("\"", true, false, false);
        let n = v.len();
        // go-yaml's `is_bom` looks at the start of the value, not at the current character, so
        // a value that starts with a byte order mark has every character escaped.
        let bom = v.first() == Some(&'\u{FEFF}');
        for (i, &c) in v.iter().enumerate() {
            if bom || !is_printable(c) || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                let u = c as u32;
                match c {
                    '\0' => self.put('0'),
                    '\u{07}' => self.put('a'),
                    '\u{08}' => self.put('b'),
                    '\t' => self.put('t'),
                    '\n' => self.put('n'),
                    '\u{0b}' => self.put('v'),
                    '\u{0c}' => self.put('f'),
                    '\r' => self.put('r'),
                    '\u{1b}' => self.put('e'),
                    '"' => self.put('"'),
                    '\\' => self.put('\\'),
                    '\u{85}' => self.put('N'),
                    '\u{a0}' => self.put('_'),
                    '\u{2028}' => self.put('L'),
                    '\u{2029}' => self.put('P'),
                    _ => {
                        let (prefix, width) = if u <= 0xFF {
                            ('x', 2)
                        } else if u <= 0xFFFF {
                            ('u', 4)
                        } else {
                            ('U', 8)
                        };
                        self.put(prefix);
                        for k in (0..width).rev() {
                            let digit = (u >> (4 * k)) & 0xF;
                            let ch = char::from_digit(digit, 16)
                                .unwrap_or('0')
                                .to_ascii_uppercase();
                            self.put(ch);
                        }
                    }
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && i > 0 && i + 1 < n {
                    self.write_indent();
                    if v.get(i + 1) == Some(&' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_literal(&mut self, v: &[char]) {
        self.write_indicator("|", true, false, false);
        // Block scalar hints.
        if v.first().is_some_and(|&c| c == ' ' || is_break(c)) {
            let hint = char::from_digit(BEST_INDENT as u32, 10).unwrap_or('2');
            self.write_indicator(&hint.to_string(), false, false, false);
        }
        let n = v.len();
        let chomp = if n == 0 || !is_break(v[n - 1]) {
            Some('-')
        } else if n == 1 || is_break(v[n - 2]) {
            Some('+')
        } else {
            None
        };
        if let Some(c) = chomp {
            self.write_indicator(&c.to_string(), false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for &c in v {
            if is_break(c) {
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

/// Map entries in go-yaml v2's key order (its `keyList.Less`: letters after other characters,
/// runs of digits compared as numbers).
fn sorted_entries(map: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    let keys: Vec<Vec<char>> = entries.iter().map(|(k, _)| k.chars().collect()).collect();
    let mut order: Vec<usize> = (0..entries.len()).collect();
    merge_sort(&mut order, &|a, b| go_key_less(&keys[a], &keys[b]));
    let mut out = Vec::with_capacity(entries.len());
    let mut taken: Vec<Option<(&String, &Value)>> = entries.drain(..).map(Some).collect();
    for i in order {
        if let Some(e) = taken.get_mut(i).and_then(Option::take) {
            out.push(e);
        }
    }
    out
}

/// A stable merge sort that never panics, whatever the comparison does.
fn merge_sort(v: &mut Vec<usize>, less: &dyn Fn(usize, usize) -> bool) {
    if v.len() <= 1 {
        return;
    }
    let mut right = v.split_off(v.len() / 2);
    merge_sort(v, less);
    merge_sort(&mut right, less);
    let left = std::mem::take(v);
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        if less(right[j], left[i]) {
            v.push(right[j]);
            j += 1;
        } else {
            v.push(left[i]);
            i += 1;
        }
    }
    v.extend_from_slice(&left[i..]);
    v.extend_from_slice(&right[j..]);
}

fn go_key_less(a: &[char], b: &[char]) -> bool {
    let is_letter = |c: char| c.is_alphabetic();
    let is_digit = |c: char| c.is_ascii_digit();
    let n = a.len().min(b.len());
    for i in 0..n {
        if a[i] == b[i] {
            continue;
        }
        let al = is_letter(a[i]);
        let bl = is_letter(b[i]);
        if al && bl {
            return a[i] < b[i];
        }
        if al || bl {
            return bl;
        }
        let (mut an, mut bn): (i64, i64) = (0, 0);
        if a[i] == '0' || b[i] == '0' {
            let mut j = i;
            while j > 0 && is_digit(a[j - 1]) {
                j -= 1;
                if a[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < a.len() && is_digit(a[ai]) {
            an = an
                .wrapping_mul(10)
                .wrapping_add(i64::from(a[ai] as u8 - b'0'));
            ai += 1;
        }
        let mut bi = i;
        while bi < b.len() && is_digit(b[bi]) {
            bn = bn
                .wrapping_mul(10)
                .wrapping_add(i64::from(b[bi] as u8 - b'0'));
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return a[i] < b[i];
    }
    a.len() < b.len()
}

// ---------------------------------------------------------------------------------------------
// Go's encoding/json.

/// What `kubectl get -o json` prints for `value`: Go's `json.MarshalIndent(v, "", "    ")` plus a
/// newline. Keys are sorted bytewise (Go sorts map keys), `<`, `>`, `&`, U+2028 and U+2029 are
/// escaped as `\u003c`, `\u003e`, `\u0026`, `\u2028`, `\u2029`, and floats are formatted as Go
/// formats them.
pub fn to_json_pretty(value: &Value) -> String {
    let mut out = String::new();
    write_json(&mut out, value, 0);
    out.push('\n');
    out
}

fn write_json(out: &mut String, v: &Value, depth: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                out.push_str(&u.to_string());
            } else if let Some(i) = n.as_i64() {
                out.push_str(&i.to_string());
            } else {
                out.push_str(&go_json_float(n.as_f64().unwrap_or(0.0)));
            }
        }
        Value::String(s) => write_json_string(out, s),
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline_indent(out, depth + 1);
                write_json(out, item, depth + 1);
            }
            newline_indent(out, depth);
            out.push(']');
        }
        Value::Object(map) => {
            if map.is_empty() {
                out.push_str("{}");
                return;
            }
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline_indent(out, depth + 1);
                write_json_string(out, k);
                out.push_str(": ");
                if let Some(val) = map.get(k) {
                    write_json(out, val, depth + 1);
                }
            }
            newline_indent(out, depth);
            out.push('}');
        }
    }
}

fn newline_indent(out: &mut String, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str("    ");
    }
}

fn write_json_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{00}'..='\u{1f}' => {
                let b = c as u8;
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xF)]));
            }
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn less(a: &str, b: &str) -> bool {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        go_key_less(&a, &b)
    }

    #[test]
    fn key_order_is_go_yamls() {
        assert!(less("a9", "a10"));
        assert!(less("_x", "B"), "non-letters sort before letters");
        assert!(less("B", "a"));
        assert!(less("a", "a-b"));
        assert!(less("a1", "a01"));
        assert!(less("a01", "a001"));
        assert!(less("9", "10"));
        assert!(!less("a", "a"));
    }

    #[test]
    fn go_float_formats() {
        assert_eq!(go_format_g(1.5), "1.5");
        assert_eq!(go_format_g(1234567.5), "1.2345675e+06");
        assert_eq!(go_format_g(123456.5), "123456.5");
        assert_eq!(go_format_g(1e-7), "1e-07");
        assert_eq!(go_format_g(0.0001), "0.0001");
        assert_eq!(go_format_g(0.00001), "1e-05");
        assert_eq!(go_format_g(1e21), "1e+21");
        assert_eq!(go_format_g(-0.25), "-0.25");
        assert_eq!(go_format_g(f64::INFINITY), ".inf");
        assert_eq!(go_format_g32(0.1), "0.1");
        assert_eq!(go_format_g32(0.123_456_789_012_3), "0.12345679");
        assert_eq!(go_json_float(1e-7), "1e-7");
        assert_eq!(go_json_float(1e21), "1e+21");
        assert_eq!(go_json_float(1e20), "100000000000000000000");
        assert_eq!(go_json_float(1.8446744073709552e19), "18446744073709552000");
        assert_eq!(go_json_float(0.000001), "0.000001");
        assert_eq!(
            yaml_number(&Number::from_f64(1e6).expect("finite")),
            "1000000"
        );
        assert_eq!(
            yaml_number(&Number::from_f64(1e20).expect("finite")),
            "1e+20"
        );
    }

    #[test]
    fn timestamps_and_base60() {
        for s in [
            "2020-01-01",
            "2020-1-2",
            "2016-09-08T23:32:03Z",
            "2001-12-14t21:59:43.10-05:00",
            "2001-12-14 21:59:43.10",
            "2020-02-29",
        ] {
            assert!(is_go_timestamp(s), "{s}");
        }
        for s in [
            "2020-13-01",
            "2019-02-29",
            "20-01-01",
            "2020-01-01T25:00:00Z",
            "2020-01-01 00:00:00Z",
            "2020-01-01x",
        ] {
            assert!(!is_go_timestamp(s), "{s}");
        }
        for s in ["1:20", "190:20:30", "-1:30.5", "1_0:05"] {
            assert!(is_base60_float(s), "{s}");
        }
        for s in ["1:60", "1:", ":1", "a:1", "1:2:", "12"] {
            assert!(!is_base60_float(s), "{s}");
        }
    }

    #[test]
    fn go_integers() {
        assert_eq!(go_parse_int("0777"), Some(511));
        assert_eq!(go_parse_int("-0x10"), Some(-16));
        assert_eq!(go_parse_int("0b101"), Some(5));
        assert_eq!(go_parse_int("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(go_parse_int("9223372036854775808"), None);
        assert_eq!(go_parse_uint("9223372036854775808"), Some(1 << 63));
        assert_eq!(go_parse_int("08"), None);
        assert_eq!(go_parse_int("0x"), None);
        assert_eq!(go_parse_float("1_0.5"), Some(10.5));
        assert_eq!(go_parse_float("1e400"), None);
    }

    #[test]
    fn base64() {
        assert_eq!(decode_base64("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(decode_base64("aGk=\n").as_deref(), Some(&b"hi"[..]));
        assert_eq!(decode_base64("aGk").as_deref(), None);
        assert_eq!(decode_base64("@@@@").as_deref(), None);
    }

    #[test]
    fn chunks_and_patches() {
        assert_eq!(insert_space("a\nbc\n", 2, 1), "a\nb c\n");
        assert_eq!(insert_space("ab", 1, 9), "ab ");
        let chunks = split_chunks("a: 1\r\n---\n---\nb: 2", 1);
        let chunks: Vec<(String, usize)> = chunks
            .into_iter()
            .map(|c| c.map(|c| (c.text, c.first_line)).expect("chunk"))
            .collect();
        assert_eq!(
            chunks,
            [("a: 1\n".to_string(), 1), ("---\nb: 2\n".to_string(), 3)]
        );
    }
}
