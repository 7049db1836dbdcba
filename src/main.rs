//! The `customerlink` executable: everything lives in the library; see `cli::main`.

fn main() {
    std::process::exit(customerlink::cli::main());
}
