// Playground: type a prompt, pick a model (a checkpoint or a routed model) and the sampling, and watch the tokens
// stream in. A second model gets the same prompt, settings and seed, side by side.

import {getAll, streamCompletion} from '../api.js';
import {emptyNote, h, replace, shortId} from '../dom.js';

const newestFirst = (a, b) => new Date(b.created_at) - new Date(a.created_at);

/** The models a prompt can go to: the value is the path of its completions endpoint. */
function modelOptions(checkpoints, routedModels) {
  return [
    ...checkpoints.sort(newestFirst).map((c) => ({
      value: `checkpoints/${c.id}`,
      label: `${c.name || shortId(c.id)} · checkpoint${c.step != null ? `, step ${c.step}` : ''}`,
    })),
    ...routedModels.sort(newestFirst).map((r) => ({
      value: `routed-models/${r.id}`,
      label: `${r.name || shortId(r.id)} · routed (${r.kind})`,
    })),
  ];
}

function select(id, options, chosen, none) {
  const element = h('select', {id},
    none ? h('option', {value: ''}, none) : null,
    ...options.map((o) => h('option', {value: o.value}, o.label)));
  element.value = chosen && options.some((o) => o.value === chosen) ? chosen : (none ? '' : options[0].value);
  return element;
}

function number(id, label, value, attrs, note) {
  return h('div', {class: 'field'}, h('label', {for: id}, label),
    h('input', {id, type: 'number', value: String(value), ...attrs}), note ? h('p', {class: 'note'}, note) : null);
}

export async function render(main, {signal, query}) {
  replace(main, h('h1', {}, 'Playground'), h('p', {class: 'note'}, 'Loading…'));
  let checkpoints;
  let routedModels;
  try {
    [checkpoints, routedModels] = await Promise.all([getAll('checkpoints', 2000, signal),
      getAll('routed-models', 2000, signal)]);
  } catch (error) {
    if (error.name !== 'AbortError') {
      replace(main, h('h1', {}, 'Playground'), h('p', {class: 'error', role: 'alert'}, `Could not load: ${error.message}`));
    }
    return;
  }
  const options = modelOptions(checkpoints, routedModels);
  if (options.length === 0) {
    replace(main, h('h1', {}, 'Playground'),
      emptyNote('No models yet: upload a checkpoint with POST /checkpoints, or train one.'));
    return;
  }
  const modelA = select('model-a', options, query.get('model'));
  const modelB = select('model-b', options, query.get('compare'), '— none —');
  const prompt = h('textarea', {id: 'prompt', rows: '4', required: true, spellcheck: 'false'},
    'The meaning of life is');
  const stop = h('input', {id: 'stop', type: 'text', placeholder: 'e.g. \\n\\n'});
  const panels = h('div', {class: 'playground-outputs'});
  let running = null;

  const form = h('form', {id: 'playground-form', onsubmit: (event) => {
    event.preventDefault();
    running?.abort();
    running = new AbortController();
    signal.addEventListener('abort', () => running.abort(), {once: true});
    const settings = {
      prompt: prompt.value,
      max_tokens: Number(form.querySelector('#max-tokens').value),
      temperature: Number(form.querySelector('#temperature').value),
      top_k: Number(form.querySelector('#top-k').value),
      top_p: Number(form.querySelector('#top-p').value),
      seed: Number(form.querySelector('#seed').value),
    };
    // The stop field takes \n for a newline, so that a blank line can be typed.
    if (stop.value) settings.stop = [stop.value.replace(/\\n/g, '\n')];
    const chosen = [['a', modelA], ['b', modelB]].filter(([, s]) => s.value);
    replace(panels, ...chosen.map(([side, s]) => generate(side, s.value, s.selectedOptions[0].textContent, settings,
      running.signal)));
  }},
  h('div', {class: 'field'}, h('label', {for: 'model-a'}, 'Model'), modelA),
  h('div', {class: 'field'}, h('label', {for: 'model-b'}, 'Side by side with'), modelB,
    h('p', {class: 'note'}, 'Both get the same prompt, settings and seed.')),
  h('div', {class: 'field'}, h('label', {for: 'prompt'}, 'Prompt'), prompt),
  h('div', {class: 'playground-settings'},
    number('max-tokens', 'Max tokens', 32, {min: '1', max: '1024'}),
    number('temperature', 'Temperature', 0.8, {min: '0', max: '5', step: '0.05'}, '0: greedy'),
    number('top-k', 'Top k', 0, {min: '0'}, '0: all tokens'),
    number('top-p', 'Top p', 1, {min: '0.01', max: '1', step: '0.01'}),
    number('seed', 'Seed', 1, {step: '1'}),
    h('div', {class: 'field'}, h('label', {for: 'stop'}, 'Stop at'), stop)),
  h('div', {class: 'actions'}, h('button', {type: 'submit', id: 'generate'}, 'Generate')));

  replace(main, h('h1', {}, 'Playground'),
    h('p', {class: 'note'}, 'Generation runs on the service\'s CPU, one token at a time; the text appears as it is made.'),
    form, panels);
}

/** One model's panel: the prompt's continuation as it streams, then how and how fast it ended. */
function generate(side, path, label, settings, signal) {
  const output = h('pre', {id: `output-${side}`, class: 'completion', 'aria-live': 'polite'});
  const status = h('p', {id: `status-${side}`, class: 'note'}, 'Generating…');
  const panel = h('section', {class: 'completion-panel', 'aria-label': label}, h('h2', {}, label),
    h('p', {class: 'prompt'}, settings.prompt), output, status);
  streamCompletion(`${path}/completions`, settings, ({name, data}) => {
    if (name === 'token') {
      output.textContent += data.text;
    } else if (name === 'choice') {
      output.dataset.finish = data.finish_reason;
      replace(status, `${data.token_ids.length} tokens, ended by ${data.finish_reason}, `
        + `${data.tokens_per_second.toFixed(1)} tokens/s`);
    }
  }, signal).catch((error) => {
    if (error.name === 'AbortError') return;
    output.dataset.finish = 'error';
    replace(status, h('span', {class: 'error', role: 'alert'},
      [error.message, ...(error.fieldErrors || [])].join('; ')));
  });
  return panel;
}
