// One job: its state and live progress, events, loss curves, results table, CKA heatmap, sweep plots or
// compatibility verdict.

import {getJson, loadImage, postJson} from '../api.js';
import {loadCatalog, nameOf} from '../catalog.js';
import {emptyNote, formatClock, formatDuration, formatNumber, formatTime, h, replace, table} from '../dom.js';
import {PROGRESS_PAIRS, TERMINAL, followJob, progressBar, statusAfter, statusBadge} from '../live.js';
import {jobLabel} from './jobs.js';

/** How often a running job's loss plot is redrawn while progress events arrive. */
const PLOT_REFRESH_MILLIS = 5000;
/** Events kept on the page; a long training job has thousands. */
const MAX_EVENTS = 300;

export async function render(main, {signal, params}) {
  const id = params[0];
  let job;
  let catalog;
  try {
    [job, catalog] = await Promise.all([getJson(`jobs/${encodeURIComponent(id)}`, signal), loadCatalog(signal)]);
  } catch (error) {
    if (error.name === 'AbortError') return;
    replace(main, h('h1', {}, 'Job'), h('p', {class: 'error', role: 'alert'},
      error.status === 404 ? `There is no job ${id}.` : `Could not load the job: ${error.message}`));
    return;
  }

  const badge = h('span', {id: 'job-status'});
  const bar = progressBar(`Progress of ${jobLabel(job)}`);
  bar.id = 'job-progress';
  const facts = h('dl', {class: 'facts'});
  const progressFacts = h('dl', {class: 'facts compact'});
  const cancel = h('button', {type: 'button', class: 'danger', onclick: cancelJob}, 'Cancel job');
  const notice = h('p', {class: 'note', role: 'status', 'aria-live': 'polite'});
  const failure = h('div');
  const lossSection = h('section', {'aria-labelledby': 'losses-heading'});
  const outcome = h('div'); // results, heatmaps, plots, outputs: filled once the job has succeeded
  const eventBody = h('tbody');
  const eventScroller = h('div', {class: 'table-wrap events'});
  const eventCount = h('span', {class: 'note'});
  let events = 0;

  replace(main,
    h('p', {class: 'crumbs'}, h('a', {href: '#/jobs'}, '← Jobs')),
    h('div', {class: 'page-head'},
      h('h1', {}, jobLabel(job), ' ', badge),
      h('div', {class: 'actions'}, cancel)),
    h('section', {class: 'summary', 'aria-label': 'Summary'}, bar, progressFacts, facts),
    notice, failure, lossSection, outcome,
    h('section', {'aria-labelledby': 'events-heading'},
      h('h2', {id: 'events-heading'}, 'Events ', eventCount),
      replace(eventScroller, h('table', {id: 'events-table'},
        h('caption', {class: 'visually-hidden'}, 'Job events, oldest first'),
        h('thead', {}, h('tr', {}, ['#', 'Time', 'Kind', 'Message', 'Data'].map((t) => h('th', {scope: 'col'}, t)))),
        eventBody))),
    h('details', {}, h('summary', {}, 'Spec'), h('pre', {class: 'json'}, JSON.stringify(job.spec, null, 2))));

  function showJob() {
    replace(badge, statusBadge(job.status));
    bar.update(job.progress, job.status);
    cancel.hidden = TERMINAL.has(job.status) || job.status === 'cancelling';
    replace(facts,
      fact('Id', h('code', {}, job.id)),
      fact('Type', job.type),
      fact('Device', job.device || 'any'),
      fact('Priority', job.priority),
      fact('Attempts', `${job.attempts} of ${job.max_attempts}`),
      fact('Created', formatTime(job.created_at)),
      job.started_at ? fact('Started', formatTime(job.started_at)) : null,
      job.finished_at ? fact('Finished', formatTime(job.finished_at)) : null,
      job.started_at ? fact('Duration', formatDuration(job.started_at, job.finished_at)) : null);
    replace(progressFacts, progressDetails(job).map(([term, value]) => fact(term, value)));
    replace(failure, job.error ? h('div', {class: 'error', role: 'alert'},
      h('strong', {}, `Failed (${job.error.code}): `), job.error.message) : null);
  }

  /** The latest progress report, less what the bar already says, in words and units. */
  function progressDetails({progress, status}) {
    if (!progress || typeof progress !== 'object') return [];
    const shown = new Set(PROGRESS_PAIRS.find(([done, total]) => typeof progress[done] === 'number'
      && typeof progress[total] === 'number') || []);
    const details = [];
    for (const [key, value] of Object.entries(progress)) {
      if (shown.has(key) || key === 'loss') continue;
      if (key === 'eta_seconds') {
        if (!TERMINAL.has(status)) details.push(['time left', `${Math.max(0, Math.round(value))} s`]);
      } else if (key === 'tokens_per_second') {
        details.push(['speed', `${Math.round(value).toLocaleString()} tokens/s`]);
      } else if (key === 'last') {
        details.push(['last done', String(value)]);
      } else {
        details.push([key.replaceAll('_', ' '), describe(value)]);
      }
    }
    if (typeof progress.loss === 'number') details.unshift(['train loss', formatNumber(progress.loss)]);
    return details;
  }

  function describe(value) {
    if (typeof value === 'number') return formatNumber(value);
    if (typeof value === 'string' && catalog.checkpoints.has(value)) return nameOf(catalog.checkpoints, value);
    return typeof value === 'object' ? JSON.stringify(value) : String(value);
  }

  async function cancelJob() {
    cancel.disabled = true;
    try {
      job = await postJson(`jobs/${job.id}/cancel`, {});
      notice.textContent = job.status === 'cancelled' ? 'Cancelled.' : 'Cancellation requested; the job stops at its next step.';
      showJob();
    } catch (error) {
      notice.textContent = `Could not cancel: ${error.message}`;
    } finally {
      cancel.disabled = false;
    }
  }

  function addEvent(event) {
    const view = event.data && typeof event.data === 'object' ? event.data : {kind: event.name, message: event.data};
    // Like a log: stay at the newest event unless the reader scrolled up to older ones.
    const atBottom = eventScroller.scrollHeight - eventScroller.scrollTop - eventScroller.clientHeight < 24;
    const data = view.data && typeof view.data === 'object'
      ? Object.entries(view.data).map(([key, value]) => `${key.replaceAll('_', ' ')} ${describe(value)}`).join(' · ') : '';
    eventBody.append(h('tr', {'data-kind': view.kind},
      h('td', {class: 'num'}, event.id ?? ''),
      h('td', {class: 'nowrap', title: formatTime(view.created_at)}, formatClock(view.created_at)),
      h('td', {}, h('span', {class: `badge kind-${view.kind}`}, view.kind)),
      h('td', {}, view.message || ''),
      h('td', {class: 'data'}, data)));
    events++;
    while (eventBody.rows.length > MAX_EVENTS) eventBody.rows[0].remove();
    eventCount.textContent = events > MAX_EVENTS ? `(latest ${MAX_EVENTS} of ${events})` : `(${events})`;
    if (atBottom) eventScroller.scrollTop = eventScroller.scrollHeight;
  }

  // Loss curves: the plot is drawn by the service; redrawn now and then while the job runs.
  const lossImage = h('img', {id: 'loss-plot', alt: `Loss curves of ${jobLabel(job)}`, width: 800, height: 500});
  const lossCaption = h('figcaption', {class: 'note'});
  replace(lossSection, h('h2', {id: 'losses-heading'}, 'Loss curves'),
    h('figure', {class: 'plot'}, lossImage, lossCaption));
  let plotDrawnAt = 0;
  let plotPending = null;

  async function drawLosses() {
    plotDrawnAt = Date.now();
    try {
      const curves = await getJson(`jobs/${job.id}/losses`, signal);
      const series = curves.series.filter((s) => s.points.length > 0);
      if (series.length === 0) {
        lossImage.hidden = true;
        lossCaption.textContent = 'No loss points yet.';
        lossSection.hidden = TERMINAL.has(job.status); // merges and CKA jobs record none
        return;
      }
      lossSection.hidden = false;
      await loadImage(lossImage, `jobs/${job.id}/losses?format=png`, signal);
      lossImage.hidden = false;
      lossCaption.textContent = series.map((s) => `${s.name}: ${s.points.length} points, last ${
        formatNumber(s.points[s.points.length - 1].value)}`).join(' · ');
    } catch (error) {
      if (error.name !== 'AbortError') lossCaption.textContent = `Could not draw the losses: ${error.message}`;
    }
  }

  function lossesChanged() {
    if (plotPending) return;
    const wait = Math.max(0, PLOT_REFRESH_MILLIS - (Date.now() - plotDrawnAt));
    plotPending = setTimeout(() => {
      plotPending = null;
      drawLosses();
    }, wait);
  }
  signal.addEventListener('abort', () => clearTimeout(plotPending));

  showJob();
  drawLosses();
  let outcomeShown = job.status === 'succeeded';
  if (outcomeShown) showOutcome(outcome, job, catalog, signal);

  const finished = await followJob(job.id, {
    signal,
    onEvent(event) {
      addEvent(event);
      job.status = statusAfter(event.name, job.status);
      if (event.name === 'progress' && event.data?.data) {
        job.progress = event.data.data;
        if (!TERMINAL.has(job.status)) lossesChanged();
      }
      showJob();
    },
    onError(error) {
      notice.textContent = `Event stream interrupted (${error.message}); reconnecting…`;
    },
  });
  if (!finished || signal.aborted) return;
  job = finished;
  notice.textContent = '';
  showJob();
  clearTimeout(plotPending);
  plotPending = null;
  await drawLosses();
  if (job.status === 'succeeded' && !outcomeShown) {
    outcomeShown = true;
    catalog = await loadCatalog(signal).catch(() => catalog); // it may have produced checkpoints
    showOutcome(outcome, job, catalog, signal);
  }
}

function fact(term, value) {
  return [h('dt', {}, term), h('dd', {}, value)];
}

/** What a succeeded job produced: a results table, a heatmap, plots, checkpoints. */
async function showOutcome(container, job, catalog, signal) {
  const result = job.result || {};
  const parts = [];
  if (Array.isArray(result.rows)) {
    try {
      const results = await getJson(`jobs/${job.id}/results`, signal);
      parts.push(resultsSection(job, results.rows, catalog));
    } catch (error) {
      if (error.name === 'AbortError') return;
      parts.push(h('p', {class: 'error'}, `Could not load the results: ${error.message}`));
    }
  }
  if (job.type === 'cka') {
    parts.push(imageSection('cka-heading', 'CKA heatmap', [
      {id: 'cka-heatmap', path: `jobs/${job.id}/cka?format=png`, alt: 'CKA similarity between layers'}],
    signal, ckaSummary(result)));
  }
  if (job.type === 'merge' && (result.outputs || []).some((o) => o.router_weights && o.router_weights.layers)) {
    parts.push(imageSection('router-heading', 'Router weights', [
      {id: 'router-weights-plot', path: `jobs/${job.id}/plots/router-weights?format=png`,
        alt: 'Mean expert weight per layer of every routed model'}], signal,
    h('p', {class: 'note'}, 'Each layer\'s mean weight on each expert over the first evaluation dataset.')));
  }
  if (job.type === 'sweep') {
    parts.push(imageSection('sweep-heading', 'Sweep plots', [
      {id: 'sweep-step-plot', path: `jobs/${job.id}/plots/merge-loss-vs-step?format=png`,
        alt: 'Merge loss against fine-tuning step with 95% intervals, critical step marked'},
      {id: 'sweep-gain-plot', path: `jobs/${job.id}/plots/gain-vs-step?format=png`,
        alt: 'Gain of the merge over the better expert along fine-tuning, with 95% intervals'},
      {id: 'sweep-cka-plot', path: `jobs/${job.id}/plots/merge-loss-vs-cka?format=png`,
        alt: 'Merge loss against CKA between the specialists'}], signal,
    result.critical_step !== undefined ? h('p', {id: 'sweep-verdict'}, `Critical step: ${result.critical_step}`
      + (Array.isArray(result.critical_step_ci95) ? ` (95% interval over windows: steps ${result.critical_step_ci95[0]}`
        + `–${result.critical_step_ci95[1]})` : '')
      + `, merge loss ${formatNumber(result.critical_merge_loss)}. ${result.verdict || ''}`) : null));
    const turns = [['Expert A', result.expert_a_turn], ['Expert B', result.expert_b_turn]].filter(([, turn]) => turn);
    if (turns.length) {
      parts.push(h('p', {id: 'sweep-turns', class: 'note'}, turns.map(([name, turn]) => `${name}: own loss lowest at `
        + `step ${turn.lowest_step}` + (turn.last_step_minus_lowest.difference === 0 ? ', the last step (still falling).'
          : `, last step ${signed(turn.last_step_minus_lowest.difference)}${intervalText(turn.last_step_minus_lowest)}`
          + `${turn.turns_upward ? ' (over-specialised)' : ' (within the noise)'}.`)).join(' ')));
    }
  }
  if (job.type === 'compatibility') parts.push(compatibilitySection(result));
  const outputs = outputsSection(result, catalog);
  if (outputs) parts.push(outputs);
  parts.push(h('details', {}, h('summary', {}, 'Result'), h('pre', {class: 'json'}, JSON.stringify(result, null, 2))));
  replace(container, parts);
}

/** Whether to merge: the recommendation, the predicted gain with its interval, and how well the model predicts. */
function compatibilitySection(result) {
  const model = result.model || {};
  const gain = result.predicted_gain || {};
  const items = [
    ['merge method', result.method], ['CKA on the probe', formatNumber(result.cka)],
    ['probe windows', result.windows],
    ['predicted gain over the better expert', `${signed(gain.gain)}${intervalText(gain)}`],
    ['fitted on', `${model.sweeps} sweep(s), ${model.observations} step(s)`],
    ['held-out Spearman', model.held_out_spearman === null || model.held_out_spearman === undefined
      ? 'not yet measurable (needs two sweeps or more, and three held-out steps)' : formatNumber(model.held_out_spearman)],
  ].filter(([, value]) => value !== undefined && value !== null);
  return h('section', {'aria-labelledby': 'compatibility-heading'},
    h('h2', {id: 'compatibility-heading'}, 'Should these specialists be merged?'),
    h('p', {id: 'compatibility-recommendation', class: 'verdict'}, h('strong', {}, result.recommendation || ''),
      result.reason ? `: ${result.reason}.` : ''),
    h('dl', {class: 'facts compact'}, items.map(([term, value]) => fact(term, value))),
    h('p', {class: 'note'}, 'The gain is the better expert\'s loss minus the merge\'s (positive: the merge is better), '
      + 'predicted from this tenant\'s sweeps with a 95% prediction interval.'));
}

function signed(value) {
  return typeof value === 'number' ? `${value > 0 ? '+' : ''}${formatNumber(value)}` : '';
}

function intervalText(interval) {
  return interval && typeof interval.ci95_low === 'number' && typeof interval.ci95_high === 'number'
    ? ` [${formatNumber(interval.ci95_low)}, ${formatNumber(interval.ci95_high)}]` : '';
}

function ckaSummary(result) {
  const items = [
    ['layers', result.layers_b !== undefined ? `${result.layers_a} × ${result.layers_b}` : result.layers_a],
    ['windows', result.windows], ['context', result.context], ['rows', result.rows],
    ['mean CKA of matching layers', result.inter_diagonal_mean],
  ].filter(([, value]) => value !== undefined && value !== null);
  return h('dl', {class: 'facts compact'}, items.map(([term, value]) => fact(term, formatNumber(value))));
}

function imageSection(headingId, title, images, signal, extra) {
  return h('section', {'aria-labelledby': headingId},
    h('h2', {id: headingId}, title), extra,
    images.map(({id, path, alt}) => {
      const img = h('img', {id, alt, width: 800, height: 500});
      const caption = h('figcaption', {class: 'note'});
      loadImage(img, path, signal).catch((error) => {
        if (error.name !== 'AbortError') caption.textContent = `Could not load: ${error.message}`;
      });
      return h('figure', {class: 'plot'}, img, caption);
    }));
}

/**
 * Results as the paper shows them: one row per model or method, one loss column per dataset, the
 * lowest loss of each column marked. Other tables (sweep) are shown as they come.
 */
function resultsSection(job, rows, catalog) {
  const heading = h('h2', {id: 'results-heading'}, 'Results');
  if (rows.length === 0) return h('section', {'aria-labelledby': 'results-heading'}, heading, emptyNote('No rows.'));
  const pivot = rows.every((row) => row.dataset_id && typeof row.loss === 'number' && (row.label || row.checkpoint_id));
  if (!pivot) {
    const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
    return h('section', {'aria-labelledby': 'results-heading'}, heading,
      table(null, columns, rows.map((row) => h('tr', {}, columns.map((column) =>
        h('td', {class: typeof row[column] === 'number' ? 'num' : ''}, cell(row[column], catalog))))), {id: 'results-table'}));
  }
  const rowKey = (row) => row.label || nameOf(catalog.checkpoints, row.checkpoint_id);
  const columnKey = (row) => `${nameOf(catalog.datasets, row.dataset_id)} (${row.split})`;
  const rowKeys = [...new Set(rows.map(rowKey))];
  const columnKeys = [...new Set(rows.map(columnKey))];
  const cells = new Map(rows.map((row) => [`${rowKey(row)}\u0000${columnKey(row)}`, row]));
  const loss = new Map(rows.map((row) => [`${rowKey(row)}\u0000${columnKey(row)}`, row.loss]));
  const byRow = new Map(rows.map((row) => [rowKey(row), row]));
  const best = new Map(columnKeys.map((column) => [column, Math.min(...rowKeys
    .map((r) => loss.get(`${r}\u0000${column}`)).filter((v) => typeof v === 'number'))]));
  const merge = job.type === 'merge';
  const headers = [merge ? 'Method' : 'Model', ...(merge ? ['Model'] : []), ...columnKeys.map((c) => `Loss on ${c}`)];
  const body = rowKeys.map((key) => {
    const first = byRow.get(key);
    const parameters = merge && first.parameters ? Object.entries(first.parameters) : [];
    return h('tr', {},
      h('th', {scope: 'row'}, key, first.method && first.method !== key && !['base', 'expert'].includes(first.method)
        ? h('div', {class: 'note'}, first.method) : null,
      parameters.length ? h('div', {class: 'note'}, parameters.map(([name, value]) =>
        `${name} ${typeof value === 'object' ? JSON.stringify(value) : value}`).join(', ')) : null),
      merge ? h('td', {}, outputName(first, catalog)) : null,
      columnKeys.map((column) => {
        const row = cells.get(`${key}\u0000${column}`);
        const value = row ? row.loss : undefined;
        const isBest = typeof value === 'number' && value === best.get(column);
        return h('td', {class: `num${isBest ? ' best' : ''}`}, formatNumber(value),
          row && typeof row.loss_se === 'number' ? h('span', {class: 'interval'}, ` ± ${formatNumber(1.96 * row.loss_se)}`) : null,
          isBest ? h('span', {class: 'visually-hidden'}, ' (lowest)') : null,
          row ? comparison(row, first.method) : null,
          row && row.exact_match ? exactMatch(row.exact_match) : null);
      }));
  });
  return h('section', {'aria-labelledby': 'results-heading'}, heading,
    h('p', {class: 'note'}, 'Cross-entropy in nats on held-out windows; lower is better, the lowest per column is marked. '
      + '± is the 95% interval over the windows; Δ is the paired difference from the better expert '
      + (merge ? '(Δ baseline, Δ DataMix: from the fine-tuning baselines) ' : '(here: from the first model) ')
      + 'on the same windows, with its 95% interval.'),
    table(null, headers, body, {id: 'results-table'}));
}

/**
 * The row's paired differences from its references (the better expert or the first model, and in merge tables the
 * fine-tuning and DataMix baselines), each marked when its interval is clear of zero.
 */
function comparison(row, method) {
  const references = [['', row.vs_best_expert || row.vs_first, method === 'expert'],
    ['baseline ', row.vs_baseline, method === 'finetune_baseline'], ['DataMix ', row.vs_datamix, method === 'datamix_baseline']];
  const lines = references.filter(([, versus, self]) => versus && typeof versus.difference === 'number' && !self
    && versus.difference !== 0).map(([name, versus]) => {
    const verdict = versus.ci95_high < 0 ? ' lower' : versus.ci95_low > 0 ? ' higher' : '';
    return h('div', {class: `note difference${verdict}`}, `Δ ${name}${signed(versus.difference)}${intervalText(versus)}`);
  });
  return lines.length ? lines : null;
}

function outputName(row, catalog) {
  if (!row.output_id) return '';
  if (row.output_kind === 'routed_model') return nameOf(catalog.routedModels, row.output_id);
  return h('a', {href: `#/checkpoints?highlight=${row.output_id}`}, nameOf(catalog.checkpoints, row.output_id));
}

/** Task accuracy under a loss: correct of scored, with its 95% Wilson interval. */
function exactMatch(score) {
  if (!score.n) return h('div', {class: 'note'}, `exact match: no record scored (${score.skipped} skipped)`);
  const percent = (v) => `${(100 * v).toFixed(0)}%`;
  return h('div', {class: 'note exact-match'}, `exact match ${score.correct}/${score.n} = ${percent(score.accuracy)} `
    + `[${percent(score.ci95_low)}, ${percent(score.ci95_high)}]`);
}

function cell(value, catalog) {
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'string') {
    if (catalog.checkpoints.has(value)) return nameOf(catalog.checkpoints, value);
    if (catalog.datasets.has(value)) return nameOf(catalog.datasets, value);
    return value;
  }
  return value === null || value === undefined ? '' : JSON.stringify(value);
}

/** The checkpoints and routed models a job produced. */
function outputsSection(result, catalog) {
  const rows = [];
  for (const saved of result.checkpoints || []) {
    rows.push(h('tr', {},
      h('td', {}, h('a', {href: `#/checkpoints?highlight=${saved.checkpoint_id}`}, nameOf(catalog.checkpoints, saved.checkpoint_id))),
      h('td', {}, `step ${saved.step}`),
      h('td', {class: 'num'}, saved.validation_loss === null || saved.validation_loss === undefined ? ''
        : formatNumber(saved.validation_loss)),
      h('td', {}, saved.best ? 'best' : '')));
  }
  for (const output of result.outputs || []) {
    const id = output.checkpoint_id || output.routed_model_id;
    const name = output.checkpoint_id ? nameOf(catalog.checkpoints, id) : nameOf(catalog.routedModels, id);
    rows.push(h('tr', {},
      h('td', {}, output.checkpoint_id ? h('a', {href: `#/checkpoints?highlight=${id}`}, name) : name),
      h('td', {}, `${output.label} (${output.kind === 'routed_model' ? 'routed model' : 'checkpoint'})`),
      h('td', {class: 'num'}, output.router_fit ? formatNumber(output.router_fit.best_validation_loss) : ''),
      h('td', {}, output.alpha !== undefined ? `α = ${formatNumber(output.alpha)}` : '')));
  }
  if (rows.length === 0) return null;
  return h('section', {'aria-labelledby': 'outputs-heading'}, h('h2', {id: 'outputs-heading'}, 'Outputs'),
    table(null, ['Output', 'What', 'Validation loss', 'Note'], rows, {id: 'outputs-table'}));
}

