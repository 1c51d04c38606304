//! How the CLI prints an error: `Error: <message>`, then `Caused by:` with
//! the rest of the chain, then exactly one `hint: <what to do>`, last.
//!
//! A hint is data, not text inside a message (issue 12). One layer of the
//! chain carries a hint when it is
//! - a [`Hinted`], returned as the error or attached with `.context(...)`;
//! - one of the typed errors listed in [`typed_hint`], which convert into a
//!   [`Hinted`] (their `Display` is the message alone, except the manifest's
//!   and the runtime config's diagnostics, which keep their `hint:` line for
//!   their golden files);
//! - a message still written the old way, `"...\n\nhint: ..."`: the hint is
//!   cut out of the message, so it too prints last and only once.
//!
//! When several layers carry one, the outermost wins: the context closest
//! to what the user asked for knows best what they can do.

use std::error::Error as StdError;

use spin_hint::Hinted;

/// The marker of a hint written inside a message.
const INLINE_HINT: &str = "\n\nhint: ";

/// Renders `err` as the CLI prints it (without a trailing newline).
pub fn render(err: &anyhow::Error) -> String {
    let (layers, hint) = layers(err);
    let mut out = format!("Error: {}", layers[0].message);
    if layers.len() > 1 {
        out.push_str("\n\nCaused by:");
        for (i, layer) in layers.iter().skip(1).enumerate() {
            out.push_str(&format!("\n  {i}: {}", indent(&layer.message)));
        }
    }
    if let Some(hint) = hint {
        out.push_str(&format!("\n\nhint: {hint}"));
    }
    out
}

/// The layers of `err`'s chain, outermost first, and the hint to print: the
/// outermost one.
fn layers(err: &anyhow::Error) -> (Vec<Hinted>, Option<String>) {
    let mut layers: Vec<Hinted> = err.chain().map(layer).collect();
    // A `Hinted` attached with `.context(...)` is not reachable through
    // `chain()` (that yields anyhow's private wrapper), but anyhow's own
    // downcast finds the outermost one; its layer is the one it displays as.
    if let Some(context) = err.downcast_ref::<Hinted>()
        && let Some(layer) = layers
            .iter_mut()
            .find(|l| l.hint.is_empty() && l.message == context.message)
    {
        layer.hint.clone_from(&context.hint);
    }
    let hint = layers
        .iter()
        .map(|l| l.hint.clone())
        .find(|h| !h.is_empty());
    (layers, hint)
}

/// `err` on one line as `{:#}` prints it (its layers joined by `: `), with
/// the hint [`render`] would print; for reports that show an error in
/// their own layout (`spin doctor`).
pub fn flatten(err: &anyhow::Error) -> Hinted {
    let (layers, hint) = layers(err);
    let message = layers
        .iter()
        .map(|l| l.message.as_str())
        .collect::<Vec<_>>()
        .join(": ");
    Hinted::new(message, hint.unwrap_or_default())
}

/// A problem that does not stop the command (a note, a warning): its
/// message, then its hint after a blank line, as [`render`] ends.
pub fn with_hint(hinted: &Hinted) -> String {
    if hinted.hint.is_empty() {
        return hinted.message.clone();
    }
    format!("{}\n\nhint: {}", hinted.message, hinted.hint)
}

/// One layer of the chain as its message and its hint (empty: none).
fn layer(cause: &(dyn StdError + 'static)) -> Hinted {
    if let Some(hinted) = typed_hint(cause) {
        return hinted;
    }
    let text = cause.to_string();
    match text.split_once(INLINE_HINT) {
        Some((message, hint)) => Hinted::new(message, hint),
        None => Hinted::new(text, ""),
    }
}

/// The errors that keep their hint as data. A crate whose own error type
/// carries a hint implements `From<&ItsError> for Hinted` and is listed here.
fn typed_hint(cause: &(dyn StdError + 'static)) -> Option<Hinted> {
    if let Some(hinted) = cause.downcast_ref::<Hinted>() {
        return Some(hinted.clone());
    }
    if let Some(err) = cause.downcast_ref::<spin_manifest::Error>() {
        return Some(err.into());
    }
    if let Some(err) = cause.downcast_ref::<spin_runtime::runtime_config::RuntimeConfigError>() {
        return Some(err.into());
    }
    if let Some(err) = cause.downcast_ref::<spin_build::Error>() {
        return Some(err.into());
    }
    if let Some(err) = cause.downcast_ref::<spin_templates::Error>() {
        return Some(err.into());
    }
    if let Some(err) = cause.downcast_ref::<spin_plugins::Error>() {
        return Some(err.into());
    }
    if let Some(err) = cause.downcast_ref::<spin_python_toolchain::Error>() {
        return Some(err.into());
    }
    if let Some(err) = cause.downcast_ref::<spin_runtime::runtime_config::UndefinedLabel>() {
        return Some(err.into());
    }
    if let Some(err) = cause.downcast_ref::<spin_outbound_networking::AllowedHostError>() {
        return Some(err.into());
    }
    if let Some(err) = cause.downcast_ref::<spin_outbound_networking::TargetError>() {
        return Some(err.into());
    }
    if let Some(err) = cause.downcast_ref::<spin_routes::RouteError>() {
        return Some(err.into());
    }
    None
}

/// Lines after the first of a cause line up under its text (a manifest
/// error's position and caret, say).
fn indent(message: &str) -> String {
    message.replace('\n', "\n     ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::{Context, anyhow};

    #[test]
    fn the_hint_prints_once_after_the_causes() {
        let err = Err::<(), _>(anyhow!("port taken"))
            .context(Hinted::new("cannot serve", "pass `--listen`"))
            .context("starting the app")
            .unwrap_err();
        assert_eq!(
            render(&err),
            "Error: starting the app\n\nCaused by:\n  0: cannot serve\n  1: port taken\n\nhint: pass `--listen`"
        );
    }

    #[test]
    fn an_inline_hint_moves_to_the_end() {
        let err = Err::<(), _>(anyhow!("no manifest\n\nhint: run `spin new`"))
            .context("loading")
            .unwrap_err();
        assert_eq!(
            render(&err),
            "Error: loading\n\nCaused by:\n  0: no manifest\n\nhint: run `spin new`"
        );
    }

    #[test]
    fn the_outermost_hint_wins_and_no_second_one_prints() {
        let err = Err::<(), _>(anyhow!("inner\n\nhint: inner hint"))
            .context(Hinted::new("middle", "middle hint"))
            .context(Hinted::new("outer", "outer hint"))
            .unwrap_err();
        let text = render(&err);
        assert!(text.ends_with("\n\nhint: outer hint"), "{text}");
        assert_eq!(text.matches("hint:").count(), 1, "{text}");
    }

    #[test]
    fn a_hinted_root_error_keeps_its_hint() {
        let err = anyhow::Error::new(Hinted::new("bad", "do this"));
        assert_eq!(render(&err), "Error: bad\n\nhint: do this");
    }

    #[test]
    fn typed_errors_print_their_hint_last() {
        let route = spin_routes::Router::build([("/a/:".to_owned(), ())]).unwrap_err();
        let err = Err::<(), _>(route)
            .context("building the routing table")
            .unwrap_err();
        assert_eq!(
            render(&err),
            "Error: building the routing table\n\nCaused by:\n  0: invalid route `/a/:`: a `:` parameter has no name\n\nhint: name each parameter, as in `/users/:id`"
        );

        let plugin = spin_plugins::Error::ReservedName("build".into());
        let text = render(&anyhow::Error::new(plugin));
        assert_eq!(
            text,
            "Error: Can't install a plugin named 'build': that name belongs to a built-in spin command\n\nhint: ask the plugin's author to rename it"
        );
    }

    #[test]
    fn flatten_joins_the_chain_and_keeps_the_hint() {
        let err = Err::<(), _>(Hinted::new("no value", "pass `--variable`"))
            .context("resolving")
            .unwrap_err();
        assert_eq!(
            flatten(&err),
            Hinted::new("resolving: no value", "pass `--variable`")
        );
        assert_eq!(
            with_hint(&flatten(&err)),
            "resolving: no value\n\nhint: pass `--variable`"
        );
        assert_eq!(with_hint(&Hinted::new("plain", "")), "plain");
    }

    #[test]
    fn multi_line_causes_are_indented() {
        let err = Err::<(), _>(anyhow!("first\nsecond"))
            .context("top")
            .unwrap_err();
        assert_eq!(
            render(&err),
            "Error: top\n\nCaused by:\n  0: first\n     second"
        );
    }
}
