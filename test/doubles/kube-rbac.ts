// RBAC as the Kubernetes API server evaluates it, for the API double: ClusterRoles and Roles with
// their bindings read from the manifests under deploy/ (and added by tests), subjects matched by
// user name, group or ServiceAccount, rules by API group, resource ("nodes/guestlink" is resource
// plus subresource), verb and resourceNames. Used both to authorize the double's own API calls and
// to answer SubjectAccessReviews, so the shipped manifests are what the tests run against.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

type Obj = Record<string, any>;

export interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

export interface Subject {
  kind: 'User' | 'Group' | 'ServiceAccount';
  name: string;
  namespace?: string;
}

/** Who is asking, as the authenticator found them. */
export interface UserInfo {
  user: string;
  groups: readonly string[];
}

/** What is asked (a request's attributes, or a SubjectAccessReview's resourceAttributes). */
export interface Attributes {
  verb: string;
  apiGroup: string;
  /** "nodes", or "nodes/guestlink" with the subresource. */
  resource: string;
  name?: string | undefined;
  namespace?: string | undefined;
}

interface Binding {
  roleKind: 'ClusterRole' | 'Role';
  role: string;
  /** Set for RoleBindings: the rules apply in this namespace only. */
  namespace?: string;
  subjects: Subject[];
}

const matchesSubject = (s: Subject, u: UserInfo) =>
  (s.kind === 'User' && s.name === u.user) ||
  (s.kind === 'Group' && u.groups.includes(s.name)) ||
  (s.kind === 'ServiceAccount' && u.user === `system:serviceaccount:${s.namespace}:${s.name}`);

export function ruleAllows(r: Rule, a: Attributes): boolean {
  return (
    r.apiGroups.some((g) => g === a.apiGroup || g === '*') &&
    r.resources.some((x) => x === a.resource || x === '*' || (x.endsWith('/*') && a.resource.startsWith(x.slice(0, -1)))) &&
    r.verbs.some((v) => v === a.verb || v === '*') &&
    (!r.resourceNames || r.resourceNames.length === 0 || (a.name !== undefined && r.resourceNames.includes(a.name)))
  );
}

export class Rbac {
  readonly clusterRoles = new Map<string, Rule[]>();
  /** Roles by "namespace/name". */
  readonly roles = new Map<string, Rule[]>();
  readonly bindings: Binding[] = [];

  /** Every Role, ClusterRole and binding in the given manifest files. */
  static fromFiles(files: readonly string[]): Rbac {
    const rbac = new Rbac();
    for (const file of files) for (const d of parseAllDocuments(readFileSync(file, 'utf8')).map((x) => x.toJSON() as Obj)) rbac.add(d);
    return rbac;
  }

  add(d: Obj | null): void {
    if (!d) return;
    if (d.kind === 'ClusterRole') this.clusterRoles.set(d.metadata.name, d.rules ?? []);
    else if (d.kind === 'Role') this.roles.set(`${d.metadata.namespace}/${d.metadata.name}`, d.rules ?? []);
    else if (d.kind === 'ClusterRoleBinding' || d.kind === 'RoleBinding')
      this.bindings.push({
        roleKind: d.roleRef.kind,
        role: d.roleRef.name,
        ...(d.kind === 'RoleBinding' ? { namespace: d.metadata.namespace } : {}),
        subjects: d.subjects ?? [],
      });
  }

  /** What `kubectl create clusterrolebinding --clusterrole ROLE --user/--group NAME` does. */
  bind(role: string, subject: Subject): void {
    this.bindings.push({ roleKind: 'ClusterRole', role, subjects: [subject] });
  }

  allows(u: UserInfo, a: Attributes): boolean {
    for (const b of this.bindings) {
      if (!b.subjects.some((s) => matchesSubject(s, u))) continue;
      if (b.namespace !== undefined && b.namespace !== a.namespace) continue;
      const rules = b.roleKind === 'ClusterRole' ? this.clusterRoles.get(b.role) : this.roles.get(`${b.namespace}/${b.role}`);
      if (rules?.some((r) => ruleAllows(r, a))) return true;
    }
    return false;
  }

  /** The API server's 403 message for a refused request. */
  static forbidden(u: UserInfo, a: Attributes): string {
    const [res, sub] = a.resource.split('/');
    const what = `${res}${a.name ? ` "${a.name}"` : ''}`;
    return `${what} is forbidden: User "${u.user}" cannot ${a.verb} resource "${res}"${sub ? `/${sub}` : ''} in API group "${a.apiGroup}" ${a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope'}`;
  }
}
