// The session viewer: an API key kept in sessionStorage and sent as x-api-key; a filterable session list; a session
// page with the waterfall (from /trace), transcript, tool calls, file previews and raw events, kept live by the SSE
// stream read with fetch (EventSource cannot send headers), resuming with Last-Event-ID after a drop.
import { formatMs, h, renderFiles, renderToolGroups, renderWaterfall } from './trace-view.js';

const keyStorage = 'agents-ui-api-key';
const $ = (id) => document.getElementById(id);
let pageToken = 0; // bumps on navigation so a stale page's work stops

const apiKey = () => sessionStorage.getItem(keyStorage);

function notice(text) {
  $('notice').textContent = text ?? '';
  $('notice').hidden = !text;
}

async function api(path, init = {}) {
  const response = await fetch(path, { ...init, headers: { ...init.headers, 'x-api-key': apiKey() ?? '' } });
  if (response.status === 401) {
    notice('The API key was refused. Enter a valid key.');
    throw new Error('unauthorised');
  }
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error(body.error?.message ?? `HTTP ${response.status}`);
  }
  return response.json();
}

// ---- the key ------------------------------------------------------------------------------------------------------

function setupKeyForm() {
  const form = $('key-form');
  const refresh = () => {
    $('forget-key').hidden = !apiKey();
    $('api-key').placeholder = apiKey() ? 'key saved for this tab' : 'x-api-key';
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(keyStorage, $('api-key').value.trim());
    $('api-key').value = '';
    refresh();
    notice('');
    void route();
  });
  $('forget-key').addEventListener('click', () => {
    sessionStorage.removeItem(keyStorage);
    refresh();
    void route();
  });
  refresh();
}

// ---- the session list ---------------------------------------------------------------------------------------------

function listQuery(page) {
  const data = new FormData($('filters'));
  const query = new URLSearchParams({ limit: '50' });
  if (data.get('status')) query.append('statuses[]', data.get('status'));
  if (data.get('agent')) query.set('agent_id', data.get('agent').trim());
  if (data.get('after')) query.set('created_at[gte]', new Date(data.get('after')).toISOString());
  if (data.get('status') === 'terminated') query.set('include_archived', 'true');
  if (page) query.set('page', page);
  return query;
}

async function showList(page) {
  const token = pageToken;
  $('list-view').hidden = false;
  $('session-view').hidden = true;
  const body = $('session-rows');
  if (!page) body.replaceChildren();
  const result = await api(`/v1/sessions?${listQuery(page)}`);
  if (token !== pageToken) return;
  for (const session of result.data) {
    body.append(
      h(
        'tr',
        { 'data-session-id': session.id },
        h('td', {}, h('a', { href: `#/sessions/${session.id}` }, session.id)),
        h('td', {}, session.title ?? ''),
        h('td', {}, h('span', { class: `status ${session.status}` }, session.status)),
        h('td', {}, `${session.agent.name ?? ''} (${session.agent.id})`),
        h('td', {}, new Date(session.created_at).toLocaleString()),
        h('td', {}, `${session.usage.input_tokens} / ${session.usage.output_tokens}`),
        h('td', {}, session.stats.active_seconds.toFixed(1)),
      ),
    );
  }
  if (!body.children.length) body.append(h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No sessions match.')));
  const more = $('more');
  more.hidden = !result.next_page;
  more.onclick = () => void showList(result.next_page);
}

// ---- one session --------------------------------------------------------------------------------------------------

function transcriptItem(event) {
  const text = (content) =>
    (content ?? []).map((block) => (block.type === 'text' ? block.text : `[${block.type}]`)).join('');
  switch (event.type) {
    case 'user.message':
      return h('li', { class: 'user' }, h('div', { class: 'who' }, 'user'), text(event.content));
    case 'agent.message':
      return h('li', { class: 'agent' }, h('div', { class: 'who' }, 'agent'), text(event.content));
    case 'agent.tool_use':
    case 'agent.custom_tool_use':
      return h(
        'li',
        { class: 'tool' },
        h('div', { class: 'who' }, `tool call: ${event.name}`),
        h('pre', {}, JSON.stringify(event.input, null, 2)),
      );
    case 'agent.tool_result':
      return h(
        'li',
        { class: 'tool' },
        h('div', { class: 'who' }, `tool result${event.is_error ? ' (error)' : ''}`),
        h('pre', {}, text(event.content).slice(0, 4000)),
      );
    case 'user.tool_confirmation':
      return h(
        'li',
        { class: 'user' },
        h('div', { class: 'who' }, 'user'),
        `${event.result === 'allow' ? 'approved' : 'denied'} a tool call${event.deny_message ? `: ${event.deny_message}` : ''}`,
      );
    case 'user.custom_tool_result':
      return h('li', { class: 'user' }, h('div', { class: 'who' }, 'user (custom tool result)'), text(event.content));
    case 'session.error':
      return h(
        'li',
        { class: 'tool' },
        h('div', { class: 'who' }, `error (${event.error.retry_status.type})`),
        event.error.message,
      );
    default:
      return null;
  }
}

function rawItem(event) {
  return h(
    'li',
    { 'data-event-type': event.type, 'data-event-id': event.id },
    h(
      'details',
      {},
      h('summary', {}, `${event.processed_at ?? ''} ${event.type} ${event.id}`),
      h('pre', {}, JSON.stringify(event, null, 2)),
    ),
  );
}

function renderTotals(trace) {
  const entries = [
    ['turns', trace.totals.turns],
    ['model requests', trace.totals.model_requests],
    ['tool calls', trace.totals.tool_calls],
    ['errors', trace.totals.errors],
    ['tokens in', trace.totals.input_tokens],
    ['tokens out', trace.totals.output_tokens],
    ['active', formatMs(trace.totals.active_seconds * 1000)],
  ];
  $('totals').replaceChildren(
    ...entries.flatMap(([name, value]) => [h('dt', {}, name), h('dd', { 'data-total': name }, String(value))]),
  );
}

async function showSession(sessionId) {
  const token = pageToken;
  $('list-view').hidden = true;
  $('session-view').hidden = false;
  for (const id of ['waterfall', 'transcript', 'tool-groups', 'files', 'raw-events', 'totals']) $(id).replaceChildren();
  const session = await api(`/v1/sessions/${encodeURIComponent(sessionId)}`);
  if (token !== pageToken) return;
  $('session-title').textContent = `${session.title ?? session.id} · ${session.agent.name ?? session.agent.id}`;

  const events = [];
  let lastSeq;
  const addEvents = (batch) => {
    for (const event of batch) {
      events.push(event);
      const item = transcriptItem(event);
      if (item) $('transcript').append(item);
      $('raw-events').append(rawItem(event));
    }
  };
  let page;
  do {
    const result = await api(
      `/v1/sessions/${encodeURIComponent(sessionId)}/events?limit=1000${page ? `&page=${page}` : ''}`,
    );
    if (token !== pageToken) return;
    addEvents(result.data);
    page = result.next_page;
  } while (page);

  const refreshTrace = async () => {
    const trace = await api(`/v1/sessions/${encodeURIComponent(sessionId)}/trace`);
    if (token !== pageToken) return;
    $('session-status').textContent = trace.status;
    $('session-status').className = `status ${trace.status}`;
    $('temporal-link').href = trace.workflow_url;
    renderTotals(trace);
    $('waterfall').replaceChildren(renderWaterfall(trace));
    $('tool-groups').replaceChildren(renderToolGroups(trace));
    $('files').replaceChildren(renderFiles(trace));
  };
  await refreshTrace();

  let pending;
  const scheduleTrace = () => {
    clearTimeout(pending);
    pending = setTimeout(() => void refreshTrace().catch((error) => notice(error.message)), 150);
  };
  void follow(
    sessionId,
    token,
    (seq, event) => {
      lastSeq = seq;
      if (events.some((known) => known.id === event.id)) return;
      addEvents([event]);
      scheduleTrace();
    },
    () => lastSeq,
  );
}

/** Reads the SSE stream with fetch until the page changes; reconnects after a drop, resuming after the last seq. */
async function follow(sessionId, token, onEvent, lastSeq) {
  const live = $('live-state');
  while (token === pageToken) {
    const controller = new AbortController();
    const stop = setInterval(() => token !== pageToken && controller.abort(), 500);
    try {
      const headers = { 'x-api-key': apiKey() ?? '' };
      if (lastSeq() !== undefined) headers['last-event-id'] = String(lastSeq());
      const response = await fetch(`/v1/sessions/${encodeURIComponent(sessionId)}/events/stream`, {
        headers,
        signal: controller.signal,
      });
      if (!response.ok || !response.body) throw new Error(`stream: HTTP ${response.status}`);
      live.textContent = 'live';
      live.classList.add('on');
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let boundary;
        while ((boundary = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          let data;
          let id;
          for (const line of block.split('\n')) {
            if (line.startsWith('data: ')) data = line.slice(6);
            else if (line.startsWith('id: ')) id = Number(line.slice(4));
          }
          if (data !== undefined && id !== undefined) onEvent(id, JSON.parse(data));
        }
      }
    } catch (error) {
      if (token !== pageToken) return;
      live.textContent = `reconnecting (${error.message})`;
    } finally {
      clearInterval(stop);
      live.classList.remove('on');
    }
    if (token === pageToken) await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

// ---- routing ------------------------------------------------------------------------------------------------------

async function route() {
  pageToken++;
  if (!apiKey()) {
    $('list-view').hidden = true;
    $('session-view').hidden = true;
    notice('Enter an API key to see your sessions. It is kept in this tab only (sessionStorage).');
    return;
  }
  const match = /^#\/sessions\/([^/?]+)/.exec(location.hash);
  try {
    if (match) await showSession(decodeURIComponent(match[1]));
    else await showList();
  } catch (error) {
    if (error.message !== 'unauthorised') notice(error.message);
  }
}

function setupTabs() {
  $('tabs').addEventListener('click', (event) => {
    const tab = event.target.closest('button')?.dataset.tab;
    if (!tab) return;
    for (const button of $('tabs').querySelectorAll('button'))
      button.classList.toggle('active', button.dataset.tab === tab);
    for (const section of document.querySelectorAll('.tab')) section.hidden = section.id !== `tab-${tab}`;
  });
}

setupKeyForm();
setupTabs();
$('filters').addEventListener('submit', (event) => {
  event.preventDefault();
  void route();
});
window.addEventListener('hashchange', () => void route());
void route();
