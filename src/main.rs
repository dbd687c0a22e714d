//! bootstrap
fn main() {
    let root = kessai_deployer::tools::project_root();
    for f in kessai_deployer::build::write_artifacts(&root).expect("build") { println!("{}", f.display()); }
}
