//! `cargo xtask <command>`: see `cargo xtask help`.

use std::path::PathBuf;
use std::process::ExitCode;

use xtask::{Error, RegenArgs};

const HELP: &str = "\
cargo xtask <command>

commands:
  regen [--wdk DIR] [--wdk-version V] [--ndis NNN] [--check]
        Generate ndis-sys and fwps-sys from a Windows Driver Kit's headers.
        DIR: a \"Windows Kits/10\" folder or an unpacked WDK NuGet package
        (default: $WDK_ROOT, $WDKContentRoot, then the Windows install path).
        V: the kit version folder, e.g. 10.0.26100.0 (default: the newest).
        NNN: the NDIS version macro, e.g. 630 for NDIS630 (default: 630).
        --check: generate in memory and fail if a checked-in file differs.
  help  Print this.
";

fn parse_regen(mut args: impl Iterator<Item = String>) -> Result<RegenArgs, Error> {
    let mut out = RegenArgs::default();
    while let Some(arg) = args.next() {
        let mut value =
            |name: &str| args.next().ok_or_else(|| Error::new(format!("{name} needs a value; see `cargo xtask help`")));
        match arg.as_str() {
            "--wdk" => out.wdk = Some(PathBuf::from(value("--wdk")?)),
            "--wdk-version" => out.wdk_version = Some(value("--wdk-version")?),
            "--ndis" => out.ndis = Some(value("--ndis")?),
            "--check" => out.check = true,
            other => {
                return Err(Error::new(format!("unknown argument `{other}`; see `cargo xtask help`")));
            }
        }
    }
    Ok(out)
}

fn run() -> Result<String, Error> {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("regen") => {
            let regen = parse_regen(args)?;
            let root = xtask::workspace_root();
            xtask::regen(&regen, &xtask::sys_crates(&root), &root)
        }
        None | Some("help" | "--help" | "-h") => Ok(HELP.trim_end().to_owned()),
        Some(other) => Err(Error::new(format!("unknown command `{other}`; see `cargo xtask help`"))),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(msg) => {
            println!("{msg}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
