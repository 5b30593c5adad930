//! Name and label validation (temporary stand-in; the apimachinery branch replaces it).

pub fn is_dns1123_subdomain(v: &str) -> Vec<String> {
    let ok = !v.is_empty() && v.len() <= 253 && v.split('.').all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-') && !p.starts_with('-') && !p.ends_with('-'));
    if ok { vec![] } else { vec!["a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".into()] }
}
pub fn is_dns1123_label(v: &str) -> Vec<String> {
    let ok = !v.is_empty() && v.len() <= 63 && v.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-') && !v.starts_with('-') && !v.ends_with('-');
    if ok { vec![] } else { vec!["a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')".into()] }
}
pub fn is_dns1035_label(v: &str) -> Vec<String> {
    let ok = !v.is_empty() && v.len() <= 63 && v.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-') && v.as_bytes()[0].is_ascii_lowercase() && !v.ends_with('-');
    if ok { vec![] } else { vec!["a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')".into()] }
}
pub fn is_qualified_name(v: &str) -> Vec<String> {
    if v.is_empty() { vec!["name part must be non-empty".into()] } else { vec![] }
}
pub fn is_valid_label_value(v: &str) -> Vec<String> {
    if v.len() > 63 { vec!["must be no more than 63 characters".into()] } else { vec![] }
}
