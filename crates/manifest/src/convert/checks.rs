//! Checks that need the whole manifest: unique component ids, triggers
//! naming components that exist, and unique routes.

use std::collections::HashMap;

use crate::error::{Error, ErrorKind};
use crate::route;
use crate::source::{SourceFile, Span};
use crate::suggest::closest;

/// Ids, references and routes collected during conversion, checked at the end.
#[derive(Default)]
pub(crate) struct Checks {
    ids: Vec<(String, Span)>,
    references: Vec<(String, Span)>,
    routes: Vec<(String, Span)>,
}

impl Checks {
    /// A component id, with the span to point at if it is a duplicate.
    pub(crate) fn component(&mut self, id: &str, span: Span) {
        self.ids.push((id.to_owned(), span));
    }

    /// A trigger's reference to a component.
    pub(crate) fn reference(&mut self, id: &str, span: Span) {
        self.references.push((id.to_owned(), span));
    }

    /// A routable trigger route (with any base applied).
    pub(crate) fn route(&mut self, route: &str, span: Span) {
        self.routes.push((route.to_owned(), span));
    }

    pub(crate) fn run(self, file: SourceFile<'_>) -> Result<(), Error> {
        let mut first: HashMap<&str, &Span> = HashMap::new();
        for (id, span) in &self.ids {
            if let Some(earlier) = first.insert(id, span) {
                return Err(file.error(
                    span.clone(),
                    "id",
                    ErrorKind::DuplicateComponentId {
                        id: id.clone(),
                        first_line: file.location(earlier.start).line,
                    },
                ));
            }
        }
        let known: Vec<&str> = self.ids.iter().map(|(id, _)| id.as_str()).collect();
        for (id, span) in &self.references {
            if !known.contains(&id.as_str()) {
                let error = file.error(
                    span.clone(),
                    "component",
                    ErrorKind::UnknownComponent {
                        id: id.clone(),
                        known: known.iter().map(|k| (*k).to_owned()).collect(),
                    },
                );
                return Err(match closest(id, &known) {
                    Some(close) => {
                        let hint = format!("did you mean `{close}`? {}", error.hint());
                        error.with_hint(hint)
                    }
                    None => error,
                });
            }
        }
        let mut first: HashMap<String, &Span> = HashMap::new();
        for (route, span) in &self.routes {
            if let Some(earlier) = first.insert(route::duplicate_key(route), span) {
                return Err(file.error(
                    span.clone(),
                    "route",
                    ErrorKind::DuplicateRoute {
                        route: route.clone(),
                        first_line: file.location(earlier.start).line,
                    },
                ));
            }
        }
        Ok(())
    }
}
