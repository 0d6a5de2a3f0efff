//! `egress serve --service`: the same server as a Windows service, started
//! by the service control manager (docs/serve.md says how to install it).
//! Stop and shutdown requests stop it as Ctrl-C does in a console.

use std::ffi::OsString;
use std::sync::OnceLock;
use std::time::Duration;

use windows_service::service::{
    ServiceControl, ServiceControlAccept, ServiceExitCode, ServiceState, ServiceStatus, ServiceType,
};
use windows_service::service_control_handler::{self, ServiceControlHandlerResult};
use windows_service::{define_windows_service, service_dispatcher};

use crate::cli::ServeArgs;

/// The service's name in the service control manager.
pub const NAME: &str = "egress";

static ARGS: OnceLock<ServeArgs> = OnceLock::new();

define_windows_service!(ffi_service_main, service_main);

/// Hands the process to the service control manager; returns when the
/// service has stopped.
pub fn run(args: &ServeArgs) -> anyhow::Result<crate::Exit> {
    let _ = ARGS.set(args.clone());
    service_dispatcher::start(NAME, ffi_service_main).map_err(|e| {
        anyhow::anyhow!(
            "cannot start as a Windows service ({e}): --service is for the service control manager; run without it in a console"
        )
    })?;
    Ok(crate::Exit::Success)
}

fn service_main(_arguments: Vec<OsString>) {
    let Some(args) = ARGS.get() else { return };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let handler = move |control| match control {
        ServiceControl::Stop | ServiceControl::Shutdown => {
            let _ = stop_tx.send(true);
            ServiceControlHandlerResult::NoError
        }
        ServiceControl::Interrogate => ServiceControlHandlerResult::NoError,
        _ => ServiceControlHandlerResult::NotImplemented,
    };
    let Ok(status) = service_control_handler::register(NAME, handler) else {
        return;
    };
    let report = |state, accept, code| {
        let _ = status.set_service_status(ServiceStatus {
            service_type: ServiceType::OWN_PROCESS,
            current_state: state,
            controls_accepted: accept,
            exit_code: ServiceExitCode::Win32(code),
            checkpoint: 0,
            wait_hint: Duration::from_secs(5),
            process_id: None,
        });
    };
    report(
        ServiceState::Running,
        ServiceControlAccept::STOP | ServiceControlAccept::SHUTDOWN,
        0,
    );
    let mut stop = stop_rx;
    let stopped = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    let code = match super::run_until(args, stopped) {
        Ok(_) => 0,
        Err(e) => {
            // The service's log is the event log's "service terminated"
            // entry: the error goes to stderr for a console run too.
            crate::report::error(&e);
            1
        }
    };
    report(ServiceState::Stopped, ServiceControlAccept::empty(), code);
}
