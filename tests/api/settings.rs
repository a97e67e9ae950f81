use crate::helpers::manifest_dir;

/// cargo-leptos builds with Cargo.toml's metadata; the deployed binary
/// serves with Cargo-leptos.toml. If they disagree, the page asks for files
/// that were never built.
#[test]
fn leptos_settings_agree() {
    let build =
        leptos_config::get_config_from_str(&std::fs::read_to_string(manifest_dir().join("Cargo.toml")).unwrap())
            .unwrap();
    let run = repopass::leptos_settings::from_file(&manifest_dir().join("Cargo-leptos.toml")).unwrap();
    assert_eq!(build.output_name, run.output_name);
    assert_eq!(build.site_root, run.site_root);
    assert_eq!(build.site_pkg_dir, run.site_pkg_dir);
    assert_eq!(build.site_addr, run.site_addr);
    assert_eq!(build.reload_port, run.reload_port);
}
