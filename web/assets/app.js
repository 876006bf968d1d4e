/**
 * paddock web front-end: a small single-page app, no build step, no dependencies.
 * Talks to the daemon's HTTP API (docs/api.md) with the session cookie only: tokens never go into
 * URLs or storage. The DOM is built with createElement/textContent: API data (horse names are
 * user text) never goes through innerHTML.
 *
 * Views (hash routes):  #/  streams · #/streams/<stream>  gallery · #/streams/<stream>/horses/<id>  horse
 */
/* global document, window, location, fetch, EventSource, confirm, Node */

const EVENT_TYPES = [
  'chunk.processed', 'horse.created', 'horse.reactivated', 'horse.identified', 'horse.renamed',
  'horse.merged', 'horse.split', 'horse.deleted', 'horse.updated', 'herd.changed', 'change.undone',
];
const REFRESH_DEBOUNCE_MS = 150;
const STREAMS_POLL_MS = 10_000;
const SSE_RETRY_MS = 5_000;
const TOAST_MS = 4_000;
const SIGHTINGS_PAGE = 100;

const $main = document.getElementById('main');
const $crumbs = document.getElementById('crumbs');
const $session = document.getElementById('session');
const $toasts = document.getElementById('toasts');

/** session: {scope, auth} once known; view: cleanups of the mounted view; generation: bumps on every route change. */
const app = { session: null, cleanups: [], generation: 0, liveEvents: 0, live: null };

// ---------------------------------------------------------------------------------------------
// Small helpers: DOM building, formatting, API
// ---------------------------------------------------------------------------------------------

/**
 * el('button', {text: 'Save', testid: 'x', onclick: fn}, ...children). Known DOM properties
 * (value, checked, disabled, src, href, type, …) are set as properties, others as attributes.
 */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = String(value);
    else if (key === 'class') node.className = value;
    else if (key === 'testid') node.dataset.testid = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'style') Object.assign(node.style, value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (!key.includes('-') && key in node) node[key] = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child);
  }
  return node;
}

const enc = encodeURIComponent;
const streamApi = (stream) => `/api/streams/${enc(stream)}`;
const horseApi = (stream, id) => `${streamApi(stream)}/horses/${enc(id)}`;
const galleryHref = (stream) => `#/streams/${enc(stream)}`;
const horseHref = (stream, id) => `#/streams/${enc(stream)}/horses/${enc(id)}`;
const horseLabel = (horse) => horse.name || horse.id;
const isAdmin = () => app.session?.scope === 'admin';
const idOf = (value) => (typeof value === 'string' ? value : value?.id);

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** A <time> with a short local text (time only when today) and the full date as its tooltip. */
function timeEl(iso) {
  if (!iso) return el('span', { class: 'muted', text: '—' });
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return el('span', { text: String(iso) });
  const today = date.toDateString() === new Date().toDateString();
  return el('time', { datetime: iso, title: fullFormat.format(date), text: (today ? timeFormat : dateTimeFormat).format(date) });
}

function formatLag(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

const formatNumber = (n) => (typeof n === 'number' ? String(Math.round(n * 1000) / 1000) : '?');
const formatBox = (box) => (box ? `${formatNumber(box.x)},${formatNumber(box.y)} ${formatNumber(box.w)}×${formatNumber(box.h)}` : '—');

function debounce(fn, ms) {
  let timer = null;
  const debounced = () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
  debounced.cancel = () => clearTimeout(timer);
  return debounced;
}

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** JSON over fetch with the session cookie. Resolves with the body (null for 204); rejects with ApiError. */
/** A request boot.js already started for the first view (each is used once). */
function takeEarly(path) {
  const early = window.paddockEarly?.get(path);
  if (early) window.paddockEarly.delete(path);
  return early;
}

async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    const early = method === 'GET' ? await takeEarly(path)?.catch(() => null) : null;
    // A refused early answer (signed out when the page loaded) is never reused: ask again.
    response = early?.ok ? early : await fetch(path, init);
  } catch (error) {
    throw new ApiError(0, 'NETWORK', `cannot reach the server (${error.message})`);
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = data?.error;
    throw new ApiError(response.status, error?.code ?? `HTTP_${response.status}`, error?.message ?? (response.statusText || `HTTP ${response.status}`));
  }
  return data;
}

// ---------------------------------------------------------------------------------------------
// Toasts, header, errors
// ---------------------------------------------------------------------------------------------

const recentToasts = new Map();

/** A transient message; the same text twice within a few seconds shows once (our own action and its SSE event). */
function toast(text, kind = 'info') {
  const now = Date.now();
  if (now - (recentToasts.get(text) ?? 0) < 3000) return;
  recentToasts.set(text, now);
  const node = el('div', { class: `toast toast-${kind}`, testid: 'toast', text });
  $toasts.append(node);
  while ($toasts.children.length > 5) $toasts.firstElementChild.remove();
  setTimeout(() => node.remove(), TOAST_MS);
}

/** Toast text for the SSE events that deserve one (null for the others). Field names beyond docs/api.md are read tolerantly. */
function eventToastText(event) {
  const horseId = idOf(event.horse) ?? event.horse_id ?? event.id;
  switch (event.type) {
    case 'horse.created':
      return `${event.horse?.name || horseId || 'a new horse'} appeared`;
    case 'horse.merged':
      return event.keep && event.drop ? `${idOf(event.drop)} merged into ${idOf(event.keep)}` : 'horses merged';
    case 'horse.renamed': {
      const name = event.horse?.name ?? event.name;
      return name ? `${horseId} renamed to “${name}”` : `${horseId} name cleared`;
    }
    case 'horse.split': {
      const from = idOf(event.from) ?? event.from_id;
      return from ? `${horseId} split from ${from}` : `${horseId} split off`;
    }
    default:
      return null;
  }
}

function renderCrumbs(route) {
  const parts = [el('a', { href: '#/', text: 'streams' })];
  if (route.stream) parts.push(el('a', { href: galleryHref(route.stream), text: route.stream }));
  if (route.horseId) parts.push(el('a', { href: horseHref(route.stream, route.horseId), text: route.horseId }));
  const last = parts[parts.length - 1];
  last.setAttribute('aria-current', 'page');
  $crumbs.replaceChildren(...parts.flatMap((part, i) => (i === 0 ? [part] : [el('span', { class: 'sep', text: '›', 'aria-hidden': 'true' }), part])));
}

function renderSession() {
  const session = app.session;
  if (!session) return $session.replaceChildren();
  const live = el('span', { id: 'live-status', class: 'live', testid: 'live-status', title: 'live updates' });
  const scope = el('span', { class: `badge scope-${session.scope}`, testid: 'scope', text: session.scope });
  const signOut = session.auth === 'token' ? el('button', { type: 'button', class: 'link-button', testid: 'sign-out', text: 'sign out', onclick: signOutClicked }) : null;
  $session.replaceChildren(live, scope, signOut ?? '');
  setLiveStatus(app.live ? 'connecting' : 'off');
}

function setLiveStatus(state) {
  const node = document.getElementById('live-status');
  if (!node) return;
  node.dataset.state = state;
  node.textContent = state === 'open' ? '● live' : state === 'off' ? '' : '○ reconnecting';
}

async function signOutClicked() {
  try {
    await api('DELETE', '/api/session');
  } catch (error) {
    toast(`sign out failed: ${error.message}`, 'error');
    return;
  }
  app.session = null;
  renderSession();
  await showRoute();
}

function errorBox(message) {
  return el('p', { class: 'error', testid: 'error', role: 'alert', text: message });
}

/** Shared handling of a failed load/action: 401 → login form; otherwise a message. */
function handleError(error, ctx, where) {
  if (error.status === 401) {
    app.session = null;
    renderSession();
    if (ctx.alive()) showLogin('Your session has ended; sign in again.');
    return;
  }
  if (where) where.replaceChildren(errorBox(error.message));
  else toast(error.message, 'error');
}

// ---------------------------------------------------------------------------------------------
// Routing and view lifecycle
// ---------------------------------------------------------------------------------------------

function safeDecode(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function parseRoute(hash) {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(safeDecode);
  if (parts[0] === 'streams' && parts.length === 2) return { name: 'gallery', stream: parts[1] };
  if (parts[0] === 'streams' && parts.length === 4 && parts[2] === 'horses') return { name: 'horse', stream: parts[1], horseId: parts[3] };
  return { name: 'streams' };
}

function leaveView() {
  for (const cleanup of app.cleanups.splice(0)) {
    try {
      cleanup();
    } catch (error) {
      console.error(error);
    }
  }
}

function setReady(value) {
  document.body.dataset.ready = value;
}

const VIEWS = { streams: mountStreams, gallery: mountGallery, horse: mountHorse };

async function showRoute() {
  leaveView();
  const generation = ++app.generation;
  const ctx = {
    alive: () => generation === app.generation,
    onLeave: (fn) => app.cleanups.push(fn),
  };
  const route = parseRoute(location.hash);
  delete document.body.dataset.ready;
  renderCrumbs(route);
  if (!app.session) {
    $main.replaceChildren(el('p', { class: 'muted', text: 'Loading…' }));
    try {
      app.session = await api('GET', '/api/session');
    } catch (error) {
      if (!ctx.alive()) return;
      if (error.status === 401) return showLogin();
      $main.replaceChildren(errorBox(`Cannot start: ${error.message}`));
      return setReady('error:0');
    }
    if (!ctx.alive()) return;
    renderSession();
  }
  VIEWS[route.name](route, ctx);
}

// ---------------------------------------------------------------------------------------------
// Login
// ---------------------------------------------------------------------------------------------

function showLogin(notice) {
  leaveView();
  app.generation += 1; // outdated loads of the previous view must not draw over the form
  const input = el('input', { type: 'password', name: 'token', autocomplete: 'current-password', required: true, testid: 'token-input', 'aria-label': 'API token', placeholder: 'API token' });
  const message = el('p', { class: 'error', role: 'alert', hidden: !notice, text: notice ?? '' });
  const submit = el('button', { type: 'submit', class: 'primary', text: 'Sign in' });
  const form = el('form', { class: 'login card', testid: 'login-form' },
    el('h1', { text: 'Sign in' }),
    el('p', { class: 'muted', text: 'Enter a read or admin token of this daemon.' }),
    input, submit, message);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      const result = await api('POST', '/api/session', { token: input.value });
      input.value = '';
      app.session = { scope: result.scope, auth: 'token' };
      renderSession();
      await showRoute();
    } catch (error) {
      message.hidden = false;
      message.textContent = error.status === 401 ? 'That token was not accepted.' : error.message;
      submit.disabled = false;
      input.select();
    }
  });
  $main.replaceChildren(form);
  input.focus();
  setReady('login:0');
}

// ---------------------------------------------------------------------------------------------
// Live updates (Server-Sent Events)
// ---------------------------------------------------------------------------------------------

/**
 * One EventSource for the view's stream. onEvent(data) is called for every event of this stream;
 * onReconnect() after the connection came back (events may have been missed). Closed on leave.
 */
function openLive(ctx, stream, onEvent, onReconnect) {
  let source = null;
  let retryTimer = null;
  let opened = false;
  const handle = (message) => {
    app.liveEvents += 1;
    document.body.dataset.liveEvents = String(app.liveEvents);
    let data;
    try {
      data = JSON.parse(message.data);
    } catch {
      return;
    }
    if (!data || (data.stream_id !== undefined && data.stream_id !== stream)) return;
    if (!data.type) data.type = message.type;
    onEvent(data);
  };
  const connect = () => {
    source = new EventSource(`${streamApi(stream)}/events`);
    app.live = source;
    setLiveStatus('connecting');
    for (const type of EVENT_TYPES) source.addEventListener(type, handle);
    source.onmessage = handle;
    source.onopen = () => {
      setLiveStatus('open');
      if (opened) onReconnect();
      opened = true;
    };
    source.onerror = () => {
      // The browser retries by itself unless the answer was not an event stream (e.g. 401).
      if (source.readyState !== EventSource.CLOSED) return setLiveStatus('connecting');
      setLiveStatus('connecting');
      source = null;
      retryTimer = setTimeout(connect, SSE_RETRY_MS);
    };
  };
  connect();
  ctx.onLeave(() => {
    clearTimeout(retryTimer);
    source?.close();
    app.live = null;
    setLiveStatus('off');
  });
}

// ---------------------------------------------------------------------------------------------
// Inline rename (gallery card and horse page)
// ---------------------------------------------------------------------------------------------

/** Swaps nameEl for an input; Enter saves through save(name|null) → HORSE, Escape (or leaving the field) cancels. */
function startRename(nameEl, horse, save) {
  const input = el('input', { type: 'text', class: 'rename', value: horse.name ?? '', maxLength: 200, placeholder: horse.id, testid: 'rename-input', 'aria-label': `new name for ${horse.id}` });
  let saving = false;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    input.replaceWith(nameEl);
  };
  input.addEventListener('keydown', async (event) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      close();
      nameEl.focus();
    } else if (event.key === 'Enter' && !saving) {
      event.preventDefault();
      const name = input.value.trim();
      saving = true;
      input.readOnly = true;
      try {
        const updated = await save(name === '' ? null : name);
        nameEl.textContent = horseLabel(updated ?? { ...horse, name: name || null });
        close();
      } catch (error) {
        saving = false;
        input.readOnly = false;
        toast(`rename failed: ${error.message}`, 'error');
      }
    }
  });
  input.addEventListener('blur', () => {
    // Clicking elsewhere in the page cancels; switching windows/tabs keeps the edit open.
    setTimeout(() => {
      if (!saving && document.hasFocus() && document.activeElement !== input) close();
    }, 0);
  });
  nameEl.replaceWith(input);
  input.focus();
  input.select();
}

/** The horse's name element; for admins a click (or Enter) opens the rename input. */
function nameElement(tag, horse, save) {
  const nameEl = el(tag, { class: 'horse-name', testid: 'horse-name', text: horseLabel(horse) });
  if (!horse.name) nameEl.classList.add('unnamed');
  if (isAdmin()) {
    nameEl.tabIndex = 0;
    nameEl.setAttribute('role', 'button');
    nameEl.title = 'click to rename';
    nameEl.classList.add('editable');
    const open = () => startRename(nameEl, horse, save);
    nameEl.addEventListener('click', open);
    nameEl.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        open();
      }
    });
  }
  return nameEl;
}

function officialToggle(horse, onToggle) {
  return el('button', {
    type: 'button',
    class: `toggle${horse.official ? ' on' : ''}`,
    testid: 'official-toggle',
    'aria-pressed': String(horse.official),
    title: horse.official ? 'part of the official herd; click to unmark' : 'mark as part of the official herd',
    text: horse.official ? '★ official' : '☆ official',
    onclick: async (event) => {
      event.currentTarget.disabled = true;
      await onToggle(!horse.official);
    },
  });
}

function thumbnail(horse, className, testid, eager = false) {
  const placeholder = () => el('div', {
    class: `${className} placeholder`,
    testid: `${testid}-placeholder`,
    role: 'img',
    'aria-label': `no picture of ${horseLabel(horse)} yet`,
    style: { backgroundColor: horse.color || '#ccc' },
  });
  if (!horse.thumbnail_url) return placeholder();
  // `loading` before `src`: an image whose src is set first starts loading at once, lazy or not.
  const img = el('img', { class: className, loading: eager ? 'eager' : 'lazy', decoding: 'async', alt: horseLabel(horse), testid, src: horse.thumbnail_url });
  img.addEventListener('error', () => img.replaceWith(placeholder()), { once: true });
  return img;
}

// ---------------------------------------------------------------------------------------------
// View: stream list
// ---------------------------------------------------------------------------------------------

function mountStreams(_route, ctx) {
  const body = el('div', {}, el('p', { class: 'muted', text: 'Loading…' }));
  $main.replaceChildren(el('h1', { text: 'Streams' }), body);
  const load = async () => {
    try {
      const data = await api('GET', '/api/streams');
      if (!ctx.alive()) return;
      body.replaceChildren(streamsTable(data.streams ?? []));
      setReady(`streams:${(data.streams ?? []).length}`);
    } catch (error) {
      if (ctx.alive()) handleError(error, ctx, body);
    }
  };
  const timer = setInterval(load, STREAMS_POLL_MS);
  ctx.onLeave(() => clearInterval(timer));
  void load();
}

function streamsTable(streams) {
  if (streams.length === 0) return el('p', { class: 'muted', text: 'No streams yet.' });
  const rows = streams.map((stream) => el('tr', {},
    el('td', {}, el('a', { href: galleryHref(stream.stream_id), class: 'stream-link', testid: 'stream-link', dataset: { streamId: stream.stream_id }, text: stream.stream_id })),
    el('td', { class: 'num', text: String(stream.horses ?? 0) }),
    el('td', {}, stream.last_chunk
      ? [el('span', { title: stream.last_chunk.chunk_id, text: `#${stream.last_chunk.sequence} ` }), timeEl(stream.last_chunk.processed_at)]
      : el('span', { class: 'muted', text: 'none yet' })),
    el('td', { class: 'num', text: formatLag(stream.lag_s) })));
  return el('div', { class: 'table-wrap' },
    el('table', { class: 'streams' },
      el('thead', {}, el('tr', {}, el('th', { text: 'Stream' }), el('th', { class: 'num', text: 'Horses' }), el('th', { text: 'Last chunk' }), el('th', { class: 'num', text: 'Lag' }))),
      el('tbody', {}, rows)));
}

// ---------------------------------------------------------------------------------------------
// View: gallery
// ---------------------------------------------------------------------------------------------

function mountGallery(route, ctx) {
  const state = { stream: route.stream, horses: [], herd: null, version: null, selected: new Set(), herdDirty: false, loaded: false };
  const grid = el('div', { class: 'grid', testid: 'gallery' });
  const message = el('div', { class: 'message' });
  const toolbar = galleryToolbar(state, ctx, () => refresh());
  $main.replaceChildren(el('h1', { text: route.stream }), toolbar.node, message, grid, el('p', { class: 'muted loading', text: 'Loading…' }));

  let latest = 0;
  const refresh = async () => {
    const ticket = ++latest;
    try {
      const data = await api('GET', `${streamApi(state.stream)}/horses`);
      if (!ctx.alive() || ticket !== latest) return;
      Object.assign(state, { horses: data.horses ?? [], herd: data.herd ?? null, version: data.registry_version, loaded: true });
      const ids = new Set(state.horses.map((horse) => horse.id));
      for (const id of state.selected) if (!ids.has(id)) state.selected.delete(id);
      message.replaceChildren();
      toolbar.update();
      $main.querySelector(':scope > .loading')?.remove();
      const complete = await renderGrid(grid, state, ctx, refresh, () => ticket === latest);
      if (!complete) return;
      markOnce('gallery-rendered');
      setReady(`gallery:${state.version}`);
    } catch (error) {
      if (ctx.alive() && ticket === latest) handleError(error, ctx, message);
    }
  };
  const scheduleRefresh = debounce(refresh, REFRESH_DEBOUNCE_MS);
  ctx.onLeave(scheduleRefresh.cancel);
  openLive(ctx, state.stream, (event) => {
    const text = eventToastText(event);
    if (text) toast(text);
    scheduleRefresh();
  }, scheduleRefresh);
  void refresh();
}

/** Merge / undo / herd controls and the counts line. update() reflects the latest state. */
function galleryToolbar(state, ctx, reload) {
  const admin = isAdmin();
  const mergeButton = el('button', { type: 'button', class: 'primary', testid: 'merge-button', disabled: true, text: 'Merge selected', title: 'select exactly two horses', onclick: () => openMergeDialog(state, ctx, reload) });
  const undoButton = el('button', { type: 'button', testid: 'undo-button', text: 'Undo last merge/split', onclick: () => undoClicked(state, ctx, reload, undoButton) });
  const herdInput = el('input', { type: 'number', min: 1, step: 1, inputMode: 'numeric', class: 'herd-input', testid: 'herd-input', 'aria-label': 'expected herd size', placeholder: '—' });
  herdInput.addEventListener('input', () => { state.herdDirty = true; });
  const herdSave = el('button', { type: 'submit', testid: 'herd-save', text: 'Save' });
  const herdClear = el('button', { type: 'button', testid: 'herd-clear', text: 'Clear', onclick: () => saveHerd(state, ctx, reload, null) });
  const herdForm = el('form', { class: 'herd-form' }, el('label', { text: 'Herd size ' }, herdInput), herdSave, herdClear);
  herdForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const count = Number(herdInput.value);
    if (!Number.isInteger(count) || count < 1) return toast('The herd size is a whole number of at least 1.', 'error');
    void saveHerd(state, ctx, reload, count);
  });
  if (!admin) herdInput.disabled = true;

  const counts = el('span', { class: 'counts muted', testid: 'gallery-counts' });
  const version = el('span', { class: 'version muted', testid: 'registry-version', title: 'registry version' });
  const node = el('div', { class: 'toolbar' },
    admin ? [mergeButton, undoButton] : [],
    admin ? herdForm : el('span', { class: 'herd-readonly', testid: 'herd-readonly' }),
    counts, version);

  const update = () => {
    mergeButton.disabled = state.selected.size !== 2;
    mergeButton.textContent = state.selected.size ? `Merge selected (${state.selected.size})` : 'Merge selected';
    if (!state.loaded) return;
    const expected = state.herd?.expected_count ?? null;
    if (!state.herdDirty && document.activeElement !== herdInput) herdInput.value = expected ?? '';
    herdClear.disabled = expected === null;
    if (!admin) node.querySelector('[data-testid="herd-readonly"]').textContent = expected === null ? '' : `Herd size ${expected}`;
    const present = state.horses.filter((horse) => horse.status === 'present').length;
    counts.textContent = `${state.horses.length} horses · ${present} present${expected === null ? '' : ` · ${expected} expected`}`;
    version.textContent = `v${state.version}`;
  };
  state.onSelectionChange = update;
  return { node, update };
}

/**
 * Sets the performance mark `name`, replacing an earlier one of that name: a gallery left open
 * re-renders on every live update, and marks are kept until cleared.
 */
function markOnce(name) {
  performance.clearMarks(name);
  performance.mark(name);
}

/**
 * Sets the performance mark `name` once every one of `images` has loaded or failed, and resolves
 * then: when the first screen is complete as a person sees it (the page-load benchmark reads the
 * mark, so its driver need not poll the page while it loads).
 */
function markWhenPicturesSettle(images, name) {
  const pending = images.filter((image) => !image.complete);
  const settled = pending.map((image) => new Promise((resolve) => {
    image.addEventListener('load', resolve, { once: true });
    image.addEventListener('error', resolve, { once: true });
  }));
  return Promise.all(settled).then(() => markOnce(name));
}

/**
 * Cards in the first screenful: the grid's columns (cards are at least 190 px wide, plus gaps and
 * the page's margins) times the rows of ~330 px cards below the header and toolbar. These are
 * built before the first paint and their thumbnails fetched at once; the rest follow in batches,
 * their thumbnails lazily.
 */
function firstScreenCards() {
  const columns = Math.max(1, Math.floor((window.innerWidth - 100) / 210));
  const rows = Math.max(1, Math.ceil((window.innerHeight - 170) / 330));
  return Math.min(48, columns * rows);
}
const CARD_BATCH = 60;
const REST_OF_CARDS_MAX_WAIT_MS = 400;

/**
 * Renders the cards: the first screenful at once, the rest in later tasks so the page shows (and
 * answers input) before hundreds of cards are built. The rest wait for the first screen's pictures
 * (at most REST_OF_CARDS_MAX_WAIT_MS): on a small machine, building them takes the CPU those
 * pictures' requests and decoding need. Resolves true once every card is there,
 * false when a newer render (`current()` false) or leaving the view took over.
 * A card whose rename input is open is left in place (its input keeps focus and text); the other
 * cards are rebuilt around it, at once.
 */
async function renderGrid(grid, state, ctx, reload, current) {
  const editing = grid.querySelector('[data-testid="rename-input"]')?.closest('[data-testid="horse-card"]');
  const editingIndex = editing ? state.horses.findIndex((horse) => horse.id === editing.dataset.horseId) : -1;
  const firstCards = firstScreenCards();
  const build = (horse, index) => horseCard(horse, state, ctx, reload, index < firstCards);
  if (state.horses.length === 0) {
    grid.replaceChildren(el('p', { class: 'muted', text: 'No horses seen in this stream yet.' }));
    return true;
  }
  if (editingIndex < 0) {
    const batch = (from, to) => {
      const fragment = document.createDocumentFragment();
      for (let i = from; i < Math.min(to, state.horses.length); i += 1) fragment.append(build(state.horses[i], i));
      return fragment;
    };
    grid.replaceChildren(batch(0, firstCards));
    markOnce('gallery-first-screen');
    const pictures = markWhenPicturesSettle([...grid.querySelectorAll('[data-testid="horse-thumb"]')], 'gallery-first-screen-pictures');
    await Promise.race([pictures, new Promise((resolve) => setTimeout(resolve, REST_OF_CARDS_MAX_WAIT_MS))]);
    for (let from = firstCards; from < state.horses.length; from += CARD_BATCH) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (!ctx.alive() || !current()) return false;
      grid.append(batch(from, from + CARD_BATCH));
    }
    return true;
  }
  for (const child of [...grid.children]) if (child !== editing) child.remove();
  const before = document.createDocumentFragment();
  const after = document.createDocumentFragment();
  state.horses.forEach((horse, i) => {
    if (i < editingIndex) before.append(build(horse, i));
    else if (i > editingIndex) after.append(build(horse, i));
  });
  grid.prepend(before);
  grid.append(after);
  return true;
}

/** PATCHes the horse, then reloads the view (also after a failure, which it reports and rethrows). */
function patchHorse(stream, horseId, ctx, reload) {
  return async (body) => {
    try {
      const updated = await api('PATCH', horseApi(stream, horseId), body);
      void reload();
      return updated;
    } catch (error) {
      handleError(error, ctx);
      void reload();
      throw error;
    }
  };
}

function horseCard(horse, state, ctx, reload, eager = false) {
  const stream = state.stream;
  const admin = isAdmin();
  const patch = patchHorse(stream, horse.id, ctx, reload);
  const select = admin ? el('input', {
    type: 'checkbox',
    class: 'select',
    testid: 'horse-select',
    checked: state.selected.has(horse.id),
    'aria-label': `select ${horse.id} for merge`,
    onchange: (event) => {
      if (event.target.checked) state.selected.add(horse.id);
      else state.selected.delete(horse.id);
      card.classList.toggle('selected', event.target.checked);
      state.onSelectionChange();
    },
  }) : null;

  const card = el('article', { class: `card horse-card status-${horse.status}${state.selected.has(horse.id) ? ' selected' : ''}`, testid: 'horse-card', dataset: { horseId: horse.id } },
    el('a', { class: 'thumb-link', href: horseHref(stream, horse.id), 'aria-label': `open ${horseLabel(horse)}` }, thumbnail(horse, 'thumb', 'horse-thumb', eager)),
    el('div', { class: 'card-body' },
      el('div', { class: 'title-row' },
        el('span', { class: 'swatch', style: { backgroundColor: horse.color || 'transparent' }, title: horse.color ?? '' }),
        nameElement('h3', horse, (name) => patch({ name }))),
      el('div', { class: 'meta' },
        el('span', { class: 'horse-id', text: horse.id }),
        el('span', { class: `badge status ${horse.status}`, testid: 'horse-status', text: horse.status }),
        horse.official ? el('span', { class: 'badge official', testid: 'official-badge', text: 'official' }) : null),
      el('div', { class: 'seen muted' }, 'first ', timeEl(horse.first_detected), ' · last ', timeEl(horse.last_seen)),
      el('div', { class: 'muted', text: `${horse.total_detections} detections` }),
      el('div', { class: 'card-actions' },
        select ? el('label', { class: 'select-label' }, select, 'select') : null,
        admin ? officialToggle(horse, (official) => patch({ official }).catch(() => {})) : null,
        el('a', { class: 'details-link', href: horseHref(stream, horse.id), text: 'details →' }))));
  return card;
}

function openMergeDialog(state, ctx, reload) {
  const [a, b] = [...state.selected].map((id) => state.horses.find((horse) => horse.id === id));
  if (!a || !b) return;
  const message = el('p', { class: 'error', role: 'alert', hidden: true });
  const choice = (keep, drop) => el('button', {
    type: 'button',
    class: 'keep-choice',
    testid: 'keep-choice',
    dataset: { horseId: keep.id },
    onclick: async () => {
      for (const button of dialog.querySelectorAll('button')) button.disabled = true;
      try {
        await api('POST', `${streamApi(state.stream)}/merges`, { keep: keep.id, drop: drop.id });
        dialog.close();
        state.selected.clear();
        toast(eventToastText({ type: 'horse.merged', keep: keep.id, drop: drop.id }));
        await reload();
      } catch (error) {
        if (error.status === 401) {
          dialog.close();
          return handleError(error, ctx);
        }
        message.hidden = false;
        message.textContent = error.message;
        for (const button of dialog.querySelectorAll('button')) button.disabled = false;
      }
    },
  }, thumbnail(keep, 'mini-thumb', 'keep-thumb'), el('span', { text: `Keep ${horseLabel(keep)}` }), el('small', { class: 'muted', text: `${keep.id} · ${drop.id} is merged into it` }));
  const dialog = el('dialog', { class: 'dialog', testid: 'merge-dialog' },
    el('h2', { text: 'Merge two horses' }),
    el('p', { text: 'Which one do you keep? The other one’s sightings move to it and it is dropped.' }),
    el('div', { class: 'choices' }, choice(a, b), choice(b, a)),
    message,
    el('div', { class: 'dialog-actions' }, el('button', { type: 'button', testid: 'merge-cancel', text: 'Cancel', onclick: () => dialog.close() })));
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  ctx.onLeave(() => dialog.open && dialog.close());
  dialog.showModal();
}

async function undoClicked(state, ctx, reload, button) {
  button.disabled = true;
  try {
    const result = await api('POST', `${streamApi(state.stream)}/undo`);
    const undone = result?.undone;
    toast(undone ? `Undid ${undone.kind} (${(undone.horses ?? []).join(', ')})` : 'Undone');
    void reload();
  } catch (error) {
    if (error.status === 409) toast(error.message || 'Nothing to undo.', 'error');
    else handleError(error, ctx);
  } finally {
    button.disabled = false;
  }
}

async function saveHerd(state, ctx, reload, expectedCount) {
  const body = expectedCount === null
    ? { expected_count: null }
    : { expected_count: expectedCount, official_ids: state.herd?.official_ids ?? [] };
  try {
    await api('PUT', `${streamApi(state.stream)}/herd`, body);
    state.herdDirty = false;
    toast(expectedCount === null ? 'Herd size cleared' : `Herd size set to ${expectedCount}`);
    await reload();
  } catch (error) {
    handleError(error, ctx);
  }
}

// ---------------------------------------------------------------------------------------------
// View: horse page
// ---------------------------------------------------------------------------------------------

function mountHorse(route, ctx) {
  const { stream, horseId } = route;
  const state = { stream, horseId, horse: null, selected: new Set(), limit: SIGHTINGS_PAGE };
  const head = horseHeadSkeleton();
  const exemplars = el('section', { class: 'exemplars' });
  const sightings = el('section', { class: 'sightings' });
  const message = el('div', { class: 'message' });
  const page = el('div', { class: 'horse-page', testid: 'horse-page', dataset: { horseId } }, message, head.node, exemplars, sightings);
  $main.replaceChildren(page, el('p', { class: 'muted loading', text: 'Loading…' }));

  let latest = 0;
  const refresh = async () => {
    const ticket = ++latest;
    try {
      const horse = await api('GET', `${horseApi(stream, horseId)}?limit=${state.limit}`);
      if (!ctx.alive() || ticket !== latest) return;
      state.horse = horse;
      const ids = new Set((horse.sightings ?? []).map((s) => s.id));
      for (const id of state.selected) if (!ids.has(id)) state.selected.delete(id);
      message.replaceChildren();
      renderHorseHead(head, state, ctx, refresh);
      renderExemplars(exemplars, state);
      renderSightings(sightings, state, ctx, refresh);
      $main.querySelector(':scope > .loading')?.remove();
      setReady(`horse:${horse.version}`);
    } catch (error) {
      if (!ctx.alive() || ticket !== latest) return;
      $main.querySelector(':scope > .loading')?.remove();
      if (error.status === 404) {
        head.node.hidden = true;
        exemplars.replaceChildren();
        sightings.replaceChildren();
        message.replaceChildren(errorBox(`${horseId} is not in ${stream} (any more): it may have been merged or deleted.`), el('a', { href: galleryHref(stream), text: '← back to the gallery' }));
        setReady('horse:not-found');
      } else {
        handleError(error, ctx, message);
      }
    }
  };
  state.loadMore = () => {
    state.limit += SIGHTINGS_PAGE;
    void refresh();
  };
  const scheduleRefresh = debounce(refresh, REFRESH_DEBOUNCE_MS);
  ctx.onLeave(scheduleRefresh.cancel);
  openLive(ctx, stream, (event) => {
    const text = eventToastText(event);
    if (text) toast(text);
    if (event.type === 'horse.merged' && idOf(event.drop) === horseId && event.keep) {
      location.hash = horseHref(stream, idOf(event.keep));
      return;
    }
    scheduleRefresh();
  }, scheduleRefresh);
  void refresh();
}

/** The horse page's head. Built once per view so the name slot (maybe holding an open rename input) never moves. */
function horseHeadSkeleton() {
  const parts = {
    thumbWrap: el('div', { class: 'big-thumb-wrap' }),
    swatch: el('span', { class: 'swatch big' }),
    nameSlot: el('div', { class: 'name-slot' }),
    rest: el('div', {}),
  };
  parts.node = el('section', { class: 'horse-head' },
    parts.thumbWrap,
    el('div', { class: 'horse-info' }, el('div', { class: 'title-row' }, parts.swatch, parts.nameSlot), parts.rest));
  return parts;
}

function renderHorseHead(head, state, ctx, reload) {
  const { horse, stream } = state;
  const admin = isAdmin();
  const patch = patchHorse(stream, horse.id, ctx, reload);
  head.node.hidden = false;
  // Keep an open rename input as it is; otherwise show the current name.
  if (!head.nameSlot.querySelector('[data-testid="rename-input"]')) {
    head.nameSlot.replaceChildren(nameElement('h1', horse, (name) => patch({ name })));
  }
  const currentThumb = head.thumbWrap.firstElementChild;
  if (!currentThumb || currentThumb.getAttribute('src') !== horse.thumbnail_url) {
    head.thumbWrap.replaceChildren(thumbnail(horse, 'big-thumb', 'horse-thumb'));
  }
  head.swatch.style.backgroundColor = horse.color || 'transparent';
  head.swatch.title = horse.color ?? '';
  const details = [
    ['id', horse.id],
    ['tracking id', horse.tracking_id],
    ['first detected', timeEl(horse.first_detected)],
    ['last seen', timeEl(horse.last_seen)],
    ['detections', horse.total_detections],
    ['confidence', formatNumber(horse.confidence_score)],
    ['merged from', (horse.merged_from ?? []).length ? horse.merged_from.join(', ') : null],
  ].filter(([, value]) => value !== null && value !== undefined);
  const deleteButton = el('button', { type: 'button', class: 'danger', testid: 'delete-button', text: 'Delete horse', onclick: () => deleteHorse(state, ctx) });
  head.rest.replaceChildren(
    el('div', { class: 'meta' },
      el('span', { class: `badge status ${horse.status}`, testid: 'horse-status', text: horse.status }),
      horse.official ? el('span', { class: 'badge official', testid: 'official-badge', text: 'official' }) : null),
    el('dl', { class: 'details' }, details.flatMap(([key, value]) => [el('dt', { text: key }), el('dd', {}, value instanceof Node ? value : String(value))])),
    admin ? el('div', { class: 'card-actions' }, officialToggle(horse, (official) => patch({ official }).catch(() => {})), deleteButton) : null);
}

async function deleteHorse(state, ctx) {
  const { horse, stream } = state;
  if (!confirm(`Delete ${horseLabel(horse)} (${horse.id})? It is hidden and never matched again.`)) return;
  try {
    await api('DELETE', horseApi(stream, horse.id));
    toast(`${horse.id} deleted`);
    location.hash = galleryHref(stream);
  } catch (error) {
    handleError(error, ctx);
  }
}

function renderExemplars(section, state) {
  const list = state.horse.exemplars ?? [];
  if (list.length === 0) return section.replaceChildren();
  section.replaceChildren(
    el('h2', { text: 'Exemplars' }),
    el('div', { class: 'strip' }, list.map((exemplar) => el('img', {
      loading: 'lazy', decoding: 'async', alt: `sighting ${exemplar.sighting_id}`,
      class: 'exemplar', testid: 'exemplar', dataset: { sightingId: String(exemplar.sighting_id) }, src: exemplar.thumbnail_url,
    }))));
}

function renderSightings(section, state, ctx, reload) {
  const { horse } = state;
  const admin = isAdmin();
  const list = horse.sightings ?? [];
  const splitButton = el('button', {
    type: 'button', class: 'primary', testid: 'split-button',
    text: 'Split selected into a new horse',
    onclick: () => splitSelected(state, ctx, reload, splitButton),
  });
  const updateSplit = () => {
    splitButton.disabled = state.selected.size === 0;
    splitButton.textContent = state.selected.size ? `Split ${state.selected.size} selected into a new horse` : 'Split selected into a new horse';
  };
  updateSplit();
  const rows = document.createDocumentFragment();
  for (const sighting of list) rows.append(sightingRow(sighting, state, admin, updateSplit));
  const more = list.length >= state.limit ? el('button', { type: 'button', testid: 'more-sightings', text: 'Show more sightings', onclick: state.loadMore }) : null;
  section.replaceChildren(
    el('div', { class: 'section-head' }, el('h2', { text: `Sightings (${list.length}${more ? '+' : ''})` }), admin ? splitButton : null),
    list.length ? el('ol', { class: 'timeline' }, rows) : el('p', { class: 'muted', text: 'No sightings.' }),
    ...(more ? [more] : []));
}

function sightingRow(sighting, state, admin, onSelect) {
  const checkbox = admin ? el('input', {
    type: 'checkbox', testid: 'sighting-select', checked: state.selected.has(sighting.id),
    'aria-label': `select sighting ${sighting.id}`,
    onchange: (event) => {
      if (event.target.checked) state.selected.add(sighting.id);
      else state.selected.delete(sighting.id);
      onSelect();
    },
  }) : null;
  const thumb = sighting.thumbnail_url
    ? el('img', { class: 'sighting-thumb', loading: 'lazy', decoding: 'async', alt: '', src: sighting.thumbnail_url })
    : el('div', { class: 'sighting-thumb empty' });
  return el('li', { class: 'sighting', testid: 'sighting', dataset: { sightingId: String(sighting.id) } },
    checkbox ? el('label', { class: 'select-label' }, checkbox) : null,
    thumb,
    el('div', { class: 'sighting-main' },
      el('div', {}, el('strong', { text: sighting.chunk_id }), el('span', { class: 'muted', text: ` #${sighting.sequence}` })),
      el('div', { class: 'muted' }, timeEl(sighting.first_seen), sighting.last_seen && sighting.last_seen !== sighting.first_seen ? [' – ', timeEl(sighting.last_seen)] : null)),
    el('div', { class: 'sighting-stats muted' },
      el('div', { text: `${sighting.detections} det.` }),
      el('div', { class: 'box', title: 'box x,y w×h', text: formatBox(sighting.box) })));
}

async function splitSelected(state, ctx, reload, button) {
  const sightings = [...state.selected];
  if (sightings.length === 0) return;
  button.disabled = true;
  try {
    const result = await api('POST', `${streamApi(state.stream)}/splits`, { horse: state.horse.id, sightings });
    state.selected.clear();
    toast(eventToastText({ type: 'horse.split', horse: result.horse, from: result.from ?? state.horse.id }));
    location.hash = horseHref(state.stream, result.horse.id);
  } catch (error) {
    handleError(error, ctx);
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------------------------

document.body.dataset.liveEvents = '0';
window.addEventListener('hashchange', () => void showRoute());
void showRoute();
