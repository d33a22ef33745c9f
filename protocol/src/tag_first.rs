//! Tagged enums read tag first: the browser's build (feature `tag-first`).
//!
//! serde's derived reader for an internally or adjacently tagged enum accepts the tag
//! anywhere in the object, so it must be able to hold every field it meets before the
//! tag in a buffer of any shape (`Content`) and read each variant a second time from
//! that buffer. In WebAssembly, that second reader per type is about a fifth of the
//! code a page downloads. Every object the broker sends is written by serde's derived
//! writer, which puts the tag first; so the browser reads the tag, then the variant,
//! straight from the text, and refuses an object whose tag is not its first field with
//! a typed error (`"type" must be the first field`). The broker keeps serde's derived
//! reader: what reaches it (a third party's client, a stored row from PostgreSQL's
//! `jsonb`, which orders keys by itself) may have the tag anywhere.
//!
//! [`tagged!`](crate::tagged) declares such an enum once. Without the feature, it derives
//! `Deserialize` as written. With it, it derives serde's reader of the same variants in
//! serde's own, externally tagged form (`{"variant": data}`, which needs no buffer)
//! as a function of a copy of the enum (`#[serde(remote)]`), and [`deserialize`] feeds
//! that reader from the tagged object: the tag's value is the variant, and for an
//! adjacently tagged enum the content field's value is its data, for an internally
//! tagged one the rest of the object.

use core::fmt;
use core::marker::PhantomData;

use serde::de::{
    DeserializeSeed, Deserializer, EnumAccess, Error as _, IgnoredAny, MapAccess, VariantAccess,
    Visitor,
};

/// An enum whose variants serde can read in its externally tagged form.
pub trait FromVariant<'de>: Sized {
    /// Reads the enum from a deserializer that answers `deserialize_enum`.
    fn from_variant<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error>;
}

/// Reads an enum tagged by the field `tag` (first), its data in the field `content`
/// (adjacently tagged) or in the rest of the object (`None`: internally tagged).
pub fn deserialize<'de, D, T>(
    deserializer: D,
    tag: &'static str,
    content: Option<&'static str>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromVariant<'de>,
{
    deserializer.deserialize_map(TaggedVisitor {
        tag,
        content,
        marker: PhantomData,
    })
}

struct TaggedVisitor<T> {
    tag: &'static str,
    content: Option<&'static str>,
    marker: PhantomData<T>,
}

impl<'de, T: FromVariant<'de>> Visitor<'de> for TaggedVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an object whose first field is \"{}\"", self.tag)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::from_variant(Tagged {
            map,
            tag: self.tag,
            content: self.content,
        })
    }
}

/// The object, as the enum, the variant and (internally tagged) the variant's fields.
struct Tagged<A> {
    map: A,
    tag: &'static str,
    content: Option<&'static str>,
}

impl<'de, A: MapAccess<'de>> Tagged<A> {
    /// The next field must be `name`.
    fn expect_field(&mut self, name: &'static str, after: &'static str) -> Result<(), A::Error> {
        match self.map.next_key_seed(FieldIs(name))? {
            Some(true) => Ok(()),
            Some(false) => Err(A::Error::custom(format_args!(
                "\"{name}\" must be the first field{after}"
            ))),
            None => Err(A::Error::missing_field(name)),
        }
    }

    /// Skips what is left of the object (fields serde's reader would ignore too).
    fn finish(mut self) -> Result<(), A::Error> {
        while self.map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }

    /// Adjacently tagged: the content field's value, through `seed`.
    fn content<S: DeserializeSeed<'de>>(
        mut self,
        content: &'static str,
        seed: S,
    ) -> Result<S::Value, A::Error> {
        self.expect_field(content, " after the tag")?;
        let value = self.map.next_value_seed(seed)?;
        self.finish()?;
        Ok(value)
    }
}

impl<'de, A: MapAccess<'de>> Deserializer<'de> for Tagged<A> {
    type Error = A::Error;

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        visitor.visit_enum(self)
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, A::Error> {
        Err(A::Error::custom(
            "a tagged object read as something other than an enum",
        ))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier
        ignored_any
    }
}

impl<'de, A: MapAccess<'de>> EnumAccess<'de> for Tagged<A> {
    type Error = A::Error;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'de>>(
        mut self,
        seed: S,
    ) -> Result<(S::Value, Self), A::Error> {
        self.expect_field(self.tag, "")?;
        let variant = self.map.next_value_seed(seed)?;
        Ok((variant, self))
    }
}

impl<'de, A: MapAccess<'de>> VariantAccess<'de> for Tagged<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        // An adjacently tagged unit variant has no content field (or a null one).
        self.finish()
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, A::Error> {
        match self.content {
            Some(content) => self.content(content, seed),
            None => seed.deserialize(Rest(self.map)),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        match self.content {
            Some(content) => self.content(content, Tuple { len, visitor }),
            None => Err(A::Error::custom(
                "an internally tagged enum has no tuple variants",
            )),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        match self.content {
            Some(content) => self.content(content, Struct { visitor }),
            None => visitor.visit_map(self.map),
        }
    }
}

/// Whether a field's name is this one.
struct FieldIs(&'static str);

impl<'de> DeserializeSeed<'de> for FieldIs {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for FieldIs {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E>(self, name: &str) -> Result<bool, E> {
        Ok(name == self.0)
    }
}

/// The rest of an internally tagged object, as a newtype variant's value.
struct Rest<A>(A);

impl<'de, A: MapAccess<'de>> Deserializer<'de> for Rest<A> {
    type Error = A::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_map(self.0)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

struct Tuple<V> {
    len: usize,
    visitor: V,
}

impl<'de, V: Visitor<'de>> DeserializeSeed<'de> for Tuple<V> {
    type Value = V::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<V::Value, D::Error> {
        deserializer.deserialize_tuple(self.len, self.visitor)
    }
}

/// A struct variant's data, read as an object only: serde's derived reader would also
/// take an array of the fields in order, which nothing writes, and its code would ship.
struct Struct<V> {
    visitor: V,
}

impl<'de, V: Visitor<'de>> DeserializeSeed<'de> for Struct<V> {
    type Value = V::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<V::Value, D::Error> {
        deserializer.deserialize_map(self.visitor)
    }
}

/// Declares an enum tagged by `tag` (its variants `snake_case`), adjacently when
/// `content` is given: serialized by serde's derive (add `Serialize` to its derives),
/// read by serde's derive, or tag first with the feature `tag-first` (see
/// [`tag_first`](crate::tag_first)).
#[macro_export]
#[doc(hidden)]
macro_rules! tagged {
    (
        tag = $tag:literal $(, content = $content:literal)?;
        $(#[$attr:meta])*
        $vis:vis enum $name:ident { $($body:tt)* }
    ) => {
        $(#[$attr])*
        #[cfg_attr(not(feature = "tag-first"), derive(::serde::Deserialize))]
        #[serde(tag = $tag $(, content = $content)?, rename_all = "snake_case")]
        $vis enum $name { $($body)* }

        #[cfg(feature = "tag-first")]
        const _: () = {
            type Remote = $name;

            /// The same variants, read in serde's externally tagged form.
            #[allow(dead_code)]
            #[derive(::serde::Deserialize)]
            #[serde(remote = "Remote", rename_all = "snake_case")]
            enum Externally { $($body)* }

            impl<'de> $crate::tag_first::FromVariant<'de> for $name {
                fn from_variant<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    Externally::deserialize(d)
                }
            }

            impl<'de> ::serde::Deserialize<'de> for $name {
                fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    $crate::tag_first::deserialize(d, $tag, $crate::tagged!(@content $($content)?))
                }
            }
        };
    };
    (@content $content:literal) => { Some($content) };
    (@content) => { None };
}
