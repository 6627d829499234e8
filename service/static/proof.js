// Checks an inclusion proof in the browser, trusting no server: docs/integrity.md byte for byte.
// SHA-256 by WebCrypto; Ed25519 by the vendored @noble/ed25519 (an ES module).
import * as ed from "/static/vendor/noble-ed25519-3.2.0.js";

const enc = new TextEncoder();
const b64 = (text) => Uint8Array.from(atob(text.trim()), (c) => c.charCodeAt(0));
const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};
const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

class Refusal extends Error {}
const refuse = (key) => { throw new Refusal(key); };

// A signed note: text (non-empty lines), a blank line, signature lines "— name base64".
function splitNote(note) {
  const cut = note.indexOf("\n\n");
  if (cut < 0) refuse("checkpoint_not_note");
  const text = note.slice(0, cut + 1);
  const signatures = note.slice(cut + 2).split("\n").filter((l) => l !== "").map((line) => {
    const m = /^\u2014 ([^\s+]+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) refuse("checkpoint_not_note");
    return { name: m[1], blob: b64(m[2]) };
  });
  return { text, signatures };
}

// A verifier key: name+keyid(hex)+base64(type ‖ public key) — type 0x01 for a log's key, 0x04 for a
// witness's (c2sp.org/tlog-cosignature); `malformed` names the refusal.
async function parseKey(text, type = 1, malformed = "key_malformed") {
  const parts = text.trim().split("+");
  if (parts.length < 3) refuse(malformed);
  const name = parts[0], kid = parts[1];
  let blob;
  try { blob = b64(parts.slice(2).join("+")); } catch (e) { refuse(malformed); }
  if (blob.length !== 33 || blob[0] !== type) refuse(malformed);
  const id = (await sha256(concat(enc.encode(name + "\n"), blob))).slice(0, 4);
  if (hex(id) !== kid) refuse(malformed);
  return { name, id, pub: blob.slice(1) };
}

// The witnesses whose cosignature/v1 on the note's text verifies: [{name, time}] (time: POSIX s).
async function cosigners(text, signatures, keys) {
  const found = [];
  for (const key of keys) {
    for (const s of signatures) {
      if (s.name !== key.name || s.blob.length !== 76 || !equal(s.blob.slice(0, 4), key.id)) continue;
      const time = new DataView(s.blob.buffer, s.blob.byteOffset + 4, 8).getBigUint64(0);
      const message = concat(enc.encode(`cosignature/v1\ntime ${time}\n`), enc.encode(text));
      if (await ed.verifyAsync(s.blob.slice(12), message, key.pub)) {
        found.push({ name: key.name, time: Number(time) });
        break;
      }
    }
  }
  return found;
}

async function leafHash(position, event) {
  const head = enc.encode(`mission-ledger/leaf/v1\n${position}\n${event.stream_id}\n${event.version}\n${event.type}\n`);
  return sha256(concat(new Uint8Array([0]), head, b64(event.state)));
}

// RFC 9162 §2.1.3.2: the root from a leaf and its audit path.
async function rootFrom(index, size, leaf, path) {
  if (index >= size) refuse("proof_bad_path");
  let fn = index, sn = size - 1, r = leaf;
  for (const p of path) {
    if (sn === 0) refuse("proof_bad_path");
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(concat(new Uint8Array([1]), p, r));
      while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = await sha256(concat(new Uint8Array([1]), r, p));
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  if (sn !== 0) refuse("proof_bad_path");
  return r;
}

export async function checkInclusion(proofText, checkpointText, keyText, witnessText = "", neededText = "") {
  let proof;
  try { proof = JSON.parse(proofText); } catch (e) { refuse("proof_not_json"); }
  if (!proof || proof.format !== "mission-ledger/inclusion-proof/v1") refuse("proof_not_json");
  const checkpoint = checkpointText.replace(/\r\n/g, "\n");
  const key = await parseKey(keyText);
  const { text, signatures } = splitNote(checkpoint);
  const mine = signatures.find((s) => s.name === key.name && equal(s.blob.slice(0, 4), key.id));
  if (!mine) refuse("no_signature_by_key");
  const signed = await ed.verifyAsync(mine.blob.slice(4), enc.encode(text), key.pub);
  if (!signed) refuse("bad_signature");
  const lines = text.split("\n");
  const size = Number(lines[1]);
  const root = b64(lines[2]);
  if (!Number.isSafeInteger(size) || root.length !== 32) refuse("checkpoint_not_note");
  if (proof.checkpoint.replace(/\r\n/g, "\n").split("\n\n")[0] + "\n" !== text) refuse("other_checkpoint");
  const leaf = await leafHash(proof.position, proof.event);
  const computed = await rootFrom(proof.position - 1, size, leaf, proof.proof.map(b64));
  if (!equal(computed, root)) refuse("root_mismatch");
  // The policy: cosigned by at least `needed` of the witnesses pasted (default: all of them).
  const witnessKeys = [];
  for (const line of witnessText.split("\n").filter((l) => l.trim() !== "")) witnessKeys.push(await parseKey(line, 4, "witness_key_malformed"));
  const needed = neededText.trim() === "" ? witnessKeys.length : Number(neededText);
  if (!Number.isSafeInteger(needed) || needed < 0 || needed > witnessKeys.length) refuse("needed_bad");
  const cosigned = await cosigners(text, signatures, witnessKeys);
  if (cosigned.length < needed) refuse("too_few_cosignatures");
  return { position: proof.position, size, origin: lines[0], leaf: hex(leaf), signer: key.name, cosigned };
}

// When a witness cosigned, in the page's language and calendar (Thai: the Buddhist era), Bangkok time.
function when(seconds) {
  const thai = document.documentElement.lang === "th";
  const written = new Intl.DateTimeFormat(thai ? "th-TH-u-ca-buddhist" : "en-GB",
    { dateStyle: "medium", timeStyle: "short", timeZone: "Asia/Bangkok" }).format(new Date(seconds * 1000));
  return thai ? `${written} น.` : written;  // as the service writes instants: 30 ธ.ค. 2567 23:59 น.
}

const form = document.getElementById("proof-form");
if (form) {
  const out = document.getElementById("verdict");
  const say = JSON.parse(document.getElementById("proof-messages").textContent);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    out.className = "verdict";
    out.textContent = say.checking;
    try {
      const ok = await checkInclusion(form.proof.value, form.checkpoint.value, form.key.value,
        form.witnesses.value, form.needed.value);
      out.className = "verdict ok";
      out.textContent = say.ok.replace("{position}", ok.position).replace("{size}", ok.size)
        .replace("{signer}", ok.signer).replace("{leaf}", ok.leaf);
      if (ok.cosigned.length) {
        const list = document.createElement("ul");
        list.id = "cosigners";
        for (const c of ok.cosigned) {
          const item = document.createElement("li");
          item.textContent = say.cosigned.replace("{name}", c.name).replace("{time}", when(c.time));
          list.append(item);
        }
        out.append(list);
      }
    } catch (e) {
      out.className = "verdict bad";
      out.textContent = say.bad + " " + (e instanceof Refusal ? say[e.message] : say.proof_not_json);
    }
    out.focus();
  });
  const fetchButton = document.getElementById("fetch-proof");
  fetchButton.addEventListener("click", async () => {
    const position = Number(form.position.value);
    out.className = "verdict";
    if (!Number.isSafeInteger(position) || position < 1) { out.textContent = say.position_bad; return; }
    // Against a round's seal when the page was opened for one (the letter's QR code), else the latest.
    const size = form.dataset.size ? `?size=${encodeURIComponent(form.dataset.size)}` : "";
    const answer = await fetch(`/proof/${position}/inclusion.json${size}`, { credentials: "same-origin" });
    if (!answer.ok) { out.textContent = say.fetch_failed; return; }
    form.proof.value = await answer.text();
    out.textContent = say.fetched;
  });
}
