//! `Shared<T>`: a copy-on-write field, so that versions of an object share what did
//! not change between them.
//!
//! The store keeps every version of an object as its own value (MVCC), and most
//! writes change little: binding a pod sets `spec.nodeName`, a status update touches
//! `status`. Without sharing, each new version deep-copies the containers, volumes,
//! tolerations, labels and annotations (about 5 KB for a small pod, 150,000 times
//! at the scale the benchmarks ask for). A `Shared` field is an `Arc`: cloning the
//! object bumps a count, and the first write through it (`DerefMut`) copies only
//! that field, and only if another version still holds it.
//!
//! It is invisible everywhere else: it reads as `&T`, writes as `&mut T`, iterates
//! as `T` does, compares by value, and (de)serializes exactly as `T`.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A field shared between versions of an object until one of them writes it.
#[derive(Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Shared<T>(Arc<T>);

impl<T> Shared<T> {
    pub fn new(value: T) -> Shared<T> {
        Shared(Arc::new(value))
    }

    /// Whether two fields share one value (no copy was made between them).
    pub fn ptr_eq(a: &Shared<T>, b: &Shared<T>) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }

    /// The value for writing, but only if no other version holds it (no copy).
    pub fn get_unique(this: &mut Shared<T>) -> Option<&mut T> {
        Arc::get_mut(&mut this.0)
    }
}

impl<T: Clone> Shared<T> {
    /// The value, copied only if another version still holds it.
    pub fn into_inner(self) -> T {
        Arc::unwrap_or_clone(self.0)
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(Arc::clone(&self.0))
    }
}

impl<T> Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Clone> DerefMut for Shared<T> {
    fn deref_mut(&mut self) -> &mut T {
        Arc::make_mut(&mut self.0)
    }
}

impl<T> AsRef<T> for Shared<T> {
    fn as_ref(&self) -> &T {
        &self.0
    }
}

impl<T> From<T> for Shared<T> {
    fn from(value: T) -> Self {
        Shared::new(value)
    }
}

impl<T: fmt::Debug> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<T: Serialize> Serialize for Shared<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Shared<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Shared::new)
    }
}

impl<A, T: FromIterator<A>> FromIterator<A> for Shared<T> {
    fn from_iter<I: IntoIterator<Item = A>>(iter: I) -> Self {
        Shared::new(iter.into_iter().collect())
    }
}

impl<'a, T> IntoIterator for &'a Shared<T>
where
    &'a T: IntoIterator,
{
    type Item = <&'a T as IntoIterator>::Item;
    type IntoIter = <&'a T as IntoIterator>::IntoIter;
    fn into_iter(self) -> Self::IntoIter {
        (&*self.0).into_iter()
    }
}

impl<'a, T: Clone> IntoIterator for &'a mut Shared<T>
where
    &'a mut T: IntoIterator,
{
    type Item = <&'a mut T as IntoIterator>::Item;
    type IntoIter = <&'a mut T as IntoIterator>::IntoIter;
    fn into_iter(self) -> Self::IntoIter {
        Arc::make_mut(&mut self.0).into_iter()
    }
}

impl<T: Clone + IntoIterator> IntoIterator for Shared<T> {
    type Item = T::Item;
    type IntoIter = T::IntoIter;
    fn into_iter(self) -> Self::IntoIter {
        self.into_inner().into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn clones_share_until_a_write_copies() {
        let mut a: Shared<Vec<String>> = vec!["x".to_string()].into();
        let b = a.clone();
        assert!(Shared::ptr_eq(&a, &b));
        a.push("y".into());
        assert!(!Shared::ptr_eq(&a, &b));
        assert_eq!(*b, vec!["x".to_string()]);
        assert_eq!(a.len(), 2);
        // A write to an unshared value copies nothing.
        let before = Arc::as_ptr(&a.0);
        a.push("z".into());
        assert_eq!(before, Arc::as_ptr(&a.0));
    }

    #[test]
    fn serializes_and_iterates_as_the_value() {
        let mut m: Shared<BTreeMap<String, String>> = Shared::default();
        m.insert("app".into(), "web".into());
        let v = serde_json::to_value(&m).unwrap_or_default();
        assert_eq!(v, serde_json::json!({"app": "web"}));
        let back: Shared<BTreeMap<String, String>> = serde_json::from_value(v).unwrap_or_default();
        assert_eq!(back, m);
        let keys: Vec<&String> = (&back).into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["app"]);
        for (_, v) in &mut m {
            v.push('!');
        }
        assert_eq!(m["app"], "web!");
    }
}
