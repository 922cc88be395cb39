-- The work task's id in the tracker (a Jira issue key), read back directly
-- rather than searched for, as Jira's search lags behind its writes.
ALTER TABLE projects ADD COLUMN task_ref TEXT;
