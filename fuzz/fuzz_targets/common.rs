//! Shared by the fuzz targets (`mod common;`): binds a parsed request into every request DTO
//! the service declares, as `api::dispatch` would, and checks binding's own invariants.
#![allow(dead_code, reason = "each target uses a different part")]

use customerlink::api::dto::{
    Contact, ContactListRequest, ContactRequest, CustomerLinkCreateRequest,
    CustomerLinkListRequest, CustomerLinkQueryRequest, CustomerLinkRequest,
    CustomerLinkResendRequest, CustomerLinkRevokeRequest, CustomerLinkUidRequest,
    GrantIntrospectRequest, PortalTokenRequest, PortalVerifyRequest,
};
use customerlink::wire::bind::{BindError, Sources, bind};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The sources of one request, borrowed.
#[derive(Clone, Copy, Default)]
pub struct Input<'a> {
    pub body: Option<&'a Value>,
    pub path: &'a [(String, String)],
    pub query: &'a [(String, String)],
    pub form: &'a [(String, String)],
}

impl Input<'_> {
    fn sources(&self) -> Sources<'_> {
        Sources {
            body: self.body.cloned(),
            path: self.path,
            query: self.query,
            form: self.form,
        }
    }
}

/// Binds one DTO; a body that is neither an object nor null must be refused as a whole, and a
/// value that does not convert is reported with its member, never echoing a credential.
pub fn bind_one<T: DeserializeOwned>(input: Input<'_>) -> Result<T, BindError> {
    let result = bind::<T>(input.sources());
    if let Some(body) = input.body
        && !matches!(body, Value::Object(_) | Value::Null)
    {
        let err = result.as_ref().err();
        assert!(
            matches!(err, Some(BindError::Unreadable { .. })),
            "a non-object body must be refused as unreadable: {body:?} gave {err:?}"
        );
    }
    if let Err(BindError::Invalid(bad)) = &result {
        assert!(!bad.is_empty(), "an invalid bind names at least one member");
        for b in bad {
            assert!(b.member.eq_ignore_ascii_case(&b.name), "{b:?}");
            assert!(
                !matches!(b.member, "Token" | "Code") || b.value.is_none(),
                "credentials are never echoed: {b:?}"
            );
        }
    }
    result
}

/// Binds every request DTO the route table names (every `Deserialize` DTO of `api::dto`;
/// add new ones here); for `Contact` (the one DTO that is also written back) checks that
/// what it serialises binds again to the same value.
pub fn bind_all(input: Input<'_>) {
    let _ = bind_one::<CustomerLinkCreateRequest>(input);
    let _ = bind_one::<CustomerLinkListRequest>(input);
    let _ = bind_one::<CustomerLinkQueryRequest>(input);
    let _ = bind_one::<CustomerLinkRequest>(input);
    let _ = bind_one::<CustomerLinkRevokeRequest>(input);
    let _ = bind_one::<CustomerLinkResendRequest>(input);
    let _ = bind_one::<CustomerLinkUidRequest>(input);
    let _ = bind_one::<GrantIntrospectRequest>(input);
    let _ = bind_one::<PortalTokenRequest>(input);
    let _ = bind_one::<PortalVerifyRequest>(input);
    let _ = bind_one::<ContactRequest>(input);
    let _ = bind_one::<ContactListRequest>(input);
    if let Ok(contact) = bind_one::<Contact>(input) {
        contact_round_trips(&contact);
    }
}

/// `Contact` is read and written: the JSON we write for it must bind to the same contact, and
/// it must become a `Node` (what the JSV, XML and CSV writers consume) without error.
pub fn contact_round_trips(contact: &Contact) {
    let written = serde_json::to_value(contact).expect("Contact serialises to JSON");
    let again: Contact = bind(Sources {
        body: Some(written.clone()),
        ..Sources::default()
    })
    .unwrap_or_else(|e| panic!("our own Contact JSON does not bind: {written} -> {e:?}"));
    let rewritten = serde_json::to_value(&again).expect("Contact serialises to JSON");
    assert_eq!(written, rewritten, "Contact JSON round trip changed it");
    let node = customerlink::wire::node::to_node(contact).expect("Contact becomes a Node");
    let _ = customerlink::wire::jsv::write(&node, customerlink::wire::casing::Casing::Pascal);
    let _ = customerlink::wire::xml::write(&node);
}
