// Renders a session trace (GET /v1/sessions/{id}/trace) as a waterfall (with a lane for the sandbox's lifecycle),
// tool-call groups and file previews. Every text from the session goes in through textContent, never as markup.

/** Creates an element with attributes and children (strings become text nodes). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') element.className = value;
    else if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

const time = (iso) => (iso ? Date.parse(iso) : null);

export function formatMs(ms) {
  if (ms === null || ms === undefined) return '…';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

function spanStart(span) {
  return time(span.started_at ?? span.at);
}

function spanEnd(span, nowMs) {
  if (span.kind === 'error' || span.kind === 'interrupt') return time(span.at);
  return time(span.ended_at) ?? nowMs;
}

function spanLabel(span) {
  switch (span.kind) {
    case 'model_request':
      return `${span.model ?? 'model'}${span.attempt > 1 ? ` (attempt ${span.attempt})` : ''}`;
    case 'tool': {
      const who = span.confirmation ? ` · ${span.confirmation.result === 'allow' ? 'approved' : 'denied'} by user` : '';
      return `${span.tool_kind === 'custom_tool' ? 'custom ' : ''}${span.name} [${span.status}]${who}`;
    }
    case 'wait':
      return `waiting for ${span.reason === 'custom_tool_result' ? 'a custom tool result' : 'confirmation'}`;
    case 'retry_wait':
      return 'waiting to retry';
    case 'error':
      return `error: ${span.error_type} (${span.retry_status})`;
    case 'interrupt':
      return 'interrupted by user';
    case 'sandbox':
      return `${span.summary ?? `sandbox ${span.sandbox_kind}`}${span.status === 'completed' ? '' : ` [${span.status}]`}`;
    default:
      return span.kind;
  }
}

function spanDetail(span) {
  const parts = [];
  if (span.kind === 'model_request') {
    parts.push(
      h('p', {}, span.summary ?? '', ` · tokens in ${span.usage.input_tokens}, out ${span.usage.output_tokens}`),
    );
    if (span.is_error) parts.push(h('p', { class: 'muted' }, 'The request failed.'));
  }
  if (span.kind === 'tool') {
    parts.push(h('p', { class: 'muted' }, 'input'), h('pre', {}, JSON.stringify(span.input, null, 2)));
    if (span.output_preview !== null) {
      parts.push(h('p', { class: 'muted' }, `output (${span.output_chars} chars)`), h('pre', {}, span.output_preview));
    }
    if (span.confirmation) {
      const { result, deny_message: denyMessage, answered_at: answeredAt } = span.confirmation;
      parts.push(
        h(
          'p',
          {},
          `${result === 'allow' ? 'Approved' : 'Denied'} by the user at ${answeredAt ?? '?'}`,
          denyMessage ? `: ${denyMessage}` : '',
        ),
      );
    }
    if (span.wait_ms !== null)
      parts.push(h('p', { class: 'muted' }, `waited ${formatMs(span.wait_ms)} for the client`));
    if (span.sub_agent)
      parts.push(h('p', {}, `sub-agent session ${span.sub_agent.session_id}`), renderWaterfall(span.sub_agent));
  }
  if (span.kind === 'error') parts.push(h('pre', {}, span.message));
  if (span.kind === 'sandbox') {
    parts.push(h('p', {}, `sandbox ${span.sandbox_kind}`, span.host_queue ? ` · task queue ${span.host_queue}` : ''));
    if (span.error) parts.push(h('pre', {}, span.error));
  }
  if (span.kind === 'wait')
    parts.push(
      h('p', {}, `awaiting ${span.awaiting.join(', ')}; answered by ${span.answered_by.join(', ') || 'nothing yet'}`),
    );
  return h('div', { class: 'span-detail' }, parts);
}

/** Sandbox lifecycle spans (trace.sandbox, from Temporal's history) as waterfall rows of their own kind. */
function sandboxRows(trace) {
  return (trace.sandbox?.spans ?? []).map((span, index) => ({
    ...span,
    kind: 'sandbox',
    sandbox_kind: span.kind,
    name: span.kind,
    id: `sandbox-${index + 1}`,
  }));
}

/** The waterfall: one row per span, its bar placed on the session's time axis; the sandbox's lifecycle last. */
export function renderWaterfall(trace, nowMs = Date.now()) {
  const sandbox = sandboxRows(trace);
  const spans = [...trace.turns.flatMap((turn) => turn.spans), ...trace.between_turns, ...sandbox];
  const starts = [...trace.turns.map((turn) => time(turn.started_at)), ...spans.map(spanStart)].filter(
    (t) => t !== null,
  );
  const origin = starts.length ? Math.min(...starts) : nowMs;
  const ends = [
    ...trace.turns.map((turn) => time(turn.ended_at) ?? nowMs),
    ...spans.map((span) => spanEnd(span, nowMs)),
  ];
  const range = Math.max(1, Math.max(origin + 1, ...ends.filter((t) => t !== null)) - origin);
  const root = h('div', { class: 'waterfall-body', 'data-session-id': trace.session_id });

  const row = (span) => {
    const start = spanStart(span) ?? origin;
    const end = spanEnd(span, nowMs) ?? start;
    const bar = h('div', { class: 'bar' });
    bar.style.left = `${((start - origin) / range) * 100}%`;
    bar.style.width = `${Math.max(0.2, ((end - start) / range) * 100)}%`;
    const duration =
      span.kind === 'error' || span.kind === 'interrupt'
        ? ''
        : formatMs(span.duration_ms ?? (span.ended_at ? null : nowMs - start));
    const element = h(
      'div',
      {
        class: `span-row kind-${span.kind}${span.status ? ` status-${span.status}` : ''}`,
        'data-span-kind': span.kind,
        'data-span-name': span.name ?? span.model ?? '',
        'data-span-status': span.status ?? '',
        'data-span-id': span.id,
        tabindex: 0,
      },
      h('span', { class: 'label', title: spanLabel(span) }, spanLabel(span)),
      h('div', { class: 'track' }, bar),
      h('span', { class: 'duration' }, duration),
    );
    let detail;
    element.addEventListener('click', () => {
      if (detail) {
        detail.remove();
        detail = undefined;
        element.classList.remove('selected');
        return;
      }
      detail = spanDetail(span);
      element.classList.add('selected');
      element.after(detail);
    });
    return element;
  };

  for (const turn of trace.turns) {
    root.append(
      h(
        'div',
        { class: 'turn-head', 'data-turn': turn.index },
        `Turn ${turn.index}: `,
        h(
          'span',
          { class: 'muted' },
          `${turn.text.slice(0, 120)} · ${formatMs(turn.duration_ms)} · ${turn.stop_reason ? turn.stop_reason.type : 'in progress'}`,
        ),
      ),
      ...turn.spans.map(row),
    );
  }
  if (trace.between_turns.length)
    root.append(h('div', { class: 'turn-head' }, 'Between turns'), ...trace.between_turns.map(row));
  if (sandbox.length)
    root.append(
      h(
        'div',
        { class: 'turn-head', 'data-lane': 'sandbox' },
        'Sandbox ',
        h('span', { class: 'muted' }, 'create, pause, snapshot, restore — from Temporal history'),
      ),
      ...sandbox.map(row),
    );
  for (const child of trace.sub_agents ?? [])
    root.append(h('div', { class: 'turn-head' }, `Sub-agent ${child.session_id}`), renderWaterfall(child, nowMs));
  return root;
}

/** Tool calls grouped by turn and by the model request that asked for them. */
export function renderToolGroups(trace) {
  const root = h('div', {});
  for (const turn of trace.turns) {
    const tools = turn.spans.filter((span) => span.kind === 'tool');
    if (!tools.length) continue;
    const byRequest = new Map();
    for (const tool of tools) {
      const key = tool.model_request_id ?? 'unknown';
      byRequest.set(key, [...(byRequest.get(key) ?? []), tool]);
    }
    for (const [requestId, group] of byRequest) {
      root.append(
        h(
          'div',
          { class: 'tool-group', 'data-model-request': requestId },
          h('strong', {}, `Turn ${turn.index} · ${group.length} tool call${group.length > 1 ? 's' : ''}`),
          ...group.map((tool) =>
            h(
              'details',
              { 'data-tool': tool.name },
              h('summary', {}, `${tool.name} — ${tool.status} · ${formatMs(tool.duration_ms)}`),
              spanDetail(tool),
            ),
          ),
        ),
      );
    }
  }
  if (!root.children.length) root.append(h('p', { class: 'muted' }, 'No tool calls yet.'));
  return root;
}

/** The files the agent wrote or edited, from the write/edit tool inputs. */
export function renderFiles(trace) {
  const root = h('div', {});
  for (const turn of trace.turns) {
    for (const span of turn.spans) {
      if (span.kind !== 'tool' || !span.file) continue;
      const { path, operation, preview, old_preview: oldPreview } = span.file;
      root.append(
        h(
          'div',
          { class: 'file', 'data-file-path': path },
          h('h3', {}, `${path} `, h('span', { class: 'muted' }, `${operation} · turn ${turn.index} · ${span.status}`)),
          oldPreview !== null ? h('div', {}, h('p', { class: 'muted' }, 'replaced'), h('pre', {}, oldPreview)) : null,
          h('pre', { class: 'file-content' }, preview),
        ),
      );
    }
  }
  if (!root.children.length) root.append(h('p', { class: 'muted' }, 'No files written yet.'));
  return root;
}
