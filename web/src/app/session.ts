// The signed-in user, for any page that needs to know who is asking (what to show by role).
import { createContext, useContext } from "react";
import type { Role, Tenant, User } from "../api/generated";

/** The signed-in user, as WhoAmI or sign-in answered. */
export interface Session {
  user: User;
  tenant: Tenant;
  roles: Role[];
}

export const SessionContext = createContext<Session | undefined>(undefined);

/** Replaces the signed-in user (after the user changed something of theirs, e.g. the password). */
export const UserUpdateContext = createContext<(user: User) => void>(() => undefined);

/** The function that replaces the signed-in user. */
export function useUpdateUser(): (user: User) => void {
  return useContext(UserUpdateContext);
}

/** The session of the page (inside the shell, always set). */
export function useSession(): Session {
  return useContext(SessionContext) ?? { user: {}, tenant: {}, roles: [] };
}
