-- Whether a user's password is one an admin chose (CreateUser, ResetPassword) rather than their
-- own: set by those two, cleared when the user changes it (ChangePassword). Informational: the
-- console asks the user to change it; sign-in is not refused.
ALTER TABLE users ADD COLUMN password_temporary boolean NOT NULL DEFAULT false;
