// What a role may do, as the console shows it: a member sees no edit actions (the server still
// enforces every rule; this only keeps buttons away from people who would be refused).
import type { Role } from "../api/generated";

const rank: Record<Role, number> = {
  ROLE_UNSPECIFIED: 0,
  ROLE_SERVICE: 0,
  ROLE_MEMBER: 1,
  ROLE_BUILDER: 2,
  ROLE_ADMIN: 3,
  ROLE_OWNER: 4,
};

/** The highest of the roles (ROLE_UNSPECIFIED for none). */
export function highestRole(roles: readonly Role[]): Role {
  return roles.reduce<Role>((best, role) => (rank[role] > rank[best] ? role : best), "ROLE_UNSPECIFIED");
}

/** Whether the roles include `role` or one above it. */
export function atLeast(roles: readonly Role[], role: Role): boolean {
  return rank[highestRole(roles)] >= rank[role];
}

/** The roles a user with these roles may grant (an API key's): theirs and those below, never service. */
export function grantableRoles(roles: readonly Role[]): Role[] {
  const top = rank[highestRole(roles)];
  return (["ROLE_MEMBER", "ROLE_BUILDER", "ROLE_ADMIN", "ROLE_OWNER"] as const).filter((r) => rank[r] <= top);
}

/** `ROLE_BUILDER` → `builder`. */
export function roleName(role: Role): string {
  return role.replace("ROLE_", "").toLowerCase();
}
