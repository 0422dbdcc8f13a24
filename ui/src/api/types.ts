/** The parts of the gateway's responses the UI reads (see /openapi.json for the whole schemas). */

export interface Dag {
  dag_id: string;
  dag_display_name: string;
  is_paused: boolean;
  is_stale: boolean;
  description: string | null;
  tags: { name: string }[] | string[];
  owners: string[];
  fileloc: string;
  relative_fileloc: string;
  timetable_summary: string | null;
  timetable_description: string | null;
  next_dagrun_logical_date: string | null;
  next_dagrun_run_after: string | null;
  last_parsed_time: string | null;
  max_active_runs: number;
  max_active_tasks: number;
  has_import_errors: boolean;
}

export interface DagCollection {
  dags: Dag[];
  total_entries: number;
}

export interface DagRun {
  dag_run_id: string;
  dag_id: string;
  logical_date: string | null;
  queued_at: string | null;
  start_date: string | null;
  end_date: string | null;
  duration: number | null;
  run_after: string;
  run_type: string;
  state: string;
  triggered_by: string | null;
  conf: Record<string, unknown> | null;
  note: string | null;
}

export interface DagRunCollection {
  dag_runs: DagRun[];
  total_entries: number;
}

export interface Task {
  task_id: string;
  task_display_name: string;
  owner: string;
  operator_name: string;
  trigger_rule: string;
  retries: number;
  pool: string;
  queue: string;
  downstream_task_ids: string[];
  ui_color: string;
  ui_fgcolor: string;
  doc_md: string | null;
  /** Couture: the DAG a DagOperator task triggers; null for other operators. */
  couture_run_dag_id?: string | null;
}

export interface TaskCollection {
  tasks: Task[];
  total_entries: number;
}

export interface TaskInstance {
  id: string;
  task_id: string;
  dag_id: string;
  dag_run_id: string;
  map_index: number;
  start_date: string | null;
  end_date: string | null;
  duration: number | null;
  state: string | null;
  try_number: number;
  max_tries: number;
  hostname: string | null;
  pool: string;
  queue: string;
  operator_name: string | null;
  queued_when: string | null;
  pid: number | null;
  logical_date: string | null;
  note: string | null;
  /** Template fields as the latest try rendered them (secrets masked); null before any try rendered. */
  rendered_fields?: Record<string, unknown> | null;
}

/** One try of a task instance (``/tries``); Couture adds what that try rendered. */
export interface TaskInstanceTry {
  task_id: string;
  dag_id: string;
  dag_run_id: string;
  map_index: number;
  try_number: number;
  state: string | null;
  start_date: string | null;
  end_date: string | null;
  duration: number | null;
  hostname: string | null;
  rendered_fields?: Record<string, unknown> | null;
}

export interface TaskInstanceTryCollection {
  task_instances: TaskInstanceTry[];
  total_entries: number;
}

export interface TaskInstanceCollection {
  task_instances: TaskInstance[];
  total_entries: number;
}

export interface LogLine {
  timestamp: string | null;
  event: string;
}

export interface LogChunk {
  content: (LogLine | string)[];
  continuation_token: string | null;
}

export interface XCom {
  key: string;
  timestamp: string;
  map_index: number;
  task_id: string;
}

export interface XComWithValue extends XCom {
  value: unknown;
}

export interface XComCollection {
  xcom_entries: XCom[];
  total_entries: number;
}

export interface ImportError {
  import_error_id: number;
  timestamp: string;
  filename: string;
  stack_trace: string;
}

export interface ImportErrorCollection {
  import_errors: ImportError[];
  total_entries: number;
}

export interface DagStats {
  dag_id: string;
  stats: { state: string; count: number }[];
}

export interface DagStatsCollection {
  dags: DagStats[];
}

export interface DagSource {
  content: string;
}

export interface Variable {
  key: string;
  value: string | null;
  description: string | null;
  is_encrypted: boolean;
}

export interface VariableCollection {
  variables: Variable[];
  total_entries: number;
}

export interface Connection {
  connection_id: string;
  conn_type: string;
  description: string | null;
  host: string | null;
  login: string | null;
  schema: string | null;
  port: number | null;
  extra: string | null;
}

export interface ConnectionCollection {
  connections: Connection[];
  total_entries: number;
}

export interface Pool {
  name: string;
  slots: number;
  description: string | null;
  include_deferred: boolean;
  occupied_slots: number;
  running_slots: number;
  queued_slots: number;
  scheduled_slots: number;
  open_slots: number;
  deferred_slots: number;
}

export interface PoolCollection {
  pools: Pool[];
  total_entries: number;
}

export interface DagFile {
  relative_fileloc: string;
  fileloc: string;
  status: "parsed" | "import_error" | "pending" | "ignored";
  version: string | null;
  dag_ids: string[];
  import_error: string | null;
}

export interface DagFileList {
  files: DagFile[];
  total_entries: number;
}

export interface DagFileSource {
  relative_fileloc: string;
  version: string;
  content: string;
}

export interface DagFileReview {
  relative_fileloc: string;
  base_version: string | null;
  changed: boolean;
  diff: string;
}

export function tagNames(dag: Dag): string[] {
  return dag.tags.map((t) => (typeof t === "string" ? t : t.name));
}
