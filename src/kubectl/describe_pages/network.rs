//! Services, Endpoints, EndpointSlices, Ingresses and IngressClasses (describeService,
//! describeEndpoints, describeEndpointSliceV1, describeIngressV1, describeIngressClassV1).

use std::collections::BTreeSet;

use serde_json::Value;

use super::pod::join_host_port;
use super::tabwriter::{PrefixWriter, LEVEL_0, LEVEL_1, LEVEL_2, LEVEL_3};
use super::{annotations_multiline, arr, format_labels, int, labels_multiline, s, strs, Cx};

/// `formatEndpointSlices`: up to three `ip:port` endpoints of the named port, then
/// `+ N more...`. `port_name` `None` takes every port.
pub(crate) fn format_endpoint_slices(slices: &[Value], port_name: Option<&str>) -> String {
    if slices.is_empty() {
        return "<none>".into();
    }
    const MAX: usize = 3;
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0;
    for slice in slices {
        let ports = arr(&slice["ports"]);
        let endpoints = arr(&slice["endpoints"]);
        let first_address = |e: &Value| {
            arr(&e["addresses"])
                .first()
                .map(s)
                .unwrap_or("")
                .to_string()
        };
        if ports.is_empty() {
            // Headless services may have no ports.
            for e in endpoints {
                if list.len() == MAX {
                    more = true;
                }
                if !more {
                    list.push(first_address(e));
                }
                count += 1;
            }
        } else {
            for port in ports {
                if port_name.is_some_and(|n| n != s(&port["name"])) {
                    continue;
                }
                for e in endpoints {
                    if list.len() == MAX {
                        more = true;
                    }
                    if !more {
                        list.push(join_host_port(
                            &first_address(e),
                            &int(&port["port"]).to_string(),
                        ));
                    }
                    count += 1;
                }
            }
        }
    }
    let text = list.join(",");
    if more {
        format!("{text} + {} more...", count - MAX)
    } else {
        text
    }
}

/// `describeService`.
pub(crate) fn describe_service(w: &mut PrefixWriter, svc: &Value, cx: &Cx) {
    let m = &svc["metadata"];
    let spec = &svc["spec"];
    w.write(LEVEL_0, &format!("Name:\t{}\n", s(&m["name"])));
    w.write(LEVEL_0, &format!("Namespace:\t{}\n", s(&m["namespace"])));
    labels_multiline(w, "Labels", &m["labels"]);
    annotations_multiline(w, "Annotations", &m["annotations"]);
    w.write(
        LEVEL_0,
        &format!("Selector:\t{}\n", format_labels(&spec["selector"])),
    );
    w.write(LEVEL_0, &format!("Type:\t{}\n", s(&spec["type"])));
    if spec["ipFamilyPolicy"].is_string() {
        w.write(
            LEVEL_0,
            &format!("IP Family Policy:\t{}\n", s(&spec["ipFamilyPolicy"])),
        );
    }
    let families = strs(&spec["ipFamilies"]);
    w.write(
        LEVEL_0,
        &format!("IP Families:\t{}\n", super::or_none(&families.join(","))),
    );
    w.write(LEVEL_0, &format!("IP:\t{}\n", s(&spec["clusterIP"])));
    let ips = strs(&spec["clusterIPs"]);
    w.write(
        LEVEL_0,
        &format!("IPs:\t{}\n", super::or_none(&ips.join(","))),
    );
    let external = strs(&spec["externalIPs"]);
    if !external.is_empty() {
        w.write(LEVEL_0, &format!("External IPs:\t{}\n", external.join(",")));
    }
    let lb_ip = s(&spec["loadBalancerIP"]);
    if !lb_ip.is_empty() {
        w.write(LEVEL_0, &format!("Desired LoadBalancer IP:\t{lb_ip}\n"));
    }
    let ext_name = s(&spec["externalName"]);
    if !ext_name.is_empty() {
        w.write(LEVEL_0, &format!("External Name:\t{ext_name}\n"));
    }
    let ingress = arr(&svc["status"]["loadBalancer"]["ingress"]);
    if !ingress.is_empty() {
        let list = ingress
            .iter()
            .map(|i| {
                let ip = s(&i["ip"]);
                if ip.is_empty() {
                    s(&i["hostname"]).to_string()
                } else if i["ipMode"].is_string() {
                    format!("{ip} ({})", s(&i["ipMode"]))
                } else {
                    ip.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        w.write(LEVEL_0, &format!("LoadBalancer Ingress:\t{list}\n"));
    }
    for p in arr(&spec["ports"]) {
        let name = match s(&p["name"]) {
            "" => "<unset>",
            n => n,
        };
        let proto = s(&p["protocol"]);
        w.write(
            LEVEL_0,
            &format!("Port:\t{name}\t{}/{proto}\n", int(&p["port"])),
        );
        let target = match &p["targetPort"] {
            Value::String(t) => t.clone(),
            other => int(other).to_string(),
        };
        w.write(LEVEL_0, &format!("TargetPort:\t{target}/{proto}\n"));
        if int(&p["nodePort"]) != 0 {
            w.write(
                LEVEL_0,
                &format!("NodePort:\t{name}\t{}/{proto}\n", int(&p["nodePort"])),
            );
        }
        w.write(
            LEVEL_0,
            &format!(
                "Endpoints:\t{}\n",
                format_endpoint_slices(&cx.rel.endpoint_slices, Some(s(&p["name"])))
            ),
        );
    }
    w.write(
        LEVEL_0,
        &format!("Session Affinity:\t{}\n", s(&spec["sessionAffinity"])),
    );
    let etp = s(&spec["externalTrafficPolicy"]);
    if !etp.is_empty() {
        w.write(LEVEL_0, &format!("External Traffic Policy:\t{etp}\n"));
    }
    if spec["internalTrafficPolicy"].is_string() {
        w.write(
            LEVEL_0,
            &format!(
                "Internal Traffic Policy:\t{}\n",
                s(&spec["internalTrafficPolicy"])
            ),
        );
    }
    if int(&spec["healthCheckNodePort"]) != 0 {
        w.write(
            LEVEL_0,
            &format!(
                "HealthCheck NodePort:\t{}\n",
                int(&spec["healthCheckNodePort"])
            ),
        );
    }
    let ranges = strs(&spec["loadBalancerSourceRanges"]);
    if !ranges.is_empty() {
        w.write(
            LEVEL_0,
            &format!("LoadBalancer Source Ranges:\t{}\n", ranges.join(",")),
        );
    }
    cx.events(w);
}

/// `describeEndpoints`.
pub(crate) fn describe_endpoints(w: &mut PrefixWriter, ep: &Value, cx: &Cx) {
    let m = &ep["metadata"];
    w.write(LEVEL_0, &format!("Name:\t{}\n", s(&m["name"])));
    w.write(LEVEL_0, &format!("Namespace:\t{}\n", s(&m["namespace"])));
    labels_multiline(w, "Labels", &m["labels"]);
    annotations_multiline(w, "Annotations", &m["annotations"]);
    w.write(LEVEL_0, "Subsets:\n");
    for subset in arr(&ep["subsets"]) {
        for (field, title) in [
            ("addresses", "Addresses"),
            ("notReadyAddresses", "NotReadyAddresses"),
        ] {
            let ips: Vec<&str> = arr(&subset[field]).iter().map(|a| s(&a["ip"])).collect();
            w.write(
                LEVEL_1,
                &format!("{title}:\t{}\n", super::or_none(&ips.join(","))),
            );
        }
        let ports = arr(&subset["ports"]);
        if !ports.is_empty() {
            w.write(LEVEL_1, "Ports:\n");
            w.write(LEVEL_2, "Name\tPort\tProtocol\n");
            w.write(LEVEL_2, "----\t----\t--------\n");
            for p in ports {
                let name = match s(&p["name"]) {
                    "" => "<unset>",
                    n => n,
                };
                w.write(
                    LEVEL_2,
                    &format!("{name}\t{}\t{}\n", int(&p["port"]), s(&p["protocol"])),
                );
            }
        }
        w.write(LEVEL_0, "\n");
    }
    cx.events(w);
}

/// `describeEndpointSliceV1`.
pub(crate) fn describe_endpoint_slice(w: &mut PrefixWriter, eps: &Value, cx: &Cx) {
    let m = &eps["metadata"];
    w.write(LEVEL_0, &format!("Name:\t{}\n", s(&m["name"])));
    w.write(LEVEL_0, &format!("Namespace:\t{}\n", s(&m["namespace"])));
    labels_multiline(w, "Labels", &m["labels"]);
    annotations_multiline(w, "Annotations", &m["annotations"]);
    w.write(
        LEVEL_0,
        &format!("AddressType:\t{}\n", s(&eps["addressType"])),
    );
    let ports = arr(&eps["ports"]);
    if ports.is_empty() {
        w.write(LEVEL_0, "Ports: <unset>\n");
    } else {
        w.write(LEVEL_0, "Ports:\n");
        w.write(LEVEL_1, "Name\tPort\tProtocol\n");
        w.write(LEVEL_1, "----\t----\t--------\n");
        for p in ports {
            let name = match s(&p["name"]) {
                "" => "<unset>",
                n => n,
            };
            let port = if p["port"].is_null() {
                "<unset>".to_string()
            } else {
                int(&p["port"]).to_string()
            };
            w.write(LEVEL_1, &format!("{name}\t{port}\t{}\n", s(&p["protocol"])));
        }
    }
    let endpoints = arr(&eps["endpoints"]);
    if endpoints.is_empty() {
        w.write(LEVEL_0, "Endpoints: <none>\n");
    } else {
        w.write(LEVEL_0, "Endpoints:\n");
        for e in endpoints {
            let addrs = strs(&e["addresses"]).join(", ");
            w.write(
                LEVEL_1,
                &format!("- Addresses:\t{}\n", super::or_none(&addrs)),
            );
            w.write(LEVEL_2, "Conditions:\n");
            let ready = match e["conditions"]["ready"].as_bool() {
                Some(b) => b.to_string(),
                None => "<unset>".into(),
            };
            w.write(LEVEL_3, &format!("Ready:\t{ready}\n"));
            let unset = |v: &Value| v.as_str().unwrap_or("<unset>").to_string();
            w.write(LEVEL_2, &format!("Hostname:\t{}\n", unset(&e["hostname"])));
            if e["targetRef"].is_object() {
                w.write(
                    LEVEL_2,
                    &format!(
                        "TargetRef:\t{}/{}\n",
                        s(&e["targetRef"]["kind"]),
                        s(&e["targetRef"]["name"])
                    ),
                );
            }
            w.write(LEVEL_2, &format!("NodeName:\t{}\n", unset(&e["nodeName"])));
            w.write(LEVEL_2, &format!("Zone:\t{}\n", unset(&e["zone"])));
        }
    }
    cx.events(w);
}

/// `serviceBackendStringer`: `name:port`.
fn service_backend_text(svc: &Value) -> String {
    let number = int(&svc["port"]["number"]);
    let port = if number != 0 {
        number.to_string()
    } else {
        s(&svc["port"]["name"]).to_string()
    };
    format!("{}:{port}", s(&svc["name"]))
}

/// `describeBackendV1`.
fn describe_backend(backend: &Value, cx: &Cx) -> String {
    if backend["service"].is_object() {
        let b = &backend["service"];
        let text = service_backend_text(b);
        match cx.rel.backends.get(s(&b["name"])) {
            None => format!("{text} (<none>)"),
            Some(Err(e)) => format!("{text} (<error: {e}>)"),
            Some(Ok((service, slices))) => {
                let number = int(&b["port"]["number"]);
                let pname = s(&b["port"]["name"]);
                let mut sp_name = "";
                for sp in arr(&service["spec"]["ports"]) {
                    if (number != 0 && number == int(&sp["port"]))
                        || (!pname.is_empty() && pname == s(&sp["name"]))
                    {
                        sp_name = s(&sp["name"]);
                    }
                }
                format!("{text} ({})", format_endpoint_slices(slices, Some(sp_name)))
            }
        }
    } else if backend["resource"].is_object() {
        let r = &backend["resource"];
        let group = r["apiGroup"].as_str().unwrap_or("<none>");
        format!(
            "APIGroup: {group}, Kind: {}, Name: {}",
            s(&r["kind"]),
            s(&r["name"])
        )
    } else {
        String::new()
    }
}

/// The Services an Ingress's backends name, which `describe.rs` looks up.
pub fn ingress_backend_services(ing: &Value) -> Vec<String> {
    let spec = &ing["spec"];
    let mut names = BTreeSet::new();
    let mut add = |b: &Value| {
        if let Some(n) = b["service"]["name"].as_str() {
            names.insert(n.to_string());
        }
    };
    add(&spec["defaultBackend"]);
    for r in arr(&spec["rules"]) {
        for p in arr(&r["http"]["paths"]) {
            add(&p["backend"]);
        }
    }
    names.into_iter().collect()
}

/// `describeIngressV1`.
pub(crate) fn describe_ingress(w: &mut PrefixWriter, ing: &Value, cx: &Cx) {
    let m = &ing["metadata"];
    let spec = &ing["spec"];
    w.write(LEVEL_0, &format!("Name:\t{}\n", s(&m["name"])));
    labels_multiline(w, "Labels", &m["labels"]);
    w.write(LEVEL_0, &format!("Namespace:\t{}\n", s(&m["namespace"])));
    let addresses: BTreeSet<&str> = arr(&ing["status"]["loadBalancer"]["ingress"])
        .iter()
        .filter_map(|i| match (s(&i["ip"]), s(&i["hostname"])) {
            ("", "") => None,
            ("", h) => Some(h),
            (ip, _) => Some(ip),
        })
        .collect();
    w.write(
        LEVEL_0,
        &format!(
            "Address:\t{}\n",
            addresses.into_iter().collect::<Vec<_>>().join(",")
        ),
    );
    let class = spec["ingressClassName"].as_str().unwrap_or("<none>");
    w.write(LEVEL_0, &format!("Ingress Class:\t{class}\n"));
    let default = if spec["defaultBackend"].is_object() {
        describe_backend(&spec["defaultBackend"], cx)
    } else {
        "<default>".into()
    };
    w.write(LEVEL_0, &format!("Default backend:\t{default}\n"));
    let tls = arr(&spec["tls"]);
    if !tls.is_empty() {
        w.write(LEVEL_0, "TLS:\n");
        for t in tls {
            let hosts = strs(&t["hosts"]).join(",");
            let secret = s(&t["secretName"]);
            if secret.is_empty() {
                w.write(LEVEL_1, &format!("SNI routes {hosts}\n"));
            } else {
                w.write(LEVEL_1, &format!("{secret} terminates {hosts}\n"));
            }
        }
    }
    w.write(LEVEL_0, "Rules:\n  Host\tPath\tBackends\n");
    w.write(LEVEL_1, "----\t----\t--------\n");
    let mut count = 0;
    for rule in arr(&spec["rules"]) {
        if !rule["http"].is_object() {
            continue;
        }
        count += 1;
        let host = match s(&rule["host"]) {
            "" => "*",
            h => h,
        };
        w.write(LEVEL_1, &format!("{host}\t\n"));
        for p in arr(&rule["http"]["paths"]) {
            w.write(
                LEVEL_2,
                &format!(
                    "\t{} \t{}\n",
                    s(&p["path"]),
                    describe_backend(&p["backend"], cx)
                ),
            );
        }
    }
    if count == 0 {
        w.write(LEVEL_1, &format!("*\t*\t{default}\n"));
    }
    annotations_multiline(w, "Annotations", &m["annotations"]);
    cx.events(w);
}

/// `describeIngressClassV1`.
pub(crate) fn describe_ingress_class(w: &mut PrefixWriter, ic: &Value, cx: &Cx) {
    let m = &ic["metadata"];
    let spec = &ic["spec"];
    w.write(LEVEL_0, &format!("Name:\t{}\n", s(&m["name"])));
    labels_multiline(w, "Labels", &m["labels"]);
    annotations_multiline(w, "Annotations", &m["annotations"]);
    w.write(
        LEVEL_0,
        &format!("Controller:\t{}\n", s(&spec["controller"])),
    );
    let p = &spec["parameters"];
    if p.is_object() {
        w.write(LEVEL_0, "Parameters:\n");
        if p["apiGroup"].is_string() {
            w.write(LEVEL_1, &format!("APIGroup:\t{}\n", s(&p["apiGroup"])));
        }
        w.write(LEVEL_1, &format!("Kind:\t{}\n", s(&p["kind"])));
        w.write(LEVEL_1, &format!("Name:\t{}\n", s(&p["name"])));
    }
    cx.events(w);
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use serde_json::json;

    use super::super::tests::NOW;
    use super::super::{describe, Related};
    use super::*;

    fn slice(port_name: &str, port: i64, ips: &[&str]) -> Value {
        json!({"ports": [{"name": port_name, "port": port, "protocol": "TCP"}],
               "endpoints": ips.iter().map(|ip| json!({"addresses": [ip]})).collect::<Vec<_>>()})
    }

    #[test]
    fn service_page_matches_describe_service() {
        // describeService: Port has three cells (name, port/proto), Endpoints from the
        // slices of that port name, at most three then "+ N more...".
        let svc = json!({
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
            "spec": {"type": "NodePort", "selector": {"app": "web"}, "clusterIP": "10.96.12.34",
                     "clusterIPs": ["10.96.12.34"], "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                     "ports": [{"name": "http", "port": 80, "targetPort": 8080, "nodePort": 30080, "protocol": "TCP"},
                               {"port": 9090, "targetPort": "metrics", "protocol": "TCP"}],
                     "sessionAffinity": "None", "externalTrafficPolicy": "Cluster", "internalTrafficPolicy": "Cluster"}
        });
        let rel = Related {
            endpoint_slices: vec![
                slice(
                    "http",
                    8080,
                    &["10.244.1.2", "10.244.1.3", "10.244.2.2", "10.244.2.3"],
                ),
                slice("", 9090, &["10.244.1.2"]),
            ],
            ..Default::default()
        };
        let got = describe("Service", &svc, Some(&[]), &rel, NOW).unwrap();
        let want = "\
Name:                     web
Namespace:                default
Labels:                   app=web
Annotations:              <none>
Selector:                 app=web
Type:                     NodePort
IP Family Policy:         SingleStack
IP Families:              IPv4
IP:                       10.96.12.34
IPs:                      10.96.12.34
Port:                     http  80/TCP
TargetPort:               8080/TCP
NodePort:                 http  30080/TCP
Endpoints:                10.244.1.2:8080,10.244.1.3:8080,10.244.2.2:8080 + 1 more...
Port:                     <unset>  9090/TCP
TargetPort:               metrics/TCP
Endpoints:                10.244.1.2:9090
Session Affinity:         None
External Traffic Policy:  Cluster
Internal Traffic Policy:  Cluster
Events:                   <none>
";
        assert_eq!(got, want);
    }

    #[test]
    fn endpoints_and_slices() {
        let ep = json!({
            "metadata": {"name": "web", "namespace": "default"},
            "subsets": [{"addresses": [{"ip": "10.244.1.2"}, {"ip": "10.244.1.3"}],
                         "ports": [{"port": 8080, "protocol": "TCP"}]}]
        });
        let want = "\
Name:         web
Namespace:    default
Labels:       <none>
Annotations:  <none>
Subsets:
  Addresses:          10.244.1.2,10.244.1.3
  NotReadyAddresses:  <none>
  Ports:
    Name     Port  Protocol
    ----     ----  --------
    <unset>  8080  TCP

Events:  <none>
";
        assert_eq!(
            describe("Endpoints", &ep, Some(&[]), &Related::default(), NOW).unwrap(),
            want
        );
        let eps = json!({
            "metadata": {"name": "web-abcde", "namespace": "default",
                         "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "ports": [{"name": "", "port": 8080, "protocol": "TCP"}],
            "endpoints": [{"addresses": ["10.244.1.2"], "conditions": {"ready": true},
                           "targetRef": {"kind": "Pod", "name": "web-1"}, "nodeName": "node-1"}]
        });
        let want = "\
Name:         web-abcde
Namespace:    default
Labels:       kubernetes.io/service-name=web
Annotations:  <none>
AddressType:  IPv4
Ports:
  Name     Port  Protocol
  ----     ----  --------
  <unset>  8080  TCP
Endpoints:
  - Addresses:  10.244.1.2
    Conditions:
      Ready:    true
    Hostname:   <unset>
    TargetRef:  Pod/web-1
    NodeName:   node-1
    Zone:       <unset>
Events:         <none>
";
        assert_eq!(
            describe("EndpointSlice", &eps, Some(&[]), &Related::default(), NOW).unwrap(),
            want
        );
    }

    #[test]
    fn ingress_and_class() {
        let ing = json!({
            "metadata": {"name": "site", "namespace": "default"},
            "spec": {"ingressClassName": "nginx",
                     "tls": [{"hosts": ["example.com"], "secretName": "tls-cert"}],
                     "rules": [{"host": "example.com", "http": {"paths": [
                         {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}},
                         {"path": "/api", "pathType": "Prefix", "backend": {"service": {"name": "api", "port": {"name": "http"}}}}
                     ]}}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}}
        });
        assert_eq!(ingress_backend_services(&ing), ["api", "web"]);
        let mut rel = Related::default();
        rel.backends.insert(
            "web".into(),
            Ok((
                json!({"spec": {"ports": [{"name": "http", "port": 80}]}}),
                vec![slice("http", 8080, &["10.244.1.2"])],
            )),
        );
        rel.backends
            .insert("api".into(), Err("services \"api\" not found".into()));
        let want = "\
Name:             site
Labels:           <none>
Namespace:        default
Address:          192.0.2.10
Ingress Class:    nginx
Default backend:  <default>
TLS:
  tls-cert terminates example.com
Rules:
  Host         Path  Backends
  ----         ----  --------
  example.com  
               /      web:80 (10.244.1.2:8080)
               /api   api:http (<error: services \"api\" not found>)
Annotations:   <none>
Events:        <none>
";
        assert_eq!(
            describe("Ingress", &ing, Some(&[]), &rel, NOW).unwrap(),
            want
        );
        let ic = json!({"metadata": {"name": "nginx"},
                        "spec": {"controller": "k8s.io/ingress-nginx",
                                 "parameters": {"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "external-lb"}}});
        let want = "\
Name:         nginx
Labels:       <none>
Annotations:  <none>
Controller:   k8s.io/ingress-nginx
Parameters:
  APIGroup:  k8s.example.com
  Kind:      IngressParameters
  Name:      external-lb
Events:      <none>
";
        assert_eq!(
            describe("IngressClass", &ic, Some(&[]), &Related::default(), NOW).unwrap(),
            want
        );
    }
}
