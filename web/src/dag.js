// The job's DAG: tasks laid out by ELK (elkjs, layered, top to bottom) and drawn as SVG boxes coloured by
// each task's federated status, with its version (attempt) and its statuses at every party on hover.
import ELK from 'elkjs/lib/elk.bundled.js';

const elk = new ELK();
const SVG = 'http://www.w3.org/2000/svg';
const NODE_W = 200;
const NODE_H = 46;

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

// The task names and edges of a FATE 2.x DAG: an input's producer task is a dependency the scheduler waits
// for; `dependent_tasks` is informational only (FATE-Flow, and so Flowstone, schedules by inputs), drawn dashed.
export function dagGraph(dag) {
  const tasks = (dag && dag.dag && dag.dag.tasks) || {};
  const edges = [];
  for (const [name, task] of Object.entries(tasks)) {
    const producers = new Set();
    for (const kind of Object.values(task.inputs || {}))
      for (const input of Object.values(kind || {})) {
        const refs = input && input.task_output_artifact;
        for (const ref of Array.isArray(refs) ? refs : refs ? [refs] : []) if (ref.producer_task) producers.add(ref.producer_task);
      }
    for (const producer of producers) if (tasks[producer]) edges.push([producer, name, 'input']);
    for (const producer of task.dependent_tasks || [])
      if (tasks[producer] && !producers.has(producer)) edges.push([producer, name, 'informational']);
  }
  return { names: Object.keys(tasks), edges };
}

function layoutOf(names, edges) {
  return elk.layout({
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered', 'elk.direction': 'DOWN',
      'elk.spacing.nodeNode': '30', 'elk.layered.spacing.nodeNodeBetweenLayers': '40',
      'elk.edgeRouting': 'ORTHOGONAL',
    },
    children: names.map((id) => ({ id, width: NODE_W, height: NODE_H })),
    edges: edges.map(([from, to], i) => ({ id: `e${i}`, sources: [from], targets: [to] })),
  });
}

// Draws into `container`; `taskInfo(name)` -> {status, version, parties: [[party, status]]}; `onSelect(name)`.
export async function drawDag(container, dag, taskInfo, selected, onSelect) {
  const { names, edges } = dagGraph(dag);
  const draw = (container.draws = (container.draws || 0) + 1); // a later call's drawing wins
  // The layout depends only on the DAG: laid out once, then only the statuses are drawn again.
  const shape = JSON.stringify([names, edges]);
  if (container.shape !== shape) {
    container.shape = shape;
    container.layout = layoutOf(names, edges);
  }
  const layout = await container.layout;
  if (container.draws !== draw) return;
  const root = svg('svg', { width: layout.width + 20, height: layout.height + 20, class: 'dag', role: 'img' });
  const defs = svg('defs');
  const marker = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' });
  marker.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow' }));
  defs.append(marker);
  root.append(defs);
  const group = svg('g', { transform: 'translate(10,10)' });
  for (const [i, edge] of (layout.edges || []).entries())
    for (const section of edge.sections || []) {
      const points = [section.startPoint, ...(section.bendPoints || []), section.endPoint];
      const path = svg('path', { d: `M${points.map((p) => `${p.x},${p.y}`).join(' L')}`, class: `edge ${edges[i][2]}`, 'marker-end': 'url(#arrow)' });
      if (edges[i][2] === 'informational') path.append(svg('title', {}, 'dependent_tasks: informational, not waited for (FATE schedules by inputs)'));
      group.append(path);
    }
  for (const node of layout.children) {
    const info = taskInfo(node.id);
    const status = info.status || 'none';
    const g = svg('g', {
      transform: `translate(${node.x},${node.y})`, class: `node status-${status} ${node.id === selected ? 'selected' : ''}`,
      'data-testid': `dag-node-${node.id}`, 'data-status': status, 'data-version': info.version ?? '',
    });
    g.append(svg('title', {}, [`${node.id}: ${status}${info.version ? ` (attempt ${info.version + 1})` : ''}`,
      ...(info.parties || []).map(([party, s]) => `${party}: ${s}`)].join('\n')));
    g.append(svg('rect', { width: NODE_W, height: NODE_H, rx: 8 }));
    g.append(svg('text', { x: 10, y: 19, class: 'name' }, node.id));
    g.append(svg('text', { x: 10, y: 36, class: 'sub' }, `${status}${info.version ? ` · v${info.version}` : ''}${info.component ? ` · ${info.component}` : ''}`));
    g.addEventListener('click', () => onSelect(node.id));
    group.append(g);
  }
  root.append(group);
  container.replaceChildren(root);
}
