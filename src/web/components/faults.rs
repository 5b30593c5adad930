//! The inspector's fault and node buttons: on a Node, stop it, start it, partition
//! it, cordon, uncordon and drain it; on a Pod, crash a container or delete the pod.
//! Each button sends a [`Fault`] action (the worker runs it as the `fault` step or
//! the kubectl command it stands for, see `host::faults`); its result comes back
//! here and to the console, and the timeline shows why things followed.

use std::rc::Rc;

use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::protocol::{ActResult, Fault, ObjKey, PersonAction};
use crate::web::context::use_app;
use crate::web::i18n::{t, Key};

#[derive(Properties, PartialEq)]
pub struct FaultButtonsProps {
    /// A Node or a Pod (other kinds have no buttons).
    pub target: ObjKey,
    /// The Pod's containers.
    pub containers: Vec<String>,
    pub result: Option<Rc<ActResult>>,
}

/// The buttons a kind offers: (test id, label, hint, action).
fn buttons(key: &ObjKey, container: &str) -> Vec<(&'static str, Key, Key, Fault)> {
    let node = || key.name.clone();
    match key.kind.as_str() {
        "Node" => vec![
            (
                "fault-node-down",
                Key::FaultNodeDown,
                Key::FaultNodeDownHint,
                Fault::NodeDown { node: node() },
            ),
            (
                "fault-node-up",
                Key::FaultNodeUp,
                Key::FaultNodeUpHint,
                Fault::NodeUp { node: node() },
            ),
            (
                "fault-partition",
                Key::FaultPartition,
                Key::FaultPartitionHint,
                Fault::Partition { node: node() },
            ),
            (
                "fault-cordon",
                Key::FaultCordon,
                Key::FaultCordonHint,
                Fault::Cordon { node: node() },
            ),
            (
                "fault-uncordon",
                Key::FaultUncordon,
                Key::FaultUncordonHint,
                Fault::Uncordon { node: node() },
            ),
            (
                "fault-drain",
                Key::FaultDrain,
                Key::FaultDrainHint,
                Fault::Drain { node: node() },
            ),
        ],
        "Pod" => vec![
            (
                "fault-crash",
                Key::FaultCrash,
                Key::FaultCrashHint,
                Fault::Crash {
                    namespace: key.namespace.clone(),
                    pod: key.name.clone(),
                    container: container.to_string(),
                },
            ),
            (
                "fault-delete-pod",
                Key::FaultDeletePod,
                Key::FaultDeletePodHint,
                Fault::DeletePod {
                    namespace: key.namespace.clone(),
                    pod: key.name.clone(),
                },
            ),
        ],
        _ => Vec::new(),
    }
}

#[component]
pub fn FaultButtons(p: &FaultButtonsProps) -> Html {
    let app = use_app();
    // The chosen container ("": the first, as the fault step's default).
    let chosen = use_state(String::new);
    {
        let chosen = chosen.clone();
        use_effect_with(p.target.clone(), move |_| chosen.set(String::new()));
    }
    let container = if p.containers.contains(&*chosen) {
        (*chosen).clone()
    } else {
        p.containers.first().cloned().unwrap_or_default()
    };
    let list = buttons(&p.target, &container);
    if list.is_empty() {
        return html! {};
    }
    let on_container = {
        let chosen = chosen.clone();
        Callback::from(move |e: Event| {
            chosen.set(e.target_unchecked_into::<HtmlSelectElement>().value())
        })
    };
    html! {
        <div class="kg-faults" data-testid="faults">
            <h3>{ t(Key::FaultsTitle) }</h3>
            <p class="kg-hint">{ t(Key::FaultsHint) }</p>
            if p.containers.len() > 1 {
                <label class="kg-field">
                    <span>{ t(Key::FaultContainer) }</span>
                    <select data-testid="fault-container" onchange={on_container}>
                        { for p.containers.iter().map(|c| html! {
                            <option key={c.clone()} value={c.clone()} selected={*c == container}>{ c.clone() }</option>
                        }) }
                    </select>
                </label>
            }
            <div class="kg-fault-buttons">
                { for list.into_iter().map(|(id, label, hint, fault)| {
                    let app = app.clone();
                    let onclick = Callback::from(move |_| app.act(PersonAction::Fault(fault.clone())));
                    html! { <button key={id} data-testid={id} title={t(hint)} {onclick}>{ t(label) }</button> }
                }) }
            </div>
            if let Some(r) = p.result.clone() {
                <div class={classes!("kg-result", if r.ok { "kg-ok" } else { "kg-failed" })} data-testid="fault-result">
                    <p class="kg-command"><code>{ r.command.clone() }</code></p>
                    if !r.stdout.is_empty() { <pre class="kg-stdout">{ r.stdout.clone() }</pre> }
                    if !r.stderr.is_empty() { <pre class="kg-stderr">{ r.stderr.clone() }</pre> }
                </div>
            }
        </div>
    }
}
