// The operator console: a thin client of the REST API (/api/v1) and its Server-Sent Events. No build step.
const api = '/api/v1';
const $ = (selector) => document.querySelector(selector);
let token = sessionStorage.getItem('omadm-token') ?? '';
let selectedDevice;
let eventsAbort;

function showError(message) {
  const box = $('#error');
  box.textContent = message;
  box.hidden = false;
  setTimeout(() => (box.hidden = true), 6000);
}

async function call(method, path, body) {
  const response = await fetch(api + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json = text === '' ? undefined : JSON.parse(text);
  if (!response.ok) throw new Error(json?.message ?? `${method} ${path}: HTTP ${response.status}`);
  return json;
}

/** Lists come back as `{items, next…}`; accept a bare array too. */
const itemsOf = (page) => (Array.isArray(page) ? page : (page?.items ?? []));

function element(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  for (const child of children) node.append(child ?? '');
  return node;
}

async function refreshHealth() {
  const pill = $('#health');
  try {
    const response = await fetch('/healthz');
    pill.textContent = response.ok ? 'server ready' : `server ${response.status}`;
    pill.className = `pill ${response.ok ? 'ok' : 'bad'}`;
  } catch {
    pill.textContent = 'server unreachable';
    pill.className = 'pill bad';
  }
}

async function refreshDevices() {
  const prefix = $('#device-filter').value.trim();
  const query = prefix === '' ? '' : `?prefix=${encodeURIComponent(prefix)}`;
  const devices = itemsOf(await call('GET', `/devices${query}`));
  const list = $('#device-list');
  list.replaceChildren(
    ...devices.map((device) => {
      const item = element('li', {
        textContent: device.deviceId,
        title: `${device.authType} · ${device.username}`,
      });
      if (device.deviceId === selectedDevice) item.classList.add('selected');
      item.addEventListener('click', () => selectDevice(device.deviceId).catch((e) => showError(e.message)));
      return item;
    }),
  );
}

const devicePath = (id) => `/devices/${encodeURIComponent(id)}`;

async function selectDevice(deviceId) {
  selectedDevice = deviceId;
  $('#device-panel').hidden = false;
  $('#device-title').textContent = deviceId;
  await Promise.all([refreshDevices(), refreshDevice()]);
}

async function refreshDevice() {
  if (selectedDevice === undefined) return;
  const path = devicePath(selectedDevice);
  const [device, commands, tree, alerts, messages] = await Promise.all([
    call('GET', path),
    call('GET', `${path}/commands?limit=50`),
    call('GET', `${path}/tree?path=.`),
    call('GET', `${path}/alerts?limit=20`),
    call('GET', `${path}/messages?limit=20`),
  ]);
  const facts = [
    ['user name', device.username],
    ['auth', device.authType],
    ['notify address', device.notifyAddress ?? '—'],
    ['last seen', device.lastSeen ?? 'never'],
    ['locked until', device.lockedUntil ?? '—'],
  ];
  $('#device-facts').replaceChildren(
    ...facts.flatMap(([k, v]) => [
      element('dt', { textContent: k }),
      element('dd', { textContent: String(v) }),
    ]),
  );
  $('#command-table tbody').replaceChildren(...itemsOf(commands).map(commandRow));
  $('#tree-table tbody').replaceChildren(
    ...itemsOf(tree).map((node) =>
      element(
        'tr',
        {},
        element('td', { textContent: node.uri }),
        element('td', { textContent: node.data ?? '' }),
        element('td', { textContent: node.format ?? '' }),
        element('td', { textContent: node.updatedAt ?? '' }),
      ),
    ),
  );
  $('#alert-list').replaceChildren(
    ...itemsOf(alerts).map((alert) => {
      const items = (alert.items ?? [])
        .map((item) => `${item.source ?? ''} ${item.type ?? ''} ${item.data ?? ''}`.trim())
        .join('; ');
      return element('li', {
        textContent: `${alert.receivedAt} · ${alert.code}${alert.correlator ? ` (correlator ${alert.correlator})` : ''} · ${items}`,
      });
    }),
  );
  $('#message-list').replaceChildren(
    ...itemsOf(messages).map((message) =>
      element(
        'li',
        {},
        element(
          'details',
          {},
          element('summary', {
            textContent: `${message.createdAt} ${message.direction} ${message.contentType} · ${message.size} bytes`,
          }),
          element('pre', {
            textContent:
              message.bodyEncoding === 'utf8'
                ? message.body
                : JSON.stringify(message.decoded ?? message.decodeError, null, 1),
          }),
        ),
      ),
    ),
  );
}

function commandRow(command) {
  const results = (command.results ?? []).map((r) => `${r.target ?? ''} = ${r.data ?? ''}`).join('\n');
  const cancel = element('button', { type: 'button', textContent: 'cancel', className: 'danger' });
  cancel.hidden = command.state !== 'queued';
  cancel.addEventListener('click', () =>
    call('DELETE', `${devicePath(selectedDevice)}/commands/${command.id}`)
      .then(refreshDevice)
      .catch((e) => showError(e.message)),
  );
  return element(
    'tr',
    {},
    element('td', { textContent: String(command.id) }),
    element('td', { textContent: command.command.command }),
    element('td', {
      textContent:
        command.command.target ??
        (command.command.commands ?? []).map((c) => `${c.command} ${c.target ?? ''}`).join(', '),
    }),
    element(
      'td',
      {},
      element('span', { className: `pill state-${command.state}`, textContent: command.state }),
    ),
    // Why a command failed without the device's status: `unanswered` (after its last delivery) or `too-large`.
    element('td', {
      textContent: [command.status, command.reason].filter((v) => v !== null && v !== undefined).join(' · '),
    }),
    element('td', {}, element('pre', { textContent: results })),
    element('td', {}, cancel),
  );
}

/** SSE over fetch, so the token travels in the Authorization header and never in a URL. */
async function followEvents() {
  eventsAbort?.abort();
  eventsAbort = new AbortController();
  const state = $('#events-state');
  try {
    const response = await fetch(`${api}/events`, {
      headers: { authorization: `Bearer ${token}` },
      signal: eventsAbort.signal,
    });
    if (!response.ok || response.body === null) throw new Error(`events: HTTP ${response.status}`);
    state.textContent = 'live';
    state.className = 'pill ok';
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = frame
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trim())
          .join('\n');
        if (data !== '') onEvent(JSON.parse(data));
      }
    }
  } catch (error) {
    if (error.name === 'AbortError') return;
    showError(error.message);
  }
  state.textContent = 'offline';
  state.className = 'pill bad';
  setTimeout(() => followEvents(), 3000);
}

function onEvent(event) {
  const list = $('#event-list');
  const text = `${new Date(event.at ?? Date.now()).toLocaleTimeString()} ${event.type} ${event.deviceId ?? ''}`;
  list.prepend(element('li', { textContent: text, title: JSON.stringify(event) }));
  while (list.children.length > 200) list.lastChild.remove();
  if (event.deviceId !== undefined && event.deviceId === selectedDevice) refreshDevice().catch(() => {});
  if (event.type === 'session.started') refreshDevices().catch(() => {});
}

function formValues(form) {
  return Object.fromEntries([...new FormData(form)].filter(([, v]) => v !== ''));
}

async function connect() {
  sessionStorage.setItem('omadm-token', token);
  await refreshDevices();
  void followEvents();
}

$('#token').value = token;
$('#token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  token = $('#token').value.trim();
  connect().catch((e) => showError(e.message));
});
$('#device-filter').addEventListener('input', () => refreshDevices().catch((e) => showError(e.message)));
$('#device-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const body = formValues(event.target);
  call('POST', '/devices', body)
    .then(() => {
      event.target.reset();
      return selectDevice(body.deviceId);
    })
    .catch((e) => showError(e.message));
});
$('#command-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const { notify, ...body } = formValues(event.target);
  const query = notify === 'on' ? '?notify=true' : '';
  call('POST', `${devicePath(selectedDevice)}/commands${query}`, body)
    .then(refreshDevice)
    .catch((e) => showError(e.message));
});
$('#notify-button').addEventListener('click', () =>
  call('POST', `${devicePath(selectedDevice)}/notify`, {})
    .then(() => showError('Package 0 sent'))
    .catch((e) => showError(e.message)),
);
$('#delete-device-button').addEventListener('click', () => {
  if (!confirm(`Delete ${selectedDevice} and its history?`)) return;
  call('DELETE', devicePath(selectedDevice))
    .then(() => {
      selectedDevice = undefined;
      $('#device-panel').hidden = true;
      return refreshDevices();
    })
    .catch((e) => showError(e.message));
});

void refreshHealth();
if (token !== '') connect().catch((e) => showError(e.message));
