//! The WebRTC glue in headless Chromium with its fake devices: a capture's tracks end
//! when it is stopped or dropped, and two peer connections in one page, wired through
//! their signals as the broker would relay them, deliver the customer's video.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use connectit::rtc::{Capture, CaptureRequest, Peer, PeerEvent, PeerRole};
use connectit_protocol::Media;
use gloo_timers::future::TimeoutFuture;
use wasm_bindgen_test::*;
use web_sys::{MediaStream, MediaStreamTrackState};
use yew::Callback;

wasm_bindgen_test_configure!(run_in_browser);

async fn capture(media: Media) -> Capture {
    CaptureRequest::start(media)
        .expect("mediaDevices in a secure page")
        .finish(|| {})
        .await
        .expect("the fake device")
}

#[wasm_bindgen_test]
async fn stopping_or_dropping_a_capture_ends_every_track() {
    let camera = capture(Media::Camera).await;
    assert!(camera.is_live());
    let track = Clone::clone(camera.track());
    camera.stop();
    assert_eq!(track.ready_state(), MediaStreamTrackState::Ended);

    let screen = capture(Media::Screen).await;
    let track = Clone::clone(screen.track());
    assert_eq!(track.ready_state(), MediaStreamTrackState::Live);
    drop(screen);
    assert_eq!(track.ready_state(), MediaStreamTrackState::Ended);
}

#[wasm_bindgen_test]
async fn two_peers_connect_through_their_signals() {
    let camera = capture(Media::Camera).await;
    let received: Rc<RefCell<Option<MediaStream>>> = Rc::default();
    // Each side's outgoing signals, delivered to the other after the fact (no borrow
    // of a peer while it emits).
    let to_answerer: Rc<RefCell<Vec<_>>> = Rc::default();
    let to_offerer: Rc<RefCell<Vec<_>>> = Rc::default();
    let offerer = {
        let out = to_answerer.clone();
        Peer::new(
            PeerRole::Offerer,
            &connectit_protocol::IceConfig::default(),
            Callback::from(move |e| {
                if let PeerEvent::Signal(body) = e {
                    out.borrow_mut().push(body)
                }
            }),
        )
        .expect("a peer connection")
    };
    let answerer = {
        let (out, received) = (to_offerer.clone(), received.clone());
        Peer::new(
            PeerRole::Answerer,
            &connectit_protocol::IceConfig::default(),
            Callback::from(move |e| match e {
                PeerEvent::Signal(body) => out.borrow_mut().push(body),
                PeerEvent::Remote(stream) => *received.borrow_mut() = Some(stream),
                _ => {}
            }),
        )
        .expect("a peer connection")
    };
    offerer.send_track(camera.track(), camera.stream());
    offerer.offer(false);
    for _ in 0..100 {
        for body in to_answerer.take() {
            answerer.receive(body);
        }
        for body in to_offerer.take() {
            offerer.receive(body);
        }
        if received.borrow().is_some()
            && offerer.ice_state() == web_sys::RtcIceConnectionState::Connected
        {
            break;
        }
        TimeoutFuture::new(50).await;
    }
    let stream = received.borrow().clone().expect("the video arrived");
    assert_eq!(stream.get_video_tracks().length(), 1);
    // Pausing replaces the track with nothing; it does not end the capture.
    offerer.set_track(None);
    TimeoutFuture::new(50).await;
    assert!(camera.is_live());
    drop(offerer);
    drop(answerer);
}
