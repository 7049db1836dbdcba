//! The content type of an upload, decided from its first bytes (magic numbers), never from
//! what the client claims: a file named `.pdf` that holds HTML is HTML. HTML, SVG, scripts and
//! executables are flagged download-only: served as `application/octet-stream` and never
//! rendered inline by anything this service serves.

/// How many leading bytes sniffing looks at.
pub const SNIFF_LEN: usize = 1024;

/// What the first bytes say a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    pub content_type: &'static str,
    /// Active content (HTML, SVG, scripts, executables): never to be shown inline.
    pub download_only: bool,
}

const OCTETS: &str = "application/octet-stream";

fn safe(content_type: &'static str) -> Sniffed {
    Sniffed {
        content_type,
        download_only: false,
    }
}

fn active() -> Sniffed {
    Sniffed {
        content_type: OCTETS,
        download_only: true,
    }
}

/// Sniffs `head` (the first up to [`SNIFF_LEN`] bytes); `name` only picks among the OOXML
/// types once the bytes say "ZIP holding `[Content_Types].xml`".
pub fn sniff(head: &[u8], name: &str) -> Sniffed {
    let magic: [(&[u8], &'static str); 6] = [
        (b"%PDF-", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"PK\x03\x04", "application/zip"),
    ];
    if [
        &b"MZ"[..],
        b"\x7fELF",
        b"#!",
        b"\xca\xfe\xba\xbe",
        b"\xcf\xfa\xed\xfe",
    ]
    .iter()
    .any(|m| head.starts_with(m))
        || looks_like_markup(head)
    {
        return active();
    }
    match magic.iter().find(|(m, _)| head.starts_with(m)) {
        Some((_, "application/zip")) => safe(ooxml(head, name).unwrap_or("application/zip")),
        Some((_, t)) => safe(t),
        None if is_text(head) => safe("text/plain; charset=utf-8"),
        None => safe(OCTETS),
    }
}

/// HTML or SVG anywhere in the head (browsers sniff past leading junk, so this does too).
fn looks_like_markup(head: &[u8]) -> bool {
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    [
        &b"<!doctype html"[..],
        b"<html",
        b"<script",
        b"<head",
        b"<body",
        b"<iframe",
        b"<svg",
        b"<?xml",
    ]
    .iter()
    .any(|tag| lower.windows(tag.len()).any(|w| w == *tag))
}

/// An Office Open XML document: a ZIP whose first entry is `[Content_Types].xml`.
fn ooxml(head: &[u8], name: &str) -> Option<&'static str> {
    let first = head.get(30..30 + 19)?;
    if first != b"[Content_Types].xml" {
        return None;
    }
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        _ => return None,
    })
}

/// UTF-8 (a sequence cut at the end of the head is fine) without control characters other
/// than tab, line feed, form feed and carriage return.
fn is_text(head: &[u8]) -> bool {
    let valid = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    valid
        .chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\x0c' | '\r'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers_decide_not_names() {
        assert_eq!(
            sniff(b"%PDF-1.7\n", "a.txt").content_type,
            "application/pdf"
        );
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n....", "a").content_type,
            "image/png"
        );
        assert_eq!(sniff(b"\xff\xd8\xff\xe0", "a").content_type, "image/jpeg");
        assert_eq!(sniff(b"GIF89a..", "a").content_type, "image/gif");
        assert_eq!(
            sniff(b"PK\x03\x04rest", "a.docx").content_type,
            "application/zip"
        );
        let mut docx = b"PK\x03\x04".to_vec();
        docx.resize(30, 0);
        docx.extend_from_slice(b"[Content_Types].xml");
        assert!(
            sniff(&docx, "a.DOCX")
                .content_type
                .contains("wordprocessingml")
        );
        assert_eq!(sniff(&docx, "a.zip").content_type, "application/zip");
        let text = sniff("héllo\r\n\tworld".as_bytes(), "a.pdf");
        assert_eq!(text, safe("text/plain; charset=utf-8"));
        // A multi-byte character cut at the end of the head is still text.
        assert!(is_text(&"é".as_bytes()[..1]));
        assert_eq!(sniff(b"\x00\x01\x02", "a.txt").content_type, OCTETS);
        assert!(!sniff(b"\x00\x01\x02", "a.txt").download_only);
    }

    #[test]
    fn active_content_is_download_only() {
        for head in [
            &b"<!DOCTYPE html><p>x"[..],
            b"  \n<HTML>",
            b"hello <script>alert(1)</script>",
            b"<svg xmlns='http://www.w3.org/2000/svg'/>",
            b"MZ\x90\x00",
            b"\x7fELF\x02\x01",
            b"#!/bin/sh\nrm -rf /",
        ] {
            assert_eq!(sniff(head, "invoice.pdf"), active(), "{head:?}");
        }
    }
}
