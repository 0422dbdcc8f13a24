import { describe, expect, it } from "vitest";
import { layoutDag, topologicalOrder } from "./graphLayout";

const diamond = [
  { task_id: "join", downstream_task_ids: [] },
  { task_id: "start", downstream_task_ids: ["left", "right"] },
  { task_id: "left", downstream_task_ids: ["join"] },
  { task_id: "right", downstream_task_ids: ["join"] },
];

describe("DAG layout", () => {
  it("places every task, upstream tasks left of their downstream tasks", () => {
    const { nodes, edges } = layoutDag(diamond);
    const x = Object.fromEntries(nodes.map((n) => [n.id, n.x]));
    expect(Object.keys(x).sort()).toEqual(["join", "left", "right", "start"]);
    expect(x.start).toBeLessThan(x.left);
    expect(x.left).toBeLessThan(x.join);
    expect(x.left).toBe(x.right);
    expect(edges).toHaveLength(4);
  });

  it("stacks parallel tasks without overlapping them", () => {
    const { nodes } = layoutDag(diamond);
    const left = nodes.find((n) => n.id === "left");
    const right = nodes.find((n) => n.id === "right");
    expect(Math.abs((left?.y ?? 0) - (right?.y ?? 0))).toBeGreaterThanOrEqual(44);
  });

  it("drops edges to tasks the DAG does not have", () => {
    expect(layoutDag([{ task_id: "a", downstream_task_ids: ["ghost"] }]).edges).toEqual([]);
  });

  it("orders the grid's rows upstream first, keeping the API's order among peers", () => {
    expect(topologicalOrder(diamond)).toEqual(["start", "left", "right", "join"]);
  });
});
