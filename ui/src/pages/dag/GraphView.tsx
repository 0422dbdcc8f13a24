import { Background, Controls, Handle, MarkerType, Position, ReactFlow, type Edge, type Node, type NodeProps } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useMemo, useState } from "react";
import type { DagRun, Task, TaskInstance } from "../../api/types";
import { layoutDag, NODE_HEIGHT, NODE_WIDTH } from "../../lib/graphLayout";
import { stateColour } from "../../lib/states";
import { formatDuration } from "../../lib/time";
import { useSession } from "../../session";
import { ErrorText } from "../../components/common";
import type { Selection } from "./DagPage";
import { Legend } from "./GridView";
import { useZoom, ZoomPreview } from "./zoom";

interface TaskNodeData extends Record<string, unknown> {
  task: Task;
  ti: TaskInstance | undefined;
  selected: boolean;
  /** A DagOperator's "zoom into DAG" control, and its preview while the pointer is on it. */
  onZoom: (() => void) | null;
  onZoomHover: (hovering: boolean) => void;
}

function TaskNode({ data }: NodeProps<Node<TaskNodeData>>) {
  const state = data.ti?.state ?? null;
  return (
    <div
      className={`task-node ${data.selected ? "selected" : ""}`}
      data-task-id={data.task.task_id}
      data-state={state ?? "none"}
      style={{ borderColor: stateColour(state), width: NODE_WIDTH, height: NODE_HEIGHT }}
      title={`${data.task.task_id}: ${state ?? "no status"}`}
    >
      <Handle type="target" position={Position.Left} />
      <div className="name-row">
        <div className="name">{data.task.task_display_name}</div>
        {data.onZoom && (
          <button
            type="button"
            className="zoom-in"
            aria-label={`Zoom into DAG ${data.task.couture_run_dag_id}`}
            title={`Zoom into DAG ${data.task.couture_run_dag_id}`}
            onClick={(event) => {
              event.stopPropagation();
              data.onZoom?.();
            }}
            onMouseEnter={() => data.onZoomHover(true)}
            onMouseLeave={() => data.onZoomHover(false)}
          >
            ⤢
          </button>
        )}
      </div>
      <div className="meta">
        <span className="dot" style={{ background: stateColour(state) }} />
        {data.task.operator_name} {data.ti?.duration != null ? `· ${formatDuration(data.ti.duration)}` : ""}
      </div>
      <Handle type="source" position={Position.Right} />
    </div>
  );
}

const nodeTypes = { task: TaskNode };

interface Props {
  tasks: Task[];
  runs: DagRun[];
  tis: TaskInstance[];
  selection: Selection;
}

/** Tasks laid out by dagre, coloured live with the selected run's task states. */
export function GraphView({ tasks, runs, tis, selection }: Props) {
  const { theme } = useSession();
  const zoom = useZoom();
  const [previewed, setPreviewed] = useState<Task | null>(null);
  const layout = useMemo(() => layoutDag(tasks), [tasks]);
  const byTask = new Map(tis.filter((t) => t.dag_run_id === selection.runId).map((t) => [t.task_id, t]));
  const taskById = new Map(tasks.map((t) => [t.task_id, t]));
  const nodes: Node<TaskNodeData>[] = layout.nodes.map((p) => ({
    id: p.id,
    type: "task",
    position: { x: p.x, y: p.y },
    // Known sizes: React Flow shows a node once its size is known, and these nodes are new objects
    // on every live refresh, which would otherwise hide them until measured again.
    width: NODE_WIDTH,
    height: NODE_HEIGHT,
    data: {
      task: taskById.get(p.id) as Task,
      ti: byTask.get(p.id),
      selected: p.id === selection.taskId,
      onZoom: taskById.get(p.id)?.couture_run_dag_id ? () => void zoom.into(taskById.get(p.id) as Task, selection.runId) : null,
      onZoomHover: (hovering) => setPreviewed(hovering ? (taskById.get(p.id) ?? null) : null),
    },
    draggable: false,
  }));
  const edges: Edge[] = layout.edges.map((e) => ({
    id: `${e.source}->${e.target}`,
    source: e.source,
    target: e.target,
    markerEnd: { type: MarkerType.ArrowClosed },
  }));
  return (
    <div className="graph-view" data-testid="graph">
      <div className="toolbar">
        <label className="inline">
          Run
          <select aria-label="Run" value={selection.runId ?? ""} onChange={(e) => selection.select(e.target.value || null, selection.taskId)}>
            {runs.length === 0 && <option value="">No runs</option>}
            {runs.map((r) => (
              <option key={r.dag_run_id} value={r.dag_run_id}>
                {r.dag_run_id} ({r.state})
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorText error={zoom.error} />
      {previewed && <ZoomPreview runId={selection.runId} task={previewed} />}
      <div className="flow">
        <ReactFlow
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          fitView
          fitViewOptions={{ padding: 0.2, maxZoom: 1.2 }}
          minZoom={0.1}
          nodesConnectable={false}
          colorMode={theme}
          onNodeClick={(_, node) => selection.select(selection.runId, node.id)}
          proOptions={{ hideAttribution: true }}
        >
          <Background />
          <Controls showInteractive={false} />
        </ReactFlow>
      </div>
      <Legend />
    </div>
  );
}
