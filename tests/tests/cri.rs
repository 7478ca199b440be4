//! The kubelet's path: containerd's CRI plugin with `sandbox_image` set to our image, driven
//! over its gRPC socket with the calls the kubelet makes (RunPodSandbox, CreateContainer,
//! StartContainer, StopPodSandbox, RemovePodSandbox).

use fs_err as fs;
use k8s_cri::v1::security_profile::ProfileType;
use k8s_cri::v1::{
    ContainerConfig, ContainerMetadata, ContainerState, ContainerStatusRequest,
    CreateContainerRequest, ImageSpec, LinuxContainerConfig, LinuxContainerSecurityContext,
    LinuxPodSandboxConfig, LinuxSandboxSecurityContext, ListContainersRequest, NamespaceMode,
    NamespaceOption, PodSandboxConfig, PodSandboxMetadata, PodSandboxState,
    PodSandboxStatusRequest, RemovePodSandboxRequest, SecurityProfile, StartContainerRequest,
    StatusRequest, StopPodSandboxRequest, VersionRequest,
};
use pause_tests::containerd::Containerd;
use pause_tests::containers::{Podman, image_archive};
use pause_tests::cri::{bounded, connect, run_sandbox};
use pause_tests::{Arch, PATIENCE, poll, proc_stat, status_field};

/// Pod-level namespaces: the host network (no CNI in this sandbox), and a pod PID namespace
/// whose PID 1 is the sandbox's pause.
fn namespaces() -> Option<NamespaceOption> {
    Some(NamespaceOption {
        network: NamespaceMode::Node as i32,
        pid: NamespaceMode::Pod as i32,
        ipc: NamespaceMode::Pod as i32,
        ..Default::default()
    })
}

#[test]
fn containerd_runs_our_image_as_the_pod_sandbox() {
    let version = env!("CARGO_PKG_VERSION");
    let sandbox_image = format!("localhost/pause:{version}");
    let containerd = Containerd::start(&sandbox_image);
    // index.json tags the image with the version; ctr puts the name in front of the tag.
    containerd.import(&image_archive(), "localhost/pause");

    // An app image: busybox, saved by podman as an OCI archive and imported the same way.
    let podman = Podman::isolated();
    let busybox_archive = podman.busybox_oci_archive();
    containerd.import(&busybox_archive, "localhost/busybox");

    let profile = xtask::workspace_root()
        .join("seccomp/pause.json")
        .display()
        .to_string();
    let logs = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (mut cri, _) = connect(&containerd).await;
        bounded("Version", cri.version(VersionRequest::default())).await;
        // What kubeadm's preflight compares with its own pause image: containerd 1.x reports
        // its sandbox_image in the CRI status (2.x does not: tests/kubelet.rs).
        let status = bounded("Status", cri.status(StatusRequest { verbose: true }))
            .await
            .into_inner();
        let config: serde_json::Value =
            serde_json::from_str(&status.info["config"]).expect("the status's config is JSON");
        assert_eq!(
            config["sandboxImage"].as_str(),
            Some(sandbox_image.as_str()),
            "the sandbox image containerd 1.6 reports"
        );

        // A pod sandbox on the host network must not set a hostname.
        let sandbox_config = PodSandboxConfig {
            metadata: Some(PodSandboxMetadata {
                name: "pause-test".into(),
                uid: "pause-test-uid".into(),
                namespace: "default".into(),
                attempt: 0,
            }),
            log_directory: logs.path().to_string_lossy().into_owned(),
            linux: Some(LinuxPodSandboxConfig {
                security_context: Some(LinuxSandboxSecurityContext {
                    namespace_options: namespaces(),
                    // A CRI client that sets the sandbox's profile: it runs under
                    // seccomp/pause.json. (The kubelet never does this: it asks RuntimeDefault
                    // for every sandbox, as tests/kubelet.rs shows.)
                    seccomp: Some(SecurityProfile {
                        profile_type: ProfileType::Localhost as i32,
                        localhost_ref: profile.clone(),
                    }),
                    readonly_rootfs: true,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let (sandbox_id, pid) = run_sandbox(&mut cri, sandbox_config.clone()).await;
        // The sandbox's process is our binary for this host, as the image's user.
        // READY can come a moment before runc's init has exec'd /pause: wait for the exec.
        let host = Arch::host().expect("this machine's architecture is one we ship");
        let ours = fs::read(host.dist_binary()).unwrap();
        poll("the sandbox to exec our binary", || {
            (fs::read(format!("/proc/{pid}/exe")).ok()? == ours).then_some(())
        });
        assert_eq!(status_field(pid, "Uid"), "65535");
        assert_eq!(status_field(pid, "Seccomp"), "2");
        assert_eq!(status_field(pid, "NoNewPrivs"), "1");

        let container_id = bounded(
            "CreateContainer",
            cri.create_container(CreateContainerRequest {
                pod_sandbox_id: sandbox_id.clone(),
                config: Some(ContainerConfig {
                    metadata: Some(ContainerMetadata {
                        name: "app".into(),
                        attempt: 0,
                    }),
                    image: Some(ImageSpec {
                        image: "localhost/busybox:test".into(),
                        ..Default::default()
                    }),
                    command: vec!["ps".into(), "-o".into(), "pid,comm".into()],
                    log_path: "app.log".into(),
                    linux: Some(LinuxContainerConfig {
                        security_context: Some(LinuxContainerSecurityContext {
                            namespace_options: namespaces(),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                sandbox_config: Some(sandbox_config),
            }),
        )
        .await
        .into_inner()
        .container_id;
        bounded(
            "StartContainer",
            cri.start_container(StartContainerRequest {
                container_id: container_id.clone(),
            }),
        )
        .await;

        // Wait (bounded) for the app to exit, then read what it saw.
        let deadline = tokio::time::Instant::now() + PATIENCE;
        let exit_code = loop {
            let status = bounded(
                "ContainerStatus",
                cri.container_status(ContainerStatusRequest {
                    container_id: container_id.clone(),
                    verbose: false,
                }),
            )
            .await
            .into_inner()
            .status
            .unwrap();
            if status.state == ContainerState::ContainerExited as i32 {
                break status.exit_code;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the app never exited"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        assert_eq!(exit_code, 0);
        // CRI log lines: "<time> <stream> <tag> <message>".
        let log = fs::read_to_string(logs.path().join("app.log")).unwrap();
        let seen: Vec<Vec<&str>> = log
            .lines()
            .map(|l| {
                l.splitn(4, ' ')
                    .nth(3)
                    .unwrap_or("")
                    .split_whitespace()
                    .collect()
            })
            .collect();
        assert!(
            seen.contains(&vec!["1", "pause"]),
            "pause is not PID 1 of the pod:\n{log}"
        );

        bounded(
            "StopPodSandbox",
            cri.stop_pod_sandbox(StopPodSandboxRequest {
                pod_sandbox_id: sandbox_id.clone(),
            }),
        )
        .await;
        poll("the sandbox process to end", || {
            proc_stat(pid).is_none_or(|s| s.state == 'Z').then_some(())
        });
        let status = bounded(
            "PodSandboxStatus",
            cri.pod_sandbox_status(PodSandboxStatusRequest {
                pod_sandbox_id: sandbox_id.clone(),
                verbose: false,
            }),
        )
        .await
        .into_inner();
        assert_eq!(
            status.status.unwrap().state,
            PodSandboxState::SandboxNotready as i32
        );
        bounded(
            "RemovePodSandbox",
            cri.remove_pod_sandbox(RemovePodSandboxRequest {
                pod_sandbox_id: sandbox_id.clone(),
            }),
        )
        .await;
        let left = bounded(
            "ListContainers",
            cri.list_containers(ListContainersRequest::default()),
        )
        .await
        .into_inner()
        .containers;
        assert!(
            left.is_empty(),
            "containers left after RemovePodSandbox: {left:?}"
        );
    });
    drop(containerd);
}
