//! HTTP trigger settings shared by both formats: routes, executors and
//! static responses.

use toml::Spanned;

use super::Ctx;
use crate::error::{Error, ErrorKind};
use crate::model::{HttpExecutor, HttpRoute, Located, StaticResponse};
use crate::route;
use crate::schema::StrOr;
use crate::schema::common::{ExecutorDef, RouteDef, StaticResponseDef};

/// WAGI defaults, as in Spin.
const WAGI_ENTRYPOINT: &str = "_start";
const WAGI_ARGV: &str = "${SCRIPT_NAME} ${ARGS}";

impl Ctx<'_> {
    /// Checks a trigger `base` (v1 `trigger.base`, v2 `[application.trigger.http]`).
    pub(crate) fn base(&self, base: Option<Spanned<String>>) -> Result<String, Error> {
        let Some(base) = base else {
            return Ok("/".into());
        };
        route::check_base(base.get_ref()).map_err(|reason| {
            self.file.error(
                base.span(),
                "base",
                ErrorKind::InvalidBase {
                    base: base.get_ref().clone(),
                    reason,
                },
            )
        })?;
        Ok(base.into_inner())
    }

    /// A checked route with `base` applied.
    pub(crate) fn route(
        &self,
        base: &str,
        def: Spanned<RouteDef>,
    ) -> Result<Located<HttpRoute>, Error> {
        let span = def.span();
        let invalid = |route: &str, reason: String| {
            self.file.error(
                span.clone(),
                "route",
                ErrorKind::InvalidRoute {
                    route: route.to_owned(),
                    reason,
                },
            )
        };
        let route = match def.into_inner() {
            StrOr::Str(path) => {
                route::check_route(&path).map_err(|reason| invalid(&path, reason))?;
                let joined = route::join(base, &path);
                route::check_not_reserved(&joined).map_err(|reason| invalid(&joined, reason))?;
                // The router splits segments at `.` too (`/files/*.json`,
                // `/a.:/b`); what it rejects must fail here, with the line,
                // rather than when `spin up` builds the routing table.
                spin_routes::Router::build([(joined.clone(), ())])
                    .map_err(|err| invalid(&joined, err.kind.to_string()))?;
                HttpRoute::Path(joined)
            }
            StrOr::Table(private) if *private.private.get_ref() => HttpRoute::Private,
            StrOr::Table(private) => {
                return Err(self
                    .file
                    .error(private.private.span(), "private", ErrorKind::InvalidValue {
                        field: "private".into(),
                        context: "in `route`".into(),
                        message: "a route table must say `private = true`".into(),
                    })
                    .with_hint("give a path such as `route = \"/hello\"`, or `route = { private = true }` for a trigger reachable only from other components"));
            }
        };
        Ok(self.located(route, &span))
    }

    pub(crate) fn executor(
        &self,
        def: Option<Spanned<ExecutorDef>>,
    ) -> Result<HttpExecutor, Error> {
        let Some(def) = def else {
            return Ok(HttpExecutor::Http);
        };
        let def = def.into_inner();
        match def.kind.get_ref().as_str() {
            "spin" | "http" if def.entrypoint.is_none() && def.argv.is_none() => {
                Ok(HttpExecutor::Http)
            }
            "spin" | "http" => Err(self
                .file
                .error(
                    def.kind.span(),
                    "executor",
                    ErrorKind::InvalidValue {
                        field: "executor".into(),
                        context: "in the trigger".into(),
                        message: "`entrypoint` and `argv` apply only to `type = \"wagi\"`".into(),
                    },
                )
                .with_hint("remove `entrypoint` and `argv`, or use `type = \"wagi\"`")),
            "wagi" => Ok(HttpExecutor::Wagi {
                entrypoint: def.entrypoint.unwrap_or_else(|| WAGI_ENTRYPOINT.into()),
                argv: def.argv.unwrap_or_else(|| WAGI_ARGV.into()),
            }),
            other => Err(self.file.error(
                def.kind.span(),
                "type",
                ErrorKind::UnknownExecutor {
                    executor: other.to_owned(),
                },
            )),
        }
    }

    pub(crate) fn static_response(
        &self,
        def: Spanned<StaticResponseDef>,
    ) -> Result<StaticResponse, Error> {
        let def = def.into_inner();
        let status_code = match def.status_code {
            None => 200,
            Some(code) if (100..=999).contains(code.get_ref()) => code.into_inner(),
            Some(code) => {
                return Err(self
                    .file
                    .error(
                        code.span(),
                        "status_code",
                        ErrorKind::InvalidValue {
                            field: "status_code".into(),
                            context: "in `static_response`".into(),
                            message: format!("{} is not an HTTP status code", code.get_ref()),
                        },
                    )
                    .with_hint("use a status code from 100 to 999, e.g. `status_code = 404`"));
            }
        };
        Ok(StaticResponse {
            status_code,
            headers: def.headers,
            body: def.body,
        })
    }
}
