// The jobs list: state and a live progress bar per job, fed by each unfinished job's event stream.

import {getJson} from '../api.js';
import {h, replace, shortId, formatTime, formatDuration, table, emptyNote} from '../dom.js';
import {TERMINAL, followJob, progressBar, statusAfter, statusBadge} from '../live.js';

/** A browser opens about six connections per host: leave room for the page's other requests. */
const MAX_STREAMS = 4;
const REFRESH_MILLIS = 10000;
const STATUSES = ['queued', 'running', 'cancelling', 'succeeded', 'failed', 'cancelled'];

export function jobLabel(job) {
  return job.name ? job.name : `${job.type} …${shortId(job.id)}`;
}

export function render(main, {signal, query}) {
  const wanted = STATUSES.includes(query.get('status')) ? query.get('status') : '';
  const rows = new Map(); // job id -> {job, row, bar, badge, duration, stream (its AbortController)}
  const body = h('tbody');
  const status = h('p', {class: 'note', role: 'status', 'aria-live': 'polite'});
  const filter = h('select', {id: 'status-filter', onchange: () => {
    location.hash = filter.value ? `#/jobs?status=${filter.value}` : '#/jobs';
  }}, h('option', {value: ''}, 'all'), STATUSES.map((s) => h('option', {value: s, selected: s === wanted}, s)));
  const older = h('button', {type: 'button', class: 'secondary', hidden: true}, 'Show older jobs');
  let nextAfter = null;

  replace(main,
    h('div', {class: 'page-head'},
      h('h1', {}, 'Jobs'),
      h('div', {class: 'actions'},
        h('label', {for: 'status-filter'}, 'State '), filter,
        h('a', {href: '#/launch', class: 'button'}, 'Launch a job'))),
    h('div', {class: 'table-wrap'}, h('table', {id: 'jobs-table'},
      h('caption', {class: 'visually-hidden'}, 'Jobs, newest first'),
      h('thead', {}, h('tr', {}, ['Job', 'Type', 'State', 'Progress', 'Created']
        .map((title) => h('th', {scope: 'col'}, title)), h('th', {scope: 'col', class: 'num'}, 'Duration'))),
      body)),
    older, status);

  function rowFor(job) {
    const bar = progressBar(`Progress of ${jobLabel(job)}`);
    const badge = h('td', {class: 'state'});
    const duration = h('td', {class: 'num'});
    const row = h('tr', {'data-job-id': job.id, class: job.id === query.get('launched') ? 'highlight' : null},
      h('td', {}, h('a', {href: `#/jobs/${job.id}`, class: 'job-link'}, jobLabel(job)),
        h('div', {class: 'id', title: job.id}, `…${shortId(job.id)}`)),
      h('td', {}, job.type),
      badge,
      h('td', {class: 'progress-cell'}, bar),
      h('td', {}, formatTime(job.created_at)),
      duration);
    const entry = {job, row, bar, badge, duration, stream: null};
    show(entry);
    return entry;
  }

  function show(entry) {
    const {job} = entry;
    replace(entry.badge, statusBadge(job.status));
    entry.bar.update(job.progress, job.status);
    entry.duration.textContent = job.started_at ? formatDuration(job.started_at, job.finished_at) : '';
  }

  /**
   * Gives the newest unfinished jobs a live stream each, up to MAX_STREAMS; a stream of an older job
   * is closed for a newer one (the periodic refresh keeps the older one's row current).
   */
  function allocateStreams() {
    if (signal.aborted) return;
    const wanting = [...rows.values()].filter((e) => !TERMINAL.has(e.job.status) && !e.noStream)
      .sort((a, b) => new Date(b.job.created_at) - new Date(a.job.created_at));
    const keep = new Set(wanting.slice(0, MAX_STREAMS));
    for (const entry of rows.values()) {
      if (entry.stream && !keep.has(entry)) entry.stream.abort();
    }
    keep.forEach(stream);
  }

  function stream(entry) {
    if (entry.stream) return;
    const controller = new AbortController();
    signal.addEventListener('abort', () => controller.abort(), {once: true});
    entry.stream = controller;
    followJob(entry.job.id, {
      signal: controller.signal,
      onEvent(event) {
        const job = entry.job;
        job.status = statusAfter(event.name, job.status);
        if (event.name === 'started' && !job.started_at) job.started_at = event.data?.created_at;
        if (event.name === 'progress' && event.data?.data) job.progress = event.data.data;
        if (TERMINAL.has(event.name)) job.finished_at = event.data?.created_at;
        show(entry);
      },
    }).then((finished) => {
      if (entry.stream === controller) entry.stream = null;
      if (signal.aborted) return;
      if (finished) {
        entry.job = finished;
        show(entry);
      } else if (!controller.signal.aborted) {
        entry.noStream = true; // the service refused it (401, 404): leave this row to the refresh
      }
      if (!controller.signal.aborted) allocateStreams(); // a slot is free
    });
  }

  function add(jobs, atTop) {
    const fresh = [];
    for (const job of jobs) {
      const known = rows.get(job.id);
      if (known) {
        if (!known.stream) {
          known.job = job;
          show(known);
        }
        continue;
      }
      const entry = rowFor(job);
      rows.set(job.id, entry);
      fresh.push(entry.row);
    }
    if (atTop) body.prepend(...fresh);
    else body.append(...fresh);
    allocateStreams();
    const empty = body.querySelector('.empty-row');
    if (rows.size === 0 && !empty) {
      body.append(h('tr', {class: 'empty-row'}, h('td', {colspan: 6},
        emptyNote(wanted ? `No ${wanted} jobs.` : 'No jobs yet: launch one.'))));
    } else if (rows.size > 0 && empty) {
      empty.remove();
    }
  }

  const listPath = (after) => `jobs?limit=50${wanted ? `&status=${wanted}` : ''}${after ? `&after=${after}` : ''}`;

  async function load(after) {
    try {
      const page = await getJson(listPath(after), signal);
      add(page.items, false);
      nextAfter = page.has_more ? page.next_after : null;
      older.hidden = !nextAfter;
      status.textContent = '';
    } catch (error) {
      if (error.name !== 'AbortError') status.textContent = `Could not list jobs: ${error.message}`;
    }
  }

  older.addEventListener('click', () => load(nextAfter));

  // New jobs (launched from elsewhere) and jobs whose state changed without a stream of ours.
  async function refresh() {
    try {
      const page = await getJson(listPath(null), signal);
      add(page.items.filter((job) => !rows.has(job.id)), true);
      add(page.items.filter((job) => rows.has(job.id)), false);
    } catch (error) {
      if (error.name !== 'AbortError') status.textContent = `Could not refresh: ${error.message}`;
    }
  }

  load(null);
  const timer = setInterval(refresh, REFRESH_MILLIS);
  signal.addEventListener('abort', () => clearInterval(timer));
}
