//! A `<video>` that plays a `MediaStream` (the `srcObject` is set and cleared from
//! Rust, since it is not an attribute): muted, inline, started as soon as it is given.

use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlVideoElement, MediaStream};
use yew::platform::spawn_local;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct VideoProps {
    pub id: AttrValue,
    /// What to play (`None` shows nothing).
    pub stream: Option<MediaStream>,
    #[prop_or_default]
    pub class: Classes,
    #[prop_or_default]
    pub label: Option<AttrValue>,
    /// The element, for an owner that reads its size or frame counts.
    #[prop_or_default]
    pub node_ref: Option<NodeRef>,
}

#[component]
pub fn Video(props: &VideoProps) -> Html {
    let own = use_node_ref();
    let node_ref = props.node_ref.clone().unwrap_or(own);
    {
        let node = node_ref.clone();
        use_effect_with(props.stream.clone(), move |stream| {
            if let Some(video) = node.cast::<HtmlVideoElement>() {
                // The attribute only sets the default; autoplay needs the property.
                video.set_muted(true);
                video.set_src_object(stream.as_ref());
                if stream.is_some() {
                    if let Ok(promise) = video.play() {
                        // A refused autoplay leaves the controls to the user: nothing to do.
                        spawn_local(async move {
                            let _ = JsFuture::from(promise).await;
                        });
                    }
                }
            }
            let node = node.clone();
            move || {
                if let Some(video) = node.cast::<HtmlVideoElement>() {
                    video.set_src_object(None);
                }
            }
        });
    }
    html! {
        <video id={props.id.clone()} ref={node_ref} class={props.class.clone()}
            autoplay=true muted=true playsinline=true aria-label={props.label.clone()}></video>
    }
}
