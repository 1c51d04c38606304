//! The Python toolchain for building test components: a virtualenv holding
//! the pinned componentize-py and the official spin-sdk, and a cache of built
//! components keyed by the hash of their sources and those versions.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The componentize-py version the tests build official-SDK apps with.
pub const COMPONENTIZE_PY: &str = "0.16.0";
/// The official Python SDK the compatibility tests use.
pub const SPIN_SDK: &str = "3.3.0";

/// The repository's `target/` directory.
pub fn target_dir() -> PathBuf {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_spin"));
    exe.ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "target"))
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// The test virtualenv (`$SPIN_TEST_VENV`, or `target/test-venv`), created on
/// first use. A file lock keeps parallel tests from racing to create it.
pub fn venv() -> PathBuf {
    let venv = std::env::var_os("SPIN_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("test-venv"));
    let marker = venv.join(format!("ready-{COMPONENTIZE_PY}-{SPIN_SDK}"));
    if marker.exists() {
        return venv;
    }
    std::fs::create_dir_all(venv.parent().unwrap()).unwrap();
    let lock = std::fs::File::create(venv.with_extension("lock")).unwrap();
    lock.lock().unwrap();
    run(
        Command::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/test-venv.sh"))
            .arg(&venv),
    );
    assert!(
        marker.exists(),
        "scripts/test-venv.sh pins other versions than tests/support/python.rs"
    );
    venv
}

fn site_packages(venv: &Path) -> PathBuf {
    std::fs::read_dir(venv.join("lib"))
        .unwrap()
        .map(|e| e.unwrap().path().join("site-packages"))
        .find(|p| p.exists())
        .expect("the venv has a site-packages directory")
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The directory of the test app `name` under `tests/apps/`.
pub fn test_app(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/apps")
        .join(name)
}

/// Builds the official-SDK app in `app_dir` (module `app`, the SDK's widest
/// HTTP world `fermyon:spin/spin-http@3.0.0`: Spin 2's imports plus
/// `spin:postgres@3.0.0`, `wasi:config` and `wasi:keyvalue`) with componentize-py, unless a component built from the same
/// sources is cached. Returns the component's path.
pub fn build_sdk_app(app_dir: &Path) -> PathBuf {
    build_sdk_app_for(app_dir, "fermyon:spin/spin-http@3.0.0")
}

/// Builds the official-SDK (3.x) app in `app_dir` for `world` (e.g.
/// `fermyon:spin/spin-redis@2.0.0`), unless it is cached.
pub fn build_sdk_app_for(app_dir: &Path, world: &str) -> PathBuf {
    let salt = format!("{COMPONENTIZE_PY}/{SPIN_SDK}/{world}");
    cached_build("sdk", salt.as_bytes(), app_dir, |out| {
        let venv = venv();
        run(Command::new(venv.join("bin/componentize-py"))
            .current_dir(app_dir)
            .env("RUST_BACKTRACE", "0")
            .args(["-w", world, "componentize", "app", "-p", "."])
            .arg("-p")
            .arg(site_packages(&venv))
            .arg("-o")
            .arg(out));
    })
}

/// Builds the app in `app_dir` (module `app`, our 2023-style SDK) with the
/// real `spin py2wasm`, unless a component built from the same sources by
/// the same `spin` binary (which embeds the SDK) is cached.
pub fn build_py2wasm_app(app_dir: &Path) -> PathBuf {
    let spin = std::fs::read(env!("CARGO_BIN_EXE_spin")).unwrap();
    cached_build("py2wasm", &spin, app_dir, |out| {
        run(super::spin::spin(app_dir)
            .args(["py2wasm", "app", "-o"])
            .arg(out));
    })
}

/// Builds the app in `app_dir` (module `app`) for the world `world` of its
/// own `world.wit`, whose imports resolve against the repository's
/// `wit/deps` and the app's own `deps-<name>.wit` packages: for interfaces
/// no SDK in the test venv covers.
pub fn build_wit_app(app_dir: &Path, world: &str) -> PathBuf {
    let deps = Path::new(env!("CARGO_MANIFEST_DIR")).join("wit/deps");
    let mut salt = format!("{COMPONENTIZE_PY}/{world}").into_bytes();
    for entry in walkdir::WalkDir::new(&deps).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            salt.extend(std::fs::read(entry.path()).unwrap());
        }
    }
    cached_build("wit", &salt, app_dir, |out| {
        let wit = tempfile::tempdir().unwrap();
        std::fs::copy(app_dir.join("world.wit"), wit.path().join("world.wit")).unwrap();
        let wit_deps = wit.path().join("deps");
        std::fs::create_dir(&wit_deps).unwrap();
        for entry in std::fs::read_dir(&deps).unwrap() {
            let entry = entry.unwrap();
            std::os::unix::fs::symlink(entry.path(), wit_deps.join(entry.file_name())).unwrap();
        }
        for entry in std::fs::read_dir(app_dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if let Some(package) = name
                .strip_prefix("deps-")
                .and_then(|n| n.strip_suffix(".wit"))
            {
                std::fs::create_dir(wit_deps.join(package)).unwrap();
                std::fs::copy(
                    app_dir.join(&name),
                    wit_deps.join(package).join("package.wit"),
                )
                .unwrap();
            }
        }
        let bindings = tempfile::tempdir().unwrap();
        run(Command::new(venv().join("bin/componentize-py"))
            .current_dir(bindings.path())
            .env("RUST_BACKTRACE", "0")
            .arg("-d")
            .arg(wit.path())
            .args(["-w", world, "componentize", "app", "-p"])
            .arg(app_dir)
            .arg("-o")
            .arg(out));
    })
}

/// The component built from the files in `app_dir` (and `salt`), from the
/// cache under `target/test-components/` or made by `build` (which writes
/// the path it is given). Tests build the same app from several threads and
/// processes at once, so building is serialised by a file lock.
fn cached_build(kind: &str, salt: &[u8], app_dir: &Path, build: impl FnOnce(&Path)) -> PathBuf {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    let mut files: Vec<PathBuf> = std::fs::read_dir(app_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    for file in &files {
        hasher.update(file.file_name().unwrap().as_encoded_bytes());
        hasher.update(std::fs::read(file).unwrap());
    }
    let out = target_dir()
        .join("test-components")
        .join(format!("{kind}-{}.wasm", hex::encode(hasher.finalize())));
    if out.exists() {
        return out;
    }
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let lock = std::fs::File::create(out.with_extension("lock")).unwrap();
    lock.lock().unwrap();
    if !out.exists() {
        let tmp = out.with_extension(format!("tmp{}", std::process::id()));
        build(&tmp);
        std::fs::rename(&tmp, &out).unwrap();
    }
    out
}

/// An official spin-sdk release that builds `wasi:http@0.3` components for
/// Spin 4, with the componentize-py it pins.
#[derive(Clone, Copy, Debug)]
pub enum Spin4Sdk {
    /// spin-sdk 4.0.0 + componentize-py 0.23.0: WASI `0.3.0-rc-2026-03-15`.
    V4,
    /// spin-sdk 5.0.0 + componentize-py 0.25.1: WASI `0.3.0` (and the
    /// release candidate's imports too).
    V5,
}

impl Spin4Sdk {
    /// Both, for tests that must pass with each.
    pub const ALL: [Spin4Sdk; 2] = [Spin4Sdk::V4, Spin4Sdk::V5];

    fn pins(self) -> (&'static str, &'static str) {
        match self {
            Spin4Sdk::V4 => ("0.23.0", "4.0.0"),
            Spin4Sdk::V5 => ("0.25.1", "5.0.0"),
        }
    }

    /// The SDK's HTTP world, as its examples' build commands name it.
    pub fn http_world(self) -> &'static str {
        match self {
            Spin4Sdk::V4 => "spin:up/http-trigger@4.0.0",
            Spin4Sdk::V5 => "spin:up/http-trigger@4.1.0",
        }
    }

    /// This SDK's virtualenv, beside the spin-sdk 3.x one, created on first
    /// use (`.ci/run` creates it beforehand).
    pub fn venv(self) -> PathBuf {
        let (componentize_py, spin_sdk) = self.pins();
        let base = venv();
        let venv = PathBuf::from(format!("{}-spin-sdk-{}", base.display(), &spin_sdk[..1]));
        let marker = venv.join(format!("ready-{componentize_py}-{spin_sdk}"));
        if marker.exists() {
            return venv;
        }
        let lock = std::fs::File::create(venv.with_extension("lock")).unwrap();
        lock.lock().unwrap();
        run(
            Command::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/test-venv.sh"))
                .arg(&venv)
                .args([componentize_py, spin_sdk]),
        );
        venv
    }

    /// Builds the app in `app_dir` (module `app`) for `world` the way the
    /// SDK's examples do (`componentize-py -w WORLD componentize app`, with
    /// the venv active), unless it is cached.
    pub fn build(self, app_dir: &Path, world: &str) -> PathBuf {
        self.build_with_features(app_dir, world, &[])
    }

    /// [`Self::build`] with WIT `@unstable` features enabled
    /// (`componentize-py --features …`).
    pub fn build_with_features(self, app_dir: &Path, world: &str, features: &[&str]) -> PathBuf {
        let (componentize_py, spin_sdk) = self.pins();
        let features = features.join(",");
        let salt = format!("{componentize_py}/{spin_sdk}/{world}/{features}");
        cached_build(
            &format!("sdk{}", &spin_sdk[..1]),
            salt.as_bytes(),
            app_dir,
            |out| {
                let venv = self.venv();
                let path = format!(
                    "{}:{}",
                    venv.join("bin").display(),
                    std::env::var("PATH").unwrap_or_default()
                );
                let mut command = Command::new(venv.join("bin/componentize-py"));
                if !features.is_empty() {
                    command.args(["--features", &features]);
                }
                run(command
                    .current_dir(app_dir)
                    .env("PATH", path)
                    .env("VIRTUAL_ENV", &venv)
                    .env("RUST_BACKTRACE", "0")
                    .args(["-w", world, "componentize", "app", "-p", "."])
                    .arg("-p")
                    .arg(site_packages(&venv))
                    .arg("-o")
                    .arg(out));
            },
        )
    }
}
