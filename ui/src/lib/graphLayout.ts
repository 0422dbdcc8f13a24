/** Positions for a DAG's tasks, upstream on the left, laid out by dagre. */
import dagre from "@dagrejs/dagre";

export interface TaskNode {
  task_id: string;
  downstream_task_ids: string[];
}

export interface Placed {
  id: string;
  x: number;
  y: number;
}

export interface LaidOut {
  nodes: Placed[];
  edges: { source: string; target: string }[];
}

export const NODE_WIDTH = 180;
export const NODE_HEIGHT = 44;

export function layoutDag(tasks: readonly TaskNode[]): LaidOut {
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: "LR", nodesep: 24, ranksep: 60, marginx: 10, marginy: 10 });
  graph.setDefaultEdgeLabel(() => ({}));
  const known = new Set(tasks.map((t) => t.task_id));
  for (const task of tasks) graph.setNode(task.task_id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  const edges = tasks.flatMap((task) =>
    task.downstream_task_ids.filter((id) => known.has(id)).map((target) => ({ source: task.task_id, target })),
  );
  for (const edge of edges) graph.setEdge(edge.source, edge.target);
  dagre.layout(graph);
  const nodes = tasks.map((task) => {
    const { x, y } = graph.node(task.task_id);
    // dagre gives centres; React Flow wants top-left corners.
    return { id: task.task_id, x: x - NODE_WIDTH / 2, y: y - NODE_HEIGHT / 2 };
  });
  return { nodes, edges };
}

/** Task ids in topological order (upstream first), ties broken by the API's order; the grid's rows. */
export function topologicalOrder(tasks: readonly TaskNode[]): string[] {
  const indegree = new Map(tasks.map((t) => [t.task_id, 0]));
  for (const task of tasks)
    for (const down of task.downstream_task_ids)
      if (indegree.has(down)) indegree.set(down, (indegree.get(down) ?? 0) + 1);
  const byId = new Map(tasks.map((t) => [t.task_id, t]));
  const ready = tasks.filter((t) => indegree.get(t.task_id) === 0).map((t) => t.task_id);
  const order: string[] = [];
  while (ready.length > 0) {
    const id = ready.shift() as string;
    order.push(id);
    for (const down of byId.get(id)?.downstream_task_ids ?? []) {
      if (!indegree.has(down)) continue;
      const left = (indegree.get(down) ?? 0) - 1;
      indegree.set(down, left);
      if (left === 0) ready.push(down);
    }
  }
  // A cycle never reaches here from a parsed DAG, but keep every task visible regardless.
  for (const task of tasks) if (!order.includes(task.task_id)) order.push(task.task_id);
  return order;
}
