// Datasets: records and tokens per split.

import {getAll} from '../api.js';
import {emptyNote, formatBytes, formatTime, h, replace, table} from '../dom.js';

export async function render(main, {signal}) {
  replace(main, h('h1', {}, 'Datasets'), h('p', {class: 'note'}, 'Loading…'));
  let datasets;
  try {
    datasets = await getAll('datasets', 2000, signal);
  } catch (error) {
    if (error.name !== 'AbortError') {
      replace(main, h('h1', {}, 'Datasets'), h('p', {class: 'error', role: 'alert'}, `Could not load: ${error.message}`));
    }
    return;
  }
  const split = (s) => (s ? `${s.records.toLocaleString()} records, ${s.tokens.toLocaleString()} tokens` : '');
  const rows = datasets.map((d) => h('tr', {'data-id': d.id},
    h('th', {scope: 'row'}, d.name || d.file_name || '', h('div', {class: 'id'}, h('code', {}, d.id))),
    h('td', {}, d.format, d.txt_mode ? ` (${d.txt_mode})` : ''),
    h('td', {}, split(d.train)),
    h('td', {}, split(d.validation)),
    h('td', {class: 'num'}, formatBytes(d.source_bytes)),
    h('td', {}, d.template ? h('code', {}, d.template) : ''),
    h('td', {}, formatTime(d.created_at))));
  replace(main, h('h1', {}, 'Datasets'),
    rows.length === 0 ? emptyNote('No datasets yet: upload one with POST /datasets.') : table(null,
      ['Name', 'Format', 'Train', 'Validation', 'Uploaded', 'Template', 'Created'], rows, {id: 'datasets-table'}));
}
