//! Runs the local Usage API stand-in until interrupted.
//!
//! ```text
//! cargo install usage-sdk-stand-in      # or, in the repository: cargo run -p usage-sdk-stand-in --
//! usage-sdk-stand-in [PORT] [--execution-ms N]
//! ```
//!
//! Prints the base URL, the demo OAuth client's credentials and the routes served; point any
//! Genesys client at the base URL (the token endpoint is `{base}/oauth/token`). Aggregates
//! query jobs are queued 500 ms, then run as long as `--execution-ms`.

use std::time::Duration;

use usage_sdk_stand_in::{BUILTIN_CLIENT_ID, BUILTIN_CLIENT_NAME, Route, StandIn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut port = 0;
    let mut execution_ms = 2000;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--execution-ms" => {
                execution_ms = args.next().ok_or("--execution-ms needs a value")?.parse()?;
            }
            "-h" | "--help" => {
                println!("usage: usage-sdk-stand-in [PORT] [--execution-ms N]");
                return Ok(());
            }
            other => port = other.parse()?,
        }
    }
    let stand_in = StandIn::builder()
        .port(port)
        .execution_time(Duration::from_millis(execution_ms))
        .job_times(
            Duration::from_millis(500),
            Duration::from_millis(execution_ms),
        )
        .start()
        .await?;
    let demo = stand_in.demo_client();
    println!("Usage API stand-in listening on {}", stand_in.base_url());
    println!("token endpoint: {}/oauth/token", stand_in.base_url());
    println!("demo client id:     {}", demo.id);
    println!("demo client secret: {}", demo.secret);
    println!("other OAuth clients:");
    for client in &stand_in.oauth_clients()[1..] {
        println!("  {} {} ({})", client.id, client.secret, client.name);
    }
    println!(
        "built-in client (jobs only): {} ({})",
        BUILTIN_CLIENT_ID, BUILTIN_CLIENT_NAME
    );
    println!("routes:");
    for route in Route::API {
        println!("  {}", route.template());
    }
    // Serve until the process is killed (Ctrl-C).
    std::future::pending::<()>().await;
    Ok(())
}
