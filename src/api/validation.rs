//! `k8s.io/apimachinery/pkg/util/validation` (v1.31): the name, label, port and address
//! checks, each returning the list of upstream's messages (empty when valid), byte for
//! byte. Also a minimal [`FieldError`] (`field.Error`) so callers can build upstream's
//! `path: Invalid value: "x": detail` texts.
//!
//! The IP and CIDR checks return the detail text of upstream's `field.Invalid` error.
//! `IsFullyQualifiedName`, `IsFullyQualifiedDomainName` and `IsDomainPrefixedPath` (which
//! build field errors themselves) are not ported. Quoted values follow Go's `%q`, except that
//! unassigned Unicode code points are printed as-is (Go escapes them).
//!
//! ```
//! use kubeglass::api::validation::*;
//!
//! assert!(is_dns1123_subdomain("example.com").is_empty());
//! assert_eq!(is_dns1123_label("a.b"), vec!["must not contain dots"]);
//! assert_eq!(is_valid_port_num(0), vec!["must be between 1 and 65535, inclusive"]);
//! ```

const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_ERR_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
/// Longest name part of a qualified name (label key).
pub const QUALIFIED_NAME_MAX_LENGTH: usize = 63;

const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_ERR_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
/// Longest label value.
pub const LABEL_VALUE_MAX_LENGTH: usize = 63;

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
/// Longest RFC 1123 label.
pub const DNS1123_LABEL_MAX_LENGTH: usize = 63;

const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_ERR_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
/// Longest RFC 1123 subdomain.
pub const DNS1123_SUBDOMAIN_MAX_LENGTH: usize = 253;

const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_ERR_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
/// Longest RFC 1035 label.
pub const DNS1035_LABEL_MAX_LENGTH: usize = 63;

const WILDCARD_DNS1123_SUBDOMAIN_FMT: &str =
    "\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const WILDCARD_DNS1123_SUBDOMAIN_ERR_MSG: &str = "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character";

const C_IDENTIFIER_FMT: &str = "[A-Za-z_][A-Za-z0-9_]*";
const IDENTIFIER_ERR_MSG: &str = "a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric characters or '_'";

const PERCENT_FMT: &str = "[0-9]+%";
const PERCENT_ERR_MSG: &str =
    "a valid percent string must be a numeric string followed by an ending '%'";

const HTTP_HEADER_NAME_FMT: &str = "[-A-Za-z0-9]+";
const HTTP_HEADER_NAME_ERR_MSG: &str =
    "a valid HTTP header must consist of alphanumeric characters or '-'";

const ENV_VAR_NAME_FMT: &str = "[-._a-zA-Z][-._a-zA-Z0-9]*";
const ENV_VAR_NAME_FMT_ERR_MSG: &str = "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit";
const RELAXED_ENV_VAR_NAME_FMT_ERR_MSG: &str =
    "a valid environment variable name must consist only of printable ASCII characters other than '='";

const CONFIG_MAP_KEY_FMT: &str = "[-._a-zA-Z0-9]+";
const CONFIG_MAP_KEY_ERR_MSG: &str =
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";

// ---------------------------------------------------------------------------------------
// Message builders
// ---------------------------------------------------------------------------------------

/// `MaxLenError`: `must be no more than N characters`.
pub fn max_len_error(length: usize) -> String {
    format!("must be no more than {length} characters")
}

/// `RegexError`: the message, examples and the regex upstream validated with.
pub fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{msg} (regex used for validation is '{fmt}')");
    }
    let mut s = format!("{msg} (e.g. ");
    for (i, e) in examples.iter().enumerate() {
        if i > 0 {
            s.push_str(" or ");
        }
        s.push('\'');
        s.push_str(e);
        s.push_str("', ");
    }
    s.push_str("regex used for validation is '");
    s.push_str(fmt);
    s.push_str("')");
    s
}

/// `EmptyError`: `must be non-empty`.
pub fn empty_error() -> String {
    "must be non-empty".to_string()
}

/// `InclusiveRangeError`: `must be between LO and HI, inclusive`.
pub fn inclusive_range_error(lo: i64, hi: i64) -> String {
    format!("must be between {lo} and {hi}, inclusive")
}

// ---------------------------------------------------------------------------------------
// Character-class matchers (the regexes above, anchored at both ends)
// ---------------------------------------------------------------------------------------

fn is_alnum(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}

fn is_lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
fn matches_qualified_name(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(&f), Some(&l)) => {
            is_alnum(f)
                && is_alnum(l)
                && b.iter()
                    .all(|&c| is_alnum(c) || c == b'-' || c == b'_' || c == b'.')
        }
        _ => false,
    }
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
fn matches_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(&f), Some(&l)) => {
            is_lower_alnum(f)
                && is_lower_alnum(l)
                && b.iter().all(|&c| is_lower_alnum(c) || c == b'-')
        }
        _ => false,
    }
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*`
fn matches_dns1123_subdomain(s: &str) -> bool {
    s.split('.').all(matches_dns1123_label)
}

/// `[a-z]([-a-z0-9]*[a-z0-9])?`
fn matches_dns1035_label(s: &str) -> bool {
    matches_dns1123_label(s) && s.as_bytes()[0].is_ascii_lowercase()
}

fn all_bytes(s: &str, f: impl Fn(u8) -> bool) -> bool {
    !s.is_empty() && s.bytes().all(f)
}

// ---------------------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------------------

/// `IsQualifiedName`: label and annotation keys, `[prefix/]name`.
pub fn is_qualified_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push(format!("prefix part {}", empty_error()));
            } else {
                for m in is_dns1123_subdomain(prefix) {
                    errs.push(format!("prefix part {m}"));
                }
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(QUALIFIED_NAME_ERR_MSG, QUALIFIED_NAME_FMT, &["MyName", "my.name", "123-abc"])
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push(format!("name part {}", empty_error()));
    } else if name.len() > QUALIFIED_NAME_MAX_LENGTH {
        errs.push(format!(
            "name part {}",
            max_len_error(QUALIFIED_NAME_MAX_LENGTH)
        ));
    }
    if !matches_qualified_name(name) {
        errs.push(format!(
            "name part {}",
            regex_error(
                QUALIFIED_NAME_ERR_MSG,
                QUALIFIED_NAME_FMT,
                &["MyName", "my.name", "123-abc"]
            )
        ));
    }
    errs
}

/// `IsValidLabelValue`.
pub fn is_valid_label_value(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > LABEL_VALUE_MAX_LENGTH {
        errs.push(max_len_error(LABEL_VALUE_MAX_LENGTH));
    }
    if !value.is_empty() && !matches_qualified_name(value) {
        errs.push(regex_error(
            LABEL_VALUE_ERR_MSG,
            LABEL_VALUE_FMT,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

/// `IsDNS1123Label`.
pub fn is_dns1123_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_LABEL_MAX_LENGTH));
    }
    if !matches_dns1123_label(value) {
        if matches_dns1123_subdomain(value) {
            errs.push("must not contain dots".to_string());
        } else {
            errs.push(regex_error(
                DNS1123_LABEL_ERR_MSG,
                DNS1123_LABEL_FMT,
                &["my-name", "123-abc"],
            ));
        }
    }
    errs
}

/// `IsDNS1123Subdomain`.
pub fn is_dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    if !matches_dns1123_subdomain(value) {
        errs.push(regex_error(
            DNS1123_SUBDOMAIN_ERR_MSG,
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

/// `IsDNS1035Label`.
pub fn is_dns1035_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1035_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS1035_LABEL_MAX_LENGTH));
    }
    if !matches_dns1035_label(value) {
        errs.push(regex_error(
            DNS1035_LABEL_ERR_MSG,
            DNS1035_LABEL_FMT,
            &["my-name", "abc-123"],
        ));
    }
    errs
}

/// `IsWildcardDNS1123Subdomain`: `*.` followed by a subdomain.
pub fn is_wildcard_dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    let ok = value
        .strip_prefix("*.")
        .is_some_and(matches_dns1123_subdomain);
    if !ok {
        errs.push(regex_error(
            WILDCARD_DNS1123_SUBDOMAIN_ERR_MSG,
            WILDCARD_DNS1123_SUBDOMAIN_FMT,
            &["*.example.com"],
        ));
    }
    errs
}

/// `IsCIdentifier`.
pub fn is_c_identifier(value: &str) -> Vec<String> {
    let b = value.as_bytes();
    let ok = match b.first() {
        Some(&f) => {
            (f.is_ascii_alphabetic() || f == b'_')
                && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
        }
        None => false,
    };
    if ok {
        Vec::new()
    } else {
        vec![regex_error(
            IDENTIFIER_ERR_MSG,
            C_IDENTIFIER_FMT,
            &["my_name", "MY_NAME", "MyName"],
        )]
    }
}

/// `IsValidPortNum`: 1..=65535.
pub fn is_valid_port_num(port: i64) -> Vec<String> {
    if (1..=65535).contains(&port) {
        Vec::new()
    } else {
        vec![inclusive_range_error(1, 65535)]
    }
}

/// `IsInRange`.
pub fn is_in_range(value: i64, min: i64, max: i64) -> Vec<String> {
    if value >= min && value <= max {
        Vec::new()
    } else {
        vec![inclusive_range_error(min, max)]
    }
}

/// `IsValidGroupID`: 0..=2^31-1.
pub fn is_valid_group_id(gid: i64) -> Vec<String> {
    is_in_range(gid, 0, i32::MAX as i64)
}

/// `IsValidUserID`: 0..=2^31-1.
pub fn is_valid_user_id(uid: i64) -> Vec<String> {
    is_in_range(uid, 0, i32::MAX as i64)
}

/// `IsValidPortName`: an IANA_SVC_NAME.
pub fn is_valid_port_name(port: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if port.len() > 15 {
        errs.push(max_len_error(15));
    }
    if !all_bytes(port, |c| {
        c == b'-' || c.is_ascii_lowercase() || c.is_ascii_digit()
    }) {
        errs.push(
            "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_string(),
        );
    }
    if !port.bytes().any(|c| c.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)".to_string());
    }
    if port.contains("--") {
        errs.push("must not contain consecutive hyphens".to_string());
    }
    if port.starts_with('-') || port.ends_with('-') {
        errs.push("must not begin or end with a hyphen".to_string());
    }
    errs
}

/// `IsValidPercent`.
pub fn is_valid_percent(percent: &str) -> Vec<String> {
    let ok = percent
        .strip_suffix('%')
        .is_some_and(|d| all_bytes(d, |c| c.is_ascii_digit()));
    if ok {
        Vec::new()
    } else {
        vec![regex_error(PERCENT_ERR_MSG, PERCENT_FMT, &["1%", "93%"])]
    }
}

/// `IsHTTPHeaderName`.
pub fn is_http_header_name(value: &str) -> Vec<String> {
    if all_bytes(value, |c| c == b'-' || c.is_ascii_alphanumeric()) {
        Vec::new()
    } else {
        vec![regex_error(
            HTTP_HEADER_NAME_ERR_MSG,
            HTTP_HEADER_NAME_FMT,
            &["X-Header-Name"],
        )]
    }
}

fn has_chdir_prefix(value: &str) -> Vec<String> {
    if value == "." {
        vec!["must not be '.'".to_string()]
    } else if value == ".." {
        vec!["must not be '..'".to_string()]
    } else if value.starts_with("..") {
        vec!["must not start with '..'".to_string()]
    } else {
        Vec::new()
    }
}

/// `IsEnvVarName`.
pub fn is_env_var_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let b = value.as_bytes();
    let ok = match b.first() {
        Some(&f) => {
            (f == b'-' || f == b'.' || f == b'_' || f.is_ascii_alphabetic())
                && b.iter()
                    .all(|&c| c == b'-' || c == b'.' || c == b'_' || c.is_ascii_alphanumeric())
        }
        None => false,
    };
    if !ok {
        errs.push(regex_error(
            ENV_VAR_NAME_FMT_ERR_MSG,
            ENV_VAR_NAME_FMT,
            &["my.env-name", "MY_ENV.NAME", "MyEnvName1"],
        ));
    }
    errs.extend(has_chdir_prefix(value));
    errs
}

/// `IsRelaxedEnvVarName`.
pub fn is_relaxed_env_var_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.is_empty() {
        errs.push(format!("environment variable name {}", empty_error()));
    }
    if value
        .chars()
        .any(|c| !(c.is_ascii() && (' '..='~').contains(&c)) || c == '=')
    {
        errs.push(RELAXED_ENV_VAR_NAME_FMT_ERR_MSG.to_string());
    }
    errs
}

/// `IsConfigMapKey`.
pub fn is_config_map_key(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    if !all_bytes(value, |c| {
        c == b'-' || c == b'.' || c == b'_' || c.is_ascii_alphanumeric()
    }) {
        errs.push(regex_error(
            CONFIG_MAP_KEY_ERR_MSG,
            CONFIG_MAP_KEY_FMT,
            &["key.name", "KEY_NAME", "key-name"],
        ));
    }
    errs.extend(has_chdir_prefix(value));
    errs
}

// ---------------------------------------------------------------------------------------
// IP addresses: Go's net.ParseIP / ParseCIDR (netip grammar) behind k8s.io/utils' "sloppy"
// leading-zero tolerance.
// ---------------------------------------------------------------------------------------

/// Parses dotted-quad IPv4 as netip does: four decimal fields, no leading zeros, <= 255.
fn parse_ipv4_fields(s: &str) -> Option<[u8; 4]> {
    let b = s.as_bytes();
    let mut fields = [0u8; 4];
    let (mut val, mut pos, mut dig_len) = (0u32, 0usize, 0usize);
    for (i, &c) in b.iter().enumerate() {
        if c.is_ascii_digit() {
            if dig_len == 1 && val == 0 {
                return None;
            }
            val = val * 10 + (c - b'0') as u32;
            dig_len += 1;
            if val > 255 {
                return None;
            }
        } else if c == b'.' {
            if i == 0 || i == b.len() - 1 || b[i - 1] == b'.' || pos == 3 {
                return None;
            }
            fields[pos] = val as u8;
            pos += 1;
            val = 0;
            dig_len = 0;
        } else {
            return None;
        }
    }
    if pos < 3 {
        return None;
    }
    fields[3] = val as u8;
    Some(fields)
}

/// netip's IPv6 grammar (zones are split off and must be non-empty).
fn parse_ipv6(input: &str) -> Option<([u8; 16], bool)> {
    let (mut s, zone) = match input.find('%') {
        Some(i) => {
            let z = &input[i + 1..];
            if z.is_empty() {
                return None;
            }
            (&input[..i], true)
        }
        None => (input, false),
    };
    let mut ip = [0u8; 16];
    let mut ellipsis: Option<usize> = None;
    if s.starts_with("::") {
        ellipsis = Some(0);
        s = &s[2..];
        if s.is_empty() {
            return Some((ip, zone));
        }
    }
    let mut i = 0usize;
    while i < 16 {
        let b = s.as_bytes();
        let mut off = 0usize;
        let mut acc: u32 = 0;
        while off < b.len() {
            let d = match b[off] {
                c @ b'0'..=b'9' => c - b'0',
                c @ b'a'..=b'f' => c - b'a' + 10,
                c @ b'A'..=b'F' => c - b'A' + 10,
                _ => break,
            };
            acc = (acc << 4) + d as u32;
            if off > 3 || acc > 0xffff {
                return None;
            }
            off += 1;
        }
        if off == 0 {
            return None;
        }
        if off < b.len() && b[off] == b'.' {
            if ellipsis.is_none() && i != 12 {
                return None;
            }
            if i + 4 > 16 {
                return None;
            }
            let v4 = parse_ipv4_fields(s)?;
            ip[i..i + 4].copy_from_slice(&v4);
            s = "";
            i += 4;
            break;
        }
        ip[i] = (acc >> 8) as u8;
        ip[i + 1] = acc as u8;
        i += 2;
        s = &s[off..];
        if s.is_empty() {
            break;
        }
        if !s.starts_with(':') || s.len() == 1 {
            return None;
        }
        s = &s[1..];
        if s.starts_with(':') {
            if ellipsis.is_some() {
                return None;
            }
            ellipsis = Some(i);
            s = &s[1..];
            if s.is_empty() {
                break;
            }
        }
    }
    if !s.is_empty() {
        return None;
    }
    if i < 16 {
        let e = ellipsis?;
        let n = 16 - i;
        for j in (e..i).rev() {
            ip[j + n] = ip[j];
        }
        for b in ip.iter_mut().skip(e).take(n) {
            *b = 0;
        }
    } else if ellipsis.is_some() {
        return None;
    }
    Some((ip, zone))
}

/// An address as netip.ParseAddr gives it: 16 bytes and whether it was written as IPv4.
fn parse_addr(s: &str) -> Option<([u8; 16], bool, bool)> {
    for c in s.bytes() {
        match c {
            b'.' => {
                let f = parse_ipv4_fields(s)?;
                let mut ip = [0u8; 16];
                ip[10] = 0xff;
                ip[11] = 0xff;
                ip[12..].copy_from_slice(&f);
                return Some((ip, true, false));
            }
            b':' => {
                let (ip, zone) = parse_ipv6(s)?;
                return Some((ip, false, zone));
            }
            b'%' => return None,
            _ => {}
        }
    }
    None
}

/// `net.ParseIP`: no zones.
fn go_parse_ip(s: &str) -> Option<[u8; 16]> {
    match parse_addr(s) {
        Some((ip, _, false)) => Some(ip),
        _ => None,
    }
}

/// k8s.io/utils/net's leading-zero stripping: the trailing dotted quad (at the start or
/// after the last `:`), with an optional `/prefix`, loses its leading zeros.
fn strip_ipv4_zeros(s: &str) -> Option<String> {
    let (head, tail) = match s.rfind(':') {
        Some(i) => (&s[..=i], &s[i + 1..]),
        None => ("", s),
    };
    let (quad, prefix) = match tail.find('/') {
        Some(i) => (&tail[..i], Some(&tail[i + 1..])),
        None => (tail, None),
    };
    let strip = |d: &str| -> Option<String> {
        if !all_bytes(d, |c| c.is_ascii_digit()) {
            return None;
        }
        let t = d.trim_start_matches('0');
        Some(if t.is_empty() {
            "0".to_string()
        } else {
            t.to_string()
        })
    };
    let parts: Vec<&str> = quad.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut out = head.to_string();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        out.push_str(&strip(p)?);
    }
    if let Some(p) = prefix {
        out.push('/');
        out.push_str(&strip(p)?);
    }
    Some(out)
}

/// `netutils.ParseIPSloppy`.
fn parse_ip_sloppy(s: &str) -> Option<[u8; 16]> {
    go_parse_ip(s).or_else(|| go_parse_ip(&strip_ipv4_zeros(s)?))
}

fn is_v4_mapped(ip: &[u8; 16]) -> bool {
    ip[..10].iter().all(|&b| b == 0) && ip[10] == 0xff && ip[11] == 0xff
}

/// `net.ParseCIDR`: an address without zone, `/`, and a decimal prefix length in range.
fn go_parse_cidr_ok(s: &str) -> bool {
    let Some((addr, mask)) = s.split_once('/') else {
        return false;
    };
    let Some((_, is4, zone)) = parse_addr(addr) else {
        return false;
    };
    if zone {
        return false;
    }
    // dtoi: decimal digits (leading zeros allowed), the whole mask, capped at 0xFFFFFF.
    if !all_bytes(mask, |c| c.is_ascii_digit()) {
        return false;
    }
    let mut n: u64 = 0;
    for c in mask.bytes() {
        n = n * 10 + (c - b'0') as u64;
        if n >= 0xFF_FFFF {
            return false;
        }
    }
    n <= if is4 { 32 } else { 128 }
}

/// `IsValidIP` (the detail message of its field error).
pub fn is_valid_ip(value: &str) -> Vec<String> {
    if parse_ip_sloppy(value).is_some() {
        Vec::new()
    } else {
        vec!["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)".to_string()]
    }
}

/// `IsValidIPv4Address`; an IPv4-mapped IPv6 address counts as IPv4, as upstream.
pub fn is_valid_ipv4_address(value: &str) -> Vec<String> {
    match parse_ip_sloppy(value) {
        Some(ip) if is_v4_mapped(&ip) => Vec::new(),
        _ => vec!["must be a valid IPv4 address".to_string()],
    }
}

/// `IsValidIPv6Address`.
pub fn is_valid_ipv6_address(value: &str) -> Vec<String> {
    match parse_ip_sloppy(value) {
        Some(ip) if !is_v4_mapped(&ip) => Vec::new(),
        _ => vec!["must be a valid IPv6 address".to_string()],
    }
}

/// `IsValidCIDR`.
pub fn is_valid_cidr(value: &str) -> Vec<String> {
    let ok =
        go_parse_cidr_ok(value) || strip_ipv4_zeros(value).is_some_and(|s| go_parse_cidr_ok(&s));
    if ok {
        Vec::new()
    } else {
        vec!["must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)".to_string()]
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    const NAME_PART_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    const VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
    const DNS1035_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

    type Check = fn(&str) -> Vec<String>;

    #[test]
    fn messages_are_upstreams() {
        let long254 = "a".repeat(254);
        let long64 = "a".repeat(64);
        let prefix_bad = format!("prefix part {SUBDOMAIN_MSG}");
        let cases: Vec<(&str, Check, String, Vec<String>)> = vec![
            ("subdomain ok", is_dns1123_subdomain, "example.com".into(), vec![]),
            ("subdomain 0", is_dns1123_subdomain, "a.b-c.d".into(), vec![]),
            ("subdomain bad", is_dns1123_subdomain, "Example.com".into(), vec![SUBDOMAIN_MSG.into()]),
            ("subdomain dots", is_dns1123_subdomain, "a..b".into(), vec![SUBDOMAIN_MSG.into()]),
            ("subdomain empty", is_dns1123_subdomain, "".into(), vec![SUBDOMAIN_MSG.into()]),
            ("subdomain long", is_dns1123_subdomain, long254.clone(), vec!["must be no more than 253 characters".into()]),
            ("label ok", is_dns1123_label, "my-name".into(), vec![]),
            ("label dots", is_dns1123_label, "a.b".into(), vec!["must not contain dots".into()]),
            ("label bad", is_dns1123_label, "-a".into(), vec![LABEL_MSG.into()]),
            ("label long", is_dns1123_label, long64.clone(), vec!["must be no more than 63 characters".into()]),
            ("1035 ok", is_dns1035_label, "abc-123".into(), vec![]),
            ("1035 digit", is_dns1035_label, "1abc".into(), vec![DNS1035_MSG.into()]),
            ("qname ok", is_qualified_name, "example.com/MyName".into(), vec![]),
            ("qname plain", is_qualified_name, "123-abc".into(), vec![]),
            ("qname empty", is_qualified_name, "".into(), vec!["name part must be non-empty".into(), NAME_PART_MSG.into()]),
            ("qname empty prefix", is_qualified_name, "/a".into(), vec!["prefix part must be non-empty".into()]),
            ("qname bad prefix", is_qualified_name, "Foo/a".into(), vec![prefix_bad]),
            ("qname long name", is_qualified_name, long64.clone(), vec!["name part must be no more than 63 characters".into()]),
            ("qname bad name", is_qualified_name, "a_".into(), vec![NAME_PART_MSG.into()]),
            ("qname two slashes", is_qualified_name, "a/b/c".into(), vec!["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')".into()]),
            ("value empty", is_valid_label_value, "".into(), vec![]),
            ("value ok", is_valid_label_value, "my_value".into(), vec![]),
            ("value bad", is_valid_label_value, "a b".into(), vec![VALUE_MSG.into()]),
            ("value long", is_valid_label_value, long64, vec!["must be no more than 63 characters".into()]),
            ("c id", is_c_identifier, "_a1".into(), vec![]),
            ("c id bad", is_c_identifier, "1a".into(), vec!["a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric characters or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName', regex used for validation is '[A-Za-z_][A-Za-z0-9_]*')".into()]),
            ("port name", is_valid_port_name, "http".into(), vec![]),
            ("port name bad", is_valid_port_name, "-1--".into(), vec![
                "must contain at least one letter (a-z)".into(),
                "must not contain consecutive hyphens".into(),
                "must not begin or end with a hyphen".into(),
            ]),
            ("port name long", is_valid_port_name, "abcdefghijklmnop".into(), vec!["must be no more than 15 characters".into()]),
            ("port name caps", is_valid_port_name, "HTTP".into(), vec![
                "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".into(),
                "must contain at least one letter (a-z)".into(),
            ]),
            ("percent", is_valid_percent, "93%".into(), vec![]),
            ("percent bad", is_valid_percent, "%".into(), vec!["a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')".into()]),
            ("env", is_env_var_name, "MY_ENV.NAME".into(), vec![]),
            ("env dots", is_env_var_name, "..".into(), vec!["must not be '..'".into()]),
            ("env digit", is_env_var_name, "1a".into(), vec!["a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')".into()]),
            ("relaxed env", is_relaxed_env_var_name, "a=b".into(), vec!["a valid environment variable name must consist only of printable ASCII characters other than '='".into()]),
            ("relaxed env empty", is_relaxed_env_var_name, "".into(), vec!["environment variable name must be non-empty".into()]),
            ("cm key", is_config_map_key, "..a".into(), vec!["must not start with '..'".into()]),
            ("cm key bad", is_config_map_key, "a/b".into(), vec!["a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')".into()]),
            ("header", is_http_header_name, "X-Header-Name".into(), vec![]),
            ("wildcard", is_wildcard_dns1123_subdomain, "*.example.com".into(), vec![]),
            ("wildcard bad", is_wildcard_dns1123_subdomain, "example.com".into(), vec!["a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".into()]),
        ];
        for (name, f, input, want) in cases {
            assert_eq!(f(&input), want, "{name}: {input:?}");
        }
    }

    #[test]
    fn numbers() {
        assert!(is_valid_port_num(1).is_empty());
        assert!(is_valid_port_num(65535).is_empty());
        assert_eq!(
            is_valid_port_num(65536),
            vec!["must be between 1 and 65535, inclusive"]
        );
        assert_eq!(
            is_valid_user_id(-1),
            vec!["must be between 0 and 2147483647, inclusive"]
        );
        assert!(is_valid_group_id(0).is_empty());
        assert_eq!(
            is_in_range(5, 1, 3),
            vec!["must be between 1 and 3, inclusive"]
        );
    }

    #[test]
    fn ip_addresses() {
        let ip = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";
        for good in [
            "10.9.8.7",
            "0.0.0.0",
            "255.255.255.255",
            "010.009.008.007",
            "2001:db8::ffff",
            "::",
            "::1",
            "1::",
            "::ffff:1.2.3.4",
            "::ffff:01.02.03.04",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:1.2.3.4",
            "fe80::1",
        ] {
            assert!(is_valid_ip(good).is_empty(), "{good}");
        }
        for bad in [
            "",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "1.2.3.4 ",
            " 1.2.3.4",
            "fe80::1%eth0",
            ":::",
            "1:2:3:4:5:6:7:8:9",
            "1::2::3",
            "12345::",
            "1.2.3.-4",
            "1:2:3:4:5:6:7::8",
            "a",
            "1.2.3.4/24",
            "0x1.2.3.4",
        ] {
            assert_eq!(is_valid_ip(bad), vec![ip], "{bad}");
        }
        assert!(is_valid_ipv4_address("1.2.3.4").is_empty());
        assert!(is_valid_ipv4_address("::ffff:1.2.3.4").is_empty());
        assert_eq!(
            is_valid_ipv4_address("::1"),
            vec!["must be a valid IPv4 address"]
        );
        assert!(is_valid_ipv6_address("::1").is_empty());
        assert_eq!(
            is_valid_ipv6_address("1.2.3.4"),
            vec!["must be a valid IPv6 address"]
        );
        let cidr = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";
        for good in [
            "10.9.8.0/24",
            "2001:db8::/64",
            "10.0.0.0/08",
            "010.0.0.0/8",
            "::/0",
            "1.2.3.4/32",
        ] {
            assert!(is_valid_cidr(good).is_empty(), "{good}");
        }
        for bad in [
            "10.9.8.0",
            "10.9.8.0/33",
            "::/129",
            "1.2.3.4/",
            "1.2.3.4/a",
            "/8",
        ] {
            assert_eq!(is_valid_cidr(bad), vec![cidr], "{bad}");
        }
    }
}
