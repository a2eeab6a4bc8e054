//! Static assets (CSS, scripts, icons): embedded in the binary, so a release binary copied to a
//! server has its styles; `--static-dir` reads them from a folder instead. URLs carry a content
//! hash (`/static/style.css?v=…`), so a URL with the current hash is cached for a year and a
//! changed file gets a new URL.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::error::AppError;

#[derive(rust_embed::Embed)]
#[folder = "static/"]
struct Embedded;

struct Asset {
    bytes: axum::body::Bytes,
    content_type: &'static str,
    /// The first 16 hex digits of the content's SHA-256.
    hash: String,
}

/// Every asset, in memory, by its path under `static/`.
pub struct Assets {
    files: HashMap<String, Asset>,
}

/// A year: the longest lifetime caches honour; hashed URLs never change content.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// An unhashed URL: the cache must ask again (answered 304 while the ETag matches).
const REVALIDATE: &str = "public, no-cache";

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "json" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn asset(path: &str, bytes: Vec<u8>) -> Asset {
    let hash = hex::encode(&Sha256::digest(&bytes)[..8]);
    Asset {
        bytes: bytes.into(),
        content_type: content_type(path),
        hash,
    }
}

fn read_dir(root: &Path, dir: &Path, files: &mut HashMap<String, Asset>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            read_dir(root, &path, files)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            let name = rel.to_string_lossy().replace('\\', "/");
            files.insert(name.clone(), asset(&name, std::fs::read(&path)?));
        }
    }
    Ok(())
}

impl Assets {
    /// The assets embedded at build time.
    pub fn embedded() -> Assets {
        let files = Embedded::iter()
            .filter_map(|name| {
                let file = Embedded::get(&name)?;
                Some((name.to_string(), asset(&name, file.data.into_owned())))
            })
            .collect();
        Assets { files }
    }

    /// The assets of a folder (`--static-dir`), read once at start-up.
    pub fn from_dir(dir: &Path) -> std::io::Result<Assets> {
        let mut files = HashMap::new();
        read_dir(dir, dir, &mut files)?;
        Ok(Assets { files })
    }

    pub fn url(&self, name: &str) -> String {
        match self.files.get(name) {
            Some(a) => format!("/static/{name}?v={}", a.hash),
            None => format!("/static/{name}"),
        }
    }
}

// why: pages build their chrome without the application state (error pages too), so the one set
// of assets of the process lives here; `init` sets it from the config when the router is built.
static ASSETS: OnceLock<Assets> = OnceLock::new();

/// Chooses the assets: the folder when given (falling back to the embedded ones, with a warning,
/// when it cannot be read), else the embedded ones. The first call in a process wins.
pub fn init(dir: Option<&Path>) {
    ASSETS.get_or_init(|| match dir {
        Some(d) => Assets::from_dir(d).unwrap_or_else(|e| {
            tracing::warn!(dir = %d.display(), error = %e, "static dir unreadable; using the embedded assets");
            Assets::embedded()
        }),
        None => Assets::embedded(),
    });
}

fn assets() -> &'static Assets {
    ASSETS.get_or_init(Assets::embedded)
}

/// The URL of an asset with its content hash, for templates: `url("style.css")`.
pub fn url(name: &str) -> String {
    assets().url(name)
}

#[derive(Deserialize)]
pub struct Version {
    v: Option<String>,
}

pub async fn serve(
    UrlPath(path): UrlPath<String>,
    Query(q): Query<Version>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let a = assets().files.get(&path).ok_or_else(AppError::not_found)?;
    let etag = format!("\"{}\"", a.hash);
    let cache = if q.v.as_deref() == Some(a.hash.as_str()) {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    let mut resp = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = Response::new(Body::from(a.bytes.clone()));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(a.content_type),
        );
        r
    };
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    Ok(resp)
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/static/{*path}", get(serve))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_assets_have_hashed_urls() {
        let a = Assets::embedded();
        let css = a.url("style.css");
        assert!(css.starts_with("/static/style.css?v="), "{css}");
        assert_eq!(css.len(), "/static/style.css?v=".len() + 16);
        assert!(a.files.contains_key("favicon.svg") && a.files.contains_key("catalog.js"));
        assert_eq!(a.files["style.css"].content_type, "text/css; charset=utf-8");
        assert_eq!(a.url("missing.css"), "/static/missing.css");
    }

    /// A block left open swallows every rule after it: a merge once left `@media print {`
    /// unclosed, and the rest of the stylesheet applied only on paper.
    #[test]
    fn every_stylesheet_closes_its_blocks() {
        let a = Assets::embedded();
        let sheets: Vec<_> = a.files.keys().filter(|k| k.ends_with(".css")).collect();
        assert!(sheets.len() >= 2, "{sheets:?}");
        for name in sheets {
            let text = String::from_utf8_lossy(&a.files[name].bytes).into_owned();
            let mut depth = 0i32;
            let mut rest = text.as_str();
            while let Some(start) = rest.find("/*") {
                depth = braces(&rest[..start], depth, name);
                rest = rest[start..]
                    .split_once("*/")
                    .map_or("", |(_, after)| after);
            }
            depth = braces(rest, depth, name);
            assert_eq!(depth, 0, "{name}: a block is left open");
        }
    }

    fn braces(text: &str, mut depth: i32, name: &str) -> i32 {
        for c in text.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            assert!(depth >= 0, "{name}: a block is closed twice");
        }
        depth
    }

    /// A plain `/static/…` link is served `no-cache` and misses a changed file's new hash:
    /// every template names its assets through `chrome.asset`.
    #[test]
    fn templates_link_assets_by_their_hashed_url() {
        fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, found);
                } else if let Ok(text) = std::fs::read_to_string(&path) {
                    for (n, line) in text.lines().enumerate() {
                        if line.contains("\"/static/") {
                            found.push(format!("{}:{}", path.display(), n + 1));
                        }
                    }
                }
            }
        }
        let mut found = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"),
            &mut found,
        );
        assert!(found.is_empty(), "unhashed asset links: {found:?}");
    }

    #[test]
    fn a_folder_overrides_and_changes_the_hash() {
        let dir = std::env::temp_dir().join(format!("cherga-assets-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("img")).unwrap();
        std::fs::write(dir.join("style.css"), "body{}").unwrap();
        std::fs::write(dir.join("img/x.svg"), "<svg/>").unwrap();
        let a = Assets::from_dir(&dir).unwrap();
        assert_ne!(a.url("style.css"), Assets::embedded().url("style.css"));
        assert!(a.url("img/x.svg").starts_with("/static/img/x.svg?v="));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
