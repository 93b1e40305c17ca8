fn main() -> std::process::ExitCode {
    portcullis::cli::main_with(std::env::args_os().collect())
}
