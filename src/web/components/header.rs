//! The header: scenario picker, play, pause, step, speed, the virtual clock, and
//! the scale test.

use std::rc::Rc;

use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::protocol::{ExampleInfo, Head, PersonAction, Speed, ToWorker};
use crate::web::context::use_app;
use crate::web::format;
use crate::web::i18n::{t, tf, Key};
use crate::web::state::Action;

/// The speeds offered: (value, factor; None: as fast as possible).
pub const SPEEDS: &[(&str, Option<f64>)] = &[
    ("0.1", Some(0.1)),
    ("0.25", Some(0.25)),
    ("0.5", Some(0.5)),
    ("1", Some(1.0)),
    ("2", Some(2.0)),
    ("5", Some(5.0)),
    ("10", Some(10.0)),
    ("100", Some(100.0)),
    ("max", None),
];

/// Pods a scale test may create.
pub const SCALE_SIZES: &[u32] = &[1_000, 10_000, 150_000];

fn speed_value(s: Speed) -> String {
    match s {
        Speed::Max => "max".into(),
        Speed::Times(x) => SPEEDS
            .iter()
            .find(|(_, f)| *f == Some(x))
            .map_or_else(|| x.to_string(), |(v, _)| (*v).to_string()),
    }
}

fn parse_speed(v: &str) -> Speed {
    match SPEEDS.iter().find(|(s, _)| *s == v) {
        Some((_, Some(f))) => Speed::Times(*f),
        Some((_, None)) => Speed::Max,
        None => Speed::Times(1.0),
    }
}

#[derive(Properties, PartialEq)]
pub struct HeaderProps {
    pub head: Head,
    pub examples: Rc<Vec<ExampleInfo>>,
    pub scenario: String,
    pub speed: Speed,
}

#[component]
pub fn Header(s: &HeaderProps) -> Html {
    let app = use_app();
    let playing = s.head.playing.is_some();
    let scale = use_state(|| SCALE_SIZES[SCALE_SIZES.len() - 1]);

    let on_scenario = {
        let app = app.clone();
        Callback::from(move |e: Event| {
            let v = e.target_unchecked_into::<HtmlSelectElement>().value();
            app.dispatch(Action::Cursor(None));
            app.send(ToWorker::Load { scenario: v });
        })
    };
    let on_play = {
        let app = app.clone();
        let speed = s.speed;
        Callback::from(move |_| {
            if playing {
                app.send(ToWorker::Pause);
            } else {
                app.dispatch(Action::Cursor(None));
                app.send(ToWorker::Play { speed });
            }
        })
    };
    let on_step = {
        let app = app.clone();
        Callback::from(move |_| {
            app.dispatch(Action::Cursor(None));
            app.send(ToWorker::Step);
        })
    };
    let on_speed = {
        let app = app.clone();
        Callback::from(move |e: Event| {
            let speed = parse_speed(&e.target_unchecked_into::<HtmlSelectElement>().value());
            app.dispatch(Action::Speed(speed));
            if playing {
                app.send(ToWorker::Play { speed });
            }
        })
    };
    let on_scale_size = {
        let scale = scale.clone();
        Callback::from(move |e: Event| {
            let v = e.target_unchecked_into::<HtmlSelectElement>().value();
            scale.set(v.parse().unwrap_or(SCALE_SIZES[0]));
        })
    };
    let on_scale = {
        let app = app.clone();
        let pods = *scale;
        Callback::from(move |_| app.act(PersonAction::ScaleTest { pods }))
    };

    let speed = speed_value(s.speed);
    let h = &s.head;
    let status = tf(
        Key::HeadStatus,
        &[
            &format::count(h.stamp.ops),
            &format::count(h.revision),
            &format::count(h.pending_events),
        ],
    );
    let progress = (h.scenario_steps > 0).then(|| {
        tf(
            Key::ScenarioProgress,
            &[&h.scenario_done.to_string(), &h.scenario_steps.to_string()],
        )
    });
    html! {
        <header class="kg-header">
            <div class="kg-brand">
                <strong>{ t(Key::AppName) }</strong>
                <span>{ t(Key::Tagline) }</span>
            </div>
            <label class="kg-field">
                <span>{ t(Key::Scenario) }</span>
                <select data-testid="scenario" onchange={on_scenario}>
                    { for s.examples.iter().map(|e| html! {
                        <option key={e.id.clone()} value={e.id.clone()} selected={e.id == s.scenario}
                            title={e.description.clone()}>{ e.title.clone() }</option>
                    }) }
                </select>
            </label>
            <div class="kg-controls">
                <button data-testid="play" class="kg-primary" onclick={on_play}>
                    { if playing { t(Key::Pause) } else { t(Key::Play) } }
                </button>
                <button data-testid="step" title={t(Key::StepHint)} onclick={on_step}>{ t(Key::Step) }</button>
                <label class="kg-field">
                    <span>{ t(Key::Speed) }</span>
                    <select data-testid="speed" onchange={on_speed}>
                        { for SPEEDS.iter().map(|(v, f)| {
                            let label = match f {
                                Some(_) => format!("{v}×"),
                                None => t(Key::SpeedMax).to_string(),
                            };
                            html! { <option key={*v} value={*v} selected={speed == *v}>{ label }</option> }
                        }) }
                    </select>
                </label>
            </div>
            <div class="kg-clock" title={t(Key::VirtualTime)}>
                <span class="kg-clock-label">{ t(Key::VirtualTime) }</span>
                <span data-testid="clock" class="kg-clock-time">{ format::clock(h.stamp.time) }</span>
            </div>
            <div class="kg-status" data-testid="status">
                <span>{ status }</span>
                if let Some(p) = progress { <span>{ p }</span> }
            </div>
            <div class="kg-scale" title={t(Key::ScaleTestHint)}>
                <select data-testid="scale-size" onchange={on_scale_size}>
                    { for SCALE_SIZES.iter().map(|n| html! {
                        <option key={n.to_string()} value={n.to_string()} selected={*n == *scale}>
                            { tf(Key::PodsCount, &[&format::count(u64::from(*n))]) }
                        </option>
                    }) }
                </select>
                <button data-testid="scale-test" onclick={on_scale}>{ t(Key::ScaleTest) }</button>
                if let Some((done, total)) = h.job {
                    <span data-testid="scale-progress" class="kg-progress">
                        { tf(Key::ScaleTestProgress, &[&format::count(done), &format::count(total)]) }
                    </span>
                }
            </div>
        </header>
    }
}
