import { useRef, useState } from "react";
import { Link } from "react-router-dom";
import { api } from "../../api/client";
import type { DagFile, DagFileList, DagFileReview, DagFileSource } from "../../api/types";
import { ErrorText, Loading, Modal } from "../../components/common";
import { NEEDS } from "../../lib/permissions";
import { usePoll } from "../../lib/usePoll";
import { useSession } from "../../session";

const FILES = "/api/couture/dags/files";
/** The file's path stays '/'-separated in the URL; each part is escaped on its own. */
const filePath = (relative: string) => `${FILES}/${relative.split("/").map(encodeURIComponent).join("/")}`;

const STATUS_CLASS: Record<DagFile["status"], string> = { parsed: "ok", import_error: "bad", pending: "muted", ignored: "muted" };

function Diff({ diff }: { diff: string }) {
  return (
    <pre className="code diff" data-testid="diff">
      {diff.split("\n").map((line, i) => (
        <div key={i} className={line.startsWith("+") && !line.startsWith("+++") ? "add" : line.startsWith("-") && !line.startsWith("---") ? "del" : line.startsWith("@@") ? "hunk" : ""}>
          {line || " "}
        </div>
      ))}
    </pre>
  );
}

interface CodeBrick {
  id: string;
  title: string;
  code: string;
}

const BRICKS = "/api/couture/code-bricks";

/** The shared snippets ("code bricks"): insert one at the cursor, or add a new one. */
function CodeBricks({ onInsert }: { onInsert: (code: string) => void }) {
  const bricks = usePoll(() => api.get<{ code_bricks: CodeBrick[] }>(BRICKS), [], 0);
  const [adding, setAdding] = useState(false);
  const [title, setTitle] = useState("");
  const [code, setCode] = useState("");
  const [error, setError] = useState<string | null>(null);
  const add = async () => {
    setError(null);
    try {
      await api.post(BRICKS, { title, code });
      setAdding(false);
      setTitle("");
      setCode("");
      bricks.reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <aside className="bricks" aria-label="Code bricks">
      <h3>Code bricks</h3>
      <ErrorText error={bricks.error ?? error} />
      {bricks.data?.code_bricks.map((b) => (
        <div key={b.id} className="brick">
          <span title={b.code}>{b.title}</span>
          <button type="button" onClick={() => onInsert(b.code)} aria-label={`Insert ${b.title}`}>
            Insert
          </button>
        </div>
      ))}
      {bricks.data?.code_bricks.length === 0 && <p className="muted small">No code bricks yet.</p>}
      {adding ? (
        <div className="brick-form">
          <input placeholder="Title" aria-label="Code brick title" value={title} onChange={(e) => setTitle(e.target.value)} />
          <textarea className="code" rows={5} aria-label="Code brick code" value={code} onChange={(e) => setCode(e.target.value)} spellCheck={false} />
          <div className="actions">
            <button type="button" onClick={() => setAdding(false)}>
              Cancel
            </button>
            <button type="button" className="primary" disabled={!title || !code} onClick={add}>
              Add
            </button>
          </div>
        </div>
      ) : (
        <button type="button" className="link" onClick={() => setAdding(true)}>
          + Add a new code brick
        </button>
      )}
    </aside>
  );
}

/** Write, then review the diff against the stored file, then save: the server refuses a stale base. */
function Editor({ relative, onClose, onSaved }: { relative: string | null; onClose: () => void; onSaved: () => void }) {
  const source = usePoll(relative ? () => api.get<DagFileSource>(filePath(relative)) : null, [relative], 0);
  const [name, setName] = useState(relative ?? "");
  const [content, setContent] = useState<string | null>(relative ? null : "from datetime import datetime\n\nfrom airflow import DAG\n\nwith DAG(dag_id=\"my_dag\", start_date=datetime(2024, 1, 1), schedule=None):\n    pass\n");
  const [review, setReview] = useState<DagFileReview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const text = content ?? source.data?.content ?? "";
  const baseVersion = relative ? (source.data?.version ?? null) : null;
  const editor = useRef<HTMLTextAreaElement>(null);

  const insert = (code: string) => {
    const at = editor.current?.selectionStart ?? text.length;
    const snippet = code.endsWith("\n") ? code : `${code}\n`;
    setContent(text.slice(0, at) + snippet + text.slice(at));
  };

  const doReview = async () => {
    setError(null);
    if (!/\.py$/.test(name)) {
      setError("file name: must end in .py");
      return;
    }
    try {
      setReview(await api.post<DagFileReview>(`${filePath(name)}/review`, { content: text }));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const save = async () => {
    setError(null);
    try {
      await api.put(filePath(name), { content: text, base_version: review?.base_version ?? baseVersion });
      onSaved();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <Modal title={relative ? `Edit ${relative}` : "New DAG file"} onClose={onClose} wide>
      {relative && !source.data ? (
        <Loading what="source" />
      ) : review ? (
        <>
          <p>{review.changed ? `Changes to ${review.relative_fileloc}${review.base_version ? "" : " (new file)"}:` : "No changes."}</p>
          <Diff diff={review.diff} />
          <ErrorText error={error} />
          <div className="actions">
            <button type="button" onClick={() => setReview(null)}>
              Back to editing
            </button>
            <button type="button" className="primary" disabled={!review.changed} onClick={save}>
              Save Code
            </button>
          </div>
        </>
      ) : (
        <>
          <label>
            File name (inside the DAG folder)
            <input value={name} onChange={(e) => setName(e.target.value)} disabled={!!relative} placeholder="my_dag.py" aria-label="File name" />
          </label>
          <div className="editor-with-bricks">
            <textarea ref={editor} className="code editor" aria-label="Source" rows={24} spellCheck={false} value={text} onChange={(e) => setContent(e.target.value)} />
            <CodeBricks onInsert={insert} />
          </div>
          <ErrorText error={error ?? source.error} />
          <div className="actions">
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            {relative && (
              <button type="button" disabled={content === null || content === source.data?.content} onClick={() => setContent(null)}>
                Revert
              </button>
            )}
            <button type="button" className="primary" disabled={!name} onClick={doReview}>
              {"Review & Save"}
            </button>
          </div>
        </>
      )}
    </Modal>
  );
}

export function ManageDags() {
  // Reading needs Manage DAGs' can_list (the route's guard); uploading, saving and deleting its can_edit.
  const mayEdit = useSession().access.may(NEEDS.editDagFiles);
  const files = usePoll(() => api.get<DagFileList>(FILES), [], 3000);
  const [editing, setEditing] = useState<string | null | undefined>(undefined);
  const [overwrite, setOverwrite] = useState(false);
  const [search, setSearch] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const upload = async (list: File[]) => {
    if (!list.length) return;
    setError(null);
    setMessage(null);
    const bad = list.filter((f) => !f.name.endsWith(".py"));
    if (bad.length) {
      setError(`files: only .py DAG files can be uploaded, not ${bad.map((f) => f.name).join(", ")}`);
      return;
    }
    const form = new FormData();
    for (const f of list) form.append("files", f, f.name);
    form.append("overwrite", String(overwrite));
    try {
      await api.post(FILES, form);
      setMessage(`Uploaded ${list.length} file${list.length === 1 ? "" : "s"}.`);
      files.reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const remove = async (relative: string) => {
    if (!window.confirm(`Delete ${relative} from the DAG folder?`)) return;
    try {
      await api.delete(filePath(relative));
      files.reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <section>
      <header className="page-header">
        <h1>Manage DAGs</h1>
        <div className="filters">
          <input type="search" placeholder="Search files and DAGs" aria-label="Search files and DAGs" value={search} onChange={(e) => setSearch(e.target.value)} />
          {mayEdit && (
            <>
              <label className="inline">
                <input type="checkbox" checked={overwrite} onChange={(e) => setOverwrite(e.target.checked)} /> Overwrite existing
              </label>
              <label className="button">
                Upload .py files
                <input type="file" accept=".py" multiple hidden onChange={(e) => {
                    // Copy the files first: clearing the input (so the same file can be picked again) empties its list.
                    const chosen = Array.from(e.target.files ?? []);
                    e.target.value = "";
                    void upload(chosen);
                  }} aria-label="Upload DAG files" />
              </label>
              <button type="button" className="primary" onClick={() => setEditing(null)}>
                + New DAG file
              </button>
            </>
          )}
        </div>
      </header>
      <ErrorText error={files.error ?? error} />
      {message && (
        <div className="ok" role="status">
          {message}
        </div>
      )}
      {!files.data ? (
        <Loading what="DAG files" />
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>File</th>
              <th>Status</th>
              <th>DAGs</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {files.data.files
              .filter((f) => [f.relative_fileloc, ...f.dag_ids].some((name) => name.toLowerCase().includes(search.toLowerCase())))
              .map((f) => (
              <tr key={f.relative_fileloc}>
                <td className="mono">{f.relative_fileloc}</td>
                <td>
                  <span className={STATUS_CLASS[f.status]}>{f.status.replace("_", " ")}</span>
                  {f.import_error && (
                    <details>
                      <summary>error</summary>
                      <pre className="code small">{f.import_error}</pre>
                    </details>
                  )}
                </td>
                <td>
                  {f.dag_ids.map((id) => (
                    <Link key={id} to={`/dags/${encodeURIComponent(id)}/grid`} className="tag">
                      {id}
                    </Link>
                  ))}
                </td>
                <td className="row-actions">
                  <button type="button" onClick={() => setEditing(f.relative_fileloc)}>
                    {mayEdit ? "Edit" : "View"}
                  </button>
                  {mayEdit && (
                    <button type="button" className="danger" onClick={() => remove(f.relative_fileloc)}>
                      Delete
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {editing !== undefined && (
        <Editor
          relative={editing}
          onClose={() => setEditing(undefined)}
          onSaved={() => {
            setEditing(undefined);
            setMessage("Saved. The DAG processor picks the file up in a moment.");
            files.reload();
          }}
        />
      )}
    </section>
  );
}
