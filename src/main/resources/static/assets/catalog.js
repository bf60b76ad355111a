// Names for ids: the checkpoints, datasets and routed models a view refers to.

import {getAll} from './api.js';
import {shortId} from './dom.js';

export async function loadCatalog(signal) {
  const [checkpoints, datasets, routedModels] = await Promise.all([
    getAll('checkpoints', 2000, signal),
    getAll('datasets', 2000, signal),
    getAll('routed-models', 2000, signal),
  ]);
  return {
    checkpoints: new Map(checkpoints.map((c) => [c.id, c])),
    datasets: new Map(datasets.map((d) => [d.id, d])),
    routedModels: new Map(routedModels.map((r) => [r.id, r])),
    checkpointList: checkpoints,
    datasetList: datasets,
    routedModelList: routedModels,
  };
}

export function nameOf(map, id) {
  const item = map?.get(id);
  return item?.name || shortId(id);
}
