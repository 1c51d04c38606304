//! The `-f/--from` argument that names the application, shared by the
//! commands that work on one.

use clap::Args;
use std::path::PathBuf;

/// Which application a command works on.
#[derive(Args, Debug, Clone)]
pub struct AppSource {
    /// The application: a manifest file, or a directory holding `spin.toml`.
    #[arg(
        short = 'f',
        long = "from",
        aliases = ["file", "from-file"],
        default_value = "spin.toml"
    )]
    pub from: PathBuf,
}

/// The build profile a command builds, runs or pushes, as in Spin 4.
#[derive(Args, Debug, Clone, Default)]
pub struct BuildProfile {
    /// The build profile: each component's `[component.<id>.profile.<name>]`
    /// applies (its `source` and `build.command` replace the component's,
    /// its `environment` is added over the component's); a component
    /// without that profile keeps its own settings. Default: the
    /// components' own settings.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
}

impl BuildProfile {
    /// The profile, if one was named.
    pub fn name(&self) -> Option<&str> {
        self.profile.as_deref()
    }

    /// For a command that builds and then runs `spin up` with `up_args`
    /// (`spin build --up`, `spin watch`): the one profile both use, taken
    /// from either place, and whether it must still be added to `up_args`.
    /// Two different ones are refused: the build and the run would differ.
    pub fn shared_with_up(&self, up_args: &[String]) -> anyhow::Result<(Option<String>, bool)> {
        let in_up = profile_in(up_args);
        match (self.profile.as_deref(), in_up) {
            (Some(ours), Some(theirs)) if ours != theirs => Err(spin_hint::Hinted::new(
                format!(
                    "two build profiles: `--profile {ours}` for the build, `--profile {theirs}` for `spin up`"
                ),
                "name the profile once; the build and `spin up` both use it",
            )
            .into()),
            (Some(ours), in_up) => Ok((Some(ours.to_owned()), in_up.is_none())),
            (None, in_up) => Ok((in_up.map(str::to_owned), false)),
        }
    }
}

/// The value of `--profile NAME` or `--profile=NAME` in `args`.
fn profile_in(args: &[String]) -> Option<&str> {
    args.iter()
        .enumerate()
        .find_map(|(i, arg)| match arg.strip_prefix("--profile") {
            Some("") => args.get(i + 1).map(String::as_str),
            Some(rest) => rest.strip_prefix('='),
            None => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn shared(ours: Option<&str>, up: &[&str]) -> anyhow::Result<(Option<String>, bool)> {
        let profile = BuildProfile {
            profile: ours.map(str::to_owned),
        };
        profile.shared_with_up(&args(up))
    }

    #[test]
    fn a_build_and_its_spin_up_share_one_profile() {
        assert_eq!(shared(None, &[]).unwrap(), (None, false));
        assert_eq!(
            shared(Some("d"), &["-q"]).unwrap(),
            (Some("d".into()), true)
        );
        let from_up = (Some("d".into()), false);
        assert_eq!(
            shared(None, &["--listen", "x", "--profile", "d"]).unwrap(),
            from_up
        );
        assert_eq!(shared(None, &["--profile=d"]).unwrap(), from_up);
        assert_eq!(shared(Some("d"), &["--profile", "d"]).unwrap(), from_up);
        let err = shared(Some("a"), &["--profile=b"]).unwrap_err().to_string();
        assert!(err.contains("two build profiles"), "{err}");
        // Not a profile flag.
        assert_eq!(shared(None, &["--profiles", "d"]).unwrap(), (None, false));
    }
}
