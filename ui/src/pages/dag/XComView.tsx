import { api, url } from "../../api/client";
import type { TaskInstance, XComCollection, XComWithValue } from "../../api/types";
import { ErrorText, Loading } from "../../components/common";
import { usePoll } from "../../lib/usePoll";

export function XComView({ ti }: { ti: TaskInstance }) {
  const base = ["/api/v2/dags", ti.dag_id, "dagRuns", ti.dag_run_id, "taskInstances", ti.task_id, "xcomEntries"] as const;
  const entries = usePoll(
    async () => {
      const list = await api.get<XComCollection>(url(base, { limit: 100 }));
      return Promise.all(list.xcom_entries.map((x) => api.get<XComWithValue>(url([...base, x.key], { map_index: x.map_index }))));
    },
    [ti.dag_id, ti.dag_run_id, ti.task_id, ti.try_number, ti.state],
    0,
  );
  if (entries.error) return <ErrorText error={entries.error} />;
  if (!entries.data) return <Loading what="XCom" />;
  if (entries.data.length === 0) return <div className="muted">This task instance pushed no XCom.</div>;
  return (
    <table className="table" data-testid="xcom">
      <thead>
        <tr>
          <th>Key</th>
          <th>Value</th>
        </tr>
      </thead>
      <tbody>
        {entries.data.map((x) => (
          <tr key={x.key}>
            <td className="mono">{x.key}</td>
            <td>
              <pre className="code small">{typeof x.value === "string" ? x.value : JSON.stringify(x.value, null, 2)}</pre>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
