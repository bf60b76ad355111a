// The dashboard: a hash router over the views, and the API key (when the service asks for one).

import {apiKey, isOpenAccess, onKeyChange, setApiKey} from './api.js';
import {h, replace} from './dom.js';
import * as jobs from './views/jobs.js';
import * as job from './views/job.js';
import * as launch from './views/launch.js';
import * as checkpoints from './views/checkpoints.js';
import * as datasets from './views/datasets.js';
import * as playground from './views/playground.js';

const main = document.getElementById('main');
const keyStatus = document.getElementById('key-status');
const navLinks = [...document.querySelectorAll('nav a')];

const ROUTES = [
  {pattern: /^\/?$/, view: jobs, title: 'Jobs', nav: 'jobs'},
  {pattern: /^\/jobs\/?$/, view: jobs, title: 'Jobs', nav: 'jobs'},
  {pattern: /^\/jobs\/([0-9a-fA-F-]{36})$/, view: job, title: 'Job', nav: 'jobs'},
  {pattern: /^\/launch$/, view: launch, title: 'Launch a job', nav: 'launch'},
  {pattern: /^\/checkpoints$/, view: checkpoints, title: 'Checkpoints', nav: 'checkpoints'},
  {pattern: /^\/datasets$/, view: datasets, title: 'Datasets', nav: 'datasets'},
  {pattern: /^\/playground$/, view: playground, title: 'Playground', nav: 'playground'},
];

let current = null; // the AbortController of the view on screen
let keyRefused = false;

function parseHash() {
  const raw = location.hash.replace(/^#/, '');
  const [path, search = ''] = raw.split('?');
  return {path, query: new URLSearchParams(search)};
}

/** Shows the view the address names, in a fresh container: a view left behind writes only to its own. */
function show({focus = true} = {}) {
  current?.abort();
  current = new AbortController();
  const {path, query} = parseHash();
  const route = ROUTES.find((r) => r.pattern.test(path));
  for (const link of navLinks) {
    if (link.dataset.nav && link.dataset.nav === route?.nav) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const container = h('div', {class: 'view'});
  replace(main, container);
  if (!route) {
    document.title = 'Not found · Consort';
    replace(container, h('h1', {}, 'Not found'), h('p', {}, 'No such page. ', h('a', {href: '#/jobs'}, 'Go to the jobs.')));
    return;
  }
  document.title = `${route.title} · Consort`;
  const params = path.match(route.pattern).slice(1);
  Promise.resolve(route.view.render(container, {signal: current.signal, params, query})).catch((error) => {
    if (error.name !== 'AbortError') {
      replace(container, h('p', {class: 'error', role: 'alert'}, `Something went wrong: ${error.message}`));
    }
  });
  if (focus) main.focus({preventScroll: true});
}

function askForKey(refused) {
  current?.abort();
  current = null;
  document.title = 'API key · Consort';
  const input = h('input', {id: 'api-key', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false'});
  replace(main, h('div', {class: 'view narrow'},
    h('h1', {}, 'API key'),
    refused ? h('p', {class: 'error', role: 'alert'}, 'The service refused that key: it is unknown or revoked.') : null,
    h('p', {}, 'This service asks for an API key. The dashboard keeps it in this browser tab only (sessionStorage) ',
      'and sends it as ', h('code', {}, 'Authorization: Bearer'), '.'),
    h('form', {id: 'key-form', onsubmit: (event) => {
      event.preventDefault();
      if (!input.value.trim()) return;
      keyRefused = false;
      setApiKey(input.value.trim());
      show();
    }},
    h('div', {class: 'field'}, h('label', {for: 'api-key'}, 'API key'), input),
    h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Use key')))));
  input.focus();
}

function showKeyStatus() {
  const key = apiKey();
  if (key) {
    replace(keyStatus, h('span', {class: 'note'}, `Key …${key.slice(-4)}`), ' ',
      h('button', {type: 'button', class: 'secondary small', onclick: () => {
        setApiKey(null);
        askForKey(false);
      }}, 'Forget key'));
  } else if (isOpenAccess()) {
    replace(keyStatus, h('span', {class: 'note', title: 'This service was started without API keys'}, 'No key needed'));
  } else {
    replace(keyStatus, h('button', {type: 'button', class: 'secondary small', onclick: () => askForKey(false)},
      'Enter API key'));
  }
}

onKeyChange((unauthorized) => {
  if (unauthorized === true) {
    if (keyRefused) return; // several requests of one view fail together: ask once
    keyRefused = true;
    const hadKey = Boolean(apiKey());
    if (hadKey) setApiKey(null);
    askForKey(hadKey);
  }
  showKeyStatus();
});

// The routes live in the hash, so the skip link moves focus instead of changing it.
document.querySelector('.skip').addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});
window.addEventListener('hashchange', () => show());
showKeyStatus();
show({focus: false});
