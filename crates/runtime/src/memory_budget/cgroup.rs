//! The memory limit of the cgroup the server runs in, cgroup v2 or v1, its
//! ancestors' included: in a container, that is what the kernel's OOM
//! killer holds the server to, whatever the machine's RAM.

use std::path::{Path, PathBuf};

/// Where the hierarchies are mounted.
const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// This process's cgroup memory limit, if it has one.
pub(super) fn memory_limit() -> Option<usize> {
    let cgroups = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let (unified, memory) = cgroup_paths(&cgroups);
    let root = Path::new(CGROUP_ROOT);
    let v2 = unified.and_then(|path| v2_limit(root, path));
    v2.or_else(|| memory.and_then(|path| v1_limit(&root.join("memory"), path)))
}

/// This process's cgroup paths in `/proc/self/cgroup`: in the unified
/// (v2) hierarchy, and under the v1 memory controller. A trailing `/` is
/// left out (`/` itself is the root).
fn cgroup_paths(cgroups: &str) -> (Option<&str>, Option<&str>) {
    let (mut unified, mut memory) = (None, None);
    for line in cgroups.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let path = path.trim_end_matches('/');
        if controllers.is_empty() {
            unified = Some(path);
        } else if controllers.split(',').any(|c| c == "memory") {
            memory = Some(path);
        }
    }
    (unified, memory)
}

/// The directory of the cgroup at `path` under `mount`. In a container
/// the path may be the host's (`/docker/<id>/…`) while the mount shows the
/// container's own cgroup as its root: the path's leading parts are then
/// dropped until what is left is there.
fn cgroup_dir(mount: &Path, path: &str) -> Option<PathBuf> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    (0..=parts.len())
        .map(|skip| {
            parts[skip..]
                .iter()
                .fold(mount.to_path_buf(), |dir, p| dir.join(p))
        })
        .find(|dir| dir.is_dir())
}

/// cgroup v2: the lowest `memory.max` of the cgroup and its ancestors up to
/// the mount (`max`: none).
fn v2_limit(mount: &Path, path: &str) -> Option<usize> {
    let dir = cgroup_dir(mount, path)?;
    dir.ancestors()
        .take_while(|dir| dir.starts_with(mount))
        .filter_map(|dir| read_number(&dir.join("memory.max")))
        .min()
}

/// cgroup v1: the limit the kernel applies, its ancestors' included
/// (`hierarchical_memory_limit` in `memory.stat`), else the cgroup's own
/// `memory.limit_in_bytes`. None reads as a huge number, which the
/// machine's size then caps.
fn v1_limit(mount: &Path, path: &str) -> Option<usize> {
    let dir = cgroup_dir(mount, path)?;
    let stat = std::fs::read_to_string(dir.join("memory.stat")).unwrap_or_default();
    stat.lines()
        .find_map(|line| line.strip_prefix("hierarchical_memory_limit "))
        .and_then(|limit| limit.trim().parse().ok())
        .or_else(|| read_number(&dir.join("memory.limit_in_bytes")))
}

fn read_number(file: &Path) -> Option<usize> {
    std::fs::read_to_string(file).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_paths_are_found_in_either_hierarchy() {
        assert_eq!(
            cgroup_paths("0::/user.slice/app.scope\n"),
            (Some("/user.slice/app.scope"), None)
        );
        // cgroup v1, with the unified hierarchy mounted beside it.
        let hybrid = "5:devices:/\n4:memory:/process_api/47f9\n2:cpu,cpuacct:/\n0::/\n";
        assert_eq!(cgroup_paths(hybrid), (Some(""), Some("/process_api/47f9")));
        assert_eq!(
            cgroup_paths("3:cpuacct,memory:/docker/ab12\n"),
            (None, Some("/docker/ab12"))
        );
        assert_eq!(cgroup_paths("garbage\n"), (None, None));
    }

    /// A cgroup hierarchy in a temporary directory: `(path, file, contents)`.
    fn hierarchy(files: &[(&str, &str, &str)]) -> tempfile::TempDir {
        let mount = tempfile::tempdir().unwrap();
        for (path, file, contents) in files {
            let dir = mount.path().join(path);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(file), contents).unwrap();
        }
        mount
    }

    #[test]
    fn v2_takes_the_lowest_limit_of_the_cgroup_and_its_ancestors() {
        let mount = hierarchy(&[
            ("system.slice", "memory.max", "536870912\n"),
            ("system.slice/spin.service", "memory.max", "max\n"),
        ]);
        let limit = v2_limit(mount.path(), "/system.slice/spin.service");
        assert_eq!(limit, Some(512 << 20));
        assert_eq!(v2_limit(mount.path(), ""), None);
    }

    #[test]
    fn a_container_sees_its_own_cgroup_as_the_root() {
        // The host's path, `/docker/ab12/worker`; the container's mount
        // holds `worker` under its root.
        let mount = hierarchy(&[
            ("", "memory.limit_in_bytes", "1073741824\n"),
            (
                "worker",
                "memory.stat",
                "cache 0\nhierarchical_memory_limit 268435456\n",
            ),
        ]);
        assert_eq!(
            cgroup_dir(mount.path(), "/docker/ab12/worker"),
            Some(mount.path().join("worker"))
        );
        assert_eq!(
            v1_limit(mount.path(), "/docker/ab12/worker"),
            Some(256 << 20)
        );
        // Without `memory.stat`, the cgroup's own limit.
        assert_eq!(v1_limit(mount.path(), "/docker/ab12"), Some(1 << 30));
    }
}
