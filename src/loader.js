// Starts the ConnectIT app: an external module, kept with the app's files (the
// Content-Security-Policy allows no inline script but a page's own, by hash). Trunk writes the hashed file names into two <meta> tags
// (Trunk.toml: pattern_script, which also preloads both); this reads them, imports the
// wasm-bindgen glue and instantiates the WebAssembly, whose start function mounts the
// app. Until the app shows something, #loading stays (on the customer's page, or the
// PIN form its own inline script shows); if the browser has no WebAssembly or anything
// fails, they go and the #no-wasm notice (with the applet link) shows instead.
const named = (name) => document.querySelector(`meta[name="${name}"]`)?.content;

// The customer's page carries its stylesheet inline, allowed by its hash; should the
// browser have refused it (a proxy on the way rewrote the page), the same stylesheet
// comes from its file (main.css sets <body> to flex: unstyled, it is a block).
const css = named('connectit-css');
if (css && getComputedStyle(document.body).display !== 'flex') {
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = css;
  document.head.append(link);
}

function failed() {
  const root = document.documentElement;
  document.getElementById('loading')?.remove();
  document.getElementById('boot-pin')?.remove();
  root.removeAttribute('data-boot');
  // The PIN form's title goes with it.
  if (root.hasAttribute('data-page-title')) document.title = root.getAttribute('data-page-title');
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
