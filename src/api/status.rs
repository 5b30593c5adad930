//! metav1.Status errors with upstream's codes, reasons and messages, and field errors
//! (k8s.io/apimachinery/pkg/util/validation/field) rendered as Go renders them.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::meta::ListMeta;

/// The cause of a StatusReasonInvalid error, one per bad field.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StatusCause {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub field: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusDetails {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<StatusCause>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<i32>,
}

/// A metav1.Status: the body of every error response, and of some successes (delete).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub kind: String,
    pub api_version: String,
    pub metadata: ListMeta,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<StatusDetails>,
    #[serde(default)]
    pub code: u16,
}

/// An API error: a Status with code >= 400.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError(pub Box<Status>);

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl std::error::Error for ApiError {}

/// The group and plural resource an error speaks of (`pods`, `deployments.apps`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupResource<'a> {
    pub group: &'a str,
    pub resource: &'a str,
}

impl fmt::Display for GroupResource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            f.write_str(self.resource)
        } else {
            write!(f, "{}.{}", self.resource, self.group)
        }
    }
}

impl ApiError {
    pub fn new(
        code: u16,
        reason: &str,
        message: impl Into<String>,
        details: Option<StatusDetails>,
    ) -> ApiError {
        ApiError(Box::new(Status {
            kind: "Status".into(),
            api_version: "v1".into(),
            metadata: ListMeta::default(),
            status: "Failure".into(),
            message: message.into(),
            reason: reason.into(),
            details,
            code,
        }))
    }

    pub fn code(&self) -> u16 {
        self.0.code
    }

    pub fn reason(&self) -> &str {
        &self.0.reason
    }

    pub fn message(&self) -> &str {
        &self.0.message
    }

    fn details(gr: GroupResource, name: &str) -> Option<StatusDetails> {
        Some(StatusDetails {
            name: name.into(),
            group: gr.group.into(),
            kind: gr.resource.into(),
            ..Default::default()
        })
    }

    /// 404: `pods "web" not found`.
    pub fn not_found(gr: GroupResource, name: &str) -> ApiError {
        ApiError::new(
            404,
            "NotFound",
            format!("{gr} \"{name}\" not found"),
            Self::details(gr, name),
        )
    }

    /// 404 for a path no handler serves.
    pub fn path_not_found() -> ApiError {
        ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
            Some(StatusDetails::default()),
        )
    }

    /// 409: `pods "web" already exists`.
    pub fn already_exists(gr: GroupResource, name: &str) -> ApiError {
        ApiError::new(
            409,
            "AlreadyExists",
            format!("{gr} \"{name}\" already exists"),
            Self::details(gr, name),
        )
    }

    /// 409 on a stale resourceVersion.
    pub fn conflict(gr: GroupResource, name: &str, why: &str) -> ApiError {
        ApiError::new(
            409,
            "Conflict",
            format!("Operation cannot be fulfilled on {gr} \"{name}\": {why}"),
            Self::details(gr, name),
        )
    }

    pub const MODIFIED: &'static str =
        "the object has been modified; please apply your changes to the latest version and try again";

    /// 422: `Pod "Web" is invalid: metadata.name: Invalid value: ...`.
    pub fn invalid(kind: &str, group: &str, name: &str, errs: &[FieldError]) -> ApiError {
        let message = match errs {
            [one] => format!("{kind} \"{name}\" is invalid: {one}"),
            many => format!(
                "{kind} \"{name}\" is invalid: [{}]",
                many.iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let causes = errs
            .iter()
            .map(|e| StatusCause {
                reason: e.kind.cause_reason().into(),
                message: e.body(),
                field: e.field.clone(),
            })
            .collect();
        ApiError::new(
            422,
            "Invalid",
            message,
            Some(StatusDetails {
                name: name.into(),
                group: group.into(),
                kind: kind.into(),
                causes,
                ..Default::default()
            }),
        )
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "BadRequest", message, None)
    }

    /// 403 with upstream's `pods "web" is forbidden: ...` text.
    pub fn forbidden(gr: GroupResource, name: &str, why: &str) -> ApiError {
        let message = if name.is_empty() {
            format!("{gr} is forbidden: {why}")
        } else {
            format!("{gr} \"{name}\" is forbidden: {why}")
        };
        ApiError::new(403, "Forbidden", message, Self::details(gr, name))
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(401, "Unauthorized", "Unauthorized", None)
    }

    pub fn method_not_supported(gr: GroupResource, action: &str) -> ApiError {
        ApiError::new(
            405,
            "MethodNotAllowed",
            format!("{action} is not supported on resources of kind \"{gr}\""),
            Some(StatusDetails {
                group: gr.group.into(),
                kind: gr.resource.into(),
                ..Default::default()
            }),
        )
    }

    /// 413 for a body over the server's limit.
    pub fn too_large(limit: usize) -> ApiError {
        ApiError::new(
            413,
            "RequestEntityTooLarge",
            format!("Request entity too large: limit is {limit}"),
            None,
        )
    }

    /// 410 for a watch or list from a revision that has left the history window.
    pub fn expired(message: impl Into<String>) -> ApiError {
        ApiError::new(410, "Expired", message, None)
    }

    pub fn unsupported_media_type(content_type: &str) -> ApiError {
        ApiError::new(415, "UnsupportedMediaType", format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json; got {content_type}"), None)
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        let message = message.into();
        ApiError::new(
            500,
            "InternalError",
            format!("Internal error occurred: {message}"),
            Some(StatusDetails {
                causes: vec![StatusCause {
                    message,
                    ..Default::default()
                }],
                ..Default::default()
            }),
        )
    }
}

/// The kinds of field error, as field.ErrorType.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldErrorKind {
    NotFound,
    Required,
    Duplicate,
    Invalid,
    NotSupported,
    Forbidden,
    TooLong,
    TooMany,
    Internal,
}

impl FieldErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotFound => "Not found",
            Self::Required => "Required value",
            Self::Duplicate => "Duplicate value",
            Self::Invalid => "Invalid value",
            Self::NotSupported => "Unsupported value",
            Self::Forbidden => "Forbidden",
            Self::TooLong => "Too long",
            Self::TooMany => "Too many",
            Self::Internal => "Internal error",
        }
    }

    /// The StatusCause reason (metav1.CauseType).
    pub fn cause_reason(self) -> &'static str {
        match self {
            Self::NotFound => "FieldValueNotFound",
            Self::Required => "FieldValueRequired",
            Self::Duplicate => "FieldValueDuplicate",
            Self::Invalid => "FieldValueInvalid",
            Self::NotSupported => "FieldValueNotSupported",
            Self::Forbidden => "FieldValueForbidden",
            Self::TooLong => "FieldValueTooLong",
            Self::TooMany => "FieldValueTooMany",
            Self::Internal => "InternalError",
        }
    }
}

/// One validation failure (field.Error).
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    pub kind: FieldErrorKind,
    pub field: String,
    /// The bad value as Go would print it (`"Web"`, `80`, `map[string]string{...}`).
    pub value: Option<String>,
    pub detail: String,
}

impl FieldError {
    pub fn required(field: impl Into<String>, detail: impl Into<String>) -> FieldError {
        FieldError {
            kind: FieldErrorKind::Required,
            field: field.into(),
            value: None,
            detail: detail.into(),
        }
    }
    pub fn invalid(
        field: impl Into<String>,
        value: impl Into<GoValue>,
        detail: impl Into<String>,
    ) -> FieldError {
        FieldError {
            kind: FieldErrorKind::Invalid,
            field: field.into(),
            value: Some(value.into().0),
            detail: detail.into(),
        }
    }
    pub fn duplicate(field: impl Into<String>, value: impl Into<GoValue>) -> FieldError {
        FieldError {
            kind: FieldErrorKind::Duplicate,
            field: field.into(),
            value: Some(value.into().0),
            detail: String::new(),
        }
    }
    pub fn forbidden(field: impl Into<String>, detail: impl Into<String>) -> FieldError {
        FieldError {
            kind: FieldErrorKind::Forbidden,
            field: field.into(),
            value: None,
            detail: detail.into(),
        }
    }
    pub fn not_found(field: impl Into<String>, value: impl Into<GoValue>) -> FieldError {
        FieldError {
            kind: FieldErrorKind::NotFound,
            field: field.into(),
            value: Some(value.into().0),
            detail: String::new(),
        }
    }
    pub fn too_long(field: impl Into<String>, max: usize) -> FieldError {
        FieldError {
            kind: FieldErrorKind::TooLong,
            field: field.into(),
            value: None,
            detail: format!("may not be more than {max} bytes"),
        }
    }
    /// `Unsupported value: "Foo": supported values: "Always", "Never"`.
    pub fn not_supported(
        field: impl Into<String>,
        value: impl Into<GoValue>,
        supported: &[&str],
    ) -> FieldError {
        let detail = if supported.is_empty() {
            String::new()
        } else {
            format!(
                "supported values: {}",
                supported
                    .iter()
                    .map(|s| go_quote(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        FieldError {
            kind: FieldErrorKind::NotSupported,
            field: field.into(),
            value: Some(value.into().0),
            detail,
        }
    }

    /// field.Error.ErrorBody(): the message without the field path.
    pub fn body(&self) -> String {
        let mut s = match (&self.kind, &self.value) {
            (
                FieldErrorKind::Required
                | FieldErrorKind::Forbidden
                | FieldErrorKind::TooLong
                | FieldErrorKind::Internal,
                _,
            )
            | (_, None) => self.kind.as_str().to_string(),
            (_, Some(v)) => format!("{}: {}", self.kind.as_str(), v),
        };
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

/// A value rendered as Go's `%v`/`%q` would in a field error.
pub struct GoValue(pub String);

impl GoValue {
    /// A `[]string` as `%#v` prints it; `None` is a nil slice (`[]string(nil)`).
    pub fn strings(v: Option<&[String]>) -> GoValue {
        GoValue(super::gofmt::go_string_slice(v))
    }

    /// A value printed with `%v` as is (numbers, booleans, `null`).
    pub fn plain(v: impl Into<String>) -> GoValue {
        GoValue(v.into())
    }
}

/// `ErrorList.ToAggregate().Error()`: duplicates dropped, one message as is, several
/// as `[a, b]`; empty for an empty list.
pub fn aggregate_message(errs: &[FieldError]) -> String {
    let mut seen: Vec<String> = Vec::new();
    for e in errs {
        let m = e.to_string();
        if !seen.contains(&m) {
            seen.push(m);
        }
    }
    match seen.len() {
        0 => String::new(),
        1 => seen.remove(0),
        _ => format!("[{}]", seen.join(", ")),
    }
}

impl From<&str> for GoValue {
    fn from(s: &str) -> Self {
        GoValue(go_quote(s))
    }
}
impl From<&String> for GoValue {
    fn from(s: &String) -> Self {
        GoValue(go_quote(s))
    }
}
impl From<String> for GoValue {
    fn from(s: String) -> Self {
        GoValue(go_quote(&s))
    }
}
impl From<i64> for GoValue {
    fn from(v: i64) -> Self {
        GoValue(v.to_string())
    }
}
impl From<i32> for GoValue {
    fn from(v: i32) -> Self {
        GoValue(v.to_string())
    }
}
impl From<&Value> for GoValue {
    fn from(v: &Value) -> Self {
        GoValue(match v {
            Value::String(s) => go_quote(s),
            other => other.to_string(),
        })
    }
}

/// Go's strconv.Quote.
pub fn go_quote(s: &str) -> String {
    super::gofmt::quote(s)
}

/// Go's `%#v` of a map[string]string, as validation messages print label maps.
pub fn go_map_literal(map: &crate::api::VecMap<String, String>) -> String {
    let items: Vec<String> = map
        .iter()
        .map(|(k, v)| format!("{}:{}", go_quote(k), go_quote(v)))
        .collect();
    format!("map[string]string{{{}}}", items.join(", "))
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn field_errors_print_like_upstream() {
        let e = FieldError::invalid("key", "a b", "bad");
        assert_eq!(e.to_string(), "key: Invalid value: \"a b\": bad");
        let e = FieldError::invalid("values", GoValue::strings(None), "empty");
        assert_eq!(e.to_string(), "values: Invalid value: []string(nil): empty");
        let e = FieldError::not_supported("operator", "x", &["in", "notin"]);
        assert_eq!(
            e.to_string(),
            "operator: Unsupported value: \"x\": supported values: \"in\", \"notin\""
        );
        let e = FieldError::required("name", "");
        assert_eq!(e.to_string(), "name: Required value");
        let a = FieldError::invalid("a", GoValue::plain("null"), "x");
        let b = FieldError::invalid("b", GoValue::plain("3"), "y");
        assert_eq!(
            aggregate_message(std::slice::from_ref(&a)),
            "a: Invalid value: null: x"
        );
        assert_eq!(
            aggregate_message(&[a.clone(), b, a]),
            "[a: Invalid value: null: x, b: Invalid value: 3: y]"
        );
    }

    #[test]
    fn messages_read_as_upstream() {
        let pods = GroupResource {
            group: "",
            resource: "pods",
        };
        assert_eq!(
            ApiError::not_found(pods, "web").message(),
            "pods \"web\" not found"
        );
        let deploy = GroupResource {
            group: "apps",
            resource: "deployments",
        };
        assert_eq!(
            ApiError::already_exists(deploy, "web").message(),
            "deployments.apps \"web\" already exists"
        );
        assert_eq!(
            ApiError::conflict(pods, "web", ApiError::MODIFIED).message(),
            "Operation cannot be fulfilled on pods \"web\": the object has been modified; please apply your changes to the latest version and try again"
        );
        let errs = [FieldError::required("spec.containers", "")];
        let e = ApiError::invalid("Pod", "", "web", &errs);
        assert_eq!(
            e.message(),
            "Pod \"web\" is invalid: spec.containers: Required value"
        );
        assert_eq!(e.code(), 422);
        let errs = [
            FieldError::not_supported(
                "spec.restartPolicy",
                "Sometimes",
                &["Always", "Never", "OnFailure"],
            ),
            FieldError::duplicate("spec.containers[1].name", "app"),
        ];
        assert_eq!(
            ApiError::invalid("Pod", "", "web", &errs).message(),
            "Pod \"web\" is invalid: [spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"Never\", \"OnFailure\", spec.containers[1].name: Duplicate value: \"app\"]"
        );
    }
}
