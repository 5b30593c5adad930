//! Command lines: shell-like words, and cobra-style flags with kubectl's errors.

use std::collections::BTreeMap;

/// Splits a command line into words as a POSIX shell would (quotes, backslashes).
pub fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(x) => cur.push(x),
                        None => return Err("unexpected EOF while looking for matching `''".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(x @ ('"' | '\\' | '$' | '`')) => cur.push(x),
                            Some('\n') => {}
                            Some(x) => {
                                cur.push('\\');
                                cur.push(x);
                            }
                            None => {
                                return Err("unexpected EOF while looking for matching `\"'".into())
                            }
                        },
                        Some(x) => cur.push(x),
                        None => return Err("unexpected EOF while looking for matching `\"'".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(x) = chars.next() {
                    if x != '\n' {
                        cur.push(x);
                    }
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// How a flag takes its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Bool,
    Value,
    /// May be given several times (`-f a -f b`, `--from-literal`).
    Repeated,
}

/// One flag a command accepts.
#[derive(Clone, Copy, Debug)]
pub struct FlagDef {
    pub long: &'static str,
    pub short: Option<char>,
    pub kind: Kind,
}

pub const fn flag(long: &'static str, short: Option<char>, kind: Kind) -> FlagDef {
    FlagDef { long, short, kind }
}

/// Flags every command takes.
pub const GLOBAL: &[FlagDef] = &[
    flag("namespace", Some('n'), Kind::Value),
    flag("context", None, Kind::Value),
    flag("cluster", None, Kind::Value),
    flag("kubeconfig", None, Kind::Value),
    flag("server", Some('s'), Kind::Value),
    flag("token", None, Kind::Value),
    flag("username", None, Kind::Value),
    flag("password", None, Kind::Value),
    flag("as", None, Kind::Value),
    flag("as-group", None, Kind::Repeated),
    flag("request-timeout", None, Kind::Value),
    flag("v", Some('v'), Kind::Value),
    flag("insecure-skip-tls-verify", None, Kind::Bool),
];

/// Parsed flags and positional arguments.
#[derive(Clone, Debug, Default)]
pub struct Parsed {
    pub args: Vec<String>,
    pub(crate) values: BTreeMap<String, Vec<String>>,
    /// Words after `--`.
    pub rest: Vec<String>,
}

impl Parsed {
    pub fn get(&self, long: &str) -> Option<&str> {
        self.values
            .get(long)
            .and_then(|v| v.last())
            .map(String::as_str)
    }

    pub fn all(&self, long: &str) -> Vec<String> {
        self.values.get(long).cloned().unwrap_or_default()
    }

    pub fn has(&self, long: &str) -> bool {
        self.values.contains_key(long)
    }

    /// A boolean flag: `--all`, `--all=true`, `--all=false`.
    pub fn bool(&self, long: &str) -> bool {
        self.get(long).is_some_and(|v| v != "false")
    }
}

/// Parses `words` against the command's flags plus the global ones. Errors are
/// kubectl's, followed by the usage hint.
pub fn parse(words: &[String], defs: &[FlagDef], command: &str) -> Result<Parsed, String> {
    let find_long = |name: &str| defs.iter().chain(GLOBAL).find(|d| d.long == name).copied();
    let find_short = |c: char| {
        defs.iter()
            .chain(GLOBAL)
            .find(|d| d.short == Some(c))
            .copied()
    };
    let hint = format!("See 'kubectl {command} --help' for usage.");
    let mut p = Parsed::default();
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        i += 1;
        if w == "--" {
            p.rest = words[i..].to_vec();
            break;
        }
        if let Some(body) = w.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            let def =
                find_long(name).ok_or_else(|| format!("error: unknown flag: --{name}\n{hint}"))?;
            let value = match (def.kind, inline) {
                (Kind::Bool, Some(v)) => {
                    if v != "true" && v != "false" {
                        return Err(format!(
                            "error: invalid argument \"{v}\" for \"--{name}\" flag: strconv.ParseBool: parsing \"{v}\": invalid syntax\n{hint}"
                        ));
                    }
                    v
                }
                (Kind::Bool, None) => "true".into(),
                (_, Some(v)) => v,
                (_, None) => {
                    let v = words.get(i).cloned().ok_or_else(|| {
                        format!("error: flag needs an argument: --{name}\n{hint}")
                    })?;
                    i += 1;
                    v
                }
            };
            p.values
                .entry(def.long.to_string())
                .or_default()
                .push(value);
        } else if w.len() > 1
            && w.starts_with('-')
            && !w[1..].starts_with(|c: char| c.is_ascii_digit())
        {
            for (pos, c) in w[1..].char_indices() {
                let def = find_short(c).ok_or_else(|| {
                    format!("error: unknown shorthand flag: '{c}' in {w}\n{hint}")
                })?;
                if def.kind == Kind::Bool {
                    p.values
                        .entry(def.long.to_string())
                        .or_default()
                        .push("true".into());
                    continue;
                }
                let tail = &w[1 + pos + c.len_utf8()..];
                let value = if let Some(v) = tail.strip_prefix('=') {
                    v.to_string()
                } else if !tail.is_empty() {
                    tail.to_string()
                } else {
                    let v = words.get(i).cloned().ok_or_else(|| {
                        format!("error: flag needs an argument: '{c}' in -{c}\n{hint}")
                    })?;
                    i += 1;
                    v
                };
                p.values
                    .entry(def.long.to_string())
                    .or_default()
                    .push(value);
                break;
            }
        } else {
            p.args.push(w.clone());
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn words_split_like_a_shell() {
        assert_eq!(
            split_words("get pods -l 'app in (a, b)'").unwrap(),
            ["get", "pods", "-l", "app in (a, b)"]
        );
        assert_eq!(
            split_words(r#"label po web "x=a b" y=\"q\""#).unwrap(),
            ["label", "po", "web", "x=a b", "y=\"q\""]
        );
        assert_eq!(split_words("  a\t b ").unwrap(), ["a", "b"]);
        assert!(split_words("get 'oops").is_err());
        assert_eq!(split_words("a ''").unwrap(), ["a", ""]);
    }

    #[test]
    fn flags_parse_as_cobra() {
        let defs = [
            flag("output", Some('o'), Kind::Value),
            flag("watch", Some('w'), Kind::Bool),
            flag("all-namespaces", Some('A'), Kind::Bool),
        ];
        let w = |s: &str| split_words(s).unwrap();
        let p = parse(
            &w("pods -owide -n kube-system -wA --output=yaml x"),
            &defs,
            "get",
        )
        .unwrap();
        assert_eq!(p.args, ["pods", "x"]);
        assert_eq!(p.get("output"), Some("yaml"));
        assert_eq!(p.get("namespace"), Some("kube-system"));
        assert!(p.bool("watch") && p.bool("all-namespaces"));
        assert_eq!(
            parse(&w("pods --frob"), &defs, "get").unwrap_err(),
            "error: unknown flag: --frob\nSee 'kubectl get --help' for usage."
        );
        assert_eq!(
            parse(&w("pods -x"), &defs, "get").unwrap_err(),
            "error: unknown shorthand flag: 'x' in -x\nSee 'kubectl get --help' for usage."
        );
        assert!(parse(&w("pods -n"), &defs, "get")
            .unwrap_err()
            .starts_with("error: flag needs an argument: 'n' in -n"));
    }
}
