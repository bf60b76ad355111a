// Job state and progress, followed live over the event stream.

import {readEventStream, getJson} from './api.js';
import {h} from './dom.js';

export const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

/** The (done, total) pairs that job types report in their progress events. */
export const PROGRESS_PAIRS = [
  ['step', 'steps'], // pretrain, finetune
  ['done', 'total'], // evaluate: (checkpoint, dataset) cells
  ['methods_done', 'methods'], // merge
  ['windows', 'of'], // cka
  ['steps_done', 'steps'], // sweep
];

/** {fraction (0..1 or null when unknown), text} of a progress report and the job's status. */
export function progressOf(progress, status) {
  if (status === 'succeeded') return {fraction: 1, text: 'done'};
  for (const [doneKey, totalKey] of PROGRESS_PAIRS) {
    const done = progress?.[doneKey];
    const total = progress?.[totalKey];
    if (typeof done === 'number' && typeof total === 'number' && total > 0) {
      const parts = [`${done.toLocaleString()} / ${total.toLocaleString()}`];
      if (typeof progress.loss === 'number') parts.push(`loss ${progress.loss.toFixed(3)}`);
      if (typeof progress.eta_seconds === 'number' && !TERMINAL.has(status)) {
        parts.push(`ETA ${Math.max(0, Math.round(progress.eta_seconds))} s`);
      }
      return {fraction: Math.min(1, done / total), text: parts.join(' · ')};
    }
  }
  return {fraction: status === 'queued' ? 0 : null, text: status === 'queued' ? 'waiting for a worker' : ''};
}

/** A progress bar (role=progressbar) with update(progress, status). */
export function progressBar(label) {
  const fill = h('div', {class: 'progress-fill'});
  const text = h('span', {class: 'progress-text'});
  const bar = h('div', {class: 'progress', role: 'progressbar', 'aria-label': label, 'aria-valuemin': 0,
    'aria-valuemax': 100}, h('div', {class: 'progress-track'}, fill), text);
  bar.update = (progress, status) => {
    const {fraction, text: description} = progressOf(progress, status);
    bar.dataset.status = status;
    if (fraction === null) {
      bar.removeAttribute('aria-valuenow');
      bar.classList.add('indeterminate');
      fill.style.width = '100%';
      text.textContent = description || status;
    } else {
      const percent = Math.round(fraction * 100);
      bar.classList.remove('indeterminate');
      bar.setAttribute('aria-valuenow', percent);
      bar.setAttribute('aria-valuetext', `${percent} %${description ? `, ${description}` : ''}`);
      fill.style.width = `${percent}%`;
      text.textContent = `${percent} %${description ? ` · ${description}` : ''}`;
    }
  };
  return bar;
}

export function statusBadge(status) {
  return h('span', {class: `badge status-${status}`, 'data-status': status}, status);
}

/** The status a job has after an event of this kind, if the event changes it. */
export function statusAfter(kind, current) {
  switch (kind) {
    case 'started': return 'running';
    case 'requeued': case 'released': return 'queued';
    case 'cancelling': return 'cancelling';
    case 'succeeded': case 'failed': case 'cancelled': return kind;
    default: return current;
  }
}

const sleep = (ms, signal) => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => {
    clearTimeout(timer);
    resolve();
  }, {once: true});
});

/**
 * Follows a job's events from {@code after} until it has finished: onEvent for each event, reconnecting
 * (after the last event seen) when the stream ends early or breaks. Resolves with the finished job.
 */
export async function followJob(jobId, {after = 0, onEvent, onError, signal}) {
  let cursor = after;
  let finished = false;
  while (!signal?.aborted) {
    try {
      cursor = await readEventStream(jobId, cursor, (event) => {
        if (TERMINAL.has(event.name)) finished = true;
        onEvent(event);
      }, signal);
      if (finished) return getJson(`jobs/${jobId}`, signal);
      // The stream ended without a final event (the service restarted, or the stream's time ran out).
      const job = await getJson(`jobs/${jobId}`, signal);
      if (TERMINAL.has(job.status)) return job;
    } catch (error) {
      if (error.name === 'AbortError' || signal?.aborted) return null;
      onError?.(error);
      if (error.status === 401 || error.status === 404) return null;
    }
    await sleep(2000, signal);
  }
  return null;
}
