//! Runtime configuration snippets that pin the sandbox image by the index digest
//! (`REGISTRY/pause@sha256:...`), written by `cargo xtask dist` to target/dist/pins/. A digest
//! names one multi-arch image for good: a tag can be moved, a digest cannot. `REGISTRY` is left
//! for the operator to replace.

/// The placeholder the operator replaces with their registry (and any path under it).
pub const REGISTRY: &str = "REGISTRY";

/// One snippet: its file name under pins/ and its text.
pub struct Snippet {
    pub file: &'static str,
    pub text: String,
}

/// `REGISTRY/pause@sha256:<index>`.
pub fn pinned_ref(index_sha256: &str) -> String {
    format!("{REGISTRY}/pause@sha256:{index_sha256}")
}

/// Every snippet for the image index `index_sha256` of version `version`.
pub fn snippets(index_sha256: &str, version: &str) -> Vec<Snippet> {
    let image = pinned_ref(index_sha256);
    let tagged = format!("{REGISTRY}/pause:{version}");
    vec![
        Snippet {
            file: "containerd-1.toml",
            text: format!(
                "# containerd 1.6 and 1.7: merge into /etc/containerd/config.toml (version = 2).\n\
                 [plugins.\"io.containerd.grpc.v1.cri\"]\n  sandbox_image = \"{image}\"\n"
            ),
        },
        Snippet {
            file: "containerd-2.toml",
            text: format!(
                "# containerd 2.x: merge into /etc/containerd/config.toml (version = 3).\n\
                 [plugins.\"io.containerd.cri.v1.images\".pinned_images]\n  sandbox = \"{image}\"\n"
            ),
        },
        Snippet {
            file: "crio.conf",
            text: format!(
                "# CRI-O: /etc/crio/crio.conf.d/10-pause.conf. pinned_images keeps the kubelet's\n\
                 # image garbage collection away from it.\n\
                 [crio.image]\npause_image = \"{image}\"\npinned_images = [\"{image}\"]\n"
            ),
        },
        Snippet {
            file: "containers.conf",
            text: format!(
                "# podman: containers.conf ($HOME/.config/containers/ or /etc/containers/).\n\
                 [engine]\ninfra_image = \"{image}\"\n"
            ),
        },
        Snippet {
            file: "airgap.sh",
            text: format!(
                "# Air-gapped nodes: load the archive, give it the pinned name, and pin it.\n\
                 # containerd 1.6/1.7 (CRI namespace k8s.io); the label is what containerd's CRI\n\
                 # reports to the kubelet as pinned, so image garbage collection never removes it.\n\
                 ctr -n k8s.io images import --all-platforms --base-name {REGISTRY}/pause pause-oci.tar\n\
                 ctr -n k8s.io images tag {tagged} {image}\n\
                 ctr -n k8s.io images label {image} io.cri-containerd.pinned=pinned\n\
                 # podman and CRI-O (containers-storage); CRI-O pins by pinned_images (crio.conf).\n\
                 skopeo copy oci-archive:pause-oci.tar:{version} containers-storage:{tagged}\n"
            ),
        },
    ]
}

/// The image the snippet `file` that dist wrote (`target/dist/pins/`) sets as `key`, with
/// REGISTRY replaced by `registry`: what the runtime given that snippet pulls.
pub fn pinned_in(file: &str, key: &str, registry: &str) -> anyhow::Result<String> {
    use anyhow::Context;
    let path = crate::dist_dir().join("pins").join(file);
    let snippet = fs_err::read_to_string(&path)?;
    let value = snippet
        .lines()
        .find_map(|l| l.trim().strip_prefix(key)?.trim_start().strip_prefix('='))
        .with_context(|| format!("{} sets no {key}", path.display()))?;
    Ok(value.trim().trim_matches('"').replace(REGISTRY, registry))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_snippet_names_the_digest_and_no_tag_but_the_recipe() {
        let digest = "ab".repeat(32);
        for snippet in snippets(&digest, "9.8.7") {
            assert!(
                snippet.text.contains(&pinned_ref(&digest)),
                "{}",
                snippet.file
            );
            assert_eq!(snippet.text.contains(":9.8.7"), snippet.file == "airgap.sh");
        }
    }
}
