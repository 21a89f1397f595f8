"""``dalda curate RUN``: a page on 127.0.0.1 to accept or reject a run's synthetic images by hand.

The page lists every synthetic image of the manifest by class, with its prompt, λ, the filter's score, decision
and reasons (``synthetic/filter.jsonl``, when the filter ran), and the person's decision so far. Buttons accept or
reject one image, or every image of a class; ``undo`` takes back an image's latest decision. Keys: ``j`` / ``k``
(or the arrow keys) move between images, ``a`` accepts, ``r`` rejects, ``u`` undoes. Each click is appended to
``synthetic/curation.jsonl`` (:class:`dalda.artefacts.CurationRecord`) at once, so a reload or a crash loses
nothing, and training, export and the kept-only metrics follow it (a person's decision overrides the filter).

The server binds 127.0.0.1 only, serves only the page, the run's synthetic images and the two JSON routes, uses
no external asset (the page's CSS and script are inline), and writes nothing but ``synthetic/curation.jsonl``.
"""

from __future__ import annotations

import html
import json
import threading
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from dalda.artefacts import CurationRecord, FilterRecord, ManifestLine, kept_by_person
from dalda.hashing import file_sha256
from dalda.rundir import RunDir

DECISIONS = ("accept", "reject", "undo")
MAX_BODY = 64 * 1024
"""The largest request body read (a decision is a few hundred bytes)."""


def page_html(run: RunDir) -> str:
    """The curation page of ``run``: every synthetic image by class, with the filter's and the person's decision."""
    lines = ManifestLine.read_all(run, missing_ok=True)
    filtered = FilterRecord.by_image(run)
    curated = CurationRecord.by_image(run)
    by_class: dict[str, list[ManifestLine]] = {}
    for line in lines:
        by_class.setdefault(str(line.class_name), []).append(line)
    parts = [_HEAD, f"<h1>Curate {html.escape(run.root.name)}</h1>", _HELP]
    for name, members in by_class.items():
        parts.append(
            f"<section class='class' data-class='{html.escape(name, quote=True)}'><h2>{html.escape(name)} "
            f"<button class='all' data-decision='accept'>accept all</button>"
            f"<button class='all' data-decision='reject'>reject all</button></h2><div class='cards'>"
        )
        parts += [_card(run, line, filtered.get(line.file_name), curated) for line in members]
        parts.append("</div></section>")
    if not lines:
        parts.append("<p>No synthetic images yet: run `dalda generate` first.</p>")
    parts.append(_SCRIPT)
    return "".join(parts)


def _card(run: RunDir, line: ManifestLine, decision: FilterRecord | None, curated: dict[str, CurationRecord]) -> str:
    path = line.image_path(run.synthetic)
    person = kept_by_person(curated, line.file_name, path) if path.is_file() else None
    state = "" if person is None else ("accepted" if person else "rejected")
    if decision is None:
        filter_text = "filter: not run"
    else:
        reasons = ", ".join(decision.reasons)
        verdict = "kept" if decision.kept else "rejected"
        filter_text = f"filter: {verdict}, score {decision.score:.3f}" + (f" ({reasons})" if reasons else "")
    weight = f"λ {line.ip_scale:.2f}" if line.ip_scale is not None else ""
    name = html.escape(line.file_name, quote=True)
    return (
        f"<figure class='card {state}' tabindex='0' data-file='{name}'>"
        f"<img src='/image/{quote(line.file_name)}' alt='{name}' width='128' height='128'>"
        f"<figcaption><span class='prompt'>{html.escape(str(line.prompt or ''))}</span>"
        f"<span class='meta'>{html.escape(weight)} · {html.escape(filter_text)}</span>"
        f"<span class='person'>{state or 'undecided'}</span>"
        "<button data-decision='accept'>accept</button><button data-decision='reject'>reject</button>"
        "<button data-decision='undo'>undo</button></figcaption></figure>"
    )


def record_decisions(run: RunDir, file_names: list[str], decision: str) -> dict[str, str]:
    """Append one decision about each of ``file_names`` (images of the manifest) and return each image's state now.
    The manifest and the log are read once per call, so a class-wide click costs one pass, not one per image."""
    if decision not in DECISIONS:
        raise ValueError(f"decision {decision!r} is not one of {list(DECISIONS)}")
    known = {line.file_name for line in ManifestLine.read_all(run, missing_ok=True)}
    unknown = [name for name in file_names if name not in known]
    if unknown:
        raise ValueError(f"{unknown[0]!r} is not an image of {run.manifest}")
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    for name in file_names:
        CurationRecord(name, file_sha256(run.synthetic / name), decision, stamp).append(run)  # type: ignore[arg-type]
    curated = CurationRecord.by_image(run)
    states = {}
    for name in file_names:
        person = kept_by_person(curated, name, run.synthetic / name)
        states[name] = "undecided" if person is None else ("accepted" if person else "rejected")
    return states


def record_decision(run: RunDir, file_name: str, decision: str) -> str:
    """Append one decision about ``file_name`` and return the image's state now (:func:`record_decisions`)."""
    return record_decisions(run, [file_name], decision)[file_name]


class _Handler(BaseHTTPRequestHandler):
    run: RunDir
    lock: threading.Lock

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass  # a request log line per thumbnail would drown the terminal

    def _send(self, status: HTTPStatus, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        if self.path in ("/", "/index.html"):
            self._send(HTTPStatus.OK, page_html(self.run).encode(), "text/html; charset=utf-8")
            return
        if self.path.startswith("/image/"):
            target = (self.run.synthetic / unquote(self.path[len("/image/") :])).resolve()
            if target.is_file() and target.is_relative_to(self.run.synthetic.resolve()) and target.suffix == ".png":
                self._send(HTTPStatus.OK, target.read_bytes(), "image/png")
                return
        self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        length = int(self.headers.get("Content-Length") or 0)
        if self.path != "/decide" or not 0 < length <= MAX_BODY:
            self._send(HTTPStatus.BAD_REQUEST, b"bad request", "text/plain")
            return
        try:
            body = json.loads(self.rfile.read(length))
            with self.lock:
                states = record_decisions(self.run, [str(name) for name in body["files"]], str(body["decision"]))
        except (ValueError, KeyError, TypeError) as error:
            self._send(HTTPStatus.BAD_REQUEST, str(error).encode(), "text/plain")
            return
        self._send(HTTPStatus.OK, json.dumps(states).encode(), "application/json")


def curation_server(run: RunDir, port: int = 0) -> ThreadingHTTPServer:
    """A server for ``run``'s curation page on 127.0.0.1 (``port`` 0: a free one); call ``serve_forever``."""
    if not run.manifest.is_file():
        raise FileNotFoundError(f"{run.manifest} does not exist: generate images (dalda generate) before curating")
    handler = type("CurationHandler", (_Handler,), {"run": run, "lock": threading.Lock()})
    return ThreadingHTTPServer(("127.0.0.1", port), handler)


_HEAD = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>dalda curate</title>
<link rel="icon" href="data:,"><style>
body{font-family:sans-serif;margin:1rem}.cards{display:flex;flex-wrap:wrap;gap:.5rem}
.card{width:14rem;border:3px solid #ccc;padding:.3rem;margin:0}.card:focus{outline:3px solid #36c}
.card.accepted{border-color:#2a2}.card.rejected{border-color:#c22;opacity:.6}
figcaption span{display:block;font-size:.8rem}.prompt{color:#333}.meta{color:#666}.person{font-weight:bold}
</style></head><body>"""
_HELP = "<p>Keys: j/k or arrows move, a accept, r reject, u undo. Every click is saved at once.</p>"
_SCRIPT = """<script>
const cards = [...document.querySelectorAll('.card')];
async function decide(files, decision) {
  const answer = await fetch('/decide', {method: 'POST', headers: {'Content-Type': 'application/json'},
                                         body: JSON.stringify({files, decision})});
  if (!answer.ok) { alert(await answer.text()); return; }
  const states = await answer.json();
  for (const [file, state] of Object.entries(states)) {
    const card = cards.find((c) => c.dataset.file === file);
    card.classList.remove('accepted', 'rejected');
    if (state !== 'undecided') card.classList.add(state);
    card.querySelector('.person').textContent = state;
  }
}
document.addEventListener('click', (event) => {
  const button = event.target.closest('button'); if (!button) return;
  const card = button.closest('.card');
  if (card) { decide([card.dataset.file], button.dataset.decision); card.focus(); return; }
  const section = button.closest('section');
  decide([...section.querySelectorAll('.card')].map((c) => c.dataset.file), button.dataset.decision);
});
document.addEventListener('keydown', (event) => {
  const index = cards.indexOf(document.activeElement);
  const move = {j: 1, ArrowRight: 1, ArrowDown: 1, k: -1, ArrowLeft: -1, ArrowUp: -1}[event.key];
  if (move !== undefined) { const next = cards[Math.min(cards.length - 1, Math.max(0, index + move))];
                            if (next) next.focus(); event.preventDefault(); return; }
  const decision = {a: 'accept', r: 'reject', u: 'undo'}[event.key];
  if (decision && index >= 0) decide([cards[index].dataset.file], decision);
});
if (cards.length) cards[0].focus();
</script></body></html>"""
