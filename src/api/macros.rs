//! The one macro that declares API structs the way Kubernetes' Go types behave:
//! camelCase field names, unknown fields rejected (strict decoding), empty fields
//! omitted on output (Go's `omitempty`).

/// True when a value equals its type's default (an empty string, list or map, `None`).
pub fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// Declares one or more API structs. Every field is optional on input and omitted
/// from output when it holds its default value.
#[macro_export]
macro_rules! api_struct {
    ($(
        $(#[$m:meta])*
        pub struct $name:ident {
            $( $(#[$fm:meta])* $field:ident : $ty:ty ),* $(,)?
        }
    )*) => {$(
        $(#[$m])*
        #[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        pub struct $name {
            $(
                $(#[$fm])*
                #[serde(default, skip_serializing_if = "crate::api::macros::is_default")]
                pub $field: $ty,
            )*
        }
    )*};
}
