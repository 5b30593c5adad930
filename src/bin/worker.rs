//! The web worker's main: the simulation runs here (built by Trunk with the `web` feature).

fn main() {
    kubeglass::web::start_worker();
}
