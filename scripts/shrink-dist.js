// Makes a built dist/ folder smaller, in place (run by scripts/build-app):
//
// - each WebAssembly module's imports get short names, in the module and in its
//   JavaScript glue alike: wasm-bindgen names an import after its function and a hash
//   (`__wbg_setAttribute_f75317b2b5cabfb4`), about 12 KB of names written twice, in two
//   files, whose hashes no compressor can shorten;
// - the JavaScript (the glue, the loader) is minified by terser;
// - the CSS loses its comments and indentation, the pages their comments (they are for
//   whoever edits them, not for every customer's download);
// - each page's integrity attributes follow the files' new bytes (the files keep
//   Trunk's names, a hash of their source);
// - a page's own inline script is minified, and the customer's page carries its
//   stylesheet inline, so that its first screen (the PIN form) shows after one round
//   trip (the broker allows both by their hashes: broker/src/static_files.rs, page_csp).
//
// Usage: node scripts/shrink-dist.js DIR
"use strict";
const fs = require("fs"), path = require("path"), crypto = require("crypto");
const { minify } = require(path.resolve(__dirname, "../.tools/node_modules/terser"));

const dir = process.argv[2];
const sri = (data) => "sha384-" + crypto.createHash("sha384").update(data).digest("base64");
const blankLines = (text) => text.replace(/\n\s*\n/g, "\n");

/** An unsigned LEB128 number at `pos`: [value, the position after it]. */
function leb(buf, pos) {
  let value = 0, shift = 0, byte;
  do {
    byte = buf[pos++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [value, pos];
}

function uleb(value) {
  const out = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value) byte |= 0x80;
    out.push(byte);
  } while (value);
  return Buffer.from(out);
}

const name = (text) => Buffer.concat([uleb(Buffer.byteLength(text)), Buffer.from(text)]);

/** The n-th short name: a, b, …, Z, aa, ab, … (valid JavaScript identifiers). */
function shortName(n) {
  const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  let out = "";
  n += 1;
  while (n > 0) {
    n -= 1;
    out = letters[n % letters.length] + out;
    n = Math.floor(n / letters.length);
  }
  return out;
}

/**
 * Renames the imports `wasm` takes from `module`: [the new module's bytes, a Map from
 * each old name to its new one]. Every other section is copied as it is.
 */
function renameImports(wasm, module) {
  if (wasm.readUInt32LE(0) !== 0x6d736100) throw new Error("not a WebAssembly module");
  const parts = [wasm.subarray(0, 8)];
  const names = new Map();
  let pos = 8;
  while (pos < wasm.length) {
    const id = wasm[pos];
    const [size, start] = leb(wasm, pos + 1);
    const end = start + size;
    if (id !== 2) {
      parts.push(wasm.subarray(pos, end));
      pos = end;
      continue;
    }
    let [count, p] = leb(wasm, start);
    const body = [uleb(count)];
    for (let i = 0; i < count; i++) {
      const [moduleLen, m] = leb(wasm, p);
      const from = wasm.toString("utf8", m, m + moduleLen);
      const [fieldLen, f] = leb(wasm, m + moduleLen);
      let field = wasm.toString("utf8", f, f + fieldLen);
      // The import's description, copied: a function's or tag's type, a table's,
      // memory's or global's type.
      const describe = f + fieldLen;
      let q = describe;
      const skip = () => { while (wasm[q++] & 0x80); };
      const limits = () => { const flags = wasm[q++]; skip(); if (flags & 1) skip(); };
      switch (wasm[q++]) {
        case 0: skip(); break;
        case 1: q++; limits(); break;
        case 2: limits(); break;
        case 3: q += 2; break;
        case 4: q++; skip(); break;
        default: throw new Error("unknown import kind " + wasm[q - 1]);
      }
      if (from === module) {
        if (names.has(field)) throw new Error("import " + field + " twice");
        const short = shortName(names.size);
        names.set(field, short);
        field = short;
      }
      body.push(name(from), name(field), wasm.subarray(describe, q));
      p = q;
    }
    if (p !== end) throw new Error("the import section did not end where it said");
    const payload = Buffer.concat(body);
    parts.push(Buffer.from([2]), uleb(payload.length), payload);
    pos = end;
  }
  return [Buffer.concat(parts), names];
}

/** `glue` with each import key of `names` renamed; throws unless each is found once. */
function renameKeys(glue, names) {
  for (const [from, to] of names) {
    const key = new RegExp("(?<![\\w$])" + from.replace(/\$/g, "\\$") + "(?=:)", "g");
    const found = glue.match(key)?.length ?? 0;
    const anywhere = glue.split(from).length - 1;
    if (found !== 1 || anywhere !== 1) {
      throw new Error(`the glue names import ${from} ${anywhere} times (${found} as a key), not once`);
    }
    glue = glue.replace(key, to);
  }
  return glue;
}

(async () => {
  const swaps = [];
  const write = (file, before, after) => {
    fs.writeFileSync(file, after);
    swaps.push([sri(before), sri(after)]);
  };
  const files = fs.readdirSync(dir);
  const renamed = new Map();
  for (const wasmName of files.filter((f) => f.endsWith("_bg.wasm"))) {
    const glueName = wasmName.replace(/_bg\.wasm$/, ".js");
    if (!files.includes(glueName)) throw new Error(wasmName + " has no glue " + glueName);
    const glue = fs.readFileSync(path.join(dir, glueName), "utf8");
    // The module the glue hands the imports in: `"./<crate>_bg.js"` (wasm-bindgen's
    // target web).
    const wasmFile = path.join(dir, wasmName);
    const before = fs.readFileSync(wasmFile);
    const modules = new Set(WebAssembly.Module.imports(new WebAssembly.Module(before)).map((i) => i.module));
    if (modules.size !== 1) throw new Error(wasmName + " imports from " + [...modules].join(", "));
    const [after, names] = renameImports(before, [...modules][0]);
    renamed.set(glueName, renameKeys(glue, names));
    // The result must still be a module whose imports are those the glue now names.
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(after));
    if (imports.length !== names.size) throw new Error(wasmName + ": imports lost");
    write(wasmFile, before, after);
  }
  for (const file of files.map((f) => path.join(dir, f))) {
    const base = path.basename(file);
    const before = fs.readFileSync(file);
    if (base.endsWith(".js")) {
      const source = renamed.get(base) ?? before.toString();
      const out = await minify(source, { module: true, compress: true, mangle: true });
      write(file, before, Buffer.from(out.code));
    } else if (base.endsWith(".css")) {
      write(file, before, Buffer.from(blankLines(before.toString()
        .replace(/\/\*[\s\S]*?\*\//g, "").replace(/^[ \t]+/gm, ""))));
    }
  }
  for (const page of ["index.html", "console.html"]) {
    const file = path.join(dir, page);
    let html = blankLines(fs.readFileSync(file, "utf8").replace(/[ \t]*<!--[\s\S]*?-->\n?/g, ""));
    for (const [from, to] of swaps) html = html.split(from).join(to);
    // A page's own script, minified (it stays a bare <script>: the broker allows it by
    // the hash of exactly what is between the tags).
    for (const [tag, source] of [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)]) {
      const out = await minify(source, { compress: true, mangle: true });
      html = html.replace(tag, () => "<script>" + out.code + "</script>");
    }
    // The customer's page carries its stylesheet (the build's, with an integrity
    // attribute; not the one inside <noscript>): its first screen needs one round trip.
    // Its file stays named in a <meta> for src/loader.js, which loads it should
    // something on the way (a proxy that rewrites pages) have made the inline copy's
    // hash wrong, so that the browser refused it.
    if (page === "index.html") {
      html = html.replace(/<link rel="stylesheet" href="\/([^"]+\.css)" integrity="[^"]*"\/?>/g,
        (_, name) => `<meta name="connectit-css" content="/${name}"><style>`
          + fs.readFileSync(path.join(dir, name), "utf8").trim() + "</style>");
    }
    fs.writeFileSync(file, html);
  }
})().catch((e) => { console.error("shrink-dist: " + (e.stack || e)); process.exit(1); });
