-- signet store schema, version 2: a record's reader and approver groups are read from its
-- own `readers` / `approvers` JSON arrays (always written with it); the separate rows of
-- `record_groups` held the same groups again and cost four inserts per signing request.

DROP TABLE record_groups;
