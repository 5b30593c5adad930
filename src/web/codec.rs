//! The worker boundary's codec for gloo-worker: postcard bytes in a `Uint8Array`
//! (see [`crate::protocol::encode`]), not gloo-worker's default bincode.

use js_sys::Uint8Array;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

/// postcard over `Uint8Array`.
pub struct Postcard;

impl gloo_worker::Codec for Postcard {
    fn encode<I>(input: I) -> JsValue
    where
        I: Serialize,
    {
        let bytes = crate::protocol::encode(&input);
        Uint8Array::from(bytes.as_slice()).into()
    }

    fn decode<O>(input: JsValue) -> O
    where
        O: for<'de> Deserialize<'de>,
    {
        let bytes = Uint8Array::new(&input).to_vec();
        // Both ends are built from the same protocol module; a message that does not
        // decode is a bug, and the panic hook reports it.
        crate::protocol::decode(&bytes).unwrap_or_else(|e| panic!("{e}"))
    }
}
