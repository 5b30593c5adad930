//! `kubeglass`: runs scenarios natively (see the README for the contract).

use std::io::Read;
use std::process::ExitCode;

use kubeglass::scenario::{self, Action};

#[path = "kubeglass/bench.rs"]
mod bench;

const USAGE: &str = "Usage:
  kubeglass run FILE [--json] [--trace]   run a scenario (FILE may be -)
  kubeglass bench scheduler [--nodes N] [--pods P] [--only whole|alone]
                                          150,000 pods onto 5,000 nodes; prints figures
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
        Some("bench") => bench_command(&args[1..]),
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

fn bench_command(args: &[String]) -> ExitCode {
    if args.first().map(String::as_str) != Some("scheduler") {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
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
    let parsed = scenario::parse(&text).and_then(|s| scenario::run(&s).map(|r| (s, r)));
    let (s, (results, runner)) = match parsed {
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
        for (step, r) in s.steps.iter().zip(&results) {
            println!("$ {}", step.command_line());
            match (&step.action, &r.output) {
                (_, serde_json::Value::String(out)) => {
                    if !out.is_empty() {
                        println!("{}", out.trim_end_matches('\n'));
                    }
                }
                (Action::Request { .. }, v) => {
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
