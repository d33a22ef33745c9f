// Starts the ConnectIT app. An external module, because the Content-Security-Policy
// forbids inline script. Trunk writes the hashed file names into two <meta> tags
// (Trunk.toml: pattern_script, which also preloads both); this reads them, imports the
// wasm-bindgen glue and instantiates the WebAssembly, whose start function mounts the
// app. Until the app shows something, #loading stays; if the browser has no
// WebAssembly or anything fails, #loading goes and the #no-wasm notice (with the applet
// link) shows instead.
const named = (name) => document.querySelector(`meta[name="${name}"]`)?.content;

// The customer's text size (src/customer/text_size.rs), before anything is drawn.
try {
  const size = Number(window.localStorage.getItem('connectit.text-size'));
  if ([112, 125, 150, 175, 200].includes(size)) {
    document.documentElement.setAttribute('data-text-size', String(size));
  }
} catch (_) {
  // No storage (private mode, or forbidden): the browser's own size.
}

function failed() {
  document.getElementById('loading')?.remove();
  document.getElementById('no-wasm')?.removeAttribute('hidden');
}

async function start() {
  const js = named('connectit-js');
  const wasm = named('connectit-wasm');
  if (!js || !wasm || typeof WebAssembly !== 'object') {
    failed();
    return;
  }
  const glue = await import(js);
  await glue.default({ module_or_path: wasm });
}

start().catch((error) => {
  console.error('ConnectIT could not start:', error);
  failed();
});
