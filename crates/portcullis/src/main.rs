//! The one installed binary: started under a hook's name (the hook names are links to it), it is that
//! hook; otherwise it is the manager.

fn main() -> std::process::ExitCode {
    let name = std::env::args_os()
        .next()
        .and_then(|a| {
            std::path::Path::new(&a)
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    if let Some(hook) = portcullis_suite::hook(&name) {
        return (hook.run)();
    }
    portcullis::cli::main_with(std::env::args_os().collect())
}
