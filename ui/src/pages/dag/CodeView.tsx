import { api, url } from "../../api/client";
import type { DagSource } from "../../api/types";
import { ErrorText, Loading } from "../../components/common";
import { usePoll } from "../../lib/usePoll";

export function CodeView({ dagId }: { dagId: string }) {
  const source = usePoll(() => api.get<DagSource>(url(["/api/v2/dagSources", dagId])), [dagId], 10000);
  if (source.error) return <ErrorText error={source.error} />;
  if (!source.data) return <Loading what="source" />;
  const lines = source.data.content.split("\n");
  return (
    <pre className="code source" data-testid="code">
      {lines.map((line, i) => (
        <div key={i}>
          <span className="line-no">{i + 1}</span>
          {line}
        </div>
      ))}
    </pre>
  );
}
