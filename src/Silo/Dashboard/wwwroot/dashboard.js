// The Actors dashboard: renders each snapshot the silo pushes over server-sent events (GET events), and sends the
// operator's actions as POSTs to api/vms/NAME/ACTION. Rows are kept by key and updated in place, so that a
// snapshot arriving while the operator picks a migration target does not reset the choice.
'use strict';

const mib = 1024 * 1024;
let hosts = [];

function bytes(n) {
  if (n >= 1024 * mib) return (n / (1024 * mib)).toFixed(1) + ' GiB';
  if (n >= mib) return Math.round(n / mib) + ' MiB';
  return Math.round(n / 1024) + ' KiB';
}

function milliseconds(ms) {
  if (ms === null || ms === undefined) return '–';
  if (ms >= 10000) return (ms / 1000).toFixed(1) + ' s';
  return ms.toFixed(ms < 10 ? 1 : 0) + ' ms';
}

function element(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function setText(e, text) {
  if (e.textContent !== text) e.textContent = text;
}

// Makes tbody's rows those of items, in order, each made once by create(key) and brought up to date by update(row, item).
function reconcile(tbody, items, key, create, update) {
  const existing = new Map([...tbody.rows].map(row => [row.dataset.key, row]));
  let previous = null;
  for (const item of items) {
    const k = key(item);
    let row = existing.get(k);
    if (row) existing.delete(k);
    else {
      row = create(k);
      row.dataset.key = k;
    }
    update(row, item);
    const expected = previous ? previous.nextSibling : tbody.firstChild;
    if (expected !== row) tbody.insertBefore(row, expected);
    previous = row;
  }
  for (const gone of existing.values()) gone.remove();
}

function cells(row, names) {
  for (const name of names) row.appendChild(element('td', name));
}

function renderHosts(list) {
  reconcile(document.querySelector('#hosts tbody'), list, h => h.name, key => {
    const row = element('tr');
    row.dataset.host = key;
    cells(row, ['name', 'backend', 'memory number', 'load number', 'running number']);
    const memory = row.querySelector('.memory');
    const bar = element('span', 'bar');
    bar.appendChild(element('span'));
    memory.append(bar, element('span', 'free'));
    return row;
  }, (row, h) => {
    setText(row.querySelector('.name'), h.name);
    setText(row.querySelector('.backend'), h.backend);
    const used = h.memoryTotalBytes > 0 ? 1 - h.memoryFreeBytes / h.memoryTotalBytes : 0;
    row.querySelector('.bar > span').style.width = (used * 100).toFixed(1) + '%';
    setText(row.querySelector('.free'), h.memoryTotalBytes > 0 ? `${bytes(h.memoryFreeBytes)} of ${bytes(h.memoryTotalBytes)}` : '–');
    setText(row.querySelector('.load'), h.cores > 0 ? `${h.committedVcpus} / ${h.cores}` : '–');
    setText(row.querySelector('.running'), String(h.runningVms));
  });
}

const actionsByState = {
  start: ['Defined', 'Off', 'Failed'],
  stop: ['Running', 'Paused'],
  pause: ['Running'],
  resume: ['Paused'],
  migrate: ['Running'],
};

function renderVms(list, migrating) {
  reconcile(document.querySelector('#vms tbody'), list, v => v.name, key => {
    const row = element('tr');
    row.dataset.vm = key;
    cells(row, ['name', 'state', 'host', 'vcpus number', 'memory number', 'heartbeat', 'console', 'actions']);
    row.querySelector('.state').appendChild(element('span', 'badge'));
    row.querySelector('.console').appendChild(element('pre', 'console'));
    const actions = row.querySelector('.actions');
    for (const action of ['start', 'stop', 'pause', 'resume']) {
      const button = element('button', action, action);
      button.dataset.action = action;
      button.addEventListener('click', () => act(key, action));
      actions.appendChild(button);
    }
    const target = element('select', 'target');
    target.title = 'host to migrate to';
    const migrate = element('button', 'migrate', 'migrate');
    migrate.dataset.action = 'migrate';
    migrate.addEventListener('click', () => act(key, 'migrate', { target: target.value }));
    actions.append(target, migrate);
    return row;
  }, (row, v) => {
    const badge = row.querySelector('.badge');
    setText(badge, v.state);
    badge.className = 'badge ' + v.state;
    row.dataset.state = v.state;
    const problem = row.querySelector('.state .problem-text');
    if (v.problem) {
      const text = problem || row.querySelector('.state').appendChild(element('span', 'problem-text'));
      setText(text, v.problem);
    } else if (problem) problem.remove();
    setText(row.querySelector('.name'), v.name);
    setText(row.querySelector('.host'), v.host || '–');
    setText(row.querySelector('.vcpus'), String(v.vcpus));
    setText(row.querySelector('.memory'), bytes(v.memoryBytes));
    setText(row.querySelector('.heartbeat'), v.heartbeat || '–');
    setText(row.querySelector('pre.console'), v.console);
    for (const [action, states] of Object.entries(actionsByState)) {
      const button = row.querySelector(`button[data-action="${action}"]`);
      button.hidden = (action === 'pause' && v.state === 'Paused') || (action === 'resume' && v.state !== 'Paused');
      button.disabled = !states.includes(v.state) || (action === 'migrate' && migrating.has(v.name));
    }
    renderTargets(row.querySelector('select.target'), v);
  });
  document.getElementById('no-vms').hidden = list.length > 0;
}

// The hosts a VM can move to: every reachable host but its own; the operator's choice is kept while it stays one.
function renderTargets(select, vm) {
  const targets = hosts.filter(h => h.name !== vm.host && h.backend !== 'unreachable').map(h => h.name);
  const current = [...select.options].map(o => o.value);
  if (current.join('\n') !== targets.join('\n')) {
    const chosen = select.value;
    select.replaceChildren(...targets.map(t => element('option', '', t)));
    if (targets.includes(chosen)) select.value = chosen;
  }
  select.disabled = targets.length === 0 || vm.state !== 'Running';
}

function renderMigrations(list) {
  reconcile(document.querySelector('#migrations tbody'), list, m => m.id, key => {
    const row = element('tr');
    row.dataset.migration = key;
    cells(row, ['vm', 'route', 'state', 'progress', 'pass number', 'pages number', 'rate number', 'dirtied number', 'throttle number', 'downtime number', 'elapsed number']);
    row.querySelector('.state').appendChild(element('span', 'badge'));
    const bar = element('span', 'bar');
    bar.appendChild(element('span'));
    row.querySelector('.progress').append(bar, element('span', 'percent'));
    return row;
  }, (row, m) => {
    row.dataset.vm = m.vm;
    row.dataset.state = m.state;
    setText(row.querySelector('.vm'), m.vm);
    setText(row.querySelector('.route'), `${m.source} → ${m.target}`);
    const badge = row.querySelector('.badge');
    setText(badge, m.state);
    badge.className = 'badge ' + m.state;
    badge.title = m.reason || '';
    const pages = m.memoryBytes / 4096;
    const done = m.state === 'Completed' ? 1 : pages > 0 ? Math.max(0, 1 - m.pagesRemaining / pages) : 0;
    row.querySelector('.bar > span').style.width = (done * 100).toFixed(1) + '%';
    setText(row.querySelector('.percent'), m.state === 'Failed' ? (m.reason || 'failed') : Math.round(done * 100) + '%');
    setText(row.querySelector('.pass'), String(m.pass));
    setText(row.querySelector('.pages'), String(m.pagesRemaining));
    setText(row.querySelector('.rate'), bytes(m.bytesPerSecond) + '/s');
    setText(row.querySelector('.dirtied'), Math.round(m.dirtyPagesPerSecond) + ' pages/s');
    setText(row.querySelector('.throttle'), m.throttlePercent + '%');
    setText(row.querySelector('.downtime'), milliseconds(m.downtimeMilliseconds));
    setText(row.querySelector('.elapsed'), milliseconds(m.elapsedMilliseconds));
  });
  document.getElementById('no-migrations').hidden = list.length > 0;
}

function render(snapshot) {
  hosts = snapshot.hosts;
  setText(document.getElementById('silo'), snapshot.silo ? `served by ${snapshot.silo}` : '');
  setText(document.getElementById('updated'), 'updated ' + new Date().toLocaleTimeString());
  const problem = document.getElementById('problem');
  problem.hidden = !snapshot.problem;
  setText(problem, snapshot.problem || '');
  const migrating = new Set(snapshot.migrations.filter(m => m.state === 'Copying').map(m => m.vm));
  renderHosts(snapshot.hosts);
  renderVms(snapshot.vms, migrating);
  renderMigrations(snapshot.migrations);
}

function say(text, isError) {
  const message = document.getElementById('message');
  message.hidden = false;
  message.className = isError ? 'message error' : 'message';
  setText(message, text);
}

async function act(vm, action, body) {
  say(`${vm}: ${action}…`, false);
  try {
    const response = await fetch(`api/vms/${encodeURIComponent(vm)}/${action}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body || {}),
    });
    const answer = await response.json().catch(() => ({ error: `${response.status} ${response.statusText}` }));
    if (response.ok) say(answer.message || `${vm}: ${action} done`, false);
    else say(answer.error || `${response.status} ${response.statusText}`, true);
  } catch (e) {
    say(`${vm}: ${action} failed: ${e.message}`, true);
  }
}

function connect() {
  const connection = document.getElementById('connection');
  const events = new EventSource('events');
  events.addEventListener('snapshot', e => render(JSON.parse(e.data)));
  events.onopen = () => {
    connection.className = 'connection up';
    setText(connection, 'live');
  };
  // EventSource reconnects by itself; the page says so meanwhile.
  events.onerror = () => {
    connection.className = 'connection down';
    setText(connection, 'reconnecting…');
  };
}

connect();
