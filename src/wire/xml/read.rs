//! Reading DataContract-style XML request bodies into the value tree binding uses. Refuses
//! DTDs and unknown entities (no XXE), invalid UTF-8 and nesting deeper than [`MAX_DEPTH`];
//! never recurses, so hostile depth cannot exhaust the stack.

use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart, Event};
use serde_json::{Map, Value};

use super::PRIMITIVE_ITEMS;

/// Deepest element nesting [`parse`] accepts.
const MAX_DEPTH: usize = 64;

/// Why a request body is not acceptable XML.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct XmlError {
    pub message: String,
}

impl XmlError {
    fn new(message: impl Into<String>) -> Self {
        XmlError {
            message: message.into(),
        }
    }
}

fn fail(what: &str) -> impl Fn(quick_xml::Error) -> XmlError + '_ {
    move |e| XmlError::new(format!("{what}: {e}"))
}

/// An element being read.
struct Frame {
    name: String,
    nil: bool,
    text: String,
    children: Vec<(String, Value)>,
}

/// Parses a DataContract-style request body: the root's child elements become the members of
/// an object (local names; prefixes dropped); text-only elements become strings, empty or
/// `i:nil` ones null, repeated children arrays. DTDs and unknown entities are refused.
pub fn parse(bytes: &[u8]) -> Result<Value, XmlError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes)
        .map_err(|e| XmlError::new(format!("The XML body is not valid UTF-8: {e}")))?;
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut root = None;
    loop {
        let event = reader.read_event().map_err(fail("Malformed XML"))?;
        match event {
            Event::Start(e) => stack.push(open(&stack, root.is_some(), &e)?),
            Event::Empty(e) => {
                let frame = open(&stack, root.is_some(), &e)?;
                close(&mut stack, &mut root, frame);
            }
            Event::End(_) => {
                let frame = stack
                    .pop()
                    .ok_or_else(|| XmlError::new("Unexpected end tag"))?;
                close(&mut stack, &mut root, frame);
            }
            Event::Text(t) => add_text(&mut stack, &t.xml10_content().map_err(encoding)?)?,
            Event::CData(c) => add_text(&mut stack, &c.decode().map_err(encoding)?)?,
            Event::GeneralRef(r) => add_text(&mut stack, &resolve(&r)?)?,
            Event::DocType(_) => return Err(XmlError::new("DTDs are not allowed")),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::new("Unexpected end of the XML document"));
    }
    root.ok_or_else(|| XmlError::new("The XML body has no root element"))
}

fn encoding(e: quick_xml::encoding::EncodingError) -> XmlError {
    XmlError::new(format!("Malformed XML: {e}"))
}

fn open(stack: &[Frame], root_done: bool, e: &BytesStart<'_>) -> Result<Frame, XmlError> {
    if root_done {
        return Err(XmlError::new("Content after the root element"));
    }
    if stack.len() >= MAX_DEPTH {
        return Err(XmlError::new(format!(
            "XML nested deeper than {MAX_DEPTH} elements"
        )));
    }
    let name = std::str::from_utf8(e.local_name().as_ref())
        .map_err(|_| XmlError::new("Malformed XML: element name is not UTF-8"))?
        .to_owned();
    Ok(Frame {
        name,
        nil: is_nil(e)?,
        text: String::new(),
        children: Vec::new(),
    })
}

fn is_nil(e: &BytesStart<'_>) -> Result<bool, XmlError> {
    for attr in e.attributes() {
        let attr = attr.map_err(|e| XmlError::new(format!("Malformed XML attribute: {e}")))?;
        if attr.key.local_name().as_ref() == b"nil" {
            let value = attr
                .unescape_value()
                .map_err(fail("Malformed XML attribute"))?;
            return Ok(value.trim() == "true");
        }
    }
    Ok(false)
}

fn close(stack: &mut [Frame], root: &mut Option<Value>, mut frame: Frame) {
    match stack.last_mut() {
        Some(parent) => parent
            .children
            .push((std::mem::take(&mut frame.name), value_of(frame))),
        None => *root = Some(object_of(frame.children)),
    }
}

fn add_text(stack: &mut [Frame], text: &str) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(frame) => frame.text.push_str(text),
        None if text.trim().is_empty() => {}
        None => return Err(XmlError::new("Text outside the root element")),
    }
    Ok(())
}

/// `&lt;` and the other predefined entities, and character references; nothing else.
fn resolve(r: &BytesRef<'_>) -> Result<String, XmlError> {
    if let Some(c) = r.resolve_char_ref().map_err(fail("Malformed XML"))? {
        return Ok(c.to_string());
    }
    let name = r.decode().map_err(encoding)?;
    quick_xml::escape::resolve_predefined_entity(&name)
        .map(str::to_owned)
        .ok_or_else(|| XmlError::new(format!("Unknown XML entity '&{name};'")))
}

fn value_of(frame: Frame) -> Value {
    if frame.nil || (frame.children.is_empty() && frame.text.is_empty()) {
        Value::Null
    } else if frame.children.is_empty() {
        Value::String(frame.text)
    } else if is_list(&frame.children) {
        Value::Array(frame.children.into_iter().map(|(_, v)| v).collect())
    } else {
        object_of(frame.children)
    }
}

/// Two or more children of one name, or one child named like a primitive list item.
fn is_list(children: &[(String, Value)]) -> bool {
    let Some((first, _)) = children.first() else {
        return false;
    };
    children.iter().all(|(name, _)| name == first)
        && (children.len() > 1 || PRIMITIVE_ITEMS.contains(&first.as_str()))
}

fn object_of(children: Vec<(String, Value)>) -> Value {
    Value::Object(children.into_iter().collect::<Map<_, _>>())
}
