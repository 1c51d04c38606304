//! The LLM interface (`fermyon:spin/llm@2.0.0`) through the real `spin`
//! binary: `spin py2wasm`'s `spin_llm` and spin-sdk 4/5's `spin_sdk.llm`
//! calling a real model service on loopback (`tests/upstreams/
//! llm_service.py`) in Spin's protocol and in OpenAI's, as the runtime
//! config's `[llm_compute]` says; models granted by `ai_models` only.

mod support;

use support::python::{Spin4Sdk, build_py2wasm_app, test_app};
use support::spin::{SpinUp, app_dir, fails_to_start, runtime_config};
use support::upstream::Upstream;

const TOKEN: &str = "s3cret-token";

const MANIFEST: &str = r#"
spin_manifest_version = 2

[application]
name = "llm"

[[trigger.http]]
route = "/..."
component = "caps"

[component.caps]
source = "{source}"
ai_models = ["llama2-chat", "all-minilm-l6-v2"]
"#;

/// `[llm_compute]` sending calls to `service` in `api_type`'s protocol,
/// with `token`.
fn remote(service: &Upstream, api_type: &str, token: &str) -> String {
    format!(
        "[llm_compute]\ntype = \"remote_http\"\nurl = \"http://127.0.0.1:{}\"\nauth_token = \"{token}\"\napi_type = \"{api_type}\"\n",
        service.port
    )
}

fn model_service() -> Upstream {
    Upstream::script("llm_service.py", &[TOKEN])
}

#[test]
fn spin_llm_calls_a_model_service_in_spin_s_protocol() {
    let service = model_service();
    let component = build_py2wasm_app(&test_app("py-capabilities"));
    let (_dir, manifest) = app_dir(MANIFEST, &component);
    let up = SpinUp::start_with_runtime_config(&manifest, &remote(&service, "default", TOKEN), &[]);

    // Spin's defaults when the guest gives no options, as the guest's
    // decimals (not their f32 widening).
    assert_eq!(
        up.get("/llm-infer").text(),
        r#"spin llama2-chat: tell me a joke {"maxTokens": 100, "repeatPenalty": 1.1, "repeatPenaltyLastNTokenCount": 64, "temperature": 0.8, "topK": 40, "topP": 0.9} | 4 7"#,
        "{}",
        up.stderr()
    );
    assert_eq!(
        up.get("/llm-infer-options").text(),
        r#"spin llama2-chat: short {"maxTokens": 5, "repeatPenalty": 1.5, "repeatPenaltyLastNTokenCount": 64, "temperature": 0.25, "topK": 3, "topP": 0.5}"#
    );
    assert_eq!(up.get("/llm-embed").text(), "[[1.0, 0.0], [3.0, 1.0]] 2");

    // An answer past what a call reads (64 MiB, `--max-result-size`)
    // fails that call only.
    let huge = up.get("/llm-infer-options?huge").text();
    assert!(
        huge.starts_with("LLMError")
            && huge.contains("larger than 67108864 bytes, the most a call reads"),
        "{huge}"
    );

    // A model the manifest does not grant: Spin's error to the guest, the
    // line to add in the log, and no call to the service.
    let denied = up.get("/llm-denied");
    assert_eq!(denied.status, 502);
    assert!(
        denied
            .text()
            .contains("does not have access to use 'codellama-instruct'"),
        "{}",
        denied.text()
    );
    let log = up.wait_for_stderr(r#"ai_models = ["codellama-instruct"]"#);
    assert!(
        log.contains("component `caps` used the model `codellama-instruct`"),
        "{log}"
    );

    // The service failing fails that call only, with what it said.
    let broken = up.get("/llm-broken").text();
    assert!(
        broken.starts_with("LLMError")
            && broken.contains(
                "the model service answered 500 Internal Server Error: the model fell over"
            ),
        "{broken}"
    );
    // (The 128 MiB answer above was logged the same way: wait for this
    // failure's own words.)
    let log = up.wait_for_stderr("the model fell over");
    assert!(
        log.lines().any(|l| l.contains(
            "component `caps`: an inference with `llama2-chat` failed: POST /infer: the model service answered 500"
        )),
        "{log}"
    );
    assert_eq!(up.get("/llm-embed").text(), "[[1.0, 0.0], [3.0, 1.0]] 2");
    assert!(!up.stderr().contains(TOKEN), "{}", up.stderr());
    drop(up);

    // A token the service refuses: its message reaches the guest.
    let up =
        SpinUp::start_with_runtime_config(&manifest, &remote(&service, "default", "wrong"), &[]);
    let refused = up.get("/llm-infer").text();
    assert!(
        refused.contains("the model service answered: invalid token"),
        "{refused}"
    );
}

#[test]
fn spin_sdk_llm_calls_an_open_ai_service() {
    let service = model_service();
    for sdk in Spin4Sdk::ALL {
        let component = sdk.build(&test_app("spin4-platform"), sdk.http_world());
        let (_dir, manifest) = app_dir(MANIFEST, &component);
        let up =
            SpinUp::start_with_runtime_config(&manifest, &remote(&service, "open_ai", TOKEN), &[]);
        let answer = up.get("/llm?llama2-chat");
        assert_eq!(
            answer.text(),
            r#"{"text": "openai llama2-chat: user hello {\"frequency_penalty\": 1.1, \"max_completion_tokens\": 3}", "generated": 9, "embeddings": [[2.0, 0.0]]}"#,
            "{sdk:?}: {}",
            up.stderr()
        );
        let denied = up.get("/llm?gpt-5");
        assert_eq!(denied.status, 502, "{sdk:?}");
        assert!(
            denied.text().starts_with("Error_InvalidInput"),
            "{sdk:?}: {}",
            denied.text()
        );
    }

    // OpenAI's error shape, from a service that refuses the token.
    let sdk = Spin4Sdk::V5;
    let component = sdk.build(&test_app("spin4-platform"), sdk.http_world());
    let (_dir, manifest) = app_dir(MANIFEST, &component);
    let up =
        SpinUp::start_with_runtime_config(&manifest, &remote(&service, "open_ai", "wrong"), &[]);
    let refused = up.get("/llm?llama2-chat");
    assert_eq!(refused.status, 502);
    assert_eq!(
        refused.text(),
        "Error_RuntimeError(POST /v1/chat/completions: the model service answered: invalid token)"
    );
}

#[test]
fn without_a_model_service_a_call_fails_and_the_log_says_what_to_configure() {
    let component = build_py2wasm_app(&test_app("py-capabilities"));
    let (_dir, manifest) = app_dir(MANIFEST, &component);
    for config in [None, Some("[llm_compute]\ntype = \"spin\"\n")] {
        let up = match config {
            Some(text) => SpinUp::start_with_runtime_config(&manifest, text, &[]),
            None => SpinUp::start(&manifest, &[]),
        };
        for _ in 0..2 {
            let failed = up.get("/llm-infer");
            assert_eq!(failed.status, 502);
            assert!(
                failed
                    .text()
                    .contains("this host does not run language models itself"),
                "{}",
                failed.text()
            );
        }
        // Said once, at start, since the manifest lists `ai_models`.
        let log = up.wait_for_stderr("[llm_compute]");
        assert_eq!(
            log.matches("[llm_compute]").count(),
            1,
            "logged once: {log}"
        );
        assert!(
            log.contains("component `caps` lists `ai_models`, and no model service is configured"),
            "{log}"
        );
        assert!(log.contains(r#"type = "remote_http""#), "{log}");
        // The other capabilities are untouched.
        assert_eq!(up.get("/llm-denied").status, 502);
    }
}

#[test]
fn a_bad_llm_compute_table_stops_startup_at_its_line() {
    let component = build_py2wasm_app(&test_app("py-capabilities"));
    let (dir, manifest) = app_dir(MANIFEST, &component);
    let cases = [
        (
            "url = \"ftp://models.example.com\"\nauth_token = \"t\"\n",
            "rc.toml:3:7",
            "`ftp://models.example.com` is not the address of a model service",
        ),
        (
            "url = \"https://models.example.com\"\n",
            "rc.toml:1:",
            "`[llm_compute]` has no `auth_token`",
        ),
        (
            "url = \"https://models.example.com\"\nauth_token = \"t\"\napi_type = \"anthropic\"\n",
            "rc.toml:5:12",
            "`anthropic` is not a language model API type",
        ),
        (
            "url = \"https://models.example.com\"\nauth_token = \"a\\nb\"\n",
            "",
            "`[llm_compute] auth_token` cannot be sent in an HTTP header",
        ),
    ];
    for (table, at, message) in cases {
        let rc = runtime_config(
            &manifest,
            &format!("[llm_compute]\ntype = \"remote_http\"\n{table}"),
        );
        let err = fails_to_start(
            dir.path(),
            &manifest,
            &["--runtime-config-file", rc.to_str().unwrap()],
        );
        assert!(err.contains(message), "{err}");
        assert!(err.contains(at), "{err}");
        assert!(err.contains("hint:"), "{err}");
    }
}
