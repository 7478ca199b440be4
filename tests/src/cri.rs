//! The kubelet's side of CRI, for tests that run pod sandboxes through a containerd: connect
//! to its socket, run a sandbox, find its process, stop and remove it. Every call is bounded.

use crate::PATIENCE;
use crate::containerd::Containerd;
use hyper_util::rt::TokioIo;
use k8s_cri::v1::image_service_client::ImageServiceClient;
use k8s_cri::v1::runtime_service_client::RuntimeServiceClient;
use k8s_cri::v1::security_profile::ProfileType;
use k8s_cri::v1::{
    LinuxPodSandboxConfig, LinuxSandboxSecurityContext, NamespaceMode, NamespaceOption,
    PodSandboxConfig, PodSandboxMetadata, PodSandboxState, PodSandboxStatusRequest,
    RemovePodSandboxRequest, RunPodSandboxRequest, SecurityProfile, StopPodSandboxRequest,
};
use std::future::Future;
use std::path::Path;
use tonic::transport::{Channel, Endpoint, Uri};

/// Awaits `call` for at most PATIENCE: a stuck runtime fails the test instead of hanging it.
pub async fn bounded<T>(what: &str, call: impl Future<Output = Result<T, tonic::Status>>) -> T {
    match tokio::time::timeout(PATIENCE, call).await {
        Ok(Ok(value)) => value,
        Ok(Err(status)) => panic!("{what}: {status}"),
        Err(_) => panic!("{what}: no answer within {PATIENCE:?}"),
    }
}

/// The runtime and image services of `containerd`'s CRI plugin.
pub async fn connect(
    containerd: &Containerd,
) -> (RuntimeServiceClient<Channel>, ImageServiceClient<Channel>) {
    let socket = containerd.socket();
    let channel = Endpoint::try_from("http://[::]")
        .unwrap()
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let socket = socket.clone();
            async move {
                Ok::<_, std::io::Error>(TokioIo::new(
                    tokio::net::UnixStream::connect(socket).await?,
                ))
            }
        }))
        .await
        .expect("connect to containerd's socket");
    (
        RuntimeServiceClient::new(channel.clone()),
        ImageServiceClient::new(channel),
    )
}

/// A single-threaded runtime for the async client.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A sandbox on the host network (no CNI here; so no hostname) with a pod PID namespace whose
/// PID 1 is the sandbox process, optionally under a `Localhost` seccomp profile.
pub fn sandbox_config(name: &str, logs: &Path, seccomp: Option<&Path>) -> PodSandboxConfig {
    PodSandboxConfig {
        metadata: Some(PodSandboxMetadata {
            name: name.into(),
            uid: format!("{name}-uid"),
            namespace: "default".into(),
            attempt: 0,
        }),
        log_directory: logs.to_string_lossy().into_owned(),
        linux: Some(LinuxPodSandboxConfig {
            security_context: Some(LinuxSandboxSecurityContext {
                namespace_options: Some(NamespaceOption {
                    network: NamespaceMode::Node as i32,
                    pid: NamespaceMode::Pod as i32,
                    ipc: NamespaceMode::Pod as i32,
                    ..Default::default()
                }),
                seccomp: seccomp.map(|profile| SecurityProfile {
                    profile_type: ProfileType::Localhost as i32,
                    localhost_ref: profile.to_string_lossy().into_owned(),
                }),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// RunPodSandbox; returns the sandbox ID and its process's host PID once it is ready.
pub async fn run_sandbox(
    cri: &mut RuntimeServiceClient<Channel>,
    config: PodSandboxConfig,
) -> (String, i32) {
    let id = bounded(
        "RunPodSandbox",
        cri.run_pod_sandbox(RunPodSandboxRequest {
            config: Some(config),
            runtime_handler: String::new(),
        }),
    )
    .await
    .into_inner()
    .pod_sandbox_id;
    let status = bounded(
        "PodSandboxStatus",
        cri.pod_sandbox_status(PodSandboxStatusRequest {
            pod_sandbox_id: id.clone(),
            verbose: true,
        }),
    )
    .await
    .into_inner();
    assert_eq!(
        status.status.as_ref().unwrap().state,
        PodSandboxState::SandboxReady as i32
    );
    let info: serde_json::Value = serde_json::from_str(&status.info["info"]).unwrap();
    (id, info["pid"].as_i64().expect("sandbox pid") as i32)
}

/// StopPodSandbox then RemovePodSandbox, as the kubelet ends a pod.
pub async fn stop_and_remove(cri: &mut RuntimeServiceClient<Channel>, id: &str) {
    bounded(
        "StopPodSandbox",
        cri.stop_pod_sandbox(StopPodSandboxRequest {
            pod_sandbox_id: id.to_string(),
        }),
    )
    .await;
    bounded(
        "RemovePodSandbox",
        cri.remove_pod_sandbox(RemovePodSandboxRequest {
            pod_sandbox_id: id.to_string(),
        }),
    )
    .await;
}
