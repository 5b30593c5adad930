//! The page's main (built by Trunk with the `web` feature).

fn main() {
    kubeglass::web::start_app();
}
