//! Go's `fmt` spellings that upstream error messages embed: `%q` (strconv.Quote) and `%#v`
//! of a `[]string`.

/// `unicode.IsPrint` for the characters that matter in practice. Exact for ASCII, Latin-1,
/// the Unicode control, format, separator, private-use and noncharacter code points;
/// unassigned code points count as printable (Go escapes them), a documented approximation.
fn is_go_print(c: char) -> bool {
    let u = c as u32;
    if u < 0x80 {
        return (0x20..0x7f).contains(&u);
    }
    if c.is_control() {
        return false;
    }
    !matches!(u,
        0xa0 | 0xad | 0x1680 | 0x2000..=0x200f | 0x2028..=0x202f | 0x205f..=0x2064
        | 0x2066..=0x206f | 0x3000 | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x890..=0x891
        | 0x8e2 | 0x180e | 0xfeff | 0xfff9..=0xfffb | 0x110bd | 0x110cd | 0x13430..=0x1343f
        | 0x1bca0..=0x1bca3 | 0x1d173..=0x1d17a | 0xe0001 | 0xe0020..=0xe007f
        | 0xe000..=0xf8ff | 0xf0000..=0x10ffff | 0xfdd0..=0xfdef)
        && (u & 0xfffe) != 0xfffe
}

/// `strconv.Quote(s)`, i.e. what `%q` prints for a string.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if is_go_print(c) => out.push(c),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// `fmt.Sprintf("%#v", values)` for a `[]string`; `None` is a nil slice.
pub(crate) fn go_string_slice(values: Option<&[String]>) -> String {
    match values {
        None => "[]string(nil)".to_string(),
        Some(v) => {
            let items: Vec<String> = v.iter().map(|s| quote(s)).collect();
            format!("[]string{{{}}}", items.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn quotes_like_strconv() {
        let cases = [
            ("abc", r#""abc""#),
            ("a\"b\\c", r#""a\"b\\c""#),
            ("tab\there\n", r#""tab\there\n""#),
            ("\x00\x7f\u{80}", r#""\x00\x7f\u0080""#),
            ("héllo ☺", "\"héllo ☺\""),
            ("\u{a0}\u{feff}", r#""\u00a0\ufeff""#),
            ("\u{f0000}", r#""\U000f0000""#),
            ("\x07\x08\x0b\x0c\r", r#""\a\b\v\f\r""#),
        ];
        for (input, want) in cases {
            assert_eq!(quote(input), want, "{input:?}");
        }
    }

    #[test]
    fn string_slices_like_sharp_v() {
        assert_eq!(go_string_slice(None), "[]string(nil)");
        assert_eq!(go_string_slice(Some(&[])), "[]string{}");
        let v = vec!["a".to_string(), "b c".to_string()];
        assert_eq!(go_string_slice(Some(&v)), r#"[]string{"a", "b c"}"#);
    }
}
