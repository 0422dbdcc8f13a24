import { useEffect, useState } from "react";
import { api } from "../../api/client";
import { ErrorText, Loading } from "../../components/common";
import { usePoll } from "../../lib/usePoll";
import { useSession } from "../../session";

const LDAP = "/api/couture/security/ldap";

type TextField =
  | "server"
  | "search"
  | "uid_field"
  | "bind_user"
  | "group_search"
  | "search_filter"
  | "firstname_field"
  | "lastname_field"
  | "email_field"
  | "user_registration_role"
  | "append_domain"
  | "username_format"
  | "tls_cacertdir"
  | "tls_cacertfile"
  | "tls_certfile"
  | "tls_keyfile";
type Flag = "allow_self_signed" | "use_tls" | "tls_demand" | "user_registration";

type LdapConfig = Record<TextField, string> &
  Record<Flag, boolean> & {
    auth_type: "AUTH_DB" | "AUTH_LDAP";
    bind_password_set: boolean;
    roles_mapping: Record<string, string[]>;
    source: "environment" | "admin";
  };

// The manual's AUTH_LDAP_* names, so an operator recognises each option.
const TEXT: [TextField, string][] = [
  ["server", "AUTH_LDAP_SERVER (ldap://host:389 or ldaps://host:636)"],
  ["search", "AUTH_LDAP_SEARCH (base DN)"],
  ["uid_field", "AUTH_LDAP_UID_FIELD"],
  ["bind_user", "AUTH_LDAP_BIND_USER"],
  ["search_filter", "AUTH_LDAP_SEARCH_FILTER"],
  ["group_search", "AUTH_LDAP_GROUP_SEARCH"],
  ["firstname_field", "AUTH_LDAP_FIRSTNAME_FIELD"],
  ["lastname_field", "AUTH_LDAP_LASTNAME_FIELD"],
  ["email_field", "AUTH_LDAP_EMAIL_FIELD"],
  ["user_registration_role", "AUTH_USER_REGISTRATION_ROLE"],
  ["append_domain", "AUTH_LDAP_APPEND_DOMAIN"],
  ["username_format", "AUTH_LDAP_USERNAME_FORMAT"],
  ["tls_cacertdir", "AUTH_LDAP_TLS_CACERTDIR"],
  ["tls_cacertfile", "AUTH_LDAP_TLS_CACERTFILE"],
  ["tls_certfile", "AUTH_LDAP_TLS_CERTFILE"],
  ["tls_keyfile", "AUTH_LDAP_TLS_KEYFILE"],
];
const FLAGS: [Flag, string][] = [
  ["user_registration", "AUTH_USER_REGISTRATION (create users at their first LDAP login)"],
  ["use_tls", "AUTH_LDAP_USE_TLS (StartTLS)"],
  ["tls_demand", "AUTH_LDAP_TLS_DEMAND (verify the server certificate)"],
  ["allow_self_signed", "AUTH_LDAP_ALLOW_SELF_SIGNED"],
];

function parseMapping(text: string): { ok: true; value: Record<string, string[]> } | { ok: false; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text || "{}");
  } catch (e) {
    return { ok: false, error: `AUTH_ROLES_MAPPING: not valid JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  const valid =
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    Object.values(value).every((roles) => Array.isArray(roles) && roles.every((r) => typeof r === "string"));
  return valid
    ? { ok: true, value: value as Record<string, string[]> }
    : { ok: false, error: 'AUTH_ROLES_MAPPING: expected {"group DN": ["Role", ...]}' };
}

export function LdapConfig() {
  const mayEdit = useSession().access.may(["can_edit", "LdapConfigView"]);
  const stored = usePoll(() => api.get<LdapConfig>(LDAP), [], 0);
  const [form, setForm] = useState<LdapConfig | null>(null);
  const [mapping, setMapping] = useState("{}");
  const [bindPassword, setBindPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    if (stored.data) {
      setForm(stored.data);
      setMapping(JSON.stringify(stored.data.roles_mapping, null, 2));
    }
  }, [stored.data]);

  if (stored.error) return <ErrorText error={stored.error} />;
  if (!form) return <Loading what="LDAP configuration" />;
  const parsed = parseMapping(mapping);

  const save = async () => {
    if (!parsed.ok) return;
    setError(null);
    setSaved(false);
    const { bind_password_set: _set, source: _source, ...fields } = form;
    try {
      const answer = await api.put<LdapConfig>(LDAP, {
        ...fields,
        roles_mapping: parsed.value,
        // Left empty, the stored bind password stays.
        ...(bindPassword ? { bind_password: bindPassword } : {}),
      });
      setForm(answer);
      setBindPassword("");
      setSaved(true);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <section className="card">
      <header className="page-header">
        <h1>LDAP Configuration</h1>
        <span className="muted">{form.source === "admin" ? "Saved here by an admin" : "From the environment (COUTURE_AUTH_*)"}</span>
      </header>
      <label>
        AUTH_TYPE
        <select value={form.auth_type} onChange={(e) => setForm({ ...form, auth_type: e.target.value as LdapConfig["auth_type"] })}>
          <option value="AUTH_DB">AUTH_DB (users and passwords kept by Couture)</option>
          <option value="AUTH_LDAP">AUTH_LDAP (users sign in with their directory password)</option>
        </select>
      </label>
      <div className="form-grid">
        {TEXT.map(([field, label]) => (
          <label key={field}>
            {label}
            <input value={form[field]} onChange={(e) => setForm({ ...form, [field]: e.target.value })} />
          </label>
        ))}
        <label>
          AUTH_LDAP_BIND_PASSWORD
          <input
            type="password"
            autoComplete="new-password"
            value={bindPassword}
            placeholder={form.bind_password_set ? "Set: leave empty to keep it" : "Not set"}
            onChange={(e) => setBindPassword(e.target.value)}
          />
        </label>
      </div>
      {FLAGS.map(([flag, label]) => (
        <label key={flag} className="inline">
          <input type="checkbox" checked={form[flag]} onChange={(e) => setForm({ ...form, [flag]: e.target.checked })} /> {label}
        </label>
      ))}
      <label>
        AUTH_ROLES_MAPPING (group DN → roles)
        <textarea className="code" rows={5} value={mapping} onChange={(e) => setMapping(e.target.value)} spellCheck={false} />
      </label>
      <ErrorText error={parsed.ok ? error : parsed.error} />
      {saved && (
        <div className="ok" role="status">
          Saved. The next login uses it.
        </div>
      )}
      {mayEdit && (
        <div className="actions">
          <button type="button" className="primary" disabled={!parsed.ok} onClick={save}>
            Save
          </button>
        </div>
      )}
    </section>
  );
}
