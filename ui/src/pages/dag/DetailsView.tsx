import { tagNames, type Dag, type Task } from "../../api/types";
import { Time } from "../../components/common";

export function DetailsView({ dag, tasks }: { dag: Dag; tasks: Task[] }) {
  const rows: [string, React.ReactNode][] = [
    ["DAG id", dag.dag_id],
    ["Description", dag.description ?? "—"],
    ["Owners", dag.owners.join(", ")],
    ["Tags", tagNames(dag).join(", ") || "—"],
    ["Schedule", `${dag.timetable_summary ?? "None"} (${dag.timetable_description ?? ""})`],
    ["Next run", <Time iso={dag.next_dagrun_run_after} />],
    ["Paused", dag.is_paused ? "yes" : "no"],
    ["Max active runs", dag.max_active_runs],
    ["Max active tasks", dag.max_active_tasks],
    ["File", <span className="mono">{dag.fileloc}</span>],
    ["Last parsed", <Time iso={dag.last_parsed_time} />],
  ];
  return (
    <div className="details" data-testid="details">
      <table className="table">
        <tbody>
          {rows.map(([k, v]) => (
            <tr key={k}>
              <th>{k}</th>
              <td>{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Tasks</h2>
      <table className="table">
        <thead>
          <tr>
            <th>Task</th>
            <th>Operator</th>
            <th>Trigger rule</th>
            <th>Retries</th>
            <th>Pool</th>
            <th>Downstream</th>
          </tr>
        </thead>
        <tbody>
          {tasks.map((t) => (
            <tr key={t.task_id}>
              <td>{t.task_id}</td>
              <td>{t.operator_name}</td>
              <td>{t.trigger_rule}</td>
              <td>{t.retries}</td>
              <td>{t.pool}</td>
              <td>{t.downstream_task_ids.join(", ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
