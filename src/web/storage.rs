//! What survives a reload, in local storage: the inputs log, the editor's text
//! and the kubectl history. Everything is JSON under versioned keys.

use gloo::storage::{LocalStorage, Storage};

use crate::protocol::InputsLog;

pub const LOG_KEY: &str = "kubeglass.v1.inputs";
pub const EDITOR_KEY: &str = "kubeglass.v1.editor";
pub const HISTORY_KEY: &str = "kubeglass.v1.kubectl-history";

/// The inputs log of the last session, if any (and if it still reads).
pub fn load_log() -> Option<InputsLog> {
    LocalStorage::get(LOG_KEY).ok()
}

pub fn save_log(log: &InputsLog) {
    // A full storage quota only costs the log's persistence.
    let _ = LocalStorage::set(LOG_KEY, log);
}

pub fn load_editor() -> Option<String> {
    LocalStorage::get(EDITOR_KEY).ok()
}

pub fn save_editor(text: &str) {
    let _ = LocalStorage::set(EDITOR_KEY, text);
}

pub fn load_history() -> Vec<String> {
    LocalStorage::get(HISTORY_KEY).unwrap_or_default()
}

pub fn save_history(history: &[String]) {
    let _ = LocalStorage::set(HISTORY_KEY, history);
}
