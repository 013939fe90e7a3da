"""The page's own CSS and script (static strings; render.py builds the HTML they act on).

Layout rule: the page is the only scroll box. The sources panel and the Documents tab grow with their
content (no `max-height`, so Gradio's inline `overflow: visible` has nothing to fight), which keeps every
card and paragraph reachable by wheel, keyboard and touch. The chat keeps Gradio's own scroll box on
wide screens; on a phone it grows with its messages, uses the full width, and the sources follow it.
Deliberately left out: any text from documents (never inlined here) and any network access.
"""

APP_CSS = """
.gradio-container { overflow-x: clip !important; overflow-y: visible !important; }
.msiqa-turn { margin: 0 0 .75rem; }
.msiqa-turn > summary { cursor: pointer; font-weight: 600; margin-bottom: .5rem; overflow-wrap: anywhere; }
.msiqa-src { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: .7rem .85rem;
  margin: 0 0 .7rem; background: var(--background-fill-primary); transition: box-shadow .3s; }
.msiqa-src header { line-height: 1.35; }
.msiqa-n { font-weight: 700; color: var(--color-accent); }
.msiqa-meta { font-size: .85em; color: var(--body-text-color-subdued); margin: .2rem 0 .4rem; }
.msiqa-para { margin: 0 0 .5rem; line-height: 1.55; overflow-wrap: anywhere; }
.msiqa-para mark, mark.msiqa-hl { background: #fde68a; color: #1f2937; padding: 0 .1em; border-radius: 3px; }
.msiqa-actions { display: flex; gap: .8rem; align-items: center; flex-wrap: wrap; font-size: .9em; }
.msiqa-copy { border: 1px solid var(--border-color-primary); border-radius: 6px;
  padding: .15rem .6rem; font-size: .85rem; font-weight: 500;
    background: var(--button-secondary-background-fill);
  cursor: pointer; }
.msiqa-turn-tools { margin: 0 0 1rem; }
#msiqa-chat a[href^="#src-"] { font-weight: 700; text-decoration: none; color: var(--color-accent);
  white-space: nowrap; }
.msiqa-notanswer { background: #fef3c7; color: #78350f; border-radius: 8px; padding: .5rem .7rem; }
.msiqa-tag { font-size: .75em; text-transform: uppercase; letter-spacing: .04em; background: #fde68a;
  color: #78350f; border-radius: 4px; padding: .05rem .35rem; }
.msiqa-closest { border-style: dashed; }
.msiqa-flash { box-shadow: 0 0 0 3px var(--color-accent); }
.msiqa-empty { color: var(--body-text-color-subdued); padding: .5rem; }
.msiqa-docbar { position: sticky; top: 0; z-index: 3; display: flex; gap: 1.2rem; align-items: center;
  height: 2.4rem; background: var(--background-fill-primary);
    border-bottom: 1px solid var(--border-color-primary); }
.msiqa-docbar a { font-weight: 600; }
.msiqa-doc { margin: 0 0 2.5rem; max-width: 46rem; scroll-margin-top: 2.6rem; }
.msiqa-doc > h2.msiqa-doc-title { position: sticky; top: 2.4rem; z-index: 2; margin: 0; padding: .4rem 0;
  background: var(--background-fill-primary); font-size: 1.15rem; line-height: 1.3; }
.msiqa-p { line-height: 1.6; overflow-wrap: anywhere; scroll-margin-top: 7rem; }
.msiqa-h { font-weight: 700; }
.msiqa-pn { font-size: .75em; color: var(--body-text-color-subdued); text-decoration: none;
  margin-right: .3em; }
.msiqa-toc li { margin: .2rem 0; }
.msiqa-examples button { flex: 0 1 auto !important; min-width: 0 !important; white-space: normal;
  text-align: left; }
@media (max-width: 640px) {
  #msiqa-chat { height: auto !important; max-height: none !important; overflow: visible !important; }
  #msiqa-chat .bubble-wrap { height: auto !important; max-height: none !important;
    overflow: visible !important; }
  #msiqa-chat .message-row, #msiqa-chat .message, #msiqa-chat .flex-wrap { max-width: 100% !important;
    width: 100% !important; margin-left: 0 !important; margin-right: 0 !important; }
  .msiqa-main { flex-direction: column !important; }
  .msiqa-left { display: contents !important; }
  .msiqa-left > * { width: 100%; }
  .msiqa-doc > h2.msiqa-doc-title { font-size: 1rem; }
  #msiqa-chat { order: 1; } .msiqa-left > :has(#msiqa-question) { order: 2; } .msiqa-examples { order: 3; }
  .msiqa-filters { order: 4; } .msiqa-right { order: 5; } .msiqa-advanced { order: 6; } .msiqa-new {
    order: 7; }
}
"""

# One delegated listener (capture phase) for the page's own links and buttons:
# - `[n]` markers (and the abstention's link) switch to Ask, open the turn, scroll the quote into view;
# - "Read in document" switches to Documents, marks the quote's exact characters (offsets carried by the
#   link, paragraph offsets by `data-start`) and scrolls them into view under the sticky title;
# - "Back to the answer" returns to the link that led there; "Ask another question" focuses the box;
# - "Copy citation"/"Copy answer" copy their `data-copy`; the chat's own copy button copies the same
#   plain text as "Copy answer" (or the message as shown) instead of its escaped Markdown.
APP_HEAD = """<script>
(() => {
  let back = null;
  const tab = (name) => {
    const b = [...document.querySelectorAll('button[role="tab"]')].find((x) => x.textContent.trim() === name);
    if (b && b.getAttribute('aria-selected') !== 'true') b.click();
  };
  const flash = (el) => { el.classList.remove('msiqa-flash'); void el.offsetWidth;
    el.classList.add('msiqa-flash');
    setTimeout(() => el.classList.remove('msiqa-flash'), 2500); };
  const when = (id, tries, then) => {
    const el = document.getElementById(id);
    if (!el || !el.offsetParent) { if (tries > 0) setTimeout(() => when(id, tries - 1, then), 50); return; }
    then(el);
  };
  const reveal = (id) => when(id, 40, (el) => {
    const d = el.closest('details'); if (d) d.open = true;
    (el.querySelector('mark') || el).scrollIntoView({ behavior: 'smooth', block: 'center' }); flash(el);
  });
  const unmark = () => document.querySelectorAll('mark.msiqa-hl').forEach((m) => {
    const p = m.parentNode; while (m.firstChild) p.insertBefore(m.firstChild, m); m.remove(); p.normalize();
      });
  const point = (span, offset) => {  // (node, offset) of a character offset in a paragraph; <br> is one "\\n"
    let left = offset;
    for (const n of span.childNodes) {
      const len = n.nodeType === 3 ? n.length : 1;
      if (left <= len) {
        return n.nodeType === 3 ? [n, left] : [span, [...span.childNodes].indexOf(n) + (left ? 1 : 0)];
      }
      left -= len;
    }
    return [span, span.childNodes.length];
  };
  const markQuote = (p, start, end) => {
    unmark();
    const span = p.querySelector('.msiqa-t');
    if (!span) return p;
    const base = Number(span.dataset.start);
    const r = document.createRange();
    r.setStart(...point(span, Math.max(0, start - base)));
    r.setEnd(...point(span, Math.max(0, end - base)));
    const m = document.createElement('mark'); m.className = 'msiqa-hl';
    m.appendChild(r.extractContents()); r.insertNode(m);
    return m;
  };
  const read = (a) => {
    const id = a.getAttribute('href').slice(1);
    const from = a.closest('[id]');
    back = { el: a, id: from ? from.id : null };
    tab('Documents');
    when(id, 40, (p) => {
      const target = a.dataset.start ? markQuote(p, Number(a.dataset.start), Number(a.dataset.end)) : p;
      document.querySelectorAll('a.msiqa-back').forEach((b) => { b.hidden = false; });
      target.scrollIntoView({ block: 'center' });
      if (target === p) flash(p);
    });
  };
  const goBack = () => {
    tab('Ask');
    if (!back) { when('msiqa-question', 40, (q) => { q.scrollIntoView({ block: 'center' });
      q.querySelector('textarea')?.focus(); }); return; }
    const { el, id } = back;
    setTimeout(() => {
      const target = el.isConnected ? el : (id && document.getElementById(id));
      if (!target) return;
      const d = target.closest('details'); if (d) d.open = true;
      target.scrollIntoView({ block: 'center' }); target.focus({ preventScroll: true });
      flash(target.closest('article') || target);
    }, 80);
  };
  const copy = (text, button) => {
    const done = () => { if (!button.classList.contains('msiqa-copy')) return; const old = button.textContent;
      button.textContent = 'Copied ✓'; setTimeout(() => { button.textContent = old; }, 1500); };
    const fallback = () => { const t = document.createElement('textarea'); t.value = text;
      document.body.appendChild(t);
      t.select(); try { document.execCommand('copy'); done(); } finally { t.remove(); } };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, fallback);
    }
    else fallback();
  };
  const chatCopy = (button) => {  // the chat's copy button: plain text, never escaped Markdown
    let m = button.closest('.message-buttons');
    while (m && !m.querySelector('[data-testid="bot"], [data-testid="user"]')) m = m.previousElementSibling;
    const bot = m && m.querySelector('[data-testid="bot"], [data-testid="user"]');
    if (!bot) return false;
    const marker = bot.querySelector('a[href^="#src-"], a[href^="#turn-"]');
    const turn = marker && marker.getAttribute('href').match(/^#(?:src|turn)-(\\d+)/);
    const stored = turn && document.querySelector(`#turn-${turn[1]} button.msiqa-copy-answer`);
    copy(stored ? stored.dataset.copy : bot.innerText.trim(), button);
    return true;
  };
  document.addEventListener('click', (ev) => {
    const t = ev.target instanceof Element ? ev.target : null;
    if (!t) return;
    const button = t.closest('button.msiqa-copy');
    if (button) { ev.preventDefault(); copy(button.dataset.copy || '', button); return; }
    const own = t.closest('#msiqa-chat .message-buttons button[aria-label="Copy message"]');
    if (own && chatCopy(own)) { ev.preventDefault(); ev.stopPropagation(); return; }
    const a = t.closest('a[href^="#src-"], a[href^="#hit-"], a[href^="#doc-"], a[href^="#turn-"], '
      + 'a.msiqa-back, a.msiqa-ask, a.msiqa-tocl');
    if (!a) return;
    ev.preventDefault(); ev.stopPropagation();
    if (a.classList.contains('msiqa-back')) { goBack(); return; }
    if (a.classList.contains('msiqa-ask')) {
      const q = document.getElementById('msiqa-question'); q.scrollIntoView({ block: 'center' });
        q.querySelector('textarea')?.focus(); return; }
    if (a.classList.contains('msiqa-tocl')) { document.getElementById('msiqa-toc')?.scrollIntoView({
      block: 'start' }); return; }
    const id = a.getAttribute('href').slice(1);
    if (id.startsWith('doc-')) {
      if (a.closest('#msiqa-docs')) { when(id, 5, (el) => el.scrollIntoView({ block: 'start' })); return; }
      read(a); return;
    }
    tab('Ask'); reveal(id);
  }, true);
})();
</script>"""
