// Launch a job: pick a type, edit its JSON spec (prefilled from what is stored), submit.

import {getAll, postJson} from '../api.js';
import {loadCatalog} from '../catalog.js';
import {h, replace, shortId} from '../dom.js';

const TYPES = {
  finetune: 'Continue training a checkpoint on a dataset (MLP only: the paper\'s specialists)',
  pretrain: 'Train a new GPT-2 from scratch on a dataset',
  evaluate: 'Loss of checkpoints on datasets',
  merge: 'Merge specialists with one or more methods and compare them on datasets',
  cka: 'Layer-by-layer CKA similarity of one or two models',
  sweep: 'Merge loss and CKA along two fine-tuning runs',
  compatibility: 'Should two specialists be merged? CKA on a probe predicts the gain, from past sweeps',
};

/** A key that makes a repeated submit of the same form return the same job instead of a second one. */
function idempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

const newestFirst = (a, b) => new Date(b.created_at) - new Date(a.created_at);

/** A spec to start from, filled with the newest stored inputs that fit. */
function template(type, catalog, jobs) {
  const checkpoints = catalog.checkpointList; // newest first
  const datasets = catalog.datasetList;
  const uploads = checkpoints.filter((c) => !c.producing_job_id);
  const base = uploads[0] || checkpoints[0];
  // The base's specialists: the newest checkpoint of each run trained from it, so that two steps of one run are
  // not offered as two experts.
  const seenRuns = new Set();
  const children = base ? checkpoints.filter((c) => c.parent_id === base.id && !(c.merged_from || []).length
    && !seenRuns.has(c.producing_job_id ?? c.id) && seenRuns.add(c.producing_job_id ?? c.id)) : [];
  const experts = (children.length >= 2 ? children : checkpoints).slice(0, 2).map((c) => c.id).reverse();
  const dataset = datasets[0]?.id || '<dataset id>';
  const context = Math.min(64, base?.config.n_positions || 64);
  const training = {steps: 20, batch_size: 4, context, learning_rate: 0.001, eval_every: 10, eval_windows: 4};
  switch (type) {
    case 'finetune':
      return {base_checkpoint_id: base?.id || '<checkpoint id>', dataset_id: dataset, trainable: 'mlp', training};
    case 'pretrain':
      return {config: {n_layer: 2, n_embd: 64, n_head: 2, n_positions: 128}, dataset_id: dataset,
        training: {...training, steps: 200, context: 64, learning_rate: 0.003}};
    case 'evaluate':
      return {checkpoint_ids: checkpoints.slice(0, 3).map((c) => c.id), dataset_ids: [dataset], split: 'validation',
        context, max_windows: 16};
    case 'merge':
      return {base_checkpoint_id: base?.id || '<checkpoint id>', expert_ids: experts, eval_dataset_ids: [dataset],
        evaluation: {split: 'validation', context, max_windows: 16},
        methods: [
          {method: 'linear', parameters: {weight: 0.5}},
          {method: 'task_arithmetic', parameters: {weight: 1.0, lambda: 1.0}},
          {method: 'ties', parameters: {density: 0.5}, model_parameters: [{weight: 1}, {weight: 1}]},
        ]};
    case 'cka':
      return {model_a_id: experts[0] || '<checkpoint id>', model_b_id: experts[1] || null, dataset_id: dataset,
        split: 'validation', context, windows: 16};
    case 'sweep': {
      // The two newest specialists of the same base: a sweep compares two runs from one starting point.
      const finetunes = jobs.filter((j) => j.type === 'finetune' && j.status === 'succeeded'
        && (!base || j.spec?.base_checkpoint_id === base.id)).sort(newestFirst).slice(0, 2);
      return {finetune_job_a_id: finetunes[1]?.id || '<finetune job id>', finetune_job_b_id: finetunes[0]?.id
        || '<finetune job id>', adaptation_dataset_id: dataset, reference_dataset_id: datasets[1]?.id || dataset};
    }
    case 'compatibility':
      return {expert_ids: experts, probe_dataset_id: dataset, merge_method: 'activation_interpolation', windows: 16};
    default:
      return {};
  }
}

export async function render(main, {signal}) {
  replace(main, h('h1', {}, 'Launch a job'), h('p', {class: 'note'}, 'Loading…'));
  let catalog;
  let jobs;
  try {
    [catalog, jobs] = await Promise.all([loadCatalog(signal), getAll('jobs', 500, signal)]);
  } catch (error) {
    if (error.name !== 'AbortError') {
      replace(main, h('h1', {}, 'Launch a job'), h('p', {class: 'error', role: 'alert'}, `Could not load: ${error.message}`));
    }
    return;
  }
  let key = idempotencyKey();
  const type = h('select', {id: 'job-type', name: 'type', 'aria-describedby': 'job-type-help'},
    Object.keys(TYPES).map((t) => h('option', {value: t}, t)));
  const typeHelp = h('p', {id: 'job-type-help', class: 'note'});
  const name = h('input', {id: 'job-name', name: 'name', type: 'text', maxlength: 200, placeholder: 'optional'});
  const device = h('select', {id: 'job-device', name: 'device'},
    ['any', 'cpu', 'gpu'].map((d) => h('option', {value: d}, d)));
  const spec = h('textarea', {id: 'job-spec', name: 'spec', rows: 18, spellcheck: 'false',
    'aria-describedby': 'job-spec-help'});
  const errors = h('div', {id: 'launch-errors', role: 'alert'});
  const submit = h('button', {type: 'submit', id: 'launch-submit'}, 'Launch');
  let edited = false;

  function fill() {
    spec.value = JSON.stringify(template(type.value, catalog, jobs), null, 2);
    typeHelp.textContent = TYPES[type.value];
    edited = false;
  }
  type.addEventListener('change', () => {
    if (!edited || confirm('Replace the spec you edited with the template for this type?')) fill();
    else typeHelp.textContent = TYPES[type.value];
  });
  spec.addEventListener('input', () => {
    edited = true;
    key = idempotencyKey(); // a different body is a different job
  });

  function insert(text) {
    const start = spec.selectionStart ?? spec.value.length;
    const end = spec.selectionEnd ?? start;
    spec.setRangeText(JSON.stringify(text), start, end, 'end');
    spec.focus();
    edited = true;
    key = idempotencyKey();
  }

  async function launch(event) {
    event.preventDefault();
    replace(errors);
    let parsed;
    try {
      parsed = JSON.parse(spec.value);
    } catch (error) {
      replace(errors, h('p', {class: 'error'}, `The spec is not valid JSON: ${error.message}`));
      spec.focus();
      return;
    }
    const body = {type: type.value, spec: parsed, device: device.value};
    if (name.value.trim()) body.name = name.value.trim();
    submit.disabled = true;
    try {
      const job = await postJson('jobs', body, {'Idempotency-Key': key});
      key = idempotencyKey();
      location.hash = `#/jobs?launched=${job.id}`;
    } catch (error) {
      replace(errors, h('div', {class: 'error'}, h('p', {}, h('strong', {}, `Not launched (${error.status || 'network'}): `),
        error.message), error.fieldErrors.length > 1 || (error.fieldErrors.length === 1 && error.fieldErrors[0] !== error.message)
        ? h('ul', {}, error.fieldErrors.map((line) => h('li', {}, line))) : null));
    } finally {
      submit.disabled = false;
    }
  }

  const inputRow = (label, item, detail) => h('li', {},
    h('button', {type: 'button', class: 'link', title: `Insert the id of ${label} at the cursor`,
      onclick: () => insert(item.id)}, label), ' ', h('span', {class: 'note'}, `…${shortId(item.id)} · ${detail}`));

  replace(main,
    h('h1', {}, 'Launch a job'),
    h('div', {class: 'launch'},
      h('form', {id: 'launch-form', onsubmit: launch, novalidate: true},
        h('div', {class: 'field'}, h('label', {for: 'job-type'}, 'Type'), type, typeHelp),
        h('div', {class: 'field'}, h('label', {for: 'job-name'}, 'Name'), name),
        h('div', {class: 'field'}, h('label', {for: 'job-device'}, 'Device'), device),
        h('div', {class: 'field'}, h('label', {for: 'job-spec'}, 'Spec (JSON)'), spec,
          h('p', {id: 'job-spec-help', class: 'note'},
            'Prefilled with the newest stored inputs; see openapi.yaml or /swagger-ui.html for every field.')),
        errors,
        h('div', {class: 'actions'}, submit,
          h('button', {type: 'button', class: 'secondary', onclick: fill}, 'Reset spec to template'))),
      h('aside', {'aria-labelledby': 'inputs-heading'},
        h('h2', {id: 'inputs-heading'}, 'Inputs'),
        h('p', {class: 'note'}, 'Click a name to insert its id at the cursor.'),
        h('h3', {}, 'Checkpoints'),
        catalog.checkpointList.length ? h('ul', {class: 'inputs'}, catalog.checkpointList.slice(0, 40).map((c) =>
          inputRow(c.name || shortId(c.id), c, `${c.config.n_layer}×${c.config.n_embd}`))) : h('p', {class: 'note'}, 'None yet.'),
        h('h3', {}, 'Datasets'),
        catalog.datasetList.length ? h('ul', {class: 'inputs'}, catalog.datasetList.slice(0, 40).map((d) =>
          inputRow(d.name || shortId(d.id), d, `${d.train.tokens.toLocaleString()} tokens`))) : h('p', {class: 'note'}, 'None yet.'),
        h('h3', {}, 'Finished jobs'),
        h('ul', {class: 'inputs'}, jobs.filter((j) => j.status === 'succeeded').slice(0, 20).map((j) =>
          inputRow(j.name || `${j.type} ${shortId(j.id)}`, j, j.type))))));
  fill();
}
