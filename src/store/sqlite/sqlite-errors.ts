/** SQLite's code for an INSERT that hits an existing primary key. */
export const isUniqueViolation = (error: unknown): boolean => (error as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
