//! Valid manifests in both formats load into the expected model.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use spin_manifest::{
    App, BuildConfig, ComponentSource, FileMount, HttpExecutor, HttpRoute, Located, Location,
    ManifestFormat, StaticResponse, Variable,
};

fn valid_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui/valid")
}

fn load(name: &str) -> App {
    let path = valid_dir().join(name);
    spin_manifest::load_file(&path).unwrap_or_else(|e| panic!("{name} should load:\n{e}"))
}

fn at(line: usize, column: usize) -> Location {
    Location { line, column }
}

fn hosts(app: &App, component: &str) -> Vec<String> {
    let component = app.component(component).expect("component exists");
    component
        .allowed_outbound_hosts
        .iter()
        .map(|h| h.value.clone())
        .collect()
}

fn routes(app: &App) -> Vec<HttpRoute> {
    app.http_triggers
        .iter()
        .map(|t| t.route.value.clone())
        .collect()
}

const LEGACY: [&str; 3] = ["redis://*:*", "mysql://*:*", "postgres://*:*"];

#[test]
fn seed_hello_world_loads_as_v1() {
    let app = load("seed_hello_world.toml");
    assert_eq!(app.format, ManifestFormat::V1);
    assert_eq!(app.dir, valid_dir());
    assert_eq!(app.name, "hello-world");
    assert_eq!(app.version.as_deref(), Some("0.1.0"));
    assert_eq!(app.description, None, "an empty description means none");
    assert_eq!(
        app.authors,
        ["Fermyon Engineering <engineering@fermyon.com>"]
    );
    assert!(app.variables.is_empty());
    assert!(app.redis_triggers.is_empty());
    assert_eq!(app.redis_address, None);

    let [trigger] = app.http_triggers.as_slice() else {
        panic!("one trigger expected: {:?}", app.http_triggers)
    };
    assert_eq!(trigger.id, None);
    assert_eq!(
        trigger.route,
        Located {
            value: HttpRoute::Path("/...".into()),
            location: at(12, 9)
        }
    );
    assert_eq!(trigger.component.as_deref(), Some("hello-world"));
    assert_eq!(trigger.static_response, None);
    assert_eq!(trigger.executor, HttpExecutor::Http);
    assert_eq!(trigger.location, at(11, 1));

    let [component] = app.components.as_slice() else {
        panic!("one component expected")
    };
    assert_eq!(component.id, "hello-world");
    assert_eq!(component.location, at(8, 1));
    assert_eq!(
        component.source,
        Located {
            value: ComponentSource::Local("app.wasm".into()),
            location: at(10, 10)
        }
    );
    assert_eq!(
        component.build,
        Some(BuildConfig {
            command: "spin py2wasm app -o app.wasm".into(),
            workdir: None,
            watch: vec![]
        })
    );
    assert!(
        component.variables.is_empty()
            && component.environment.is_empty()
            && component.files.is_empty()
    );
    // No `allowed_outbound_hosts` in v1 means Spin's legacy database access,
    // located at the component since nothing in the file wrote it.
    let legacy: Vec<_> = LEGACY
        .iter()
        .map(|h| Located {
            value: h.to_string(),
            location: at(8, 1),
        })
        .collect();
    assert_eq!(component.allowed_outbound_hosts, legacy);
}

#[test]
fn seed_allowed_http_hosts_become_outbound_hosts() {
    let app = load("seed_allowed_http_hosts.toml");
    let component = &app.components[0];
    let converted: Vec<_> = component.allowed_outbound_hosts[3..].to_vec();
    assert_eq!(
        converted,
        [
            Located {
                value: "http://some-random-api.ml".to_string(),
                location: at(11, 23)
            },
            Located {
                value: "https://some-random-api.ml".to_string(),
                location: at(11, 23)
            },
        ]
    );
    assert_eq!(hosts(&app, "hello-world")[..3], LEGACY);
}

#[test]
fn seed_config_becomes_component_variables() {
    let app = load("seed_redis_config.toml");
    let expected = BTreeMap::from([(
        "redis_address".to_string(),
        "redis://127.0.0.1:6379".to_string(),
    )]);
    assert_eq!(app.components[0].variables, expected);
}

#[test]
fn v2_equivalent_of_the_seed_matches_its_v1_forms() {
    let v2 = load("v2_hello_world.toml");
    let with_hosts = load("seed_allowed_http_hosts.toml");
    let with_config = load("seed_redis_config.toml");
    assert_eq!(v2.format, ManifestFormat::V2);
    assert_eq!(
        (&v2.name, &v2.version, &v2.description, &v2.authors),
        (
            &with_hosts.name,
            &with_hosts.version,
            &with_hosts.description,
            &with_hosts.authors
        )
    );
    assert_eq!(routes(&v2), routes(&with_hosts));
    assert_eq!(
        v2.http_triggers[0].component,
        with_hosts.http_triggers[0].component
    );

    let (new, old) = (&v2.components[0], &with_hosts.components[0]);
    assert_eq!(
        (&new.id, &new.source.value, &new.build),
        (&old.id, &old.source.value, &old.build)
    );
    // v2 has no legacy default: only what the v1 `allowed_http_hosts` converted to.
    assert_eq!(
        hosts(&v2, "hello-world"),
        hosts(&with_hosts, "hello-world")[3..]
    );
    assert_eq!(new.variables, with_config.components[0].variables);
}

#[test]
fn v2_features_load() {
    let app = load("v2_everything.toml");
    assert_eq!(app.name, "everything");
    let api = app.components.iter().find(|c| c.id == "api").unwrap();
    assert_eq!(api.max_instance_reuse_count, Some(1000));
    assert!(
        app.components
            .iter()
            .filter(|c| c.id != "api")
            .all(|c| c.max_instance_reuse_count.is_none())
    );
    assert_eq!(
        app.description.as_deref(),
        Some("Uses every supported v2 feature")
    );
    assert_eq!(
        app.variables,
        BTreeMap::from([
            (
                "api_key".to_string(),
                Variable {
                    default: None,
                    required: true,
                    secret: true,
                    description: Some("The API key".into())
                }
            ),
            (
                "redis_host".to_string(),
                Variable {
                    default: Some("localhost".into()),
                    ..Variable::default()
                }
            ),
        ])
    );

    let ids: Vec<_> = app.components.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "http-trigger2-component",
            "named-component",
            "api",
            "worker",
            "legacy"
        ],
        "file order"
    );

    let triggers: Vec<_> = app
        .http_triggers
        .iter()
        .map(|t| {
            (
                t.id.as_deref(),
                t.route.value.clone(),
                t.component.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        triggers,
        [
            (
                Some("front"),
                HttpRoute::Path("/users/:id/...".into()),
                Some("api")
            ),
            (None, HttpRoute::Path("/missing".into()), None),
            (None, HttpRoute::Private, Some("api")),
            (
                None,
                HttpRoute::Path("/inline".into()),
                Some("http-trigger2-component")
            ),
            (
                Some("named"),
                HttpRoute::Path("/named/...".into()),
                Some("named-component")
            ),
            (None, HttpRoute::Path("/cgi".into()), Some("legacy")),
        ]
    );
    assert_eq!(
        app.http_triggers[1].static_response,
        Some(StaticResponse {
            status_code: 404,
            headers: BTreeMap::from([("content-type".into(), "text/plain".into())]),
            body: Some("not here".into()),
        })
    );
    assert_eq!(
        app.http_triggers[5].executor,
        HttpExecutor::Wagi {
            entrypoint: "_start".into(),
            argv: "${SCRIPT_NAME} extra".into()
        }
    );

    assert_eq!(
        app.redis_address.as_deref(),
        Some("redis://{{ redis_host }}:6379")
    );
    let redis: Vec<_> = app
        .redis_triggers
        .iter()
        .map(|t| {
            (
                t.channel.as_str(),
                t.address.as_deref(),
                t.component.as_str(),
            )
        })
        .collect();
    assert_eq!(
        redis,
        [
            ("orders", None, "worker"),
            ("audit", Some("redis://audit.example.com:6379"), "worker")
        ]
    );

    let api = app.component("api").unwrap();
    assert_eq!(api.description.as_deref(), Some("The API"));
    assert_eq!(api.variables["key"], "{{ api_key }}");
    assert_eq!(api.environment["RUST_LOG"], "info");
    assert_eq!(
        api.files,
        [
            FileMount::Pattern("static/**/*".into()),
            FileMount::Placement {
                source: "assets".into(),
                destination: "/assets".into()
            },
        ]
    );
    assert_eq!(api.exclude_files, ["static/secret/*"]);
    assert_eq!(
        hosts(&app, "api"),
        [
            "https://api.example.com",
            "redis://{{ redis_host }}:6379",
            "http://legacy.example.com:8080",
            "https://legacy.example.com:8080",
        ]
    );
    assert_eq!(api.key_value_stores, ["default", "my-cache"]);
    assert_eq!(api.sqlite_databases, ["default"]);
    assert_eq!(
        api.build,
        Some(BuildConfig {
            command: "pip install -r requirements.txt && componentize-py componentize app -o target/api.wasm".into(),
            workdir: Some("api".into()),
            watch: vec!["app.py".into(), "requirements.txt".into()],
        })
    );
    assert_eq!(
        app.component("worker").unwrap().source.value,
        ComponentSource::Remote {
            url: "https://example.com/worker.wasm".into(),
            digest: "sha256:0123456789abcdef".into()
        }
    );
    let inline = app.component("http-trigger2-component").unwrap();
    assert_eq!(
        inline.source.value,
        ComponentSource::Local("inline.wasm".into())
    );
    assert_eq!(inline.ai_models, ["llama2-chat"]);
    assert!(
        inline.allowed_outbound_hosts.is_empty(),
        "v2 components get no legacy default"
    );
}

#[test]
fn v1_redis_app_fixes_up_component_ids() {
    let app = load("v1_redis.toml");
    assert_eq!(app.redis_address.as_deref(), Some("redis://localhost:6379"));
    assert!(app.http_triggers.is_empty());
    let [trigger] = app.redis_triggers.as_slice() else {
        panic!("one redis trigger expected")
    };
    assert_eq!(
        (trigger.channel.as_str(), trigger.address.as_deref()),
        ("messages", None)
    );
    assert_eq!(
        trigger.component, "echo-message",
        "Spin lowercases and kebab-cases v1 ids"
    );
    assert_eq!(app.components[0].id, "echo-message");
    // An explicit `allowed_outbound_hosts` replaces the legacy default.
    assert_eq!(hosts(&app, "echo-message"), ["redis://localhost:6379"]);
}

#[test]
fn v1_base_prefixes_routes() {
    let app = load("v1_base.toml");
    assert_eq!(
        routes(&app),
        [
            HttpRoute::Path("/api/hello/...".into()),
            HttpRoute::Path("/api".into())
        ]
    );
    assert_eq!(
        app.http_triggers[0].executor,
        HttpExecutor::Wagi {
            entrypoint: "_start".into(),
            argv: "${SCRIPT_NAME} ${ARGS}".into()
        }
    );
    let hello = app.component("hello").unwrap();
    assert_eq!(hello.variables["message"], "{{ greeting }}, world");
    assert_eq!(
        hosts(&app, "hello"),
        [
            "redis://*:*",
            "mysql://*:*",
            "postgres://*:*",
            "http://*:*",
            "https://*:*",
            "http://self"
        ]
    );
    assert_eq!(
        hello.files,
        [FileMount::Placement {
            source: "static".into(),
            destination: "/".into()
        }]
    );
    assert_eq!(
        app.component("root")
            .unwrap()
            .build
            .as_ref()
            .unwrap()
            .command,
        "make && make install"
    );
}

fn load_for(name: &str, profile: Option<&str>) -> Result<App, spin_manifest::Error> {
    spin_manifest::load_file_for_profile(&valid_dir().join(name), profile)
}

fn local(app: &App, component: &str) -> PathBuf {
    match &app.component(component).unwrap().source.value {
        ComponentSource::Local(path) => path.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_build_profile_overrides_source_environment_and_build_command() {
    let default = load("v2_profiles.toml");
    assert_eq!(default.profile, None);
    assert_eq!(local(&default, "api"), Path::new("target/api.wasm"));
    let api = default.component("api").unwrap();
    assert_eq!(api.profiles, ["debug", "fast"]);
    assert_eq!(api.environment["LOG"], "info");
    assert_eq!(api.build.as_ref().unwrap().command, "make release");

    let debug = load_for("v2_profiles.toml", Some("debug")).unwrap();
    assert_eq!(debug.profile.as_deref(), Some("debug"));
    assert_eq!(local(&debug, "api"), Path::new("target/api-debug.wasm"));
    let api = debug.component("api").unwrap();
    // Added name by name; the rest stays.
    assert_eq!(
        api.environment,
        BTreeMap::from([
            ("LOG".into(), "debug".into()),
            ("REGION".into(), "eu".into())
        ])
    );
    // Only the command changes: the workdir and watch globs stay.
    assert_eq!(
        api.build,
        Some(BuildConfig {
            command: "make debug && make check".into(),
            workdir: Some("api".into()),
            watch: vec!["src/**/*.py".into()],
        })
    );
    // An inline component's profile too.
    let inline = &debug
        .components
        .iter()
        .find(|c| c.profiles == ["debug"])
        .unwrap()
        .id;
    assert_eq!(local(&debug, inline), Path::new("static-debug.wasm"));
    // A component without the profile keeps its own settings.
    assert_eq!(local(&debug, "plain"), Path::new("plain.wasm"));
    assert_eq!(debug.component("plain").unwrap().build, None);

    // A profile may give a build command to a component without one, and
    // leave the source alone.
    let fast = load_for("v2_profiles.toml", Some("fast")).unwrap();
    assert_eq!(local(&fast, "api"), Path::new("target/api.wasm"));
    assert_eq!(fast.component("api").unwrap().environment["FAST"], "1");
    assert_eq!(
        fast.component("plain").unwrap().build,
        Some(BuildConfig {
            command: "make fast".into(),
            workdir: None,
            watch: Vec::new(),
        })
    );
}

#[test]
fn a_profile_no_component_defines_is_refused_with_the_ones_that_exist() {
    let err = load_for("v2_profiles.toml", Some("relase"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no component defines the build profile `relase`"),
        "{err}"
    );
    assert!(
        err.contains("the profiles defined are `debug`, `fast`"),
        "{err}"
    );
    let err = load_for("v2_hello_world.toml", Some("debug"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("this application defines no profiles"),
        "{err}"
    );
    // v1 has no profiles.
    let err = load_for("v1_base.toml", Some("debug"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("defines no profiles"), "{err}");
}
