use crate::scheduler::cache::Snapshot;
use crate::scheduler::framework::{
    ClusterEvent, CycleState, Explanation, NodeInfo, Plugin, PluginCtx, PodInfo, ScorePlugin,
    Status,
};

pub const NAME: &str = "ImageLocality";

const MB: i64 = 1024 * 1024;
/// Below this (summed, spread-scaled) image size a node scores 0.
pub const MIN_THRESHOLD: i64 = 23 * MB;
/// Per container, the size at which a node scores the maximum.
pub const MAX_CONTAINER_THRESHOLD: i64 = 1000 * MB;

/// Score: favours nodes that already have the pod's images, weighted by how few
/// nodes have them (an image on every node says nothing).
pub struct ImageLocality;

impl Plugin for ImageLocality {
    fn name(&self) -> &str {
        NAME
    }
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
    fn events(&self) -> &'static [ClusterEvent] {
        &[]
    }
}

pub use crate::scheduler::framework::types::normalized_image_name;

/// (sum of the spread-scaled sizes of the pod's images on the node, how many are there).
fn sum_image_scores(pod: &PodInfo, node: &NodeInfo, snap: &Snapshot) -> (i64, i64) {
    let ids: Vec<u32> = pod
        .images
        .iter()
        .filter_map(|img| snap.interner.get(img))
        .collect();
    sum_image_ids(&ids, node, snap)
}

/// [`sum_image_scores`] with the pod's image names already looked up.
fn sum_image_ids(ids: &[u32], node: &NodeInfo, snap: &Snapshot) -> (i64, i64) {
    let total = snap.num_nodes().max(1) as f64;
    let mut sum = 0i64;
    let mut found = 0i64;
    for &id in ids {
        if let Ok(i) = node.image_ids.binary_search_by_key(&id, |(k, _)| *k) {
            let size = node.image_ids[i].1;
            let n = snap.image_nodes.get(id as usize).copied().unwrap_or(1);
            let scaled = (size as f64 * (n as f64 / total)) as i64;
            sum = sum.saturating_add(scaled);
            found += 1;
        }
    }
    (sum, found)
}

/// `calculatePriority`.
pub fn calculate_priority(sum: i64, containers: usize, max_score: i64) -> i64 {
    let max_threshold = MAX_CONTAINER_THRESHOLD.saturating_mul(containers as i64);
    let clamped = if sum < MIN_THRESHOLD {
        MIN_THRESHOLD
    } else if sum > max_threshold {
        max_threshold
    } else {
        sum
    };
    let den = max_threshold - MIN_THRESHOLD;
    if den == 0 {
        return 0;
    }
    max_score * (clamped - MIN_THRESHOLD) / den
}

impl ScorePlugin for ImageLocality {
    fn score(
        &self,
        pc: PluginCtx,
        _: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        snap: &Snapshot,
    ) -> Result<i64, Status> {
        if node.image_ids.is_empty() {
            return Ok(0);
        }
        let (sum, _) = sum_image_scores(pod, node, snap);
        Ok(calculate_priority(sum, pod.images.len(), pc.max_score))
    }

    fn score_nodes(
        &self,
        pc: PluginCtx,
        _: &CycleState,
        pod: &PodInfo,
        nodes: &[&NodeInfo],
        snap: &Snapshot,
        out: &mut Vec<i64>,
    ) -> Result<(), Status> {
        let mut inline = [0u32; 8];
        let mut len = 0;
        let mut heap = Vec::new();
        for id in pod.images.iter().filter_map(|img| snap.interner.get(img)) {
            if len < inline.len() {
                inline[len] = id;
                len += 1;
            } else {
                heap.push(id);
            }
        }
        if !heap.is_empty() {
            heap.splice(0..0, inline[..len].iter().copied());
        }
        let ids: &[u32] = if heap.is_empty() {
            &inline[..len]
        } else {
            &heap
        };
        out.clear();
        out.extend(nodes.iter().map(|n| {
            if n.image_ids.is_empty() || ids.is_empty() {
                0
            } else {
                let (sum, _) = sum_image_ids(ids, n, snap);
                calculate_priority(sum, pod.images.len(), pc.max_score)
            }
        }));
        Ok(())
    }

    fn explanation(
        &self,
        _: PluginCtx,
        _: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        snap: &Snapshot,
        _: i64,
    ) -> Explanation {
        let (sum, found) = sum_image_scores(pod, node, snap);
        Explanation::nums(&[sum, found, pod.images.len() as i64])
    }

    fn render(&self, e: &Explanation, raw: i64) -> String {
        match e.numbers() {
            [_, 0, _] => "none of the pod's images is on the node: 0".into(),
            [sum, found, n] => format!(
                "{found} of the pod's {n} image(s) on the node, {sum} bytes after scaling by the share of nodes that have them; 100 × (clamp({sum}, 23Mi, {n} × 1000Mi) − 23Mi) / ({n} × 1000Mi − 23Mi) = {raw}"
            ),
            _ => format!("{raw}"),
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::scheduler::plugins::testing::{pod, scores, world};
    use serde_json::json;

    #[test]
    fn names_and_scores() {
        assert_eq!(normalized_image_name("gcr.io/40"), "gcr.io/40:latest");
        assert_eq!(
            normalized_image_name("gcr.io:5000/40"),
            "gcr.io:5000/40:latest"
        );
        assert_eq!(normalized_image_name("gcr.io/40:v1"), "gcr.io/40:v1");
        // Upstream's "two images spread on two nodes, prefer the larger image one".
        let c = world(
            vec![
                json!({"metadata": {"name": "node1"}, "status": {"images": [
                    {"names": ["gcr.io/40:latest", "gcr.io/40:v1"], "sizeBytes": 40 * MB},
                    {"names": ["gcr.io/300:latest", "gcr.io/300:v1"], "sizeBytes": 300 * MB},
                    {"names": ["gcr.io/2000:latest"], "sizeBytes": 2000 * MB}
                ]}}),
                json!({"metadata": {"name": "node2"}, "status": {"images": [
                    {"names": ["gcr.io/250:latest"], "sizeBytes": 250 * MB},
                    {"names": ["gcr.io/10:latest", "gcr.io/10:v1"], "sizeBytes": 10 * MB}
                ]}}),
            ],
            vec![],
        );
        let p = pod(
            json!({"spec": {"containers": [{"name": "a", "image": "gcr.io/40"}, {"name": "b", "image": "gcr.io/250"}]}}),
        );
        // node1: 40MB × 1/2 = 20MB; node2: 250MB × 1/2 = 125MB → 100 × (125−23)/(2000−23) = 5.
        assert_eq!(
            scores(&c, &ImageLocality, &p).unwrap(),
            [("node1".into(), 0), ("node2".into(), 5)]
        );
    }
}
