import { describe, expect, it } from "vitest";
import { readTrail, stateCounts, zoomInSearch, zoomOutTarget, ZOOM_PARAM } from "./zoom";

const master = { dagId: "MasterDag", runId: "manual__2024-01-01T00:00:00+00:00", taskId: "SchemaGeneration" };

describe("zooming into a sub-DAG", () => {
  it("opens the child's run and remembers the way back", () => {
    const search = zoomInSearch([], master, "manual__child/1");

    expect(search.get("run")).toBe("manual__child/1");
    expect(search.get("task")).toBeNull();
    expect(readTrail(new URLSearchParams(search.toString()))).toEqual([master]);
  });

  it("opens the child DAG without a run when the task triggered none", () => {
    const search = zoomInSearch([], { ...master, runId: null }, null);

    expect(search.has("run")).toBe(false);
    expect(readTrail(search)).toEqual([{ ...master, runId: null }]);
  });

  it("nests, and going back to an outer level drops the levels below it", () => {
    const inner = { dagId: "SubMaster", runId: "manual__2", taskId: "leaf" };
    const trail = readTrail(zoomInSearch([master], inner, "manual__3"));
    expect(trail).toEqual([master, inner]);

    const back = zoomOutTarget(trail, 0);

    expect(back.dagId).toBe("MasterDag");
    expect(back.search.get("run")).toBe(master.runId);
    expect(back.search.get("task")).toBe("SchemaGeneration");
    expect(back.search.getAll(ZOOM_PARAM)).toEqual([]);
    expect(readTrail(zoomOutTarget(trail, 1).search)).toEqual([master]);
  });

  it("ignores trail entries it cannot read", () => {
    const params = new URLSearchParams();
    params.append(ZOOM_PARAM, "not json");
    params.append(ZOOM_PARAM, JSON.stringify(["a", 1]));
    params.append(ZOOM_PARAM, JSON.stringify(["MasterDag", master.runId, "SchemaGeneration"]));

    expect(readTrail(params)).toEqual([master]);
  });
});

describe("the zoom preview's task counts", () => {
  it("counts each state, most common first, tasks without a state as none", () => {
    expect(stateCounts(["success", null, "running", "success", null, "success"])).toEqual([
      ["success", 3],
      ["none", 2],
      ["running", 1],
    ]);
    expect(stateCounts([])).toEqual([]);
  });
});
