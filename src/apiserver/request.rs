//! Requests and responses as the API server sees them, and the parsing of paths.
//!
//! Bodies may be JSON text, a JSON value, or an already typed object: components
//! inside the simulation pass typed objects so that 150,000 pods need not be
//! serialized, while curl-style callers pass text. Both take the same stages.

use crate::api::VecMap;
use std::fmt;
use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::api::meta::ListMeta;
use crate::api::object::{resource_by_plural, ResourceType};
use crate::api::status::Status;
use crate::api::{ApiError, Object};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn parse(s: &str) -> Option<Method> {
        match s.to_ascii_uppercase().as_str() {
            "GET" => Some(Method::Get),
            "POST" => Some(Method::Post),
            "PUT" => Some(Method::Put),
            "PATCH" => Some(Method::Patch),
            "DELETE" => Some(Method::Delete),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who is calling, before authentication has looked at it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Credentials {
    /// The cluster administrator's client certificate (kubectl's default context).
    Admin,
    /// An identity taken as already authenticated (a component, or a scenario's `as`).
    User { name: String, groups: Vec<String> },
    /// A bearer token.
    Token(String),
    /// HTTP basic auth (the seed's era).
    Basic { user: String, password: String },
    /// A client certificate issued by the cluster's CA, by its name in the settings.
    Certificate(String),
    /// No credentials at all.
    Anonymous,
}

/// A request body.
#[derive(Clone, Debug, Default)]
pub enum Body {
    #[default]
    Empty,
    /// Text as sent on the wire (JSON, or YAML for apply patches).
    Text(String),
    Json(Value),
    Object(Object),
}

impl Body {
    pub fn is_empty(&self) -> bool {
        matches!(self, Body::Empty)
    }

    /// Size on the wire, for the request size limit.
    pub fn wire_len(&self) -> usize {
        match self {
            Body::Empty => 0,
            Body::Text(t) => t.len(),
            Body::Json(v) => json_len(v),
            // Typed objects come from inside the simulation; they are never oversized.
            Body::Object(_) => 0,
        }
    }

    /// The body as JSON, parsing text if needed.
    pub fn into_json(self) -> Result<Value, ApiError> {
        match self {
            Body::Empty => Err(ApiError::bad_request("the body of the request was empty")),
            Body::Json(v) => Ok(v),
            Body::Object(o) => Ok(o.to_value()),
            Body::Text(t) => serde_json::from_str(&t).or_else(|e| {
                // kubectl and curl may send YAML; the server accepts it for apply patches
                // only, but a JSON syntax error reads as upstream's decoder error.
                crate::yaml::parse_documents(&t)
                    .ok()
                    .and_then(|mut docs| {
                        if docs.len() == 1 {
                            docs.pop().map(|d| d.value)
                        } else {
                            None
                        }
                    })
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "couldn't get version/kind; json parse error: {}",
                            go_json_error(&e)
                        ))
                    })
            }),
        }
    }
}

fn go_json_error(e: &serde_json::Error) -> String {
    format!("{e}")
}

/// The length of a JSON value's compact text, counted without writing it (escapes
/// counted as one byte: close enough for a size limit of mebibytes).
fn json_len(v: &Value) -> usize {
    match v {
        Value::Null => 4,
        Value::Bool(b) => {
            if *b {
                4
            } else {
                5
            }
        }
        Value::Number(n) => {
            if n.is_f64() {
                24
            } else {
                20
            }
        }
        Value::String(s) => s.len() + 2,
        Value::Array(a) => 2 + a.iter().map(|x| json_len(x) + 1).sum::<usize>(),
        Value::Object(m) => {
            2 + m
                .iter()
                .map(|(k, x)| k.len() + 4 + json_len(x))
                .sum::<usize>()
        }
    }
}

/// One request to the API server.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: Method,
    /// The path, possibly with a query string.
    pub path: String,
    /// Header names in lower case.
    pub headers: VecMap<String, String>,
    pub body: Body,
    pub credentials: Credentials,
    /// Who sends it, for the trace (`kubectl`, `curl`, `scheduler`, `kubelet/node-1`).
    pub client: String,
}

impl Request {
    pub fn new(method: Method, path: impl Into<String>) -> Request {
        Request {
            method,
            path: path.into(),
            headers: VecMap::new(),
            body: Body::Empty,
            credentials: Credentials::Admin,
            client: "curl".into(),
        }
    }

    pub fn get(path: impl Into<String>) -> Request {
        Request::new(Method::Get, path)
    }

    pub fn with_body(mut self, body: Body) -> Request {
        self.body = body;
        self
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Request {
        self.headers
            .insert(name.to_ascii_lowercase(), value.to_string());
        self
    }

    pub fn with_credentials(mut self, c: Credentials) -> Request {
        self.credentials = c;
        self
    }

    pub fn with_client(mut self, client: impl Into<String>) -> Request {
        self.client = client.into();
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// A list of objects of one type.
#[derive(Clone, Debug)]
pub struct ObjectList {
    pub resource: &'static ResourceType,
    pub resource_version: u64,
    pub continue_token: String,
    pub remaining_item_count: Option<i64>,
    pub items: Vec<Arc<Object>>,
}

impl ObjectList {
    pub fn to_value(&self) -> Value {
        let items: Vec<Value> = self
            .items
            .iter()
            .map(|o| {
                // Items of a list carry no apiVersion/kind of their own in upstream's
                // typed lists... but kubectl's unstructured lists do; upstream's JSON
                // for a typed list omits them. Keep upstream's server form.
                let mut v = o.to_value();
                if let Value::Object(m) = &mut v {
                    m.remove("apiVersion");
                    m.remove("kind");
                }
                v
            })
            .collect();
        let meta = ListMeta {
            resource_version: self.resource_version.to_string(),
            continue_token: self.continue_token.clone(),
            remaining_item_count: self.remaining_item_count,
            ..Default::default()
        };
        json!({
            "apiVersion": self.resource.api_version(),
            "kind": format!("{}List", self.resource.kind),
            "metadata": meta,
            "items": items,
        })
    }
}

/// One event of a watch response.
#[derive(Clone, Debug)]
pub struct WatchItem {
    pub kind: &'static str,
    pub object: Arc<Object>,
}

/// A response body.
#[derive(Clone, Debug)]
pub enum ResponseBody {
    Object(Arc<Object>),
    List(ObjectList),
    Status(Box<Status>),
    Json(Value),
    Text(String),
    Events(Vec<WatchItem>),
}

#[derive(Clone, Debug)]
pub struct Response {
    pub code: u16,
    pub body: ResponseBody,
}

impl Response {
    pub fn ok(body: ResponseBody) -> Response {
        Response { code: 200, body }
    }

    pub fn error(e: &ApiError) -> Response {
        Response {
            code: e.code(),
            body: ResponseBody::Status(e.0.clone()),
        }
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// The error this response carries, if it is one.
    pub fn as_error(&self) -> Option<ApiError> {
        match (&self.body, self.code >= 400) {
            (ResponseBody::Status(s), true) => Some(ApiError(s.clone())),
            (_, true) => Some(ApiError::new(
                self.code,
                "",
                format!("status code {}", self.code),
                None,
            )),
            _ => None,
        }
    }

    pub fn object(&self) -> Option<&Arc<Object>> {
        match &self.body {
            ResponseBody::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The body as JSON, as it would cross the wire.
    pub fn body_json(&self) -> Value {
        match &self.body {
            ResponseBody::Object(o) => o.to_value(),
            ResponseBody::List(l) => l.to_value(),
            ResponseBody::Status(s) => serde_json::to_value(s).unwrap_or(Value::Null),
            ResponseBody::Json(v) => v.clone(),
            ResponseBody::Text(t) => Value::String(t.clone()),
            ResponseBody::Events(evs) => Value::Array(
                evs.iter()
                    .map(|e| {
                        let mut m = Map::new();
                        m.insert("type".into(), Value::String(e.kind.into()));
                        m.insert("object".into(), e.object.to_value());
                        Value::Object(m)
                    })
                    .collect(),
            ),
        }
    }
}

/// The query string, decoded.
pub type Query = VecMap<String, String>;

/// Splits `path?query` and percent-decodes the query.
pub fn split_query(path: &str) -> (String, Query) {
    let (p, q) = path.split_once('?').unwrap_or((path, ""));
    let mut query = Query::new();
    for pair in q.split('&').filter(|s| !s.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        query.insert(percent_decode(k), percent_decode(v));
    }
    (p.to_string(), query)
}

/// Decodes `%XX` escapes and `+` in a query component.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Encodes a query component (what kubectl does to selectors).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// What a path names.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    Healthz(String),
    Version,
    /// `/api`: the legacy group's versions.
    ApiVersions,
    /// `/apis`: every group.
    ApiGroupList,
    /// `/apis/{group}`.
    ApiGroup(String),
    /// `/api/v1` or `/apis/{group}/{version}`.
    ResourceList {
        group: String,
        version: String,
    },
    /// A resource collection or object.
    Resource(ResourcePath),
    /// A proxy path (`.../pods/{name}/proxy/...`, or the older `/api/v1/proxy/...`).
    Proxy {
        resource: &'static ResourceType,
        namespace: String,
        name: String,
        rest: String,
    },
}

/// A path to a resource collection, object or subresource.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourcePath {
    pub resource: &'static ResourceType,
    /// Empty for cluster-scoped resources and for lists across all namespaces.
    pub namespace: String,
    /// Empty for a collection.
    pub name: String,
    /// `status`, `scale`, `binding`... or empty.
    pub subresource: String,
    /// Set by the legacy `/api/v1/watch/...` prefix.
    pub watch_prefix: bool,
}

/// Why a path could not be routed.
#[derive(Clone, Debug, PartialEq)]
pub enum RouteError {
    /// Nothing is served there (404 "the server could not find the requested resource").
    NotFound,
}

/// Routes a path (without its query).
pub fn route(path: &str) -> Result<Target, RouteError> {
    let trimmed = path.trim_end_matches('/');
    let parts: Vec<&str> = trimmed.split('/').skip(1).collect();
    match parts.as_slice() {
        ["healthz"] | ["livez"] | ["readyz"] => return Ok(Target::Healthz(parts[0].to_string())),
        ["healthz", check] | ["livez", check] | ["readyz", check] => {
            return Ok(Target::Healthz(format!("{}/{}", parts[0], check)))
        }
        ["version"] => return Ok(Target::Version),
        ["api"] => return Ok(Target::ApiVersions),
        ["apis"] => return Ok(Target::ApiGroupList),
        ["api", "v1"] => {
            return Ok(Target::ResourceList {
                group: String::new(),
                version: "v1".into(),
            })
        }
        ["apis", group] if crate::api::object::API_GROUPS.contains(group) => {
            return Ok(Target::ApiGroup(group.to_string()))
        }
        ["apis", group, "v1"] if crate::api::object::API_GROUPS.contains(group) => {
            return Ok(Target::ResourceList {
                group: group.to_string(),
                version: "v1".into(),
            })
        }
        _ => {}
    }
    let (group, rest): (&str, &[&str]) = match parts.as_slice() {
        ["api", "v1", rest @ ..] => ("", rest),
        ["apis", group, "v1", rest @ ..] => (group, rest),
        _ => return Err(RouteError::NotFound),
    };
    // The seed's older proxy form: /api/v1/proxy/nodes/{name}/..., /api/v1/proxy/namespaces/{ns}/pods/{name}/...
    if group.is_empty() {
        if let ["proxy", tail @ ..] = rest {
            let (ns, tail) = match tail {
                ["namespaces", ns, tail @ ..] => (ns.to_string(), tail),
                _ => (String::new(), tail),
            };
            if let [plural, name, more @ ..] = tail {
                let rt = resource_by_plural("", plural).ok_or(RouteError::NotFound)?;
                if !rt.subresources.contains(&"proxy") || rt.namespaced == ns.is_empty() {
                    return Err(RouteError::NotFound);
                }
                return Ok(Target::Proxy {
                    resource: rt,
                    namespace: ns,
                    name: name.to_string(),
                    rest: join_rest(more),
                });
            }
            return Err(RouteError::NotFound);
        }
    }
    // A namespace's own subresources: /api/v1/namespaces/{name}/status|finalize.
    if group.is_empty() {
        if let ["namespaces", name, sub] = rest {
            if crate::api::object::NAMESPACES.subresources.contains(sub) {
                return Ok(Target::Resource(ResourcePath {
                    resource: &crate::api::object::NAMESPACES,
                    namespace: String::new(),
                    name: name.to_string(),
                    subresource: sub.to_string(),
                    watch_prefix: false,
                }));
            }
        }
    }
    let (watch_prefix, rest) = match rest {
        ["watch", tail @ ..] => (true, tail),
        _ => (false, rest),
    };
    let (namespace, rest) = match rest {
        ["namespaces", ns, tail @ ..] if !tail.is_empty() => (ns.to_string(), tail),
        _ => (String::new(), rest),
    };
    let (plural, name, sub, more) = match rest {
        [plural] => (*plural, "", "", &[][..]),
        [plural, name] => (*plural, *name, "", &[][..]),
        [plural, name, sub, more @ ..] => (*plural, *name, *sub, more),
        _ => return Err(RouteError::NotFound),
    };
    let rt = resource_by_plural(group, plural).ok_or(RouteError::NotFound)?;
    // A namespace in the path of a cluster-scoped resource is not a route.
    if !namespace.is_empty() && !rt.namespaced {
        return Err(RouteError::NotFound);
    }
    if !sub.is_empty() && !rt.subresources.contains(&sub) {
        return Err(RouteError::NotFound);
    }
    if sub == "proxy" {
        return Ok(Target::Proxy {
            resource: rt,
            namespace,
            name: name.to_string(),
            rest: join_rest(more),
        });
    }
    if !more.is_empty() {
        return Err(RouteError::NotFound);
    }
    Ok(Target::Resource(ResourcePath {
        resource: rt,
        namespace,
        name: name.to_string(),
        subresource: sub.to_string(),
        watch_prefix,
    }))
}

fn join_rest(parts: &[&str]) -> String {
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::api::object::{DEPLOYMENTS, NODES, PODS};

    #[test]
    fn routes_resource_paths() {
        let t = route("/api/v1/namespaces/default/pods/web").unwrap();
        assert_eq!(
            t,
            Target::Resource(ResourcePath {
                resource: &PODS,
                namespace: "default".into(),
                name: "web".into(),
                subresource: String::new(),
                watch_prefix: false
            })
        );
        let Target::Resource(p) = route("/apis/apps/v1/namespaces/x/deployments/d/scale").unwrap()
        else {
            panic!()
        };
        assert!(std::ptr::eq(p.resource, &DEPLOYMENTS));
        assert_eq!(p.subresource, "scale");
        let Target::Resource(p) = route("/api/v1/pods").unwrap() else {
            panic!()
        };
        assert_eq!(p.namespace, "");
        let Target::Resource(p) = route("/api/v1/watch/namespaces/default/pods").unwrap() else {
            panic!()
        };
        assert!(p.watch_prefix);
        assert_eq!(
            route("/api/v1/namespaces/default/foos"),
            Err(RouteError::NotFound)
        );
        assert_eq!(
            route("/api/v1/namespaces/default/nodes/n1"),
            Err(RouteError::NotFound)
        );
        assert_eq!(
            route("/api/v1/namespaces/default/pods/web/frobnicate"),
            Err(RouteError::NotFound)
        );
        let Target::Resource(p) = route("/api/v1/namespaces/default").unwrap() else {
            panic!()
        };
        assert_eq!(
            (p.resource.plural, p.name.as_str()),
            ("namespaces", "default")
        );
    }

    #[test]
    fn routes_both_proxy_forms() {
        let new = route("/api/v1/nodes/node-1/proxy/healthz").unwrap();
        let old = route("/api/v1/proxy/nodes/node-1/healthz").unwrap();
        assert_eq!(new, old);
        assert_eq!(
            new,
            Target::Proxy {
                resource: &NODES,
                namespace: String::new(),
                name: "node-1".into(),
                rest: "/healthz".into()
            }
        );
        let pod = route("/api/v1/proxy/namespaces/default/pods/web/index.html").unwrap();
        assert_eq!(
            pod,
            route("/api/v1/namespaces/default/pods/web/proxy/index.html").unwrap()
        );
        assert_eq!(route("/api/v1/proxy/pods/web/x"), Err(RouteError::NotFound));
    }

    #[test]
    fn queries_decode() {
        let (p, q) = split_query("/api/v1/pods?labelSelector=app%3Dweb%2Ctier+in+(a)&watch=true");
        assert_eq!(p, "/api/v1/pods");
        assert_eq!(q["labelSelector"], "app=web,tier in (a)");
        assert_eq!(q["watch"], "true");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(
            percent_encode("app=web,x in (a)"),
            "app%3Dweb%2Cx%20in%20%28a%29"
        );
    }
}
