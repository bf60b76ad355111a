// Checkpoints: their lineage (base → specialists → merges) and a table of every one.

import {getAll} from '../api.js';
import {loadCatalog, nameOf} from '../catalog.js';
import {emptyNote, formatBytes, formatTime, h, replace, shortId, table} from '../dom.js';
import {lineageGraph, lineageLegend, lineageSvg} from './lineage.js';

export async function render(main, {signal, query}) {
  replace(main, h('h1', {}, 'Checkpoints'), h('p', {class: 'note'}, 'Loading…'));
  let catalog;
  let jobs;
  try {
    [catalog, jobs] = await Promise.all([loadCatalog(signal), getAll('jobs', 2000, signal)]);
  } catch (error) {
    if (error.name !== 'AbortError') {
      replace(main, h('h1', {}, 'Checkpoints'), h('p', {class: 'error', role: 'alert'}, `Could not load: ${error.message}`));
    }
    return;
  }
  const jobsById = new Map(jobs.map((job) => [job.id, job]));
  const highlight = query.get('highlight');
  const compact = h('input', {type: 'checkbox', id: 'lineage-compact', checked: true});
  const graphHolder = h('div', {class: 'lineage-wrap'});

  function drawLineage() {
    const graph = lineageGraph(catalog.checkpointList, catalog.routedModelList, jobsById, {compact: compact.checked});
    replace(graphHolder, graph.nodes.size === 0 ? emptyNote('No checkpoints yet: upload one with POST /checkpoints.')
      : lineageSvg(graph));
  }
  compact.addEventListener('change', drawLineage);

  const rows = catalog.checkpointList.map((c) => {
    const job = jobsById.get(c.producing_job_id);
    return h('tr', {'data-id': c.id, class: c.id === highlight ? 'highlight' : null},
      h('th', {scope: 'row'}, c.name || h('span', {class: 'note'}, 'unnamed'), h('div', {class: 'id'}, h('code', {}, c.id)),
        h('div', {}, h('a', {href: `#/playground?model=checkpoints/${c.id}`, class: 'try-link'}, 'Try it'))),
      h('td', {class: 'nowrap'}, `${c.config.n_layer} × ${c.config.n_embd}`, h('div', {class: 'note'}, `${c.config.n_head} heads`)),
      h('td', {class: 'num'}, c.parameter_count.toLocaleString()),
      h('td', {}, c.dtype),
      h('td', {class: 'num'}, formatBytes(c.bytes)),
      h('td', {}, c.producing_job_id
        ? h('a', {href: `#/jobs/${c.producing_job_id}`}, job ? job.name || `${job.type} …${shortId(job.id)}` : `…${shortId(c.producing_job_id)}`)
        : 'upload',
      c.step !== null && c.step !== undefined ? ` · step ${c.step}` : '', c.best ? ' · best' : ''),
      h('td', {}, c.parent_id ? nameOf(catalog.checkpoints, c.parent_id) : ''),
      h('td', {}, (c.merged_from || []).map((id) => nameOf(catalog.checkpoints, id)).join(', ')),
      h('td', {class: 'nowrap', title: formatTime(c.created_at)}, formatTime(c.created_at)));
  });

  replace(main,
    h('div', {class: 'page-head'}, h('h1', {}, 'Checkpoints')),
    h('section', {'aria-labelledby': 'lineage-heading'},
      h('div', {class: 'page-head'},
        h('h2', {id: 'lineage-heading'}, 'Lineage'),
        h('div', {class: 'actions'}, compact, h('label', {for: 'lineage-compact'}, ' Hide intermediate training steps'))),
      lineageLegend(), graphHolder),
    h('section', {'aria-labelledby': 'checkpoint-list-heading'},
      h('h2', {id: 'checkpoint-list-heading'}, `All checkpoints (${rows.length})`),
      rows.length === 0 ? emptyNote('None yet.') : table(null,
        ['Name', 'Shape', 'Parameters', 'Dtype', 'Size', 'Produced by', 'Parent', 'Merged from', 'Created'],
        rows, {id: 'checkpoints-table'})));
  drawLineage();
  main.querySelector('tr.highlight')?.scrollIntoView({block: 'center'});
}
