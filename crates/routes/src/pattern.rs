//! Route patterns: parsing, matching a path, and ranking patterns.
//!
//! Spin 4 routes with the `routefinder` crate (0.5), so this module keeps its
//! observable rules: a route is a list of tokens split at `/` and `.`, a
//! request path is trimmed of leading and trailing slashes before matching,
//! `:name` captures up to the next `/` (or `.` when the route has a `.` there),
//! and `*` captures the rest. Checked against routefinder on random route
//! sets, the results are identical except where routefinder is inconsistent,
//! which is deliberately not copied:
//!
//! - its ranking of `.` is not an order, so with a leading-dot route such as
//!   `/.well-known/...` next to `/...` the winner depends on manifest order;
//!   here a dot outside a parameter is literal text and always outranks a
//!   parameter or wildcard;
//! - with dotted parameters (`/:name.:ext`) its ranking can cycle; here the
//!   best of the routes that actually match wins (see
//!   [`Pattern::precedence`]);
//! - a `.` right after a `/` is glued onto the previous segment (`/a/.b`
//!   matches `/a.b`); here it stays in its segment;
//! - a wildcard in the middle of a route panics on the first request; here
//!   it is an error when the router is built.
//!
//! Three rules come from fuzzing (issue 10) so that an exact route always
//! wins its own path, and were not checked against routefinder: a parameter
//! never captures an empty string; a wildcard ranks below a `/` (`/a./b`
//! beats `/a.*`); and a literal ranks once per character (`/..` beats
//! `/.:ext`).

use std::cmp::Ordering;

/// Why a route was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouteErrorKind {
    /// A segment is a bare `:`.
    #[error("a `:` parameter has no name")]
    UnnamedParam,
    /// A segment such as `*rest`: the wildcard always captures the rest of the
    /// path, so a name would be meaningless.
    #[error("the wildcard `{0}` has a name, but a wildcard cannot be named")]
    NamedWildcard(String),
    /// `*` or `...` appears before the end of the route.
    #[error("a wildcard (`...` or `*`) may only end a route")]
    WildcardNotLast,
    /// The parameter's name could not be sent as a `spin-path-match-<name>`
    /// header, so every request to the route would fail.
    #[error("the parameter name `{0}` cannot be used in a `spin-path-match-*` header")]
    InvalidParamName(String),
}

impl RouteErrorKind {
    /// What to write instead.
    pub(crate) fn hint(&self) -> &'static str {
        match self {
            Self::UnnamedParam => "name each parameter, as in `/users/:id`",
            Self::NamedWildcard(_) => {
                "end the route with `/...` to match the rest of the path, as in `/files/...`, \
                 or use `:name` to capture a single segment"
            }
            Self::WildcardNotLast => {
                "put the wildcard last, as in `/files/...`, or use `:name` to match one \
                 segment in the middle, as in `/files/:dir/index.html`"
            }
            Self::InvalidParamName(_) => {
                "use ASCII letters, digits, `_` and `-` in parameter names, as in `/users/:user_id`"
            }
        }
    }
}

/// One unit of a route pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// Matches one `/` between segments.
    Slash,
    /// Matches the `.` that ends a parameter, as in `:name.:ext`.
    Dot,
    /// Matches this exact text.
    Literal(String),
    /// Captures a non-empty run of characters up to the next separator.
    Param(String),
    /// Captures the rest of the path, possibly empty.
    Wildcard,
}

impl Token {
    /// routefinder's specificity order: literal text beats a parameter, which
    /// beats the wildcard. (routefinder ranks its dot token inconsistently
    /// against non-separators, but as a `Dot` here only follows a parameter,
    /// such a comparison is never the deciding one.) The wildcard ranks below
    /// separators too: where one route has a `/` and the other a wildcard
    /// glued to a dot (`/a./b` and `/a.*`), the one with the `/` continues
    /// with more of the path, so it must win (found by the `router` fuzzer).
    fn rank(&self) -> u8 {
        match self {
            Self::Wildcard => 0,
            Self::Slash | Self::Dot => 1,
            Self::Param(_) => 2,
            Self::Literal(_) => 3,
        }
    }
}

/// A parsed route.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    tokens: Vec<Token>,
}

/// What a successful match captured from the path.
#[derive(Debug)]
pub(crate) struct Captures<'r, 'p> {
    /// `:name` parameters in route order.
    pub(crate) params: Vec<(&'r str, &'p str)>,
    /// What the trailing wildcard matched, without surrounding slashes.
    pub(crate) wildcard: Option<&'p str>,
}

impl Pattern {
    /// Parses a route that already has its leading slash and no trailing
    /// slash (see `normalize_route`). A trailing `/...` or `/*` becomes the
    /// wildcard.
    pub(crate) fn parse(route: &str) -> Result<Self, RouteErrorKind> {
        let spec = match route.strip_suffix("/...") {
            Some(prefix) => format!("{prefix}/*"),
            None => route.to_owned(),
        };
        let tokens = tokenize(&spec)?;
        let misplaced_wildcard = tokens
            .iter()
            .rev()
            .skip(1)
            .any(|t| matches!(t, Token::Wildcard));
        if misplaced_wildcard {
            return Err(RouteErrorKind::WildcardNotLast);
        }
        Ok(Self { tokens })
    }

    /// True when the route ends in a wildcard.
    pub(crate) fn is_wildcard(&self) -> bool {
        matches!(self.tokens.last(), Some(Token::Wildcard))
    }

    /// Matches a request path (no query). Leading and trailing slashes of the
    /// path are ignored, as in Spin.
    pub(crate) fn matches<'r, 'p>(&'r self, path: &'p str) -> Option<Captures<'r, 'p>> {
        let mut rest = path.trim_matches('/');
        let mut captures = Captures {
            params: Vec::new(),
            wildcard: None,
        };
        let mut tokens = self.tokens.iter().peekable();
        while let Some(token) = tokens.next() {
            let next = tokens.peek();
            rest = match token {
                Token::Literal(text) => rest.strip_prefix(text.as_str())?,
                Token::Dot => rest.strip_prefix('.')?,
                Token::Slash => match (rest.strip_prefix('/'), next) {
                    (Some(after), Some(_)) => after,
                    // `/foo/...` matches `/foo`: the slash before an empty
                    // wildcard is optional.
                    (None, Some(Token::Wildcard)) if rest.is_empty() => rest,
                    _ => return None,
                },
                Token::Param(name) => {
                    let end = if matches!(next, Some(Token::Dot)) {
                        let end = rest.find(['.', '/'])?;
                        if !rest[end..].starts_with('.') {
                            return None;
                        }
                        end
                    } else {
                        rest.find('/').unwrap_or(rest.len())
                    };
                    // A parameter captures at least one character: `/o.:id.`
                    // must not match `/o..`, nor `/.:x/a` match `/./a`
                    // (found by the `router` fuzzer).
                    if end == 0 {
                        return None;
                    }
                    captures.params.push((name.as_str(), &rest[..end]));
                    &rest[end..]
                }
                Token::Wildcard => {
                    captures.wildcard = Some(rest);
                    ""
                }
            };
        }
        rest.is_empty().then_some(captures)
    }

    /// routefinder's ranking between two routes that both match a path: the
    /// one to prefer is `Less`. Tokens compare left to right; if one route's
    /// tokens are a prefix of the other's, the one with more `.` tokens wins,
    /// then the shorter one. Ties are left to manifest order.
    ///
    /// This is not transitive once dotted parameters (`/:name.:ext`) are
    /// involved, so it must only pick among actual matches, never sort.
    pub(crate) fn precedence(&self, other: &Self) -> Ordering {
        self.token_order(other)
            .then_with(|| other.dots().cmp(&self.dots()))
            .then_with(|| self.ranks().count().cmp(&other.ranks().count()))
    }

    /// A total order that agrees with [`Self::precedence`] whenever neither
    /// route has dotted parameters: tokens left to right, then shorter first.
    /// Used to list routes, most specific first.
    pub(crate) fn specificity(&self, other: &Self) -> Ordering {
        self.token_order(other)
            .then_with(|| self.ranks().count().cmp(&other.ranks().count()))
    }

    fn token_order(&self, other: &Self) -> Ordering {
        self.ranks()
            .zip(other.ranks())
            .map(|(mine, theirs)| theirs.cmp(&mine))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }

    /// Each token's rank, a literal's once per character, so that routes
    /// whose tokens split the same text differently stay aligned: `/../x`
    /// (the literal `..`) must beat `/.:ext/x` (`.` then a parameter) on
    /// `/../x` (found by the `router` fuzzer). Ties then go to the shorter
    /// of these sequences, not to fewer tokens, or the order is not total.
    fn ranks(&self) -> impl Iterator<Item = u8> + '_ {
        self.tokens.iter().flat_map(|token| {
            let count = match token {
                Token::Literal(text) => text.chars().count(),
                _ => 1,
            };
            std::iter::repeat_n(token.rank(), count)
        })
    }

    fn dots(&self) -> usize {
        self.tokens.iter().filter(|t| **t == Token::Dot).count()
    }
}

/// Splits a routefinder-style spec into tokens.
fn tokenize(spec: &str) -> Result<Vec<Token>, RouteErrorKind> {
    let mut tokens = Vec::new();
    let segments: Vec<&str> = spec.split('/').filter(|s| !s.is_empty()).collect();
    for (i, segment) in segments.iter().enumerate() {
        if *segment == "..." {
            // Only a final `/...` is a wildcard, and that was turned into `*`
            // before tokenizing.
            return Err(RouteErrorKind::WildcardNotLast);
        }
        if i > 0 {
            tokens.push(Token::Slash);
        }
        let segment_start = tokens.len();
        for (j, piece) in segment.split('.').enumerate() {
            if j > 0 {
                let in_segment = tokens.len() > segment_start;
                match tokens.last_mut() {
                    // A dot after a parameter ends it (`:name.:ext`).
                    Some(Token::Param(_) | Token::Dot) if in_segment => tokens.push(Token::Dot),
                    // Elsewhere a dot is literal text; routefinder keeps it
                    // with the text before it (`a.b` is `a.` then `b`).
                    Some(Token::Literal(text)) if in_segment => text.push('.'),
                    _ => tokens.push(Token::Literal(".".to_owned())),
                }
            }
            if let Some(token) = classify(piece)? {
                tokens.push(token);
            }
        }
    }
    Ok(tokens)
}

/// Turns one piece of a segment (between `/` and `.` separators) into a token.
fn classify(piece: &str) -> Result<Option<Token>, RouteErrorKind> {
    if piece.is_empty() {
        return Ok(None);
    }
    if piece == "*" {
        return Ok(Some(Token::Wildcard));
    }
    if piece.starts_with('*') {
        return Err(RouteErrorKind::NamedWildcard(piece.to_owned()));
    }
    match piece.strip_prefix(':') {
        Some("") => Err(RouteErrorKind::UnnamedParam),
        Some(name) if name.bytes().all(is_header_name_byte) => {
            Ok(Some(Token::Param(name.to_owned())))
        }
        Some(name) => Err(RouteErrorKind::InvalidParamName(name.to_owned())),
        None => Ok(Some(Token::Literal(piece.to_owned()))),
    }
}

/// RFC 9110 `tchar`: the bytes allowed in a header name.
fn is_header_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(route: &str) -> Vec<Token> {
        Pattern::parse(route).unwrap().tokens
    }

    fn lit(s: &str) -> Token {
        Token::Literal(s.to_owned())
    }

    fn param(s: &str) -> Token {
        Token::Param(s.to_owned())
    }

    #[test]
    fn tokenizes_like_routefinder() {
        use Token::*;
        assert_eq!(tokens(""), vec![]);
        assert_eq!(tokens("/..."), vec![Wildcard]);
        assert_eq!(tokens("/*"), vec![Wildcard]);
        assert_eq!(tokens("/foo/..."), vec![lit("foo"), Slash, Wildcard]);
        assert_eq!(
            tokens("/a/:b/c"),
            vec![lit("a"), Slash, param("b"), Slash, lit("c")]
        );
        assert_eq!(tokens("/a.b"), vec![lit("a."), lit("b")]);
        assert_eq!(
            tokens("/:name.:ext"),
            vec![param("name"), Dot, param("ext")]
        );
        assert_eq!(tokens("/v.:n"), vec![lit("v."), param("n")]);
        // A leading dot is literal text, as in routefinder.
        assert_eq!(
            tokens("/.well-known/x"),
            vec![lit("."), lit("well-known"), Slash, lit("x")]
        );
        assert_eq!(tokens("/:x..y"), vec![param("x"), Dot, Dot, lit("y")]);
        // Empty segments collapse.
        assert_eq!(tokens("/a//b"), vec![lit("a"), Slash, lit("b")]);
        // A dot after a slash stays in its own segment (routefinder would glue
        // it onto `a`).
        assert_eq!(tokens("/a/.b"), vec![lit("a"), Slash, lit("."), lit("b")]);
        // `*` inside a segment is plain text.
        assert_eq!(tokens("/a*b"), vec![lit("a*b")]);
    }

    #[test]
    fn rejects_malformed_routes() {
        for (route, kind) in [
            ("/:", RouteErrorKind::UnnamedParam),
            ("/a/:/b", RouteErrorKind::UnnamedParam),
            ("/*rest", RouteErrorKind::NamedWildcard("*rest".into())),
            ("/a/*/b", RouteErrorKind::WildcardNotLast),
            ("/a/*.json", RouteErrorKind::WildcardNotLast),
            ("/a/.../b", RouteErrorKind::WildcardNotLast),
            ("/.../...", RouteErrorKind::WildcardNotLast),
            ("/:na me", RouteErrorKind::InvalidParamName("na me".into())),
            ("/:é", RouteErrorKind::InvalidParamName("é".into())),
        ] {
            assert_eq!(Pattern::parse(route).unwrap_err(), kind, "{route}");
        }
    }

    #[test]
    fn ranks_like_routefinder() {
        let order = |a: &str, b: &str| {
            Pattern::parse(a)
                .unwrap()
                .precedence(&Pattern::parse(b).unwrap())
        };
        assert_eq!(order("/foo", "/..."), Ordering::Less);
        assert_eq!(order("/foo", "/:x"), Ordering::Less);
        assert_eq!(order("/:x", "/..."), Ordering::Less);
        assert_eq!(order("/a/b/...", "/a/..."), Ordering::Less);
        // Fewer tokens first when one is a prefix of the other.
        assert_eq!(order("", "/foo"), Ordering::Less);
        assert_eq!(order("/a", "/a/..."), Ordering::Less);
        // Same shape: tie, left to manifest order.
        assert_eq!(order("/foo", "/bar"), Ordering::Equal);
        // More dots first.
        assert_eq!(order("/:a.:b", "/:a"), Ordering::Less);
        // Dotted literals are literals.
        assert_eq!(order("/.x", "/..."), Ordering::Less);
        assert_eq!(order("/.x", "/:y"), Ordering::Less);
    }

    /// Sorting the routes panicked ("user-provided comparison function does
    /// not correctly implement a total order") once literals ranked per
    /// character but ties were still broken by the number of tokens (found
    /// by the `router` fuzzer).
    #[test]
    fn specificity_is_a_total_order() {
        let routes = [
            "",
            "/a",
            "/ab",
            "/abc",
            "/a.",
            "/a.b",
            "/a.:p",
            "/a/b",
            "/ab/c",
            "/:x",
            "/:x.:y",
            "/...",
            "/a/...",
            "/ab/...",
            "/a.*",
            "/.:e",
            "/..",
            "/../.",
            "/.:e/.",
            "/:x/b",
            // The fuzzer's set, normalized.
            "/:*.!",
            "/\u{4}F\u{1}\u{4}/o",
            "/#",
            "/!",
            "/(",
            "/)",
            "/!/!)!!",
            "/-/\u{12}",
            "/!",
            "/)/I#9o",
            "/&",
            "/!!./.\u{1}...",
            "/!/!)RRR\u{1}.\u{1}#z/\u{1}.\u{1}",
            "/z/\u{1}.\u{1}",
            "/.",
            "/.\u{1}.\u{1}",
            "/.\u{1}.!)!!",
            "/!/!)/I#9o",
            "/!!./.\u{1}.\u{1}",
            "/./\u{1}$",
        ];
        let patterns: Vec<Pattern> = routes.iter().map(|r| Pattern::parse(r).unwrap()).collect();
        let order = |a: usize, b: usize| patterns[a].specificity(&patterns[b]);
        let n = patterns.len();
        for a in 0..n {
            for b in 0..n {
                assert_eq!(
                    order(a, b),
                    order(b, a).reverse(),
                    "{} {}",
                    routes[a],
                    routes[b]
                );
                for c in 0..n {
                    if order(a, b).is_le() && order(b, c).is_le() {
                        assert!(
                            order(a, c).is_le(),
                            "{} <= {} <= {}",
                            routes[a],
                            routes[b],
                            routes[c]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn specificity_ignores_dots_to_stay_transitive() {
        let parse = |r: &str| Pattern::parse(r).unwrap();
        let (a, b, c) = (parse("/:x"), parse("/:n.:e"), parse("/:x/b"));
        // routefinder's ranking cycles: b before a, a before c, c before b.
        assert_eq!(b.precedence(&a), Ordering::Less);
        assert_eq!(a.precedence(&c), Ordering::Less);
        assert_eq!(c.precedence(&b), Ordering::Less);
        // The listing order does not.
        assert_eq!(a.specificity(&b), Ordering::Less);
        assert_eq!(a.specificity(&c), Ordering::Less);
        assert_eq!(b.specificity(&c), Ordering::Greater);
    }
}
