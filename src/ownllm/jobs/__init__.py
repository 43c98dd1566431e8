"""Jobs: long work recorded in the catalog with statuses, progress and events."""
