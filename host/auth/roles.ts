// Roles, weakest first: each role may do everything the ones before it may. A fixed three-step
// ladder rather than permission sets keeps the users file and every access check easy to audit.

export type Role = 'viewer' | 'operator' | 'admin';

export const ROLES: readonly Role[] = Object.freeze(['viewer', 'operator', 'admin'] as const);

export function isRole(v: unknown): v is Role {
  return typeof v === 'string' && (ROLES as readonly string[]).includes(v);
}

/** Whether `have` grants what `need` requires; a value that is not a role (from untyped JSON) grants nothing. */
export function roleAtLeast(have: Role, need: Role): boolean {
  const h = ROLES.indexOf(have), n = ROLES.indexOf(need);
  return h >= 0 && n >= 0 && h >= n;
}
