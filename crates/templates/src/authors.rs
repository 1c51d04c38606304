//! Works out the `{{authors}}` and `{{username}}` values the way Spin does:
//! Git's author variables first, then Git's configuration, then the login
//! name, so a new application is signed by whoever would sign its commits.

use std::collections::HashMap;
use std::process::Command;

/// The author line (`Name <email>`) and the bare name.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Authors {
    pub author: String,
    pub username: String,
}

/// Looks the author up in `env` (a snapshot of the environment) and Git's
/// configuration. An unknown author becomes empty strings rather than an
/// error: the template still renders and the user can edit the line.
pub(crate) fn detect(env: &HashMap<String, String>) -> Authors {
    let git_config = git_config();
    let lookup = |vars: &[&str]| vars.iter().find_map(|v| env.get(*v).cloned());

    let name = lookup(&["GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"])
        .or_else(|| git_config.get("user.name").cloned())
        .or_else(|| lookup(&["USER", "USERNAME", "NAME"]));
    let Some(name) = name.map(|n| n.trim().to_owned()) else {
        return Authors::default();
    };
    let email = lookup(&["GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL", "EMAIL"])
        .or_else(|| git_config.get("user.email").cloned())
        .map(|e| {
            let e = e.trim();
            e.strip_prefix('<')
                .and_then(|e| e.strip_suffix('>'))
                .unwrap_or(e)
                .to_owned()
        });

    Authors {
        author: match email {
            Some(email) => format!("{name} <{email}>"),
            None => name.clone(),
        },
        username: name,
    }
}

fn git_config() -> HashMap<String, String> {
    let Ok(output) = Command::new("git").args(["config", "--list"]).output() else {
        return HashMap::new();
    };
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> HashMap<String, String> {
        vars.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn git_author_variables_win() {
        let authors = detect(&env(&[
            ("GIT_AUTHOR_NAME", " Fermyon Engineering "),
            ("GIT_AUTHOR_EMAIL", "<engineering@fermyon.com>"),
            ("USER", "root"),
        ]));
        assert_eq!(
            authors,
            Authors {
                author: "Fermyon Engineering <engineering@fermyon.com>".into(),
                username: "Fermyon Engineering".into(),
            }
        );
    }
}
