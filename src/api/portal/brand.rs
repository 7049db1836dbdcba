//! A tenant's branding on the portal, served from our own origin so the pages' CSP stays
//! `style-src 'self'; img-src 'self'`: `GET /brand/{TenantId}/style.css` (the accent, as CSS
//! custom properties the portal's stylesheet reads; no inline style anywhere) and
//! `GET /brand/{TenantId}/logo.png`. Page links carry a content version (`?v=`), so both are
//! cached for a year and a change of accent or logo is a new URL. Knows nothing of how the
//! tenant is stored beyond the `TenantOf` query.

use bytes::Bytes;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderMap, HeaderValue};
use hyper::{Method, StatusCode};

use super::pages::Brand;
use crate::api::error::ApiError;
use crate::api::{Request, Response};
use crate::domain::TenantId;
use crate::domain::brand::text_on;
use crate::domain::catalogue::fill;
use crate::domain::locale::Locale;
use crate::domain::tenant::Tenant;
use crate::store::Store;
use crate::store::queries::TenantOf;

/// A branding asset a request names.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    tenant: TenantId,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Style,
    Logo,
}

/// The asset of `GET /brand/{TenantId}/style.css|logo.png`; `None` for any other request.
pub fn route(req: &Request) -> Option<Asset> {
    if req.method != Method::GET && req.method != Method::HEAD {
        return None;
    }
    let rest = req.path().strip_prefix("/brand/")?;
    let (id, file) = rest.split_once('/')?;
    let kind = match file {
        "style.css" => Kind::Style,
        "logo.png" => Kind::Logo,
        _ => return None,
    };
    let tenant = crate::wire::types::Guid::parse(id)?;
    Some(Asset {
        tenant: TenantId::from(tenant.0),
        kind,
    })
}

/// The asset's bytes: 404 (empty) for an unknown tenant or one without that asset.
pub async fn serve(store: &Store, asset: Asset) -> Result<Response, ApiError> {
    let tenant = store.fetch(TenantOf(asset.tenant)).await?;
    let found = tenant.and_then(|t| match asset.kind {
        Kind::Style => t
            .accent
            .as_deref()
            .map(|a| ("text/css; charset=utf-8", Bytes::from(stylesheet(a)))),
        Kind::Logo => t
            .logo
            .map(|l| ("image/png", Bytes::copy_from_slice(l.bytes()))),
    });
    let mut headers = HeaderMap::new();
    let Some((content_type, body)) = found else {
        return Ok(response(StatusCode::NOT_FOUND, headers, Bytes::new()));
    };
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    Ok(response(StatusCode::OK, headers, body))
}

fn response(status: StatusCode, headers: HeaderMap, body: Bytes) -> Response {
    Response {
        status,
        reason: None,
        headers,
        body,
    }
}

/// The per-tenant stylesheet: `accent` is a validated `#rrggbb`, so nothing else can be
/// written into the CSS.
fn stylesheet(accent: &str) -> String {
    format!(
        ":root {{ --accent: {accent}; --on-accent: {}; }}\n",
        text_on(accent)
    )
}

/// What a page of `tenant` links of its branding (nothing for an unknown tenant).
pub async fn of(
    store: &Store,
    tenant: TenantId,
    locale: Locale,
    tenant_name: &str,
) -> Result<Brand, ApiError> {
    Ok(store
        .fetch(TenantOf(tenant))
        .await?
        .map(|t| brand_of(&t, locale, tenant_name))
        .unwrap_or_default())
}

fn brand_of(t: &Tenant, locale: Locale, tenant_name: &str) -> Brand {
    let base = format!("/brand/{}", t.tenant_id.simple());
    Brand {
        stylesheet: t
            .accent
            .as_deref()
            .map(|a| format!("{base}/style.css?v={}", a.trim_start_matches('#'))),
        logo: t.logo.as_ref().map(|l| {
            let alt = fill(locale, "page.logo", &[("tenant", tenant_name)]);
            (format!("{base}/logo.png?v={}", l.version()), alt)
        }),
    }
}
