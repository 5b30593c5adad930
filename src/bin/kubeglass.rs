//! `kubeglass`: runs scenarios natively (see the README for the contract).

use std::io::Read;
use std::process::ExitCode;

use kubeglass::scenario::{self, Action};

#[path = "kubeglass/bench.rs"]
mod bench;

#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "Usage:
  kubeglass run FILE [--json] [--trace]   run a scenario (FILE may be -)
  kubeglass bench api [--pods N]          create N pods through the API pipeline (default 150000)
  kubeglass bench scenario [--pods N] [--nodes M]
                                          print a scenario that applies N unscheduled pods as one List
  kubeglass bench scheduler [--nodes N] [--pods P] [--only whole|alone]
                                          150,000 pods onto 5,000 nodes; prints figures
  kubeglass bench deployment [--pods N] [--nodes M]
                                          print a scenario: a Deployment of N replicas on M
                                          nodes with kubelets (150000 on 5000), then a rolling update
  kubeglass bench node-failure [--pods N] [--nodes M]
                                          a node running N pods (110) goes down: virtual time
                                          until all run elsewhere (M nodes, default 3), wall time
  kubeglass bench kube-proxy [--services N] [--endpoints M]
                                          kube-proxy's iptables full sync of N Services with M
                                          endpoints each (10000 × 10), then one Service added
  kubeglass bench netfilter [--services N] [--endpoints M]
                                          iptables-restore, iptables-save and a packet trace over
                                          kube-proxy's rules for N Services of M endpoints (10000, 10)
  kubeglass version

Options:
  --json    print {\"steps\": [RESULT, ...]}, one result per step
  --trace   print the trace (every action and why) after the steps";

fn read(path: &str) -> Result<String, String> {
    if path == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| format!("error: reading stdin: {e}"))?;
        Ok(s)
    } else {
        std::fs::read_to_string(path).map_err(|e| format!("error: reading {path}: {e}"))
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("bench") => bench(&args[1..]),
        Some("version") | Some("--version") => {
            println!("kubeglass {} (Kubernetes v1.31)", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some("help") | Some("--help") | Some("-h") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn bench_scheduler(args: &[String]) -> ExitCode {
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let num =
        |flag: &str, default: usize| value(flag).and_then(|v| v.parse().ok()).unwrap_or(default);
    let size = bench::Size {
        nodes: num("--nodes", 5_000),
        pods: num("--pods", 150_000),
    };
    let only = value("--only").unwrap_or_default();
    let mut code = ExitCode::SUCCESS;
    if only != "whole" {
        match bench::scheduler_alone(&size) {
            Ok(r) => println!("{r}"),
            Err(e) => {
                eprintln!("error: {e}");
                code = ExitCode::from(1);
            }
        }
    }
    if only != "alone" {
        match bench::whole_run(&size) {
            Ok(r) => println!("{r}"),
            Err(e) => {
                eprintln!("error: {e}");
                code = ExitCode::from(1);
            }
        }
    }
    code
}

fn run(args: &[String]) -> ExitCode {
    let json = args.iter().any(|a| a == "--json");
    let trace = args.iter().any(|a| a == "--trace");
    let files: Vec<&String> = args
        .iter()
        .filter(|a| !a.starts_with("--") || a.as_str() == "-")
        .collect();
    if let Some(bad) = args
        .iter()
        .find(|a| a.starts_with("--") && !["--json", "--trace"].contains(&a.as_str()))
    {
        eprintln!("error: unknown flag: {bad}\n{USAGE}");
        return ExitCode::from(2);
    }
    let [file] = files.as_slice() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let text = match read(file) {
        Ok(t) => t,
        Err(e) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({"error": {"message": e}, "steps": []})
                );
            } else {
                eprintln!("{e}");
            }
            return ExitCode::from(1);
        }
    };
    let parsed = scenario::parse(&text).and_then(|s| {
        // What the terminal view prints of each step, taken before the run consumes them.
        let lines: Vec<(String, bool)> = s
            .steps
            .iter()
            .map(|st| {
                (
                    st.command_line(),
                    matches!(st.action, Action::Request { .. }),
                )
            })
            .collect();
        scenario::run_owned(s).map(|r| (lines, r))
    });
    let (lines, (results, runner)) = match parsed {
        Ok(x) => x,
        Err(e) => {
            if json {
                let (v, _) = scenario::run_json(&text);
                println!("{v}");
            } else {
                eprintln!("error: {e}");
            }
            return ExitCode::from(1);
        }
    };
    if json {
        let v =
            serde_json::json!({"steps": results.iter().map(|r| r.to_json()).collect::<Vec<_>>()});
        println!("{v}");
    } else {
        for ((line, is_request), r) in lines.iter().zip(&results) {
            println!("$ {line}");
            match (is_request, &r.output) {
                (_, serde_json::Value::String(out)) => {
                    if !out.is_empty() {
                        println!("{}", out.trim_end_matches('\n'));
                    }
                }
                (true, v) => {
                    println!("HTTP {}", v["code"]);
                    println!("{}", kubeglass::yaml::to_json_pretty(&v["body"]));
                }
                (_, serde_json::Value::Null) => {}
                (_, v) => println!("{}", kubeglass::yaml::to_json_pretty(v)),
            }
            if !r.stderr.is_empty() {
                print!("{}", r.stderr);
            }
            if let Some(m) = r.error.get("message").and_then(|m| m.as_str()) {
                println!("{m}");
            }
        }
    }
    if trace {
        print!("{}", runner.cluster.k.trace.render());
    }
    ExitCode::SUCCESS
}

fn flag(args: &[String], name: &str, default: usize) -> Result<usize, String> {
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("error: {name} needs a number")),
    }
}

/// Peak resident memory of this process, from /proc (Linux).
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l["VmHWM:".len()..].trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn bench(args: &[String]) -> ExitCode {
    let pods = match flag(args, "--pods", 150_000) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match args.first().map(String::as_str) {
        Some("api") => {
            let start = std::time::Instant::now();
            let clock = move || start.elapsed().as_secs_f64();
            let report = kubeglass::bench::create_pods(pods, &clock);
            println!("{}", report.line());
            println!("peak memory (VmHWM): {}", peak_rss());
            ExitCode::SUCCESS
        }
        Some("scheduler") => bench_scheduler(args),
        Some("kube-proxy") => {
            let services = flag(args, "--services", 10_000).unwrap_or(10_000);
            let endpoints = flag(args, "--endpoints", 10).unwrap_or(10);
            let start = std::time::Instant::now();
            let clock = move || start.elapsed().as_secs_f64();
            for report in kubeglass::kubeproxy::bench::run(services, endpoints, &clock) {
                println!("{}", report.line());
            }
            println!("peak memory (VmHWM): {}", peak_rss());
            ExitCode::SUCCESS
        }
        Some("scenario") => {
            let nodes = flag(args, "--nodes", 3).unwrap_or(3);
            println!("{}", kubeglass::bench::pods_scenario(pods, nodes));
            ExitCode::SUCCESS
        }
        Some("deployment") => {
            let nodes = flag(args, "--nodes", 5000).unwrap_or(5000);
            println!("{}", kubeglass::bench::deployment_scenario(pods, nodes));
            ExitCode::SUCCESS
        }
        Some("netfilter") => {
            let services = flag(args, "--services", 10_000).unwrap_or(10_000);
            let endpoints = flag(args, "--endpoints", 10).unwrap_or(10);
            let start = std::time::Instant::now();
            let clock = move || start.elapsed().as_secs_f64();
            match kubeglass::bench::netfilter(services, endpoints, &clock) {
                Ok(reports) => {
                    for r in reports {
                        println!("{}", r.line());
                    }
                    println!("peak memory (VmHWM): {}", peak_rss());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some("node-failure") => {
            let pods = if args.iter().any(|a| a == "--pods") {
                pods
            } else {
                110
            };
            let nodes = flag(args, "--nodes", 3).unwrap_or(3);
            let start = std::time::Instant::now();
            let clock = move || start.elapsed().as_secs_f64();
            match kubeglass::bench::node_failure(pods, nodes, &clock) {
                Ok(report) => {
                    println!("{}", report.line());
                    println!("peak memory (VmHWM): {}", peak_rss());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
