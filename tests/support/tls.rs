//! Test certificates made by openssl: a CA and a `localhost` certificate
//! it signed, for TLS upstreams and for `spin up --tls-cert`.

use std::path::Path;
use std::process::Command;

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A test CA (`ca.pem`) and a certificate for `localhost` it signed
/// (`server.pem`, `server.key`), in `dir`.
pub fn make_certificates(dir: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    openssl(
        dir,
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=spin test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign",
            ],
        ]
        .concat(),
    );
    issue(
        dir,
        "server",
        "/CN=localhost",
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    );
}

/// A client certificate for `name` (its common name) issued by the CA of
/// [`make_certificates`], as `<name>.pem` and `<name>.key` in `dir`.
pub fn make_client_certificate(dir: &Path, name: &str) {
    issue(
        dir,
        name,
        &format!("/CN={name}"),
        "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n",
    );
}

/// A new key (`<file>.key`) and a certificate for it (`<file>.pem`) with
/// `subject` and the openssl `extensions`, issued by the test CA in `dir`.
fn issue(dir: &Path, file: &str, subject: &str, extensions: &str) {
    let (key, csr, pem, ext) = (
        format!("{file}.key"),
        format!("{file}.csr"),
        format!("{file}.pem"),
        format!("{file}.ext"),
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            subject,
        ],
    );
    std::fs::write(dir.join(&ext), extensions).unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &pem,
            "-days",
            "2",
            "-extfile",
            &ext,
        ],
    );
}
