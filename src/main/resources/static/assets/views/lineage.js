// Checkpoint lineage as an SVG graph, left to right: uploads, what was trained from them, merges.

import {h, s, shortId} from '../dom.js';

const NODE_WIDTH = 230;
const NODE_HEIGHT = 44;
const COLUMN_GAP = 70;
const ROW_GAP = 14;
const MARGIN = 12;
const MAX_NAME = 28;
const MAX_DETAIL = 38;

/**
 * Nodes: checkpoints (id, name, parent_id, merged_from, producing_job_id, step, best) and routed models
 * (id, name, kind, expert_ids, shared_checkpoint_id). With compact, a training job's intermediate
 * checkpoints are left out unless something was trained or merged from them.
 */
export function lineageGraph(checkpoints, routedModels, jobs, {compact}) {
  const nodes = new Map();
  const edges = [];
  const referenced = new Set();
  for (const c of checkpoints) {
    if (c.parent_id) referenced.add(c.parent_id);
    (c.merged_from || []).forEach((id) => referenced.add(id));
  }
  for (const r of routedModels) {
    (r.expert_ids || []).forEach((id) => referenced.add(id));
    if (r.shared_checkpoint_id) referenced.add(r.shared_checkpoint_id);
  }
  const lastStep = new Map();
  for (const c of checkpoints) {
    if (c.producing_job_id && c.step !== null && c.step !== undefined) {
      lastStep.set(c.producing_job_id, Math.max(lastStep.get(c.producing_job_id) ?? -Infinity, c.step));
    }
  }
  for (const c of checkpoints) {
    const intermediate = c.step !== null && c.step !== undefined && !c.best
      && c.step !== lastStep.get(c.producing_job_id) && !referenced.has(c.id);
    if (compact && intermediate) continue;
    const merged = (c.merged_from || []).length > 0;
    const kind = merged ? 'merge' : c.producing_job_id ? 'trained' : 'upload';
    const job = jobs.get(c.producing_job_id);
    const jobName = job ? job.name || `${job.type} job …${shortId(job.id)}` : null;
    const detail = kind === 'upload' ? `upload · ${c.config.n_layer} layers × ${c.config.n_embd}`
      : kind === 'merge' ? (job?.name ? `merge · ${job.name}` : jobName || 'merge')
        : `${jobName || 'trained'} · step ${c.step ?? '?'}${c.best ? ' · best' : ''}`;
    nodes.set(c.id, {id: c.id, name: c.name || shortId(c.id), kind, detail, jobId: c.producing_job_id,
      created: c.created_at});
  }
  for (const r of routedModels) {
    nodes.set(r.id, {id: r.id, name: r.name || shortId(r.id), kind: 'routed', detail: `routed · ${r.kind}`,
      jobId: r.producing_job_id, created: r.created_at});
  }
  const link = (from, to, style) => {
    if (nodes.has(from) && nodes.has(to) && !edges.some((e) => e.from === from && e.to === to)) {
      edges.push({from, to, style});
    }
  };
  const parentOf = new Map(checkpoints.map((c) => [c.id, c.parent_id]));
  // A merge's base is drawn only when the graph does not already lead from it to every merged model.
  const baseImplied = (base, sources) => sources.length > 0
    && sources.every((source) => source === base || parentOf.get(source) === base);
  for (const c of checkpoints) {
    const sources = c.merged_from || [];
    sources.forEach((source) => link(source, c.id, 'merged'));
    if (c.parent_id && !(sources.length > 0 && baseImplied(c.parent_id, sources))) {
      link(c.parent_id, c.id, sources.length > 0 ? 'base' : 'trained');
    }
  }
  for (const r of routedModels) {
    const experts = r.expert_ids || [];
    experts.forEach((expert) => link(expert, r.id, 'merged'));
    if (r.shared_checkpoint_id && !baseImplied(r.shared_checkpoint_id, experts)) link(r.shared_checkpoint_id, r.id, 'base');
  }
  return {nodes, edges};
}

/** Columns by depth (longest path from an upload), each ordered near the nodes it comes from. */
function layout({nodes, edges}) {
  const incoming = new Map([...nodes.keys()].map((id) => [id, []]));
  edges.forEach((e) => incoming.get(e.to).push(e.from));
  const depth = new Map();
  const depthOf = (id, seen = new Set()) => {
    if (depth.has(id)) return depth.get(id);
    if (seen.has(id)) return 0; // a cycle cannot happen, but never loop
    seen.add(id);
    const d = incoming.get(id).length === 0 ? 0 : 1 + Math.max(...incoming.get(id).map((p) => depthOf(p, seen)));
    depth.set(id, d);
    return d;
  };
  [...nodes.keys()].forEach((id) => depthOf(id));
  const columns = [];
  for (const node of [...nodes.values()].sort((a, b) => String(a.created).localeCompare(String(b.created)))) {
    (columns[depth.get(node.id)] ||= []).push(node);
  }
  const position = new Map();
  columns.forEach((column, index) => {
    if (index > 0) {
      const centre = (node) => {
        const ys = incoming.get(node.id).map((p) => position.get(p)?.row).filter((y) => y !== undefined);
        return ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : Infinity;
      };
      column.sort((a, b) => centre(a) - centre(b));
    }
    column.forEach((node, row) => position.set(node.id, {
      row, x: MARGIN + index * (NODE_WIDTH + COLUMN_GAP), y: MARGIN + row * (NODE_HEIGHT + ROW_GAP)}));
  });
  const rows = Math.max(1, ...columns.map((c) => c.length));
  return {
    position,
    width: MARGIN * 2 + columns.length * NODE_WIDTH + Math.max(0, columns.length - 1) * COLUMN_GAP,
    height: MARGIN * 2 + rows * NODE_HEIGHT + (rows - 1) * ROW_GAP,
  };
}

const clip = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export function lineageSvg(graph) {
  const {position, width, height} = layout(graph);
  const svg = s('svg', {id: 'lineage', class: 'lineage', width, height, viewBox: `0 0 ${width} ${height}`,
    role: 'img', 'aria-labelledby': 'lineage-title'},
  s('title', {id: 'lineage-title'}, `Checkpoint lineage: ${graph.nodes.size} models, ${graph.edges.length} links`),
  s('defs', {}, s('marker', {id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7,
    orient: 'auto-start-reverse'}, s('path', {d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrow-head'}))));
  for (const edge of graph.edges) {
    const from = position.get(edge.from);
    const to = position.get(edge.to);
    const x1 = from.x + NODE_WIDTH;
    const y1 = from.y + NODE_HEIGHT / 2;
    const x2 = to.x;
    const y2 = to.y + NODE_HEIGHT / 2;
    const bend = Math.max(30, (x2 - x1) / 2);
    svg.append(s('path', {class: `edge edge-${edge.style}`, 'marker-end': 'url(#arrow)', 'data-from': edge.from,
      'data-to': edge.to,
      d: `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`},
    s('title', {}, `${edge.style === 'base' ? 'base of' : edge.style === 'merged' ? 'merged into' : 'trained into'}`)));
  }
  for (const node of graph.nodes.values()) {
    const {x, y} = position.get(node.id);
    const box = s('g', {class: `node node-${node.kind}`, 'data-id': node.id, transform: `translate(${x} ${y})`},
      s('title', {}, `${node.name} (${node.id}) — ${node.detail}`),
      s('rect', {width: NODE_WIDTH, height: NODE_HEIGHT, rx: 6}),
      s('text', {x: 10, y: 18, class: 'node-name'}, clip(node.name, MAX_NAME)),
      s('text', {x: 10, y: 35, class: 'node-detail'}, clip(node.detail, MAX_DETAIL)));
    svg.append(node.jobId ? s('a', {href: `#/jobs/${node.jobId}`}, box) : box);
  }
  return svg;
}

export function lineageLegend() {
  return h('ul', {class: 'legend'},
    h('li', {}, h('span', {class: 'swatch node-upload'}), 'uploaded'),
    h('li', {}, h('span', {class: 'swatch node-trained'}), 'trained by a job'),
    h('li', {}, h('span', {class: 'swatch node-merge'}), 'weight-space merge'),
    h('li', {}, h('span', {class: 'swatch node-routed'}), 'routed model'),
    h('li', {}, h('span', {class: 'line edge-trained'}), 'trained from'),
    h('li', {}, h('span', {class: 'line edge-merged'}), 'merged from'),
    h('li', {}, h('span', {class: 'line edge-base'}), 'common base'));
}
